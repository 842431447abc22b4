//! `rampart policy check | lint | explain`: a policy checked strictly, linted, or asked how it
//! decides one call.

use crate::bundle;
use crate::decide::{call_for_argument, Decider};
use crate::source::PolicySource;
use clap::Subcommand;
use rampart_compiler::lint::{lint_path, Severity};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Subcommand)]
pub enum Command {
    /// Strict load and compile; one line with the counts.
    Check { path: Option<PathBuf> },
    /// Findings with positions: typos, shadowed and unreachable rules, catch-all denies.
    Lint { path: PathBuf },
    /// Show how a call is decided: every policy in scope, every rule tried, the winner.
    Explain(ExplainArgs),
}

#[derive(clap::Args)]
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

pub fn run(command: Command, config: Option<PathBuf>) -> Result<ExitCode, String> {
    match command {
        Command::Check { path } => check(&crate::source::discover(path.or(config))),
        Command::Lint { path } => lint(&path),
        Command::Explain(args) => explain(&crate::source::discover(config), &args),
    }
}

/// `rampart policy check`: strict load and compile.
fn check(source: &PolicySource) -> Result<ExitCode, String> {
    let started = Instant::now();
    let set = bundle::policy_set(source)?;
    let stats = rampart_compiler::compile(&set)
        .map_err(|e| e.to_string())?
        .stats;
    println!(
        "✓ Policy valid ({}): {}",
        source.describe(),
        super::compile::summary(&stats, started.elapsed().as_secs_f64())
    );
    Ok(ExitCode::SUCCESS)
}

/// `rampart policy lint`: findings with positions; exit 1 when any is an error.
fn lint(path: &Path) -> Result<ExitCode, String> {
    let findings = lint_path(path).map_err(|e| e.to_string())?;
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    for f in &findings {
        let label = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        println!("{}: {label}: {}", f.pos, f.message);
    }
    let errors = count(Severity::Error);
    println!(
        "{}: {errors} errors, {} warnings, {} infos",
        path.display(),
        count(Severity::Warning),
        count(Severity::Info)
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `rampart policy explain`: how one call is decided, policy by policy and rule by rule.
fn explain(source: &PolicySource, args: &ExplainArgs) -> Result<ExitCode, String> {
    let loaded = bundle::load(source)?;
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
