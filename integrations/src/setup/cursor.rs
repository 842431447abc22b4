//! Cursor: `~/.cursor/hooks.json`.
//!
//! ```json
//! {
//!   "version": 1,
//!   "hooks": {
//!     "preToolUse": [{"command": "/home/me/.rampart/bin/rampart hook --format cursor", "failClosed": true}],
//!     "postToolUse": [...the same...]
//!   }
//! }
//! ```
//!
//! `failClosed: true` blocks the call when the hook cannot answer. No `timeout`: the sources
//! disagree on its unit (agent-protocols §5), and with `failClosed` the host's default can only
//! block, never allow. MCP servers are in `~/.cursor/mcp.json`.

use std::path::PathBuf;

use super::document::Snippet;
use super::hook_file::{HookFile, Layout};
use super::Context;

pub const EVENTS: [&str; 2] = ["preToolUse", "postToolUse"];

pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.home.join(".cursor")
}

pub fn mcp_file(ctx: &Context) -> PathBuf {
    config_dir(ctx).join("mcp.json")
}

pub fn hook_file(ctx: &Context) -> HookFile {
    let handler = Snippet::object([
        ("command", Snippet::str(ctx.hook_command(Some("cursor")))),
        ("failClosed", Snippet::Bool(true)),
    ]);
    HookFile {
        path: config_dir(ctx).join("hooks.json"),
        layout: Layout::Flat,
        preamble: vec![("version", Snippet::Int(1))],
        events: EVENTS.iter().map(|e| (*e, handler.clone())).collect(),
        command_key: "command",
    }
}
