//! The checked policy model: what a policy file means once it has been loaded and validated.
//!
//! The loader ([`crate::load`]) turns YAML into these types; the compiler ([`crate::compile`]) turns
//! them into a bundle. Every pattern keeps the position it was written at ([`Located`]) so that the
//! source map, lint and `policy explain` can point at `file:line:column`.

use sha2::Digest;
use std::fmt;

/// A position in a policy file. `line` and `column` are 1-based.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourcePos {
    pub file: String,
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// A value together with the place it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located<T> {
    pub value: T,
    pub pos: SourcePos,
}

impl<T> Located<T> {
    pub fn new(value: T, pos: SourcePos) -> Self {
        Located { value, pos }
    }
}

/// A rule's action after aliases are resolved (`log` is `Watch`, with [`Rule::deprecated_log`] set).
/// The same type the bundle stores, so lowering has nothing to translate.
pub use rampart_runtime::program::Action;

/// Everything loaded from one file or one directory, merged (reference §2.9).
#[derive(Clone, Debug, Default)]
pub struct PolicySet {
    /// `default_action`; an absent or empty value means deny.
    pub default_action: Option<Located<Action>>,
    pub notify: Option<Notify>,
    /// In load order (files sorted, then document order). Evaluation sorts stably by priority.
    pub policies: Vec<Policy>,
    /// Inline `tests:` of every file, in load order.
    pub tests: Vec<TestCase>,
    /// The files that were read, in order.
    pub files: Vec<String>,
}

impl PolicySet {
    /// The effective default action: deny when none was given.
    pub fn default_action(&self) -> Action {
        self.default_action
            .as_ref()
            .map_or(Action::Deny, |a| a.value)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notify {
    pub url: String,
    pub platform: String,
    /// Actions that notify; upstream's default is deny plus ask.
    pub on: Vec<Action>,
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: Located<String>,
    pub description: String,
    /// Effective priority: an absent or 0 priority is 100. Lower runs first.
    pub priority: i64,
    pub enabled: bool,
    /// `match.agent`, default `*` (MatchGlob).
    pub agent: Located<String>,
    /// `match.session`, default `*` (MatchGlob).
    pub session: Located<String>,
    /// `match.tool` globs; empty means every tool.
    pub tools: Vec<Located<String>>,
    pub rules: Vec<Rule>,
    /// Basename of the file the policy came from (`embedded:standard` for built-ins).
    pub source: String,
    pub pos: SourcePos,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub action: Located<Action>,
    /// Written as `log` (deprecated alias of watch).
    pub deprecated_log: bool,
    pub when: Condition,
    pub message: String,
    pub ask: AskOptions,
    pub webhook: Option<Webhook>,
    /// `expires_at` as seconds since the Unix epoch (parsed from RFC3339 at load).
    pub expires_at: Option<i64>,
    pub once: bool,
    pub pos: SourcePos,
}

impl Rule {
    /// A digest of what the rule says (action, message, options and every condition's values),
    /// blind to where it was written: a claim of a single-use rule checks that the rule it
    /// removes is the one that decided, even after the lines around it moved.
    pub fn fingerprint(&self) -> String {
        let mut text = format!(
            "{:?}|{}|{:?}|{:?}|{:?}|{}|",
            self.action.value, self.message, self.ask, self.webhook, self.expires_at, self.once
        );
        self.when.describe_values(&mut text);
        let digest = sha2::Sha256::digest(text.as_bytes());
        digest.iter().take(12).map(|b| format!("{b:02x}")).collect()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AskOptions {
    pub audit: bool,
    pub headless_only: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    pub url: String,
    /// Milliseconds; default 5 s, capped at 30 s.
    pub timeout_ms: u64,
    pub fail_open: bool,
}

/// A rule's `when:` block (reference §1.5). Fields are AND-ed; lists inside a field are OR-ed.
#[derive(Clone, Debug, Default)]
pub struct Condition {
    pub command_matches: Vec<Located<String>>,
    pub command_contains: Vec<Located<String>>,
    pub command_not_matches: Vec<Located<String>>,
    pub command_env_assignments: Vec<Located<String>>,
    pub path_matches: Vec<Located<String>>,
    pub path_not_matches: Vec<Located<String>>,
    pub url_matches: Vec<Located<String>>,
    pub domain_matches: Vec<Located<String>>,
    pub response_matches: Vec<Located<String>>,
    pub response_not_matches: Vec<Located<String>>,
    pub session_matches: Vec<Located<String>>,
    pub session_not_matches: Vec<Located<String>>,
    pub agent_depth: Option<AgentDepth>,
    /// param name -> MatchGlob (case-insensitive), in the order written.
    pub tool_param_matches: Vec<(String, Located<String>)>,
    pub call_count: Option<CallCount>,
    pub default: bool,
}

impl Condition {
    /// Appends every condition's values (not their positions) to `out`, in a fixed order.
    fn describe_values(&self, out: &mut String) {
        let lists = [
            &self.command_matches,
            &self.command_contains,
            &self.command_not_matches,
            &self.command_env_assignments,
            &self.path_matches,
            &self.path_not_matches,
            &self.url_matches,
            &self.domain_matches,
            &self.response_matches,
            &self.response_not_matches,
            &self.session_matches,
            &self.session_not_matches,
        ];
        for list in lists {
            let values: Vec<&str> = list.iter().map(|l| l.value.as_str()).collect();
            out.push_str(&format!("{values:?}|"));
        }
        for (param, glob) in &self.tool_param_matches {
            out.push_str(&format!("{param:?}={:?},", glob.value));
        }
        out.push_str(&format!(
            "|{:?}|{:?}|{}",
            self.agent_depth, self.call_count, self.default
        ));
    }

    /// An absent or empty `when` matches every call in scope.
    pub fn is_empty(&self) -> bool {
        self.command_matches.is_empty()
            && self.command_contains.is_empty()
            && self.command_not_matches.is_empty()
            && self.command_env_assignments.is_empty()
            && self.path_matches.is_empty()
            && self.path_not_matches.is_empty()
            && self.url_matches.is_empty()
            && self.domain_matches.is_empty()
            && self.response_matches.is_empty()
            && self.response_not_matches.is_empty()
            && self.session_matches.is_empty()
            && self.session_not_matches.is_empty()
            && self.agent_depth.is_none()
            && self.tool_param_matches.is_empty()
            && self.call_count.is_none()
            && !self.default
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AgentDepth {
    pub gte: Option<i64>,
    pub lte: Option<i64>,
    pub eq: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallCount {
    /// The counted tool; `None` means the current call's tool.
    pub tool: Option<String>,
    pub gte: u32,
    pub window_secs: u64,
}

/// One case of a test suite or of a policy's inline `tests:` (reference §10).
#[derive(Clone, Debug)]
pub struct TestCase {
    pub name: String,
    pub tool: String,
    /// Default `test`.
    pub agent: String,
    /// The call's params as JSON (an object).
    pub params: serde_json::Value,
    pub expect: Action,
    /// A MatchGlob on the decision message.
    pub expect_message: Option<String>,
    pub pos: SourcePos,
}
