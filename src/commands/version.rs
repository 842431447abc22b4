//! `rampart version`: this build's version, and the bundle format it reads (a `policy.bin` of
//! another format must be recompiled, and this is where a user finds out which one it needs).

use rampart_runtime::bundle::{AUTOMATA_VERSION, FORMAT_VERSION};
use serde_json::json;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// Machine-readable output.
    #[arg(long)]
    pub json: bool,
}

/// This build's version, as `--version` prints it too.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let automata = String::from_utf8_lossy(&AUTOMATA_VERSION);
    if args.json {
        let report = json!({
            "version": VERSION,
            "bundle_format": FORMAT_VERSION,
            "automata": automata,
        });
        println!("{report}");
    } else {
        println!("rampart {VERSION}");
        println!("bundle format {FORMAT_VERSION} ({automata})");
    }
    Ok(ExitCode::SUCCESS)
}
