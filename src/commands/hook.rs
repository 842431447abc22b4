//! `rampart hook`: the agent-host hook. Reads the host's payload on stdin, prints the host's
//! answer (`rampart_integrations::hook` does the work and never fails).

use clap::builder::PossibleValuesParser;
use rampart_integrations::hook::{self, HookArgs, MODES};
use rampart_integrations::hosts::{ClaudeAllow, Host};
use rampart_runtime::settings::Mode;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(clap::Args)]
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
