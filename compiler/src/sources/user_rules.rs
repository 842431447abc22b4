//! The user's own rules: `rampart allow`, `rampart block` and `rampart rules`, and the
//! suggestions a deny carries.
//!
//! The threat: an exception written so loosely that it permits more than the user meant, or a
//! rule file a program cannot edit without losing what a person wrote in it. So a pattern is
//! taken literally (glob characters escaped as upstream's learn does) unless the user writes
//! the glob themselves; every rule is its own policy (`user-allow-…`, `user-block-…`), so one
//! never shadows another within a policy and a block always beats an allow; the file is edited
//! under its lock with an atomic rename, and only by appending a policy or cutting one out,
//! each checked by loading the result ([`super::edit`]). The caller then reopens the policy in
//! force, which rebuilds the cached bundle: every surface sees the rule on its next call. (A
//! running server watches the source files; writing them is its reload signal.)

use std::path::{Path, PathBuf};

use rampart_runtime::call::{Call, Value};
use rampart_runtime::eval::{
    Action, Decision, MSG_NO_POLICY, MSG_NO_RULE, MSG_PROJECT_ASK, MSG_PROJECT_DENY,
};

use super::discover::{PROJECT_POLICY, USER_POLICIES};
use super::edit::{cut_item, edit_file, load_file_text};
use super::merge::hash;
use super::stamp::hex;
use crate::error::Error;
use crate::load::time::format_rfc3339;

/// Where `rampart allow`/`block` write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `~/.rampart/policies/custom.yaml` (the default).
    Custom,
    /// `~/.rampart/policies/user-overrides.yaml` (`--global`): its allows beat ask and watch.
    Global,
    /// `<git root>/.rampart/policy.yaml` (`--project`).
    Project,
}

/// The file a target names; `None` when it needs a home or a git root that is missing.
pub fn target_file(
    target: Target,
    home: Option<&Path>,
    git_root: Option<&Path>,
) -> Option<PathBuf> {
    match target {
        Target::Custom => home.map(|h| h.join(USER_POLICIES).join("custom.yaml")),
        Target::Global => home.map(|h| h.join(USER_POLICIES).join("user-overrides.yaml")),
        Target::Project => git_root.map(|r| r.join(PROJECT_POLICY)),
    }
}

/// What kind of call a rule's pattern is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A command (`command_matches`).
    Command,
    /// A path (`path_matches`).
    Path,
    /// A domain (`domain_matches`), for the fetch family.
    Domain,
    /// A URL (`url_matches`), for the fetch family.
    Url,
    /// Any call of the tool (`default: true`; the pattern must be `*`).
    Tool,
}

/// One rule to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRule {
    /// Allow or deny.
    pub action: Action,
    /// The glob, as the rule will hold it.
    pub pattern: String,
    /// The tools it applies to.
    pub tools: Vec<String>,
    pub kind: Kind,
    pub message: String,
    pub expires_at: Option<i64>,
    pub once: bool,
}

const FILE_TOOLS: [&str; 3] = ["read", "write", "edit"];
const FETCH_TOOLS: [&str; 4] = ["fetch", "web_fetch", "http", "browser"];

