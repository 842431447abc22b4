//! One policy file's tree to the checked model: upstream's schema (reference §1.2-1.5) read strictly,
//! with the validation of §1.6 applied to each value as it is read.

use super::check;
use super::decode::{child, index, Fields, Reader};
use super::yaml::{Node, Value};
use crate::error::Error;
use crate::model::{
    Action, AgentDepth, AskOptions, CallCount, Condition, Located, Notify, Policy, Rule, TestCase,
    Webhook,
};
use std::collections::HashMap;

pub const TOP_KEYS: &[&str] = &["version", "default_action", "policies", "notify", "tests"];
pub const NOTIFY_KEYS: &[&str] = &["url", "platform", "on"];
pub const POLICY_KEYS: &[&str] = &[
    "name",
    "description",
    "priority",
    "enabled",
    "match",
    "rules",
];
pub const MATCH_KEYS: &[&str] = &["agent", "session", "tool"];
pub const RULE_KEYS: &[&str] = &[
    "action",
    "ask",
    "when",
    "message",
    "webhook",
    "expires_at",
    "once",
    "added",
];
pub const ASK_KEYS: &[&str] = &["audit", "headless_only"];
pub const WEBHOOK_KEYS: &[&str] = &["url", "timeout", "fail_open"];
pub const WHEN_KEYS: &[&str] = &[
    "command_matches",
    "command_contains",
    "command_not_matches",
    "command_env_assignments",
    "path_matches",
    "path_not_matches",
    "url_matches",
    "domain_matches",
    "response_matches",
    "response_not_matches",
    "session_matches",
    "session_not_matches",
    "agent_depth",
    "tool_param_matches",
    "call_count",
    "default",
];
pub const AGENT_DEPTH_KEYS: &[&str] = &["gte", "lte", "eq"];
pub const CALL_COUNT_KEYS: &[&str] = &["tool", "gte", "window"];
pub const TEST_KEYS: &[&str] = &[
    "name",
    "tool",
    "agent",
    "params",
    "expect",
    "expect_message",
];

/// What one file contributes before files are merged.
#[derive(Default)]
pub struct FileConfig {
    pub default_action: Option<Located<Action>>,
    pub notify: Option<Notify>,
    pub policies: Vec<Policy>,
    pub tests: Vec<TestCase>,
}

/// Decodes and validates one file. `source` becomes [`Policy::source`].
pub fn decode_file(r: &Reader, root: &Node, source: &str) -> Result<FileConfig, Error> {
    let top = r.fields(root, "", TOP_KEYS)?;
    if let Some(node) = top.get("version") {
        let version = r.string(node, "version")?;
        if !matches!(version.trim(), "" | "1") {
            return Err(r.error(
                node,
                "version",
                format!("unsupported policy version {version:?}; the only version is \"1\""),
            ));
        }
    }
    let mut config = FileConfig::default();
    if let Some(node) = top.get("default_action") {
        let text = r.string(node, "default_action")?;
        let action =
            check::default_action(&text).map_err(|e| r.error(node, "default_action", e))?;
        config.default_action = action.map(|a| Located::new(a, r.pos(node)));
    }
    if let Some(node) = top
        .get("notify")
        .filter(|n| !matches!(n.value, Value::Null))
    {
        config.notify = Some(notify(r, node)?);
    }
    if let Some(node) = top.get("policies") {
        config.policies = policies(r, node, source)?;
    }
    if let Some(node) = top.get("tests") {
        config.tests = tests(r, node, "tests")?;
    }
    Ok(config)
}

