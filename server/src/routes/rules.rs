//! Durable allow rules through the API (reference §3.6, §3.7): the persisted approvals in
//! `auto-allowed.yaml`, and `POST /v1/rules/learn`, which writes an exact allow rule to
//! `user-overrides.yaml`. Both files are in the user policy directory in force and are written
//! the way `rampart allow` writes (`rampart_compiler::sources::user_rules`): under the file's
//! lock, checked by loading the result. The policy is reloaded after each change.

use std::time::{Duration, Instant};

use rampart_compiler::sources::user_rules::{
    add_rule, escape_glob, list_rules, remove_rule, UserRule,
};
use rampart_runtime::eval::Action;
use serde_json::{json, Value};

use super::approvals::AUTO_ALLOWED;
use crate::auth::Principal;
use crate::http::{Exchange, Reply};
use crate::State;

/// Where learned rules go.
pub const USER_OVERRIDES: &str = "user-overrides.yaml";
/// How often a rule may be learned.
pub const LEARN_INTERVAL: Duration = Duration::from_millis(100);

/// `GET /v1/rules/auto-allowed`.
pub fn auto_allowed(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    let file = state.config.policy_dir().join(AUTO_ALLOWED);
    match list_rules(std::slice::from_ref(&file)) {
        Ok(rules) => {
            let items: Vec<Value> = rules
                .iter()
                .map(|r| {
                    json!({
                        "name": r.policy,
                        "description": r.description,
                        "pattern": r.description.strip_prefix("rampart allow ").unwrap_or(&r.description),
                        "decision": "allow",
                        "file": file.display().to_string(),
                    })
                })
                .collect();
            Reply::json(200, &json!({"rules": items, "count": items.len()}))
        }
        Err(e) => Reply::error(500, e.to_string()),
    }
}

/// `DELETE /v1/rules/auto-allowed/{name}`.
pub fn delete_auto_allowed(state: &State, _ex: &mut Exchange, name: &str) -> Reply {
    let file = state.config.policy_dir().join(AUTO_ALLOWED);
    let rules = match list_rules(&[file]) {
        Ok(r) => r,
        Err(e) => return Reply::error(500, e.to_string()),
    };
    let Some(rule) = rules.iter().find(|r| r.policy == name) else {
        return Reply::error(404, format!("no auto-allowed rule named {name:?}"));
    };
    match remove_rule(rule) {
        Ok(true) => {
            let _ = state.engine.reload();
            Reply::json(200, &json!({"deleted": name}))
        }
        Ok(false) => Reply::error(404, format!("no auto-allowed rule named {name:?}")),
        Err(e) => Reply::error(500, e.to_string()),
    }
}

/// `POST /v1/rules/learn`.
pub fn learn(state: &State, ex: &mut Exchange, _p: &Principal) -> Reply {
    {
        let mut last = state
            .last_learn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < LEARN_INTERVAL) {
            return Reply::error(429, "rule learning rate limited; try again shortly");
        }
        *last = Some(Instant::now());
    }
    let body = match super::json_body(ex) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let text = |k: &str| super::text_field(&body, k);
    let tool = text("tool");
    if !["exec", "read", "write", "edit"].contains(&tool.as_str()) {
        return Reply::error(400, "invalid tool: learn takes exec, read, write or edit");
    }
    let decision = Some(text("decision"))
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "allow".into());
    if decision != "allow" {
        return Reply::error(400, "invalid decision: only allow rules can be learned");
    }
    let args = text("args");
    if args.trim().is_empty() {
        return Reply::error(400, "invalid request: \"args\" is required");
    }
    let pattern = escape_glob(args.trim());
    let file = state.config.policy_dir().join(USER_OVERRIDES);
    let described = format!("rampart allow {pattern}");
    match list_rules(std::slice::from_ref(&file)) {
        Ok(rules) if rules.iter().any(|r| r.description == described) => {
            return Reply::error(409, "rule already exists");
        }
        Ok(_) => {}
        Err(e) => return Reply::error(500, e.to_string()),
    }
    let mut rule = match UserRule::new(Action::Allow, &pattern, Some(&tool)) {
        Ok(r) => r,
        Err(e) => return Reply::error(400, e.to_string()),
    };
    let source = text("source");
    rule.message = format!(
        "learned allow{}",
        if source.is_empty() {
            String::new()
        } else {
            format!(" ({source})")
        }
    );
    match add_rule(&file, &rule, crate::engine::now_unix()) {
        Ok(name) => {
            let _ = state.engine.reload();
            Reply::json(
                201,
                &json!({"rule_name": name, "tool": tool, "pattern": pattern, "decision": "allow", "source": source}),
            )
        }
        Err(e) => Reply::error(500, e.to_string()),
    }
}
