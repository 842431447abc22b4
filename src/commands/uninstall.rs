//! `rampart uninstall [--yes] [--purge]`: removes every integration and service rampart
//! installed: each host's hooks and MCP wrapping, the earlier Codex preload wrapper, the stable
//! link `~/.rampart/bin/rampart`, and the systemd user unit `rampart-serve.service`. Policies,
//! audit logs and tokens stay unless `--purge` (which deletes `~/.rampart` whole).
//!
//! Every host is cleaned whether or not the setup record names it, so a record lost or never
//! written leaves nothing behind; each removal takes out only what is rampart's.

#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use rampart_integrations::setup::{self, binary, Context, Host};

#[derive(clap::Args)]
pub struct Args {
    /// Do not ask for confirmation.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Also delete ~/.rampart: policies, audit logs, tokens, keys.
    #[arg(long)]
    pub purge: bool,
}

const UNIT: &str = "rampart-serve.service";

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let ctx = Context::from_env().map_err(|e| e.to_string())?;
    confirm(args, &ctx)?;
    let mut failures = 0;
    let mut step = |what: String, result: Result<Option<String>, String>| match result {
        Ok(Some(done)) => println!("{what}: {done}"),
        Ok(None) => {}
        Err(e) => {
            failures += 1;
            eprintln!("rampart: {what}: {e}");
        }
    };
    for host in Host::ALL {
        step(host.name().to_string(), remove_host(host, &ctx));
    }
    let stable = ctx.stable_binary();
    step(
        stable.display().to_string(),
        binary::remove(&stable)
            .map(|removed| removed.then(|| "removed".to_string()))
            .map_err(|e| e.to_string()),
    );
    step(UNIT.to_string(), remove_service());
    if args.purge {
        step(
            ctx.rampart_home.display().to_string(),
            purge(&ctx.rampart_home),
        );
    } else if ctx.rampart_home.exists() {
        println!(
            "kept {} (policies, audit logs, tokens); `rampart uninstall --purge` deletes it",
            ctx.rampart_home.display()
        );
    }
    if let Ok(exe) = std::env::current_exe() {
        println!(
            "the rampart binary itself ({}) stays; remove it the way it was installed",
            exe.display()
        );
    }
    Ok(if failures == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Asks on a terminal; refuses to proceed unasked without `--yes`.
fn confirm(args: &Args, ctx: &Context) -> Result<(), String> {
    if args.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(
            "uninstall asks for confirmation; pass --yes to run it without a terminal".into(),
        );
    }
    let (question, answer) = if args.purge {
        (
            format!(
                "Remove rampart's hooks from every agent, its MCP wrapping, its service, and DELETE {} (policies, audit logs, tokens)? Type `purge` to confirm: ",
                ctx.rampart_home.display()
            ),
            "purge",
        )
    } else {
        (
            "Remove rampart's hooks from every agent, its MCP wrapping, ~/.rampart/bin/rampart and its service? [y/N] ".to_string(),
            "y",
        )
    };
    print!("{question}");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let given = line.trim();
    if given.eq_ignore_ascii_case(answer) || (answer == "y" && given.eq_ignore_ascii_case("yes")) {
        Ok(())
    } else {
        Err("nothing was removed".into())
    }
}

fn remove_host(host: Host, ctx: &Context) -> Result<Option<String>, String> {
    let report = setup::remove(host, ctx, false).map_err(|e| e.to_string())?;
    if report.changes.is_empty() {
        return Ok(None);
    }
    let lines: Vec<String> = report
        .changes
        .iter()
        .map(|c| format!("{}: {}", c.path.display(), c.what))
        .collect();
    Ok(Some(lines.join("; ")))
}

/// Stops and disables the systemd user unit when it is there, and deletes it.
fn remove_service() -> Result<Option<String>, String> {
    let Some(unit) = super::doctor::systemd_unit().filter(|u| u.exists()) else {
        return Ok(None);
    };
    let mut notes = Vec::new();
    if systemctl(&["disable", "--now", UNIT]) {
        notes.push("stopped and disabled");
    } else {
        notes.push("could not be stopped through systemctl (stop it by hand if it runs)");
    }
    std::fs::remove_file(&unit).map_err(|e| format!("cannot remove {}: {e}", unit.display()))?;
    notes.push("unit file removed");
    let _ = systemctl(&["daemon-reload"]);
    Ok(Some(notes.join(", ")))
}

/// `systemctl --user ARGS`; whether it ran and succeeded.
fn systemctl(args: &[&str]) -> bool {
    Command::new("systemctl")
        .arg("--user")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn purge(home: &Path) -> Result<Option<String>, String> {
    if !home.exists() {
        return Ok(None);
    }
    // remove_dir_all does not follow symlinks: a link inside ~/.rampart is removed, not its target.
    std::fs::remove_dir_all(home)
        .map(|()| Some("deleted".to_string()))
        .map_err(|e| format!("cannot delete: {e}"))
}