fn notify(r: &Reader, node: &Node) -> Result<Notify, Error> {
    let f = r.fields(node, "notify", NOTIFY_KEYS)?;
    let text = |key: &str| {
        f.get(key)
            .map_or(Ok(String::new()), |n| r.string(n, &child("notify", key)))
    };
    let mut on = Vec::new();
    let mut words = 0;
    if let Some(list) = f.get("on") {
        for (i, item) in r.list(list, "notify.on")?.iter().enumerate() {
            words += 1;
            let word = r.string(item, &index("notify.on", i))?;
            // Upstream keeps the words as strings and notifies when one names the decision:
            // a word naming no decision loads and never notifies (lint says so).
            if let Some(action) = check::notify_on(&word) {
                if !on.contains(&action) {
                    on.push(action);
                }
            }
        }
    }
    if words == 0 {
        on = vec![Action::Deny, Action::Ask];
    }
    Ok(Notify {
        url: text("url")?,
        platform: text("platform")?,
        on,
    })
}

fn policies(r: &Reader, node: &Node, source: &str) -> Result<Vec<Policy>, Error> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for (i, item) in r.list(node, "policies")?.iter().enumerate() {
        let path = index("policies", i);
        let p = policy(r, item, &path, source)?;
        if let Some(first) = seen.get(&p.name.value) {
            return Err(Error::at(
                p.name.pos.clone(),
                format!(
                    "{path}.name: duplicate policy name {:?} (first defined at {first})",
                    p.name.value
                ),
            ));
        }
        seen.insert(p.name.value.clone(), p.name.pos.to_string());
        out.push(p);
    }
    Ok(out)
}

fn policy(r: &Reader, node: &Node, path: &str, source: &str) -> Result<Policy, Error> {
    let f = r.fields(node, path, POLICY_KEYS)?;
    let name = match f.get("name") {
        Some(n) => r.located_string(n, &child(path, "name"))?,
        None => Located::new(String::new(), r.pos(node)),
    };
    if name.value.trim().is_empty() {
        return Err(Error::at(name.pos, format!("{path}: policy has no name")));
    }
    let priority = match f.get("priority") {
        Some(n) => r.int(n, &child(path, "priority"))?,
        None => 0,
    };
    let enabled = match f.get("enabled") {
        Some(n) => r.opt_bool(n, &child(path, "enabled"))?.unwrap_or(true),
        None => true,
    };
    let description = match f.get("description") {
        Some(n) => r.string(n, &child(path, "description"))?,
        None => String::new(),
    };
    let scope = scope(r, f.get("match"), node, &child(path, "match"))?;
    let mut rules = Vec::new();
    if let Some(list) = f.get("rules") {
        let rules_path = child(path, "rules");
        for (i, item) in r.list(list, &rules_path)?.iter().enumerate() {
            rules.push(rule(r, item, &index(&rules_path, i))?);
        }
    }
    Ok(Policy {
        name,
        description,
        priority: if priority == 0 { 100 } else { priority },
        enabled,
        agent: scope.agent,
        session: scope.session,
        tools: scope.tools,
        rules,
        source: source.to_string(),
        pos: r.pos(node),
    })
}

struct Scope {
    agent: Located<String>,
    session: Located<String>,
    tools: Vec<Located<String>>,
}

/// `match:`; an absent or empty agent or session is `*`, positioned at the policy.
fn scope(r: &Reader, node: Option<&Node>, policy: &Node, path: &str) -> Result<Scope, Error> {
    let star = || Located::new("*".to_string(), r.pos(policy));
    let Some(node) = node else {
        return Ok(Scope {
            agent: star(),
            session: star(),
            tools: Vec::new(),
        });
    };
    let f = r.fields(node, path, MATCH_KEYS)?;
    let glob = |key: &str| -> Result<Located<String>, Error> {
        let Some(n) = f.get(key) else {
            return Ok(star());
        };
        let value = r.located_string(n, &child(path, key))?;
        check_glob(r, n, &child(path, key), &value.value)?;
        Ok(if value.value.is_empty() {
            star()
        } else {
            value
        })
    };
    let (agent, session) = (glob("agent")?, glob("session")?);
    let tools = match f.get("tool") {
        Some(n) => {
            let tools = r.string_or_list(n, &child(path, "tool"))?;
            check_globs(n, &child(path, "tool"), &tools)?;
            tools
        }
        None => Vec::new(),
    };
    Ok(Scope {
        agent,
        session,
        tools,
    })
}

