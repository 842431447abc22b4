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
    /// Strict load and compile; the counts and the sources in force. With PATH, that file or
    /// directory alone.
    Check { path: Option<PathBuf> },
    /// The policies in force, with the file each comes from.
    Rules {
        #[arg(long)]
        json: bool,
    },
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
        Command::Check { path: Some(path) } => check_exact(&PolicySource::exact(vec![path])),
        Command::Check { path: None } => check_in_force(&crate::source::discover(config)),
        Command::Rules { json } => rules(&crate::source::discover(config), json),
        Command::Lint { path } => lint(&path),
        Command::Explain(args) => explain(&crate::source::discover(config), &args),
    }
}

/// `rampart policy check`: the policy in force, opened as every surface opens it (compiled if
/// the cache is stale), then validated completely (checksum and every automaton, which deciding
/// processes skip), with the files it was built from.
fn check_in_force(source: &PolicySource) -> Result<ExitCode, String> {
    let started = Instant::now();
    let mut in_force = bundle::load(source)?;
    if let Err(e) = in_force.validate() {
        // A damaged cache: say so and rebuild it from the sources.
        eprintln!("rampart: the cached bundle is damaged ({e}); rebuilding it");
        if let Some(file) = in_force.file() {
            let _ = std::fs::remove_file(file.with_extension("stamp"));
        }
        in_force = bundle::load(source)?;
        in_force.validate().map_err(|e| e.to_string())?;
    }
    let meta = in_force.metadata().map_err(|e| e.to_string())?;
    let rules: usize = meta.policies.iter().map(|p| p.rules.len()).sum();
    println!(
        "✓ Policy valid: {} policies, {rules} rules, {} bytes, {:.0} ms",
        meta.policies.len(),
        in_force.bytes().len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    println!("Sources in force: {}", source.describe());
    for file in in_force.files() {
        println!(
            "  {} ({} bytes, sha256 {})",
            file.path,
            file.size,
            file.sha256_hex().get(..16).unwrap_or_default()
        );
    }
    if let Some(cache) = in_force.file() {
        println!("Bundle: {}", cache.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// `rampart policy rules`: the policies in force in evaluation order, with their files.
fn rules(source: &PolicySource, json: bool) -> Result<ExitCode, String> {
    let in_force = bundle::load(source)?;
    let meta = in_force.metadata().map_err(|e| e.to_string())?;
    if json {
        let policies: Vec<serde_json::Value> = meta
            .policies
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name,
                    "priority": p.priority,
                    "source": p.source,
                    "source_file": p.file,
                    "position": p.pos,
                    "rule_count": p.rules.len(),
                    "description": p.description,
                })
            })
            .collect();
        let out = serde_json::json!({
            "sources": source.describe(),
            "files": in_force.files().iter().map(|f| &f.path).collect::<Vec<_>>(),
            "policies": policies,
            "count": meta.policies.len(),
        });
        println!("{out:#}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("Sources in force: {}", source.describe());
    for p in &meta.policies {
        println!(
            "{:<40} priority {:<4} {} rule(s)  {}",
            p.name,
            p.priority,
            p.rules.len(),
            p.pos
        );
    }
    println!("{} policies", meta.policies.len());
    Ok(ExitCode::SUCCESS)
}

/// `rampart policy check PATH`: strict load and compile of that file or directory alone.
fn check_exact(source: &PolicySource) -> Result<ExitCode, String> {
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
