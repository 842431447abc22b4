//! `rampart policy lint`: every problem in a policy file at once, with its position.
//!
//! The loader stops at the first error because a policy that half-loads is a hole. Lint has the
//! opposite job: tell the author everything, including things that load fine but do not do what they
//! look like (a rule nothing can reach, a policy with no rules, `log` instead of `watch`). So it walks
//! the same positioned YAML tree as the loader ([`crate::load`]) but leniently: a bad value becomes a
//! finding and the walk goes on. The value checks are the loader's own, so lint and load agree on
//! what is an error (reference §1.7, plus unknown keys at every level, which the strict loader
//! rejects).

use crate::error::Error;
use crate::load::check;
use crate::load::decode::{at_path, child, index, key_hint, Reader};
use crate::load::schema::{
    AGENT_DEPTH_KEYS, ASK_KEYS, CALL_COUNT_KEYS, MATCH_KEYS, NOTIFY_KEYS, POLICY_KEYS, RULE_KEYS,
    TEST_KEYS, TOP_KEYS, WEBHOOK_KEYS, WHEN_KEYS,
};
use crate::load::yaml::{self, Node, Value};
use crate::model::{Action, SourcePos};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub pos: SourcePos,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.pos, self.severity, self.message)
    }
}

/// Lints one document held in memory; `name` is used in positions. Findings are in file order.
pub fn lint_str(name: &str, text: &str) -> Vec<Finding> {
    let mut lint = Linter {
        reader: Reader { file: name },
        findings: Vec::new(),
    };
    match yaml::parse_document(name, text) {
        Err(e) => lint.load_error(e),
        Ok(None) => lint.push(
            Severity::Warning,
            lint.start(),
            "file is empty: no policies (policy has no rules)",
        ),
        Ok(Some(root)) => lint.document(&root),
    }
    lint.findings.sort_by(|a, b| {
        (a.pos.line, a.pos.column, a.severity).cmp(&(b.pos.line, b.pos.column, b.severity))
    });
    lint.findings
}

/// Lints a file. Only a file that cannot be read at all is an `Err`.
pub fn lint_path(path: &Path) -> Result<Vec<Finding>, Error> {
    let name = path.display().to_string();
    let io_error = |e: std::io::Error| Error::new(format!("{name}: {e}"));
    let size = std::fs::metadata(path).map_err(io_error)?.len();
    if size > yaml::MAX_FILE_SIZE as u64 {
        return Err(Error::new(format!(
            "{name}: policy file is {size} bytes; the limit is {} bytes (1 MiB)",
            yaml::MAX_FILE_SIZE
        )));
    }
    let bytes = std::fs::read(path).map_err(io_error)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::new(format!("{name}: policy file is not valid UTF-8")))?;
    Ok(lint_str(&name, &text))
}

struct Linter<'a> {
    reader: Reader<'a>,
    findings: Vec<Finding>,
}

/// What the cross-policy checks need to know about one policy.
struct PolicyFacts {
    name: String,
    pos: SourcePos,
    priority: i64,
    agent: String,
    session: String,
    tools: Vec<String>,
    /// The first reachable rule that denies every call in scope.
    catch_all_deny: Option<SourcePos>,
}

/// Why a rule matches every call in its policy's scope.
#[derive(Clone, Copy, PartialEq, Eq)]
enum CatchAll {
    Default,
    EmptyWhen,
}

