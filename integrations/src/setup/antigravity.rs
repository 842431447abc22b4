//! Antigravity: `~/.gemini/antigravity/settings.json`, in Gemini CLI's hook shape.
//!
//! Unverified: neither reference names Antigravity's hook file (upstream only has its output
//! format, `{"decision": "allow|deny|force_ask"}`). Antigravity keeps its configuration under
//! `~/.gemini/antigravity/` and its agent is Gemini's, so setup writes Gemini's `BeforeTool` /
//! `AfterTool` hooks there; setup says so when it runs, so the user can check that a denied call
//! is blocked. Change [`settings_path`] when the host's documentation says otherwise.

use std::path::PathBuf;

use super::hook_file::HookFile;
use super::Context;

pub fn config_dir(ctx: &Context) -> PathBuf {
    ctx.home.join(".gemini/antigravity")
}

pub fn settings_path(ctx: &Context) -> PathBuf {
    config_dir(ctx).join("settings.json")
}

pub fn hook_file(ctx: &Context) -> HookFile {
    super::gemini::gemini_shaped(ctx, settings_path(ctx), "antigravity")
}
