//! Gemini CLI: `~/.gemini/settings.json` (JSONC: comments are kept).
//!
//! ```json
//! "hooks": {
//!   "BeforeTool": [{"matcher": ".*", "hooks": [{"type": "command",
//!     "command": "/home/me/.rampart/bin/rampart hook --format gemini", "name": "rampart", "timeout": 600000}]}],
//!   "AfterTool": [...the same...]
//! }
//! ```
//!
//! Gemini's matcher is a regular expression. It has no fail-closed switch, so a hook that times
//! out lets the call through: the timeout (milliseconds) is set above the longest a decision can
//! take, an ask waiting in the server's approval queue. Its settings UI has been seen to drop
//! hooks it did not write; `rampart doctor` notices and `--fix` puts them back.

use std::path::PathBuf;

use super::document::Snippet;
use super::hook_file::{HookFile, Layout};
use super::Context;

pub const EVENTS: [&str; 2] = ["BeforeTool", "AfterTool"];

/// Ten minutes: longer than an approval may wait in the server's queue.
pub const TIMEOUT_MS: i64 = 600_000;

pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.home.join(".gemini")
}

/// The Gemini-shaped hook file at `path` running `hook --format <format>`.
pub fn gemini_shaped(ctx: &Context, path: PathBuf, format: &str) -> HookFile {
    let handler = Snippet::object([
        ("type", Snippet::str("command")),
        ("command", Snippet::str(ctx.hook_command(Some(format)))),
        ("name", Snippet::str("rampart")),
        ("timeout", Snippet::Int(TIMEOUT_MS)),
    ]);
    HookFile {
        path,
        layout: Layout::Grouped {
            matcher: Some(".*"),
        },
        preamble: Vec::new(),
        events: EVENTS.iter().map(|e| (*e, handler.clone())).collect(),
        command_key: "command",
    }
}

pub fn hook_file(ctx: &Context) -> HookFile {
    gemini_shaped(ctx, config_dir(ctx).join("settings.json"), "gemini")
}