impl UserRule {
    /// The rule `rampart allow`/`block PATTERN [--tool TOOL]` means: with no tool, a pattern
    /// that looks like a path is about the file tools, one that looks like a URL about the fetch
    /// family, anything else a command.
    pub fn new(action: Action, pattern: &str, tool: Option<&str>) -> Result<UserRule, Error> {
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return Err(Error::new("the pattern is empty"));
        }
        let looks_like_path = ["/", "~/", "./", "../"]
            .iter()
            .any(|p| pattern.starts_with(p));
        let looks_like_url = pattern.contains("://");
        let (kind, tools): (Kind, Vec<&str>) = match tool {
            None if looks_like_path => (Kind::Path, FILE_TOOLS.to_vec()),
            None if looks_like_url => (Kind::Url, FETCH_TOOLS.to_vec()),
            None | Some("exec") => (Kind::Command, vec!["exec"]),
            Some(t) if FILE_TOOLS.contains(&t) => (Kind::Path, vec![t]),
            Some(t) if FETCH_TOOLS.contains(&t) && looks_like_url => (Kind::Url, vec![t]),
            Some(t) if FETCH_TOOLS.contains(&t) => (Kind::Domain, vec![t]),
            Some(t) if pattern == "*" => (Kind::Tool, vec![t]),
            Some(t) => {
                return Err(Error::new(format!(
                    "for tool {t:?} the pattern must be \"*\" (every call of the tool); patterns are for exec, read, write, edit and the fetch family"
                )))
            }
        };
        let verb = if action == Action::Allow {
            "allowed"
        } else {
            "blocked"
        };
        Ok(UserRule {
            action,
            pattern: pattern.to_string(),
            tools: tools.into_iter().map(str::to_string).collect(),
            kind,
            message: format!("{verb} by the user (rampart {})", command_word(action)),
            expires_at: None,
            once: false,
        })
    }

    /// The policy's YAML, as a list item of `policies:` (two-space indent).
    fn yaml(&self, name: &str, now_unix: i64) -> String {
        let q = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
        let tools: Vec<String> = self.tools.iter().map(|t| q(t)).collect();
        let when = match self.kind {
            Kind::Command => format!("command_matches: [{}]", q(&self.pattern)),
            Kind::Path => format!("path_matches: [{}]", q(&self.pattern)),
            Kind::Domain => format!("domain_matches: [{}]", q(&self.pattern)),
            Kind::Url => format!("url_matches: [{}]", q(&self.pattern)),
            Kind::Tool => "default: true".to_string(),
        };
        let mut out = format!(
            "  - name: {name}\n    description: {}\n    priority: 1\n    match:\n      tool: [{}]\n    rules:\n      - action: {}\n        when:\n          {when}\n        message: {}\n        added: {}\n",
            q(&format!("rampart {} {}", command_word(self.action), self.pattern)),
            tools.join(", "),
            self.action.as_str(),
            q(&self.message),
            q(&format_rfc3339(now_unix)),
        );
        if self.once {
            out.push_str("        once: true\n");
        }
        if let Some(t) = self.expires_at {
            out.push_str(&format!("        expires_at: {}\n", q(&format_rfc3339(t))));
        }
        out
    }
}

fn command_word(action: Action) -> &'static str {
    if action == Action::Allow {
        "allow"
    } else {
        "block"
    }
}

/// The header of a rules file this module creates.
const HEADER: &str = "# Rules added by `rampart allow` and `rampart block`.\n# `rampart rules` lists them; `rampart rules remove N` and `rampart rules reset` remove them.\n# Edit freely: rampart appends policies and cuts out its own, and keeps everything else.\npolicies:\n";

/// Adds `rule` to `file` (created if missing) as a policy of its own; returns its name.
pub fn add_rule(file: &Path, rule: &UserRule, now_unix: i64) -> Result<String, Error> {
    let seed = format!("{rule:?}{now_unix}{}", super::stamp::now_ns());
    let name = format!(
        "user-{}-{}",
        command_word(rule.action),
        hex(hash(seed.as_bytes()).get(..4).unwrap_or_default())
    );
    let item = rule.yaml(&name, now_unix);
    edit_file(file, |text| {
        let before = load_file_text(file, text)?;
        let mut new = if text.trim().is_empty() {
            HEADER.to_string()
        } else {
            text.to_string()
        };
        if !new.ends_with('\n') {
            new.push('\n');
        }
        new.push_str(&item);
        let after = load_file_text(file, &new).map_err(|e| {
            Error::new(format!(
                "cannot append a rule to {} (its last top-level key must be `policies:` in block style): {e}",
                file.display()
            ))
        })?;
        let added = after.policies.len() == before.policies.len() + 1
            && after.policies.last().is_some_and(|p| p.name.value == name);
        if !added {
            return Err(Error::new(format!(
                "cannot append a rule to {}: its last top-level key must be `policies:` in block style",
                file.display()
            )));
        }
        Ok((Some(new), ()))
    })?;
    Ok(name)
}

/// One rule `rampart rules` lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedRule {
    /// 1-based, across the files listed.
    pub index: usize,
    pub file: PathBuf,
    pub policy: String,
    /// `rampart allow 'npm install *'` (the policy's description).
    pub description: String,
    pub once: bool,
    pub expires_at: Option<i64>,
}

/// The rules `rampart allow`/`block` wrote into `files` (policies named `user-allow-…` or
/// `user-block-…`), numbered across them in order.
pub fn list_rules(files: &[PathBuf]) -> Result<Vec<ListedRule>, Error> {
    let mut out = Vec::new();
    for file in files.iter().filter(|f| f.is_file()) {
        let text = crate::load::read_policy_file(file)?;
        for p in load_file_text(file, &text)?.policies {
            if !is_user_rule(&p.name.value) {
                continue;
            }
            let first = p.rules.first();
            out.push(ListedRule {
                index: out.len() + 1,
                file: file.clone(),
                policy: p.name.value.clone(),
                description: p.description.clone(),
                once: first.is_some_and(|r| r.once),
                expires_at: first.and_then(|r| r.expires_at),
            });
        }
    }
    Ok(out)
}