fn check_glob(r: &Reader, node: &Node, path: &str, pattern: &str) -> Result<(), Error> {
    check::glob(pattern).map_err(|e| r.error(node, path, e))
}

/// Checks each pattern of a list; the error points at the item.
fn check_globs(node: &Node, path: &str, patterns: &[Located<String>]) -> Result<(), Error> {
    let is_list = matches!(node.value, Value::Seq(_));
    for (i, p) in patterns.iter().enumerate() {
        if let Err(e) = check::glob(&p.value) {
            let path = if is_list {
                index(path, i)
            } else {
                path.to_string()
            };
            return Err(Error::at(p.pos.clone(), super::decode::at_path(&path, e)));
        }
    }
    Ok(())
}

fn rule(r: &Reader, node: &Node, path: &str) -> Result<Rule, Error> {
    let f = r.fields(node, path, RULE_KEYS)?;
    let action_path = child(path, "action");
    let (action, deprecated_log) = match f.get("action") {
        Some(n) => {
            let text = r.string(n, &action_path)?;
            let (action, log) =
                check::rule_action(&text).map_err(|e| r.error(n, &action_path, e))?;
            (Located::new(action, r.pos(n)), log)
        }
        None => return Err(r.error(node, path, "rule has no `action`")),
    };
    let webhook = match f.get("webhook").filter(|n| !matches!(n.value, Value::Null)) {
        Some(n) => Some(webhook(r, n, &child(path, "webhook"))?),
        None => None,
    };
    if action.value == Action::Webhook && webhook.as_ref().is_none_or(|w| w.url.trim().is_empty()) {
        return Err(Error::at(
            action.pos.clone(),
            format!("{action_path}: action webhook needs `webhook.url`"),
        ));
    }
    let when = match f.get("when") {
        Some(n) => condition(r, n, &child(path, "when"))?,
        None => Condition::default(),
    };
    // `added` is metadata; it only has to be a scalar.
    optional_string(r, &f, path, "added")?;
    Ok(Rule {
        action,
        deprecated_log,
        when,
        message: optional_string(r, &f, path, "message")?,
        ask: ask(r, &f, path)?,
        webhook,
        expires_at: expires_at(r, &f, path)?,
        once: optional_bool(r, &f, path, "once")?,
        pos: r.pos(node),
    })
}

fn optional_string(r: &Reader, f: &Fields, path: &str, key: &str) -> Result<String, Error> {
    f.get(key)
        .map_or(Ok(String::new()), |n| r.string(n, &child(path, key)))
}

fn optional_bool(r: &Reader, f: &Fields, path: &str, key: &str) -> Result<bool, Error> {
    f.get(key)
        .map_or(Ok(false), |n| r.bool(n, &child(path, key)))
}

fn ask(r: &Reader, f: &Fields, path: &str) -> Result<AskOptions, Error> {
    let Some(node) = f.get("ask") else {
        return Ok(AskOptions::default());
    };
    let path = child(path, "ask");
    let f = r.fields(node, &path, ASK_KEYS)?;
    Ok(AskOptions {
        audit: optional_bool(r, &f, &path, "audit")?,
        headless_only: optional_bool(r, &f, &path, "headless_only")?,
    })
}

fn webhook(r: &Reader, node: &Node, path: &str) -> Result<Webhook, Error> {
    let f = r.fields(node, path, WEBHOOK_KEYS)?;
    let timeout_ms = match f.get("timeout") {
        Some(n) => {
            let text = r.string(n, &child(path, "timeout"))?;
            check::webhook_timeout_ms(&text).map_err(|e| r.error(n, &child(path, "timeout"), e))?
        }
        None => check::webhook_timeout_ms("").unwrap_or(5_000),
    };
    Ok(Webhook {
        url: optional_string(r, &f, path, "url")?,
        timeout_ms,
        fail_open: optional_bool(r, &f, path, "fail_open")?,
    })
}

