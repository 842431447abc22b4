//! `rampart mcp [proxy] [flags] -- SERVER CMD...`: the MCP proxy; `rampart mcp pins list|accept`.

use clap::{Subcommand, ValueEnum};
use rampart_integrations::mcp::pins::{self, PinMode};
use rampart_integrations::mcp::protocol::ErrorStyle;
use rampart_integrations::mcp::{self, ProxyConfig, DEFAULT_AGENT, DEFAULT_SESSION};
use rampart_integrations::surface::AuditTarget;
use rampart_runtime::settings::Mode;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::source::user_home;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub proxy: ProxyArgs,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run an MCP server behind the proxy (the same as `rampart mcp -- SERVER CMD...`).
    Proxy(ProxyArgs),
    /// The tool definitions pinned per server (~/.rampart/mcp-pins).
    #[command(subcommand)]
    Pins(PinsCommand),
}

#[derive(Subcommand)]
pub enum PinsCommand {
    /// Every pinned server, its tools and the changes waiting for acceptance.
    List,
    /// Accept the changed tool definitions of SERVER (a key from `pins list`, or words of its
    /// command), or of every server.
    Accept {
        #[arg(value_name = "SERVER")]
        server: Option<String>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ProxyMode {
    Enforce,
    Monitor,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Style {
    /// A tool result with isError: true, which the model reads.
    Result,
    /// Upstream's JSON-RPC error -32600.
    Upstream,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Pin {
    Off,
    Warn,
    Enforce,
}

#[derive(clap::Args)]
pub struct ProxyArgs {
    #[arg(long, value_enum, default_value = "enforce")]
    pub mode: ProxyMode,
    /// Hide from tools/list the tools whose calls are denied.
    #[arg(long)]
    pub filter_tools: bool,
    #[arg(long, value_name = "A", default_value = DEFAULT_AGENT)]
    pub agent_id: String,
    #[arg(long, value_name = "S", default_value = DEFAULT_SESSION)]
    pub session_id: String,
    /// How a denied call is answered.
    #[arg(long, value_enum, default_value = "result")]
    pub error_style: Style,
    /// Tool pinning: record each tool's definition, flag (warn) or hold (enforce) changes.
    #[arg(long, value_enum, default_value = "warn")]
    pub pin: Pin,
    /// The audit directory (default ~/.rampart/audit).
    #[arg(long, value_name = "DIR")]
    pub audit_dir: Option<PathBuf>,
    #[arg(last = true, value_name = "SERVER CMD")]
    pub command: Vec<OsString>,
}

pub fn run(args: Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    match args.command {
        Some(Command::Proxy(proxy)) => run_proxy(proxy, config),
        Some(Command::Pins(command)) => run_pins(&command),
        None => run_proxy(args.proxy, config),
    }
}

fn run_proxy(args: ProxyArgs, config: Option<PathBuf>) -> Result<ExitCode, String> {
    if args.command.is_empty() {
        return Err("no server command given (usage: rampart mcp [FLAGS] -- SERVER CMD...)".into());
    }
    let home = user_home();
    let config = ProxyConfig {
        mode: match args.mode {
            ProxyMode::Enforce => Mode::Enforce,
            ProxyMode::Monitor => Mode::Monitor,
        },
        filter_tools: args.filter_tools,
        agent: args.agent_id,
        session: args.session_id,
        error_style: match args.error_style {
            Style::Result => ErrorStyle::Result,
            Style::Upstream => ErrorStyle::Upstream,
        },
        pin: match args.pin {
            Pin::Off => PinMode::Off,
            Pin::Warn => PinMode::Warn,
            Pin::Enforce => PinMode::Enforce,
        },
        discovery: rampart_policies::discovery(config),
        audit: AuditTarget {
            dir: args.audit_dir,
            home: home.clone(),
        },
        home,
        command: args.command,
    };
    let code = mcp::run(config)?;
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

fn run_pins(command: &PinsCommand) -> Result<ExitCode, String> {
    let home = user_home().ok_or("HOME is not set")?;
    let dir = mcp::pins_dir(&home);
    match command {
        PinsCommand::List => {
            let listed = pins::list(&dir)?;
            if listed.is_empty() {
                println!("no MCP server has pinned tools yet ({})", dir.display());
            }
            for server in listed {
                println!(
                    "{}  {}  ({} tools)",
                    server.key,
                    server.file.command.join(" "),
                    server.file.tools.len()
                );
                for tool in server.file.changed.keys() {
                    println!(
                        "    changed: {tool} (waiting for `rampart mcp pins accept {}`)",
                        server.key
                    );
                }
            }
        }
        PinsCommand::Accept { server } => {
            let accepted = pins::accept(&dir, server.as_deref())?;
            if accepted.is_empty() {
                println!("no changed tools to accept");
            }
            for (key, tools) in accepted {
                println!("{key}: accepted {}", tools.join(", "));
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
