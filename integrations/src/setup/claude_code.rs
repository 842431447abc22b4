//! Claude Code: `settings.json` in `$CLAUDE_CONFIG_DIR` (default `~/.claude`).
//!
//! ```json
//! "hooks": {
//!   "PreToolUse": [{"matcher": "*", "hooks": [
//!     {"type": "command", "command": "/home/me/.rampart/bin/rampart hook", "onFailure": "block"}]}],
//!   "PostToolUse": [...the same...],
//!   "PostToolUseFailure": [...the same...]
//! }
//! ```
//!
//! `onFailure: "block"` makes a hook that cannot start, times out or exits oddly block the call
//! (agent-protocols §1); without it a crash is an allow. With `--http` the handler is
//! `{"type": "http", "url": ".../v1/hooks/claude-code", "headers": {"Authorization": "Bearer …"},
//! "onFailure": "block"}`: the server answers, which saves a process start per tool call.

use std::path::PathBuf;

use super::document::Snippet;
use super::hook_file::{HookFile, Layout};
use super::{Context, Transport};

/// The events rampart decides: before a call, its response, and a failed call (for guidance).
pub const EVENTS: [&str; 3] = ["PreToolUse", "PostToolUse", "PostToolUseFailure"];

/// `$CLAUDE_CONFIG_DIR`, else `~/.claude`.
pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.claude_config_dir
        .clone()
        .unwrap_or_else(|| ctx.home.join(".claude"))
}

/// Where Claude Code keeps user and local-scope MCP servers: `.claude.json` in
/// `$CLAUDE_CONFIG_DIR` when that is set, else `~/.claude.json`.
pub fn mcp_file(ctx: &Context) -> PathBuf {
    match &ctx.claude_config_dir {
        Some(dir) => dir.join(".claude.json"),
        None => ctx.home.join(".claude.json"),
    }
}

pub fn hook_file(ctx: &Context, transport: &Transport) -> HookFile {
    let handler = match transport {
        Transport::Command => Snippet::object([
            ("type", Snippet::str("command")),
            ("command", Snippet::str(ctx.hook_command(None))),
            ("onFailure", Snippet::str("block")),
        ]),
        Transport::Http { .. } => Snippet::object([
            ("type", Snippet::str("http")),
            ("url", Snippet::str(transport.url("claude-code"))),
            ("headers", transport.headers()),
            ("onFailure", Snippet::str("block")),
        ]),
    };
    HookFile {
        path: config_dir(ctx).join("settings.json"),
        layout: Layout::Grouped { matcher: Some("*") },
        preamble: Vec::new(),
        events: EVENTS.iter().map(|e| (*e, handler.clone())).collect(),
        command_key: "command",
    }
}
