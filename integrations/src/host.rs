//! The agent hosts rampart integrates with, named once: `rampart hook --format` and `rampart setup`
//! read the same words, and each side adds its own behaviour (`hosts`: reading payloads and
//! rendering answers; `setup`: finding and editing settings).

/// An agent host rampart hooks into.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Host {
    ClaudeCode,
    Codex,
    Cline,
    Cursor,
    Gemini,
    Copilot,
    Antigravity,
}

impl Host {
    pub const ALL: [Host; 7] = [
        Host::ClaudeCode,
        Host::Codex,
        Host::Cline,
        Host::Cursor,
        Host::Gemini,
        Host::Copilot,
        Host::Antigravity,
    ];

    /// The `--format` and `setup` word, which is also the agent name its calls are decided and
    /// recorded as.
    pub fn name(self) -> &'static str {
        match self {
            Host::ClaudeCode => "claude-code",
            Host::Codex => "codex",
            Host::Cline => "cline",
            Host::Cursor => "cursor",
            Host::Gemini => "gemini",
            Host::Copilot => "copilot",
            Host::Antigravity => "antigravity",
        }
    }

    pub fn parse(word: &str) -> Option<Host> {
        Host::ALL.into_iter().find(|h| h.name() == word)
    }
}