fn is_user_rule(name: &str) -> bool {
    name.starts_with("user-allow-") || name.starts_with("user-block-")
}

/// Removes the policy of `rule` from its file; `false` when it was no longer there.
pub fn remove_rule(rule: &ListedRule) -> Result<bool, Error> {
    edit_file(&rule.file, |text| {
        let set = load_file_text(&rule.file, text)?;
        let Some(p) = set.policies.iter().find(|p| p.name.value == rule.policy) else {
            return Ok((None, false));
        };
        let count = set.policies.len();
        let new = cut_item(&rule.file, text, &p.pos, |after| {
            after.policies.len() + 1 == count
                && after.policies.iter().all(|q| q.name.value != rule.policy)
        })?;
        Ok((Some(new), true))
    })
}

/// Suggestions for a call that was not allowed: the `rampart allow` commands that would permit
/// it, narrowest first, and only when one would (upstream's `suggestions`).
///
/// A deny from a deny rule gets none: a deny always wins, so no allow could permit the call
/// (upstream suggests anyway; ours would be a false promise). A call denied by the default
/// action (nothing fired, or only project policies did) is permitted by a user allow; an `ask`
/// only by a durable one (`--global`, user-overrides.yaml).
pub fn suggestions(call: &Call, decision: &Decision) -> Vec<String> {
    let by_default = decision.winner.is_none()
        && [
            MSG_NO_POLICY,
            MSG_NO_RULE,
            MSG_PROJECT_DENY,
            MSG_PROJECT_ASK,
        ]
        .contains(&decision.message.as_str());
    let flag = match decision.action {
        Action::Deny | Action::Ask if by_default => "",
        Action::Ask => "--global ",
        _ => return Vec::new(),
    };
    let param = |keys: &[&str]| {
        keys.iter().find_map(|k| {
            call.params
                .iter()
                .chain(&call.input)
                .find_map(|(name, v)| match v {
                    Value::Str(s) if name == k && !s.trim().is_empty() => Some(s.clone()),
                    _ => None,
                })
        })
    };
    let (tool_flag, patterns) = match call.tool.as_str() {
        "exec" => match param(&["command", "cmd"]) {
            Some(cmd) => (String::new(), command_patterns(&cmd)),
            None => return Vec::new(),
        },
        t if FILE_TOOLS.contains(&t) => {
            match param(&["file_path", "path", "file", "filepath", "target"]) {
                Some(path) => (format!("--tool {t} "), path_patterns(&path)),
                None => return Vec::new(),
            }
        }
        t if FETCH_TOOLS.contains(&t) => {
            match param(&["url", "uri", "href"]).as_deref().and_then(host_of) {
                Some(host) => (format!("--tool {t} "), domain_patterns(&host)),
                None => return Vec::new(),
            }
        }
        t => (format!("--tool {} ", shell_quote(t)), vec!["*".to_string()]),
    };
    patterns
        .iter()
        .map(|p| format!("rampart allow {flag}{tool_flag}{}", shell_quote(p)))
        .collect()
}

/// `*`, `?` and `[` taken literally (upstream's learn escaping).
pub fn escape_glob(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' | '?' | '[' => {
                out.push('[');
                out.push(c);
                out.push(']');
            }
            c => out.push(c),
        }
    }
    out
}

fn command_patterns(cmd: &str) -> Vec<String> {
    let cmd = cmd.trim();
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let mut out = vec![escape_glob(cmd)];
    if words.len() > 2 {
        if let (Some(a), Some(b)) = (words.first(), words.get(1)) {
            out.push(format!("{} {} *", escape_glob(a), escape_glob(b)));
        }
    }
    if words.len() > 1 {
        if let Some(a) = words.first() {
            out.push(format!("{} *", escape_glob(a)));
        }
    }
    out.dedup();
    out
}

fn path_patterns(path: &str) -> Vec<String> {
    let mut out = vec![escape_glob(path)];
    if let Some(dir) = Path::new(path).parent().map(|d| d.display().to_string()) {
        if !dir.is_empty() && dir != "/" {
            out.push(format!("{}/*", escape_glob(&dir)));
            out.push(format!("{}/**", escape_glob(&dir)));
        }
    }
    out
}

fn domain_patterns(host: &str) -> Vec<String> {
    let mut out = vec![escape_glob(host)];
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() > 2 {
        out.push(format!(
            "*.{}",
            escape_glob(&labels.get(1..).unwrap_or_default().join("."))
        ));
    }
    out
}

fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_ascii_lowercase();
    (!host.is_empty()).then_some(host)
}

/// `text` in single quotes for a POSIX shell, bare when it needs none.
pub fn shell_quote(text: &str) -> String {
    let bare = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&b));
    if bare {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}
