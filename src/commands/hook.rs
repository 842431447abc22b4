//! `rampart hook`: the agent-host hook. Reads the host's payload on stdin, prints the host's
//! answer (`rampart_integrations::hook` does the work and never fails).

use clap::builder::PossibleValuesParser;
use rampart_integrations::hook::{self, HookArgs, MODES};
use rampart_integrations::hosts::{ClaudeAllow, Host};
use rampart_runtime::settings::Mode;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// `rampart hook ...` parsed on its own (see [`main`]).
#[derive(clap::Parser, Debug, PartialEq, Eq)]
#[command(name = "rampart hook")]
struct HookCommand {
    /// Policy file or directory (as `rampart --config`).
    #[arg(long, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(flatten)]
    args: Args,
}

/// `rampart hook` as the binary's entry point: `args` are the process's arguments after
/// `rampart hook`. Every tool call of an agent starts this process, and building clap's parser
/// (let alone the whole command line's) costs more than deciding the call, so the flags as hosts'
/// settings spell them are read by [`parse_fast`]; anything else (`--help`, a typo, a bad value)
/// goes to clap, which stays the one definition of the flags, their help and their errors.
pub fn main(args: impl Iterator<Item = OsString>) -> ExitCode {
    use clap::Parser;
    let args: Vec<OsString> = args.collect();
    let command = parse_fast(&args).unwrap_or_else(|| {
        HookCommand::parse_from(std::iter::once(OsString::from("rampart hook")).chain(args))
    });
    run(&command.args, command.config).unwrap_or(ExitCode::from(2))
}

/// The hook's flags, each at most once, as `--flag value` or `--flag=value` with a valid value;
/// `None` for anything else.
fn parse_fast(args: &[OsString]) -> Option<HookCommand> {
    let mut command = HookCommand {
        config: None,
        args: Args {
            format: Host::ClaudeCode.name().into(),
            mode: None,
            audit_dir: None,
            serve_url: None,
            claude_allow: None,
            approval_timeout: None,
        },
    };
    let mut seen: Vec<&str> = Vec::new();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let word = word.to_str()?;
        let (flag, inline) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (word, None),
        };
        let value = match inline {
            Some(value) => value,
            None => words.next()?.to_str()?,
        };
        if seen.contains(&flag) || value.starts_with('-') || value.is_empty() {
            return None;
        }
        seen.push(flag);
        let a = &mut command.args;
        match flag {
            "--format" => a.format = Host::parse(value)?.name().into(),
            "--mode" => a.mode = Some(Mode::parse(value.as_bytes(), &MODES)?.as_str().into()),
            "--audit-dir" => a.audit_dir = Some(value.into()),
            "--serve-url" => a.serve_url = Some(value.into()),
            "--claude-allow" => {
                ClaudeAllow::parse(value)?;
                a.claude_allow = Some(value.into());
            }
            "--approval-timeout" => a.approval_timeout = Some(value.parse().ok()?),
            "--config" => command.config = Some(value.into()),
            _ => return None,
        }
    }
    Some(command)
}

#[derive(clap::Args, Debug, PartialEq, Eq)]
pub struct Args {
    /// The agent host whose payload and answer format to use.
    #[arg(long, default_value = "claude-code", value_parser = PossibleValuesParser::new(Host::ALL.map(Host::name)))]
    pub format: String,
    /// enforce (default, or RAMPART_MODE), or monitor/audit: decide and record, never block.
    #[arg(long, value_parser = PossibleValuesParser::new(MODES.map(Mode::as_str)))]
    pub mode: Option<String>,
    /// The audit directory (default ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    /// The rampart server whose approval queue answers an ask for hosts that cannot ask
    /// (default RAMPART_URL, else http://127.0.0.1:9090).
    #[arg(long, value_name = "URL")]
    pub serve_url: Option<String>,
    /// Claude Code: answer an allowed call with an explicit allow (default, or
    /// RAMPART_CLAUDE_ALLOW), or with {} so Claude Code's own permission prompts stay in charge.
    #[arg(long, value_parser = ["explicit", "host"])]
    pub claude_allow: Option<String>,
    /// How long an ask waits in the server's approval queue, in seconds (default 55: under the
    /// hosts' own hook timeouts).
    #[arg(long, value_name = "SECONDS")]
    pub approval_timeout: Option<u64>,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let hook_args = HookArgs {
        host: Host::parse(&args.format),
        mode: args
            .mode
            .as_deref()
            .and_then(|m| Mode::parse(m.as_bytes(), &MODES)),
        config,
        audit_dir: args.audit_dir.clone(),
        serve_url: args.serve_url.clone(),
        claude_allow: args.claude_allow.as_deref().and_then(ClaudeAllow::parse),
        approval_wait: args.approval_timeout.map(Duration::from_secs),
    };
    let answer = hook::run(&hook_args, &mut std::io::stdin().lock());
    // A host that closed its end is not listening; there is no one left to tell.
    let _ = std::io::stdout().write_all(answer.stdout.as_bytes());
    let _ = std::io::stderr().write_all(answer.stderr.as_bytes());
    Ok(ExitCode::from(answer.code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn words(line: &str) -> Vec<OsString> {
        line.split_whitespace().map(OsString::from).collect()
    }

    fn clap(line: &str) -> Option<HookCommand> {
        let argv = std::iter::once(OsString::from("rampart hook")).chain(words(line));
        HookCommand::try_parse_from(argv).ok()
    }

    /// The fast path reads exactly what clap reads, and leaves everything else to clap.
    #[test]
    fn the_fast_path_agrees_with_clap() {
        for line in [
            "",
            "--format codex",
            "--format=gemini --mode monitor",
            "--mode audit --audit-dir /tmp/a --serve-url http://127.0.0.1:9 --config p.yaml",
            "--claude-allow host --approval-timeout 30",
            "--format cursor --format cline",
            "--format nonesuch",
            "--mode disabled",
            "--approval-timeout soon",
            "--audit-dir",
            "--help",
            "--verbose",
            "--audit-dir -x",
            "extra",
        ] {
            let fast = parse_fast(&words(line));
            if fast.is_some() {
                assert_eq!(fast, clap(line), "{line:?}");
            } else {
                // Left to clap, which prints the help or the error.
                assert_eq!(clap(line), None, "{line:?}");
            }
        }
    }
}
