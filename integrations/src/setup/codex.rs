//! Codex CLI: `~/.codex/hooks.json` (`$CODEX_HOME/hooks.json`), as upstream v1.8 writes it.
//!
//! ```json
//! {
//!   "hooks": {
//!     "PreToolUse": [{"hooks": [{"type": "command", "command": "/home/me/.rampart/bin/rampart hook --format codex"}]}],
//!     "PostToolUse": [...the same...]
//!   }
//! }
//! ```
//!
//! No matcher: a group without one matches every tool, whether the host reads matchers as
//! regular expressions or as Claude-style globs. Codex has no fail-closed switch and trusts a
//! hook by the hash of its definition, which is why the command names the stable path and
//! nothing that changes on upgrade. Setting Codex up also removes the `rampart preload` wrapper
//! an earlier `rampart setup codex` wrote to `~/.local/bin/codex` (the hooks replace it);
//! `rampart preload -- codex` stays available as the stronger opt-in (every exec of the process
//! tree decided).

use std::path::{Path, PathBuf};

use super::document::Snippet;
use super::hook_file::{HookFile, Layout};
use super::{Context, SetupError};

pub const EVENTS: [&str; 2] = ["PreToolUse", "PostToolUse"];

/// The first line after the shebang of the wrapper the earlier `setup codex` wrote.
pub const WRAPPER_MARKER: &str = "# rampart-codex-wrapper: written by `rampart setup codex`";

/// `$CODEX_HOME`, else `~/.codex`.
pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.codex_home
        .clone()
        .unwrap_or_else(|| ctx.home.join(".codex"))
}

pub fn hook_file(ctx: &Context) -> HookFile {
    let handler = Snippet::object([
        ("type", Snippet::str("command")),
        ("command", Snippet::str(ctx.hook_command(Some("codex")))),
    ]);
    HookFile {
        path: config_dir(ctx).join("hooks.json"),
        layout: Layout::Grouped { matcher: None },
        preamble: Vec::new(),
        events: EVENTS.iter().map(|e| (*e, handler.clone())).collect(),
        command_key: "command",
    }
}

/// `~/.local/bin/codex`, where the earlier `setup codex` put its wrapper.
pub fn wrapper_path(ctx: &Context) -> PathBuf {
    ctx.home.join(".local/bin/codex")
}

/// Whether `path` is a wrapper the earlier `setup codex` wrote.
pub fn is_wrapper(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|text| text.contains(WRAPPER_MARKER))
}

/// Deletes the earlier wrapper when it is there; returns whether it was.
pub fn remove_wrapper(ctx: &Context) -> Result<bool, SetupError> {
    let path = wrapper_path(ctx);
    if !is_wrapper(&path) {
        return Ok(false);
    }
    std::fs::remove_file(&path)
        .map(|()| true)
        .map_err(|e| SetupError::io("cannot remove", &path, &e))
}
