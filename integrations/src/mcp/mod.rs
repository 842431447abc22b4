//! MCP tools as rampart sees them, and the stdio proxy that decides them.
//!
//! The threat: an agent's MCP servers (filesystem, databases, cloud APIs) act with the user's
//! rights, and an MCP tool's name says little and promises nothing. `delete_repo`, `run_query`
//! and `read_file` all arrive as "call tool X with arguments Y", so a policy written against
//! rampart's tool classes (`exec`, `read`, `mcp-destructive`, ...) only applies if every surface
//! that sees an MCP call classifies it the same way: the MCP proxy (`tools/call`) and the agent
//! hooks (`mcp__server__tool` and the other hosts' spellings). Both use [`classify`].
//!
//! `rampart mcp -- SERVER CMD...` ([`proxy`]) sits between the agent and such a server: it
//! judges every `tools/call` ([`judge`]) through the shared decide-and-record path
//! ([`crate::surface`]), scans the responses of the calls it let through, hides from
//! `tools/list` what it would deny, pins tool definitions ([`pins`]), and passes everything else
//! through untouched ([`frame`], [`message`], [`protocol`]).

pub mod classify;
pub mod frame;
pub mod judge;
pub mod message;
pub mod pins;
pub mod protocol;
pub mod proxy;

use std::ffi::OsString;
use std::path::PathBuf;

use rampart_compiler::sources::Discovery;
use rampart_runtime::settings::Mode;

use crate::serve::Server;
use crate::surface::{AuditTarget, Surface, SurfaceConfig};
use judge::{Caller, Judge};
use pins::{PinMode, Pins};
use protocol::ErrorStyle;

/// The agent name MCP calls are recorded under unless `--agent-id` says otherwise (upstream's).
pub const DEFAULT_AGENT: &str = "mcp-client";
/// The session unless `--session-id` says otherwise (upstream's).
pub const DEFAULT_SESSION: &str = "mcp-proxy";

/// Everything `rampart mcp` is run with.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    pub mode: Mode,
    pub filter_tools: bool,
    pub agent: String,
    pub session: String,
    pub error_style: ErrorStyle,
    pub pin: PinMode,
    pub discovery: Discovery,
    pub audit: AuditTarget,
    /// The user's home (`~/.rampart/mcp-pins`, the server's token).
    pub home: Option<PathBuf>,
    pub command: Vec<OsString>,
}

/// The directory of the tool pins of `home`.
pub fn pins_dir(home: &std::path::Path) -> PathBuf {
    home.join(".rampart").join("mcp-pins")
}

/// Runs the proxy until the server exits; returns the server's exit code.
pub fn run(config: ProxyConfig) -> Result<i32, String> {
    let command: Vec<String> = config
        .command
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let pins =
        match (config.pin, &config.home) {
            (PinMode::Off, _) => None,
            (_, Some(home)) => Some(Pins::new(&pins_dir(home), &command)),
            (PinMode::Warn, None) => None,
            (PinMode::Enforce, None) => return Err(
                "--pin enforce needs a home directory for ~/.rampart/mcp-pins (HOME is not set)"
                    .into(),
            ),
        };
    let surface = Surface::service(SurfaceConfig {
        mode: config.mode,
        discovery: config.discovery,
        audit: config.audit,
    });
    let caller = Caller {
        agent: config.agent,
        session: config.session,
    };
    let judge = Judge::new(surface, caller, config.filter_tools, config.pin, pins);
    let queue = match Server::from_env(None, config.home.as_deref()) {
        Ok(server) => Some(server),
        Err(e) => {
            eprintln!("rampart mcp: the approval queue is not used: {e}");
            None
        }
    };
    let options = proxy::Options {
        mode: config.mode,
        error_style: config.error_style,
        ask_wait: proxy::ASK_WAIT,
        queue,
    };
    proxy::run(options, judge, &config.command)
}
