//! `rampart policy explain`: how one call is decided, policy by policy and rule by rule.

use crate::decide::{call_for_argument, Decider};
use crate::source::PolicySource;
use clap::Args;
use std::io::Write;
use std::process::ExitCode;

#[derive(Args)]
pub struct ExplainArgs {
    /// The command (exec), path (read/write/edit) or URL (fetch family) to explain.
    pub arg: String,
    #[arg(long, default_value = "exec")]
    pub tool: String,
    #[arg(long, default_value = "*")]
    pub agent: String,
    #[arg(long, default_value = "*")]
    pub session: String,
    /// Working directory for relative paths.
    #[arg(long)]
    pub workdir: Option<String>,
    /// Machine-readable output (stable field names).
    #[arg(long)]
    pub json: bool,
}

pub fn run(source: &PolicySource, args: &ExplainArgs) -> Result<ExitCode, String> {
    let loaded = source.bundle()?;
    let decider = Decider::new(&loaded)?;
    let call = call_for_argument(
        &args.tool,
        &args.arg,
        &args.agent,
        &args.session,
        args.workdir.as_deref(),
    );
    let explanation = decider.explain_json(&call)?;
    let text = if args.json {
        let json = serde_json::to_string_pretty(&explanation).map_err(|e| e.to_string())?;
        format!("{json}\n")
    } else {
        explanation.to_string()
    };
    // A reader that stops early (`| head`) is not an error worth a panic.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(format!("stdout: {e}")),
        _ => Ok(ExitCode::SUCCESS),
    }
}
