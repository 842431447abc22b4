//! `rampart log`: the recent decisions, at a glance.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use rampart_audit::read::{self, Filter};
use rampart_audit::Timestamp;

use super::audit::{audit_dir, print_events};

#[derive(Args)]
pub struct LogArgs {
    /// How many events.
    #[arg(short = 'n', default_value_t = 20)]
    pub n: usize,
    /// Only denied calls.
    #[arg(long)]
    pub deny: bool,
    /// Only today's (UTC) events.
    #[arg(long)]
    pub today: bool,
    /// The stored JSON lines.
    #[arg(long)]
    pub json: bool,
    /// The audit directory (default: ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
}

pub fn run(args: LogArgs) -> Result<ExitCode, String> {
    let dir = audit_dir(args.audit_dir)?;
    let filter = Filter {
        action: args.deny.then(|| "deny".to_owned()),
        since: args.today.then(|| Timestamp::now().date().start()),
        ..Filter::default()
    };
    let events = read::last(&dir, args.n, &filter).map_err(|e| e.to_string())?;
    if events.is_empty() && !args.json {
        println!("no events in {}", dir.display());
    }
    print_events(&events, args.json);
    Ok(ExitCode::SUCCESS)
}