fn expires_at(r: &Reader, f: &Fields, path: &str) -> Result<Option<i64>, Error> {
    let Some(node) = f.get("expires_at") else {
        return Ok(None);
    };
    let path = child(path, "expires_at");
    let text = r.string(node, &path)?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    super::time::rfc3339(&text)
        .map(Some)
        .map_err(|e| r.error(node, &path, e))
}

/// The `when:` block. Every list is read and checked by the rules of its kind.
fn condition(r: &Reader, node: &Node, path: &str) -> Result<Condition, Error> {
    let f = r.fields(node, path, WHEN_KEYS)?;
    let globs = |key: &str| -> Result<Vec<Located<String>>, Error> {
        let Some(n) = f.get(key) else {
            return Ok(Vec::new());
        };
        let list = r.strings(n, &child(path, key))?;
        check_globs(n, &child(path, key), &list)?;
        Ok(list)
    };
    let checked = |key: &str, check: fn(&str) -> Result<(), String>| {
        let Some(n) = f.get(key) else {
            return Ok(Vec::new());
        };
        let list = r.strings(n, &child(path, key))?;
        for (i, item) in list.iter().enumerate() {
            check(&item.value).map_err(|e| {
                Error::at(
                    item.pos.clone(),
                    super::decode::at_path(&index(&child(path, key), i), e),
                )
            })?;
        }
        Ok(list)
    };
    Ok(Condition {
        command_matches: globs("command_matches")?,
        command_contains: checked("command_contains", check::contains)?,
        command_not_matches: globs("command_not_matches")?,
        command_env_assignments: globs("command_env_assignments")?,
        path_matches: globs("path_matches")?,
        path_not_matches: globs("path_not_matches")?,
        url_matches: globs("url_matches")?,
        domain_matches: globs("domain_matches")?,
        response_matches: checked("response_matches", check::response_regex)?,
        response_not_matches: checked("response_not_matches", check::response_regex)?,
        session_matches: globs("session_matches")?,
        session_not_matches: globs("session_not_matches")?,
        agent_depth: agent_depth(r, f.get("agent_depth"), &child(path, "agent_depth"))?,
        tool_param_matches: tool_params(r, f.get("tool_param_matches"), path)?,
        call_count: call_count(r, f.get("call_count"), &child(path, "call_count"))?,
        default: optional_bool(r, &f, path, "default")?,
    })
}

fn agent_depth(r: &Reader, node: Option<&Node>, path: &str) -> Result<Option<AgentDepth>, Error> {
    let Some(node) = node.filter(|n| !matches!(n.value, Value::Null)) else {
        return Ok(None);
    };
    let f = r.fields(node, path, AGENT_DEPTH_KEYS)?;
    let bound = |key: &str| match f.get(key).filter(|n| !matches!(n.value, Value::Null)) {
        Some(n) => r.int(n, &child(path, key)).map(Some),
        None => Ok(None),
    };
    Ok(Some(AgentDepth {
        gte: bound("gte")?,
        lte: bound("lte")?,
        eq: bound("eq")?,
    }))
}

/// `tool_param_matches`: param name -> glob, in the order written.
fn tool_params(
    r: &Reader,
    node: Option<&Node>,
    when_path: &str,
) -> Result<Vec<(String, Located<String>)>, Error> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let path = child(when_path, "tool_param_matches");
    let entries = node.entries().ok_or_else(|| {
        r.error(
            node,
            &path,
            format!(
                "expected a mapping of parameter names to patterns, found {}",
                node.describe()
            ),
        )
    })?;
    let mut out = Vec::new();
    for (key, value) in entries {
        let name = r.string(key, &path)?;
        let value_path = child(&path, &name);
        let pattern = r.located_string(value, &value_path)?;
        check_glob(r, value, &value_path, &pattern.value)?;
        out.push((name, pattern));
    }
    Ok(out)
}