impl Linter<'_> {
    fn start(&self) -> SourcePos {
        SourcePos {
            file: self.reader.file.to_string(),
            line: 1,
            column: 1,
        }
    }

    fn push(&mut self, severity: Severity, pos: SourcePos, message: impl Into<String>) {
        self.findings.push(Finding {
            severity,
            pos,
            message: message.into(),
        });
    }

    fn at(&mut self, severity: Severity, node: &Node, path: &str, message: impl fmt::Display) {
        let pos = self.reader.pos(node);
        self.push(severity, pos, at_path(path, message));
    }

    fn load_error(&mut self, e: Error) {
        let pos = e.pos.unwrap_or_else(|| self.start());
        self.push(Severity::Error, pos, e.message);
    }

    /// Keeps a value that read well; a read error becomes a finding.
    fn take<T>(&mut self, result: Result<T, Error>) -> Option<T> {
        result.map_err(|e| self.load_error(e)).ok()
    }

    /// The entries of `node`, or an error that it is not `expected` (a mapping of some kind).
    fn mapping<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        expected: &str,
    ) -> Option<&'n [(Node, Node)]> {
        let entries = node.entries();
        if entries.is_none() {
            let found = node.describe();
            let message = format!("expected {expected}, found {found}");
            self.at(Severity::Error, node, path, message);
        }
        entries
    }

    /// Reports keys that are not in `allowed`; returns the entries (empty if not a mapping).
    fn entries<'n>(
        &mut self,
        node: &'n Node,
        path: &str,
        allowed: &[&'static str],
    ) -> &'n [(Node, Node)] {
        let Some(entries) = self.mapping(node, path, "a mapping") else {
            return &[];
        };
        for (key, _) in entries {
            let name = key.as_text().unwrap_or_default();
            if !allowed.contains(&name) {
                self.unknown_key(key, path, name, allowed);
            }
        }
        entries
    }

    fn unknown_key(&mut self, key: &Node, path: &str, name: &str, allowed: &[&'static str]) {
        let is_rule = allowed == RULE_KEYS;
        let (severity, message) = match name {
            "match" if is_rule => (
                Severity::Warning,
                "`match:` inside a rule: did you mean `when`? (the loader rejects this key)"
                    .to_string(),
            ),
            "reason" if is_rule => (
                Severity::Warning,
                "`reason:`: did you mean `message`? (the loader rejects this key)".to_string(),
            ),
            "action" if allowed == POLICY_KEYS => return, // judged with the policy's rules
            _ if allowed == WHEN_KEYS => {
                let hint = key_hint(name, allowed)
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default();
                (
                    Severity::Error,
                    format!("unknown condition field `{name}`{hint}"),
                )
            }
            _ => (
                Severity::Error,
                crate::load::decode::unknown_key(name, allowed),
            ),
        };
        self.at(severity, key, path, message);
    }

    fn document(&mut self, root: &Node) {
        let entries = self.entries(root, "", TOP_KEYS);
        let get = |k: &str| value_of(entries, k);
        if let Some(node) = get("version") {
            if let Some(v) = self.take(self.reader.string(node, "version")) {
                if !matches!(v.trim(), "" | "1") {
                    self.at(
                        Severity::Error,
                        node,
                        "version",
                        format!("unsupported policy version {v:?}"),
                    );
                }
            }
        }
        self.default_action(get("default_action"));
        if let Some(node) = get("notify") {
            self.notify(node);
        }
        let policies = get("policies").and_then(|n| self.take(self.reader.list(n, "policies")));
        match policies {
            Some(list) if !list.is_empty() => self.policies(list),
            _ => {
                let pos = get("policies").map_or_else(|| self.start(), |n| self.reader.pos(n));
                self.push(
                    Severity::Warning,
                    pos,
                    "no policies (policy has no rules): only default_action decides",
                );
            }
        }
        if let Some(node) = get("tests") {
            self.tests(node);
        }
    }

    fn default_action(&mut self, node: Option<&Node>) {
        let text = node.and_then(|n| self.take(self.reader.string(n, "default_action")));
        let action = match (node, text) {
            (Some(n), Some(text)) => match check::default_action(&text) {
                Ok(action) => action,
                Err(e) => return self.at(Severity::Error, n, "default_action", e),
            },
            (Some(_), None) => return,
            (None, _) => None,
        };
        match (action, node) {
            (None, _) => {
                let pos = node.map_or_else(|| self.start(), |n| self.reader.pos(n));
                self.push(
                    Severity::Info,
                    pos,
                    "default_action is not set: calls no rule decides are denied (implicit deny)",
                );
            }
            (Some(Action::Allow), Some(n)) => self.at(
                Severity::Warning,
                n,
                "default_action",
                "`allow` lets through every call no rule decides; consider deny or ask",
            ),
            _ => {}
        }
    }

    fn notify(&mut self, node: &Node) {
        let entries = self.entries(node, "notify", NOTIFY_KEYS);
        for (key, value) in entries {
            if key.as_text() == Some("on") {
                let items = self
                    .take(self.reader.list(value, "notify.on"))
                    .unwrap_or_default();
                for (i, item) in items.iter().enumerate() {
                    let word = item.as_text().unwrap_or_default();
                    if crate::load::check::notify_on(word).is_none() {
                        let found = item.describe();
                        self.at(
                            Severity::Warning,
                            item,
                            &index("notify.on", i),
                            format!(
                                "{found} names no decision and never notifies; expected deny, ask or watch (or log, require_approval)"
                            ),
                        );
                    }
                }
            }
        }
    }

    fn policies(&mut self, list: &[Node]) {
        let mut facts = Vec::new();
        let mut names: HashMap<String, SourcePos> = HashMap::new();
        for (i, item) in list.iter().enumerate() {
            let path = index("policies", i);
            let Some(f) = self.policy(item, &path) else {
                continue;
            };
            match names.get(&f.name) {
                Some(first) if !f.name.is_empty() => {
                    let message = format!(
                        "{path}.name: duplicate policy name {:?} (first defined at {first})",
                        f.name
                    );
                    self.push(Severity::Error, f.pos.clone(), message);
                }
                _ => {
                    names.insert(f.name.clone(), f.pos.clone());
                }
            }
            facts.push(f);
        }
        self.overridden_by_catch_all(&facts);
    }

    fn policy(&mut self, node: &Node, path: &str) -> Option<PolicyFacts> {
        let entries = self.entries(node, path, POLICY_KEYS);
        let get = |k: &str| value_of(entries, k);
        let name_node = get("name");
        let name = name_node
            .and_then(|n| self.take(self.reader.string(n, &child(path, "name"))))
            .unwrap_or_default();
        let name_pos = name_node.map_or_else(|| self.reader.pos(node), |n| self.reader.pos(n));
        if name.trim().is_empty() {
            self.push(
                Severity::Error,
                name_pos.clone(),
                format!("{path}: policy has no name"),
            );
        }
        let priority = get("priority")
            .and_then(|n| self.take(self.reader.int(n, &child(path, "priority"))))
            .unwrap_or(0);
        let enabled = get("enabled")
            .and_then(|n| self.take(self.reader.opt_bool(n, &child(path, "enabled"))))
            .flatten()
            .unwrap_or(true);
        let (agent, session, tools) = self.scope(get("match"), &child(path, "match"));
        let rules = get("rules")
            .and_then(|n| self.take(self.reader.list(n, &child(path, "rules"))))
            .unwrap_or_default();
        if let Some((key, _)) = entries.iter().find(|(k, _)| k.as_text() == Some("action")) {
            let message = if rules.is_empty() {
                "policy-level `action` does nothing: a policy decides through `rules:` (write rules: [{action: ...}])"
            } else {
                "unknown key `action` (`action` belongs in a rule under `rules:`)"
            };
            self.at(Severity::Error, key, path, message);
        } else if rules.is_empty() {
            self.at(
                Severity::Warning,
                node,
                path,
                format!("policy {name:?} has no rules; it never decides anything"),
            );
        }
        let catch_all_deny = self.rules(rules, &child(path, "rules"), &agent);
        Some(PolicyFacts {
            name,
            pos: name_pos,
            priority: if priority == 0 { 100 } else { priority },
            agent,
            session,
            tools,
            catch_all_deny: catch_all_deny.filter(|_| enabled),
        })
    }

    /// `match:`; returns agent, session and tools with upstream's defaults.
    fn scope(&mut self, node: Option<&Node>, path: &str) -> (String, String, Vec<String>) {
        let (mut agent, mut session, mut tools) = ("*".to_string(), "*".to_string(), Vec::new());
        let Some(node) = node else {
            return (agent, session, tools);
        };
        for (key, value) in self.entries(node, path, MATCH_KEYS) {
            let key_path = child(path, key.as_text().unwrap_or_default());
            match key.as_text() {
                Some("agent") | Some("session") => {
                    let Some(text) = self.take(self.reader.string(value, &key_path)) else {
                        continue;
                    };
                    self.glob(value, &key_path, &text);
                    if !text.is_empty() {
                        if key.as_text() == Some("agent") {
                            agent = text;
                        } else {
                            session = text;
                        }
                    }
                }
                Some("tool") => {
                    let list = self
                        .take(self.reader.string_or_list(value, &key_path))
                        .unwrap_or_default();
                    for (i, t) in list.iter().enumerate() {
                        if let Err(e) = check::glob(&t.value) {
                            self.push(
                                Severity::Error,
                                t.pos.clone(),
                                at_path(&index(&key_path, i), e),
                            );
                        }
                    }
                    tools = list.into_iter().map(|t| t.value).collect();
                }
                _ => {}
            }
        }
        (agent, session, tools)
    }

    fn glob(&mut self, node: &Node, path: &str, pattern: &str) {
        if let Err(e) = check::glob(pattern) {
            self.at(Severity::Error, node, path, e);
        }
    }

    /// Lints each rule; returns the position of the first reachable catch-all deny.
    fn rules(&mut self, rules: &[Node], path: &str, agent: &str) -> Option<SourcePos> {
        let mut shadow: Option<(SourcePos, Action, CatchAll)> = None;
        let mut catch_all_deny = None;
        for (i, rule) in rules.iter().enumerate() {
            let rule_path = index(path, i);
            let (action, catch_all) = self.rule(rule, &rule_path, agent);
            if let Some((pos, by_action, kind)) = &shadow {
                let (severity, message) = match (by_action, kind) {
                    (Action::Deny, CatchAll::Default) => (
                        Severity::Info,
                        format!("rule is shadowed: the deny rule at line {} has `default: true`", pos.line),
                    ),
                    (_, CatchAll::Default) => (
                        Severity::Warning,
                        format!("rule is unreachable: the rule at line {} has `default: true` and matches first", pos.line),
                    ),
                    (_, CatchAll::EmptyWhen) => (
                        Severity::Warning,
                        format!("rule is unreachable: the rule at line {} has an empty `when` and matches first", pos.line),
                    ),
                };
                self.at(severity, rule, &rule_path, message);
                continue;
            }
            if let (Some(action), Some(kind)) = (action, catch_all) {
                let pos = self.reader.pos(rule);
                if action == Action::Deny {
                    catch_all_deny = Some(pos.clone());
                }
                shadow = Some((pos, action, kind));
            }
        }
        catch_all_deny
    }

    /// Lints one rule; returns its action and whether it matches every call, when it always does
    /// (a rule that expires or is used once does not shadow the rules after it forever).
    fn rule(&mut self, node: &Node, path: &str, agent: &str) -> (Option<Action>, Option<CatchAll>) {
        let entries = self.entries(node, path, RULE_KEYS);
        let get = |k: &str| value_of(entries, k);
        let action = self.action(node, get("action"), &child(path, "action"));
        if action == Some(Action::Ask) && agent != "claude-code" {
            let at = get("action").unwrap_or(node);
            self.at(
                Severity::Info,
                at,
                &child(path, "action"),
                "`ask` in a policy not scoped to agent `claude-code`: only Claude Code shows a native prompt; other agents need `rampart serve` to approve",
            );
        }
        self.webhook(get("action").unwrap_or(node), get("webhook"), action, path);
        if let Some(n) = get("ask") {
            self.entries(n, &child(path, "ask"), ASK_KEYS);
        }
        if let Some(n) = get("expires_at") {
            let text = self
                .take(self.reader.string(n, &child(path, "expires_at")))
                .unwrap_or_default();
            if !text.trim().is_empty() {
                if let Err(e) = crate::load::time::rfc3339(&text) {
                    self.at(Severity::Error, n, &child(path, "expires_at"), e);
                }
            }
        }
        let catch_all = match get("when") {
            Some(when) => self.when(when, &child(path, "when")),
            None => Some(CatchAll::EmptyWhen),
        };
        if catch_all == Some(CatchAll::EmptyWhen) {
            let at = get("when").unwrap_or(node);
            self.at(
                Severity::Info,
                at,
                path,
                "empty `when` matches all tool calls in scope",
            );
        }
        let temporary = ["expires_at", "once"]
            .iter()
            .any(|k| get(k).is_some_and(is_set));
        (action, catch_all.filter(|_| !temporary))
    }

    fn action(&mut self, rule: &Node, node: Option<&Node>, path: &str) -> Option<Action> {
        let Some(node) = node else {
            self.at(Severity::Error, rule, path, "rule has no `action`");
            return None;
        };
        let text = self.take(self.reader.string(node, path))?;
        match check::rule_action(&text) {
            Ok((action, deprecated_log)) => {
                if deprecated_log {
                    self.at(
                        Severity::Warning,
                        node,
                        path,
                        "`log` is deprecated; use `watch`",
                    );
                }
                Some(action)
            }
            Err(e) => {
                self.at(Severity::Error, node, path, e);
                None
            }
        }
    }

    /// `action_node` is where a missing URL is reported, as the loader does.
    fn webhook(
        &mut self,
        action_node: &Node,
        node: Option<&Node>,
        action: Option<Action>,
        rule_path: &str,
    ) {
        let path = child(rule_path, "webhook");
        let entries = node.map_or(&[][..], |n| self.entries(n, &path, WEBHOOK_KEYS));
        let get = |k: &str| value_of(entries, k);
        if let Some(n) = get("timeout") {
            let timeout_path = child(&path, "timeout");
            if let Some(text) = self.take(self.reader.string(n, &timeout_path)) {
                if let Err(e) = check::webhook_timeout_ms(&text) {
                    self.at(Severity::Error, n, &timeout_path, e);
                }
            }
        }
        let url = get("url").map(|n| (n.as_text().unwrap_or_default().trim().to_string(), n));
        match url {
            Some((url, at)) if url.starts_with("http://") => self.at(
                Severity::Warning,
                at,
                &child(&path, "url"),
                "webhook URL uses plain http; decisions and commands travel unencrypted",
            ),
            Some((url, _)) if !url.is_empty() => {}
            _ if action == Some(Action::Webhook) => self.at(
                Severity::Error,
                action_node,
                &child(rule_path, "action"),
                "action webhook needs `webhook.url`",
            ),
            _ => {}
        }
    }

    /// Lints a `when:` block; says whether it matches every call.
    fn when(&mut self, node: &Node, path: &str) -> Option<CatchAll> {
        let entries = self.entries(node, path, WHEN_KEYS);
        let mut positive = false;
        let mut negative = false;
        let mut default = false;
        for (key, value) in entries {
            let Some(name) = key.as_text() else { continue };
            let key_path = child(path, name);
            let present = is_set(value);
            match name {
                "default" => {
                    default = self
                        .take(self.reader.bool(value, &key_path))
                        .unwrap_or(false);
                }
                "command_contains" => self.list(value, &key_path, check::contains),
                "response_matches" | "response_not_matches" => {
                    self.list(value, &key_path, check::response_regex)
                }
                "agent_depth" => self.agent_depth(value, &key_path),
                "call_count" => self.call_count(value, &key_path),
                "tool_param_matches" => self.tool_params(value, &key_path),
                n if WHEN_KEYS.contains(&n) => self.list(value, &key_path, check::glob),
                _ => {}
            }
            if name.ends_with("_not_matches") {
                negative |= present;
            } else if name.starts_with("response_") || name == "default" {
                // The response phase and `default` are judged on their own.
            } else {
                positive |= present;
            }
        }
        if default {
            return Some(CatchAll::Default);
        }
        let has_response = entries
            .iter()
            .any(|(k, v)| k.as_text().is_some_and(|n| n.starts_with("response_")) && is_set(v));
        if negative && !positive && !has_response {
            self.at(
                Severity::Warning,
                node,
                path,
                "only `*_not_matches` conditions: an exclusion alone never makes a rule fire",
            );
        }
        (!positive && !negative && !has_response).then_some(CatchAll::EmptyWhen)
    }

    /// A list of strings, each checked by `check`.
    fn list(&mut self, node: &Node, path: &str, check: fn(&str) -> Result<(), String>) {
        let items = self
            .take(self.reader.strings(node, path))
            .unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            if let Err(e) = check(&item.value) {
                self.push(
                    Severity::Error,
                    item.pos.clone(),
                    at_path(&index(path, i), e),
                );
            }
        }
    }

    fn agent_depth(&mut self, node: &Node, path: &str) {
        if matches!(node.value, Value::Null) {
            return;
        }
        for (key, value) in self.entries(node, path, AGENT_DEPTH_KEYS) {
            let bound_path = child(path, key.as_text().unwrap_or_default());
            self.take(self.reader.int(value, &bound_path));
        }
    }

    fn tool_params(&mut self, node: &Node, path: &str) {
        let Some(entries) = self.mapping(node, path, "a mapping of parameter names to patterns")
        else {
            return;
        };
        for (key, value) in entries {
            let value_path = child(path, key.as_text().unwrap_or_default());
            if let Some(text) = self.take(self.reader.string(value, &value_path)) {
                self.glob(value, &value_path, &text);
            }
        }
    }

    fn call_count(&mut self, node: &Node, path: &str) {
        if matches!(node.value, Value::Null) {
            return;
        }
        let entries = self.entries(node, path, CALL_COUNT_KEYS);
        let get = |k: &str| value_of(entries, k);
        if let Some(n) = get("gte") {
            if let Some(gte) = self.take(self.reader.int(n, &child(path, "gte"))) {
                if let Err(e) = check::call_count_gte(gte) {
                    self.at(Severity::Error, n, &child(path, "gte"), e);
                }
            }
        }
        let window =
            get("window").and_then(|n| self.take(self.reader.string(n, &child(path, "window"))));
        if let Err(e) = check::call_count_window(&window.unwrap_or_default()) {
            match get("window") {
                Some(n) => self.at(Severity::Error, n, &child(path, "window"), e),
                None => self.at(Severity::Error, node, path, e),
            }
        }
    }

    fn tests(&mut self, node: &Node) {
        let items = self
            .take(self.reader.list(node, "tests"))
            .unwrap_or_default();
        for (i, item) in items.iter().enumerate() {
            let path = index("tests", i);
            let entries = self.entries(item, &path, TEST_KEYS);
            let get = |k: &str| value_of(entries, k);
            let tool = get("tool").and_then(Node::as_text).unwrap_or_default();
            if tool.trim().is_empty() {
                self.at(
                    Severity::Error,
                    get("tool").unwrap_or(item),
                    &path,
                    "test has no `tool`",
                );
            }
            let expect = get("expect").unwrap_or(item);
            if let Err(e) = check::rule_action(expect.as_text().unwrap_or_default()) {
                self.at(Severity::Error, expect, &child(&path, "expect"), e);
            }
            if let Some(params) =
                get("params").filter(|p| !matches!(p.value, Value::Map(_) | Value::Null))
            {
                let found = params.describe();
                self.at(
                    Severity::Error,
                    params,
                    &child(&path, "params"),
                    format!("expected a mapping of parameters, found {found}"),
                );
            }
        }
    }

    /// Info on each policy that runs after a catch-all deny whose scope overlaps its own: the
    /// deny decides every call they share, whatever the later policy says.
    fn overridden_by_catch_all(&mut self, facts: &[PolicyFacts]) {
        let mut notes = Vec::new();
        for (j, later) in facts.iter().enumerate() {
            let earlier = facts.iter().enumerate().find(|(i, p)| {
                *i != j
                    && p.catch_all_deny.is_some()
                    && (p.priority < later.priority || (p.priority == later.priority && *i < j))
                    && overlaps(p, later)
            });
            if let Some((_, p)) = earlier {
                let line = p.catch_all_deny.as_ref().map_or(0, |pos| pos.line);
                notes.push((
                    later.pos.clone(),
                    format!(
                        "policy {:?} is overridden where its scope overlaps {:?}, which runs first and denies every call (rule at line {line})",
                        later.name, p.name
                    ),
                ));
            }
        }
        for (pos, message) in notes {
            self.push(Severity::Info, pos, message);
        }
    }
}

/// Whether two policies' scopes may share a call. An approximation: `*` or equal patterns overlap.
fn overlaps(a: &PolicyFacts, b: &PolicyFacts) -> bool {
    let same = |x: &str, y: &str| x == "*" || y == "*" || x == y;
    let tools = a.tools.is_empty()
        || b.tools.is_empty()
        || a.tools.iter().any(|x| b.tools.iter().any(|y| same(x, y)));
    same(&a.agent, &b.agent) && same(&a.session, &b.session) && tools
}

/// A value that says something: not null, not an empty list or mapping, not `false` or "".
fn is_set(node: &Node) -> bool {
    match &node.value {
        Value::Null | Value::Bool(false, _) => false,
        Value::Str(s) => !s.is_empty(),
        Value::Seq(items) => !items.is_empty(),
        Value::Map(entries) => !entries.is_empty(),
        _ => true,
    }
}

/// The value of `key` among a mapping's entries.
fn value_of<'n>(entries: &'n [(Node, Node)], key: &str) -> Option<&'n Node> {
    entries
        .iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}
