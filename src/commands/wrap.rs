//! `rampart wrap [--mode M] -- AGENT CMD...`: the agent's shells are shims that decide each command.

use clap::ValueEnum;
use rampart_integrations::wrap::{self, WrapConfig};
use rampart_runtime::settings::Mode;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Clone, Copy, ValueEnum)]
pub enum WrapMode {
    Enforce,
    Monitor,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, value_enum, default_value = "enforce")]
    pub mode: WrapMode,
    /// The agent name decisions are made for (default: the agent command's name).
    #[arg(long, value_name = "A")]
    pub agent_id: Option<String>,
    #[arg(long, value_name = "S")]
    pub session_id: Option<String>,
    /// The audit directory (default ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    #[arg(last = true, required = true, value_name = "AGENT CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let code = wrap::run(WrapConfig {
        mode: match args.mode {
            WrapMode::Enforce => Mode::Enforce,
            WrapMode::Monitor => Mode::Monitor,
        },
        agent: args.agent_id,
        session: args.session_id,
        config,
        audit_dir: args.audit_dir,
        command: args.command,
    })?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// When this binary was started under a shell's name (a link `rampart wrap` made), it is that
/// shell's shim: decides the command and execs the real shell. `None` otherwise.
/// Only argv[0] is read until it names a shell: every `rampart hook` process passes here.
pub fn shim() -> Option<ExitCode> {
    let name = wrap::shim::shell_name(&std::env::args_os().next()?)?;
    let argv: Vec<OsString> = std::env::args_os().collect();
    let code = wrap::shim::run(name, &argv);
    Some(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
