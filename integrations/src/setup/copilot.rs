//! GitHub Copilot CLI: a hook file of rampart's own, `~/.copilot/hooks/rampart.json`.
//!
//! ```json
//! {
//!   "version": 1,
//!   "hooks": {
//!     "preToolUse": [{"type": "command", "bash": "/home/me/.rampart/bin/rampart hook --format copilot"}],
//!     "postToolUse": [...the same...]
//!   }
//! }
//! ```
//!
//! Copilot reads every `*.json` in the directory, so rampart's hooks live in a file of their
//! own and no file of the user's is edited. With `--http` (Copilot CLI 1.0.35 and later) the
//! handler is `{"type": "http", "url": ".../v1/hooks/copilot", "headers": {...}}`. Copilot has no
//! fail-closed switch: a stopped server lets calls through, and setup says so.

use std::path::PathBuf;

use super::document::Snippet;
use super::hook_file::{HookFile, Layout};
use super::{Context, Transport};

pub const EVENTS: [&str; 2] = ["preToolUse", "postToolUse"];

/// The first Copilot CLI version with `http` hooks.
pub const HTTP_SINCE: (u64, u64, u64) = (1, 0, 35);

pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.home.join(".copilot")
}

pub fn hook_file(ctx: &Context, transport: &Transport) -> HookFile {
    let handler = match transport {
        Transport::Command => Snippet::object([
            ("type", Snippet::str("command")),
            ("bash", Snippet::str(ctx.hook_command(Some("copilot")))),
        ]),
        Transport::Http { .. } => Snippet::object([
            ("type", Snippet::str("http")),
            ("url", Snippet::str(transport.url("copilot"))),
            ("headers", transport.headers()),
        ]),
    };
    HookFile {
        path: config_dir(ctx).join("hooks/rampart.json"),
        layout: Layout::Flat,
        preamble: vec![("version", Snippet::Int(1))],
        events: EVENTS.iter().map(|e| (*e, handler.clone())).collect(),
        command_key: "bash",
    }
}