fn call_count(r: &Reader, node: Option<&Node>, path: &str) -> Result<Option<CallCount>, Error> {
    let Some(node) = node.filter(|n| !matches!(n.value, Value::Null)) else {
        return Ok(None);
    };
    let f = r.fields(node, path, CALL_COUNT_KEYS)?;
    let tool = optional_string(r, &f, path, "tool")?;
    let gte = match f.get("gte") {
        Some(n) => {
            let gte = r.int(n, &child(path, "gte"))?;
            check::call_count_gte(gte).map_err(|e| r.error(n, &child(path, "gte"), e))?
        }
        None => 0,
    };
    let window = optional_string(r, &f, path, "window")?;
    let window_secs = check::call_count_window(&window).map_err(|e| match f.get("window") {
        Some(n) => r.error(n, &child(path, "window"), e),
        None => r.error(node, path, e),
    })?;
    Ok(Some(CallCount {
        tool: Some(tool).filter(|t| !t.trim().is_empty()),
        gte,
        window_secs,
    }))
}

/// Inline `tests:` of a policy file, or the `tests:` of a suite.
pub fn tests(r: &Reader, node: &Node, path: &str) -> Result<Vec<TestCase>, Error> {
    r.list(node, path)?
        .iter()
        .enumerate()
        .map(|(i, item)| test_case(r, item, &index(path, i)))
        .collect()
}

fn test_case(r: &Reader, node: &Node, path: &str) -> Result<TestCase, Error> {
    let f = r.fields(node, path, TEST_KEYS)?;
    let tool = optional_string(r, &f, path, "tool")?;
    if tool.trim().is_empty() {
        return Err(r.error(f.get("tool").unwrap_or(node), path, "test has no `tool`"));
    }
    let expect_path = child(path, "expect");
    let expect_node = f.get("expect").unwrap_or(node);
    let expect_text = optional_string(r, &f, path, "expect")?;
    let (expect, _) =
        check::rule_action(&expect_text).map_err(|e| r.error(expect_node, &expect_path, e))?;
    let agent = optional_string(r, &f, path, "agent")?;
    let params = match f.get("params") {
        Some(n) if matches!(n.value, Value::Map(_)) => to_json(r, n, &child(path, "params"))?,
        Some(n) if matches!(n.value, Value::Null) => serde_json::Value::Object(Default::default()),
        Some(n) => {
            return Err(r.error(
                n,
                &child(path, "params"),
                format!("expected a mapping of parameters, found {}", n.describe()),
            ))
        }
        None => serde_json::Value::Object(serde_json::Map::new()),
    };
    let expect_message = optional_string(r, &f, path, "expect_message")?;
    Ok(TestCase {
        name: optional_string(r, &f, path, "name")?,
        tool,
        agent: if agent.is_empty() {
            "test".to_string()
        } else {
            agent
        },
        params,
        expect,
        expect_message: Some(expect_message).filter(|m| !m.is_empty()),
        pos: r.pos(node),
    })
}

/// Test parameters as JSON, the shape a tool call's params have.
fn to_json(r: &Reader, node: &Node, path: &str) -> Result<serde_json::Value, Error> {
    use serde_json::Value as J;
    Ok(match &node.value {
        Value::Null => J::Null,
        Value::Bool(b, _) => J::Bool(*b),
        Value::Int(i, text) => i64::try_from(*i)
            .map(J::from)
            .or_else(|_| u64::try_from(*i).map(J::from))
            .unwrap_or_else(|_| J::String(text.clone())),
        Value::Float(f, text) => serde_json::Number::from_f64(*f)
            .map(J::Number)
            .unwrap_or_else(|| J::String(text.clone())),
        Value::Str(s) => J::String(s.clone()),
        Value::Seq(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| to_json(r, item, &index(path, i)))
                .collect::<Result<_, _>>()?,
        ),
        Value::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let name = r.string(key, path)?;
                let value = to_json(r, value, &child(path, &name))?;
                map.insert(name, value);
            }
            J::Object(map)
        }
    })
}
