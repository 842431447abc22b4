//! `rampart setup [HOST] [--remove] [--force] [--http] [--mcp]`: rampart's hooks in an agent
//! host's settings, or, without a host, the hosts found on this machine and their state.
//!
//! The work is [`rampart_integrations::setup`]'s; this command checks what only a command line
//! can (a running server for `--http`, the Copilot version) and prints what changed.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::process::ExitCode;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use rampart_integrations::http::server_runs;
use rampart_integrations::setup::{
    self, copilot, Context, Host, HostState, Options, Report, Transport, DEFAULT_SERVE_URL,
};

#[derive(clap::Args)]
pub struct Args {
    /// The agent host; without one, list the hosts and their state.
    #[arg(value_parser = host_parser())]
    pub host: Option<Host>,
    /// Remove what setup added (hooks and MCP wrapping; with --mcp, only the wrapping).
    #[arg(long)]
    pub remove: bool,
    /// Replace a file at ~/.rampart/bin/rampart or a Cline hook that is not rampart's; set up
    /// --http although no server answers.
    #[arg(long)]
    pub force: bool,
    /// Point the hooks at the server (http hooks: claude-code, copilot) instead of a process.
    #[arg(long)]
    pub http: bool,
    /// Also run the host's MCP servers under `rampart mcp --` (claude-code, cursor).
    #[arg(long)]
    pub mcp: bool,
    /// The server for --http.
    #[arg(long, default_value = DEFAULT_SERVE_URL, value_name = "URL")]
    pub serve_url: String,
    /// The list as JSON.
    #[arg(long)]
    pub json: bool,
}

fn host_parser() -> impl TypedValueParser<Value = Host> {
    PossibleValuesParser::new(Host::ALL.map(Host::name))
        .try_map(|name| Host::parse(&name).ok_or(format!("unknown host {name:?}")))
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let ctx = Context::from_env().map_err(|e| e.to_string())?;
    let Some(host) = args.host else {
        list(&ctx, args.json)?;
        return Ok(ExitCode::SUCCESS);
    };
    if args.remove {
        let report = setup::remove(host, &ctx, args.mcp).map_err(|e| e.to_string())?;
        print_report(host, &report, "removed", "nothing of rampart's to remove");
        return Ok(ExitCode::SUCCESS);
    }
    let transport = if args.http {
        http_transport(host, &ctx, args)?
    } else {
        Transport::Command
    };
    let opts = Options {
        transport,
        force: args.force,
        mcp: args.mcp,
    };
    let report = setup::install(host, &ctx, &opts).map_err(|e| e.to_string())?;
    print_report(host, &report, "set up", "already set up; nothing changed");
    Ok(ExitCode::SUCCESS)
}

/// `--http`: the server must answer (its hooks would block, or for Copilot let through, every
/// call while it is down) and its token must exist.
fn http_transport(host: Host, ctx: &Context, args: &Args) -> Result<Transport, String> {
    if !host.supports_http() {
        return Err(format!(
            "{host} has no http hooks; --http works for claude-code and copilot"
        ));
    }
    if host == Host::Copilot {
        check_copilot_version(ctx, args.force)?;
    }
    let base = args.serve_url.trim_end_matches('/').to_string();
    if !server_runs(&base, Duration::from_millis(500)) && !args.force {
        let consequence = if host == Host::Copilot {
            "Copilot would let every call through while it is down"
        } else {
            "Claude Code would block every call while it is down"
        };
        return Err(format!(
            "no rampart server answers at {base}/healthz ({consequence}); start it (`rampart serve`) and run this again, or pass --force"
        ));
    }
    let token = ctx.token().ok_or_else(|| {
        format!(
            "no server token at {}; start the server once (`rampart serve`) to create it",
            ctx.rampart_home.join("token").display()
        )
    })?;
    Ok(Transport::Http { base, token })
}

/// Copilot CLI has http hooks from 1.0.35 on.
fn check_copilot_version(ctx: &Context, force: bool) -> Result<(), String> {
    if !ctx.on_path("copilot") {
        return Ok(());
    }
    let output = std::process::Command::new("copilot")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run `copilot --version`: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .find_map(parse_version);
    match version {
        Some(v) if v < copilot::HTTP_SINCE && !force => {
            let (a, b, c) = copilot::HTTP_SINCE;
            Err(format!(
                "Copilot CLI {}.{}.{} has no http hooks (they came in {a}.{b}.{c}); upgrade it, or drop --http",
                v.0, v.1, v.2
            ))
        }
        _ => Ok(()),
    }
}

fn parse_version(word: &str) -> Option<(u64, u64, u64)> {
    let mut parts = word.split('.').map(|p| p.parse::<u64>().ok());
    let (a, b, c) = (parts.next()??, parts.next()??, parts.next()??);
    Some((a, b, c))
}

fn print_report(host: Host, report: &Report, done: &str, nothing: &str) {
    if report.changes.is_empty() {
        println!("{host}: {nothing}");
    } else {
        println!("{host}: {done}");
    }
    for change in &report.changes {
        match &change.backup {
            Some(backup) => println!(
                "  {}: {} (backup: {})",
                change.path.display(),
                change.what,
                backup.display()
            ),
            None => println!("  {}: {}", change.path.display(), change.what),
        }
    }
    for note in &report.notes {
        println!("note: {note}");
    }
}

/// Every host: whether it was found here, and its state.
fn list(ctx: &Context, json: bool) -> Result<(), String> {
    let states = setup::inspect_all(ctx);
    if json {
        let list: Vec<serde_json::Value> = states.iter().map(state_json).collect();
        let text = serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?;
        println!("{text}");
        return Ok(());
    }
    println!("{:<13} {:<6} state", "host", "found");
    for state in &states {
        println!(
            "{:<13} {:<6} {}",
            state.host.name(),
            if state.detected { "yes" } else { "no" },
            describe(state)
        );
    }
    println!(
        "\nSet a host up with `rampart setup <host>`; `rampart doctor` checks what is set up."
    );
    Ok(())
}

/// `installed (command, enforce)`, `stale: <reasons>`, `not installed`.
pub fn describe(state: &HostState) -> String {
    let mut text = state.status.word().to_string();
    let how: Vec<&str> = [state.transport, state.mode.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !how.is_empty() {
        text.push_str(&format!(" ({})", how.join(", ")));
    }
    if state.mcp.wrapped > 0 {
        text.push_str(&format!(", {} MCP server(s) wrapped", state.mcp.wrapped));
    }
    let reasons = state.status.reasons();
    if !reasons.is_empty() {
        text.push_str(": ");
        text.push_str(&reasons.join("; "));
    }
    text
}

/// A host's state as JSON (`setup --json`, `status --json`).
pub fn state_json(state: &HostState) -> serde_json::Value {
    serde_json::json!({
        "host": state.host.name(),
        "detected": state.detected,
        "state": state.status.word(),
        "reasons": state.status.reasons(),
        "settings": state.settings,
        "transport": state.transport,
        "mode": state.mode,
        "programs": state.programs,
        "mcp_wrapped": state.mcp.wrapped,
        "mcp_unwrapped": state.mcp.unwrapped,
    })
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_copilots_banner() {
        assert_eq!(parse_version("1.0.35"), Some((1, 0, 35)));
        assert_eq!(parse_version("1.0"), None);
        assert!(parse_version("0.9.99") < Some(copilot::HTTP_SINCE));
    }
}
