//! Introspection and control of the policy in force (reference §3.7): status, the policies, a
//! summary, reload (at most once a second) and the dashboard's test evaluation.

use std::time::{Duration, Instant};

use rampart_compiler::sources::{Discovery, Sources};
use rampart_runtime::program::{Field, Metadata};
use rampart_runtime::Call;
use serde_json::{json, Value};

use crate::auth::Principal;
use crate::engine::OpenPolicy;
use crate::http::{Exchange, Reply};
use crate::State;

/// How often `POST /v1/policy/reload` may run.
pub const RELOAD_INTERVAL: Duration = Duration::from_secs(1);

/// The policy sources of a server: `--config` or `./rampart.yaml` (else the embedded standard
/// profile) plus the user policy directory (`--config-dir`, else `~/.rampart/policies`). Project
/// policies belong to native hooks, as upstream.
pub fn sources_of(config: &crate::Config) -> Sources {
    match &config.config_dir {
        None => Discovery {
            config: config.config.clone(),
            cwd: config.cwd.clone(),
            home: Some(config.home.clone()),
            project_policy: false,
            fallback: rampart_policies::standard(),
            profile_files: rampart_policies::profiles()
                .iter()
                .map(|p| p.file_name())
                .collect(),
        }
        .sources(),
        Some(dir) => {
            let local = config.cwd.join("rampart.yaml");
            let primary = config
                .config
                .clone()
                .or_else(|| local.is_file().then_some(local));
            Sources::exact(primary.into_iter().chain([dir.clone()]).collect())
        }
    }
}

fn current(state: &State) -> Result<(std::sync::Arc<OpenPolicy>, Metadata), Reply> {
    let policy = state
        .engine
        .policy()
        .map_err(|e| Reply::error(503, format!("no usable policy: {e}")))?;
    let meta = policy
        .in_force()
        .metadata()
        .map_err(|e| Reply::error(500, e.to_string()))?;
    Ok((policy, meta))
}

/// `GET /v1/status`.
pub fn status(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    let (policy, _meta) = match current(state) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let program = policy.program();
    let counts: serde_json::Map<String, Value> = state
        .metrics
        .tools()
        .into_iter()
        .map(|tool| {
            let n = state.engine.call_count(&tool, 3600);
            (tool, json!(n))
        })
        .collect();
    let mut reply = json!({
        "config_path": state.engine.sources().describe(),
        "mode": state.config.mode.as_str(),
        "default_action": program.default_action().as_str(),
        "policy_count": program.policy_count(),
        "rule_count": program.policies().map(|p| p.rule_count()).sum::<usize>(),
        "call_counts": counts,
    });
    if let (Some(e), Some(obj)) = (state.engine.reload_error(), reply.as_object_mut()) {
        obj.insert("reload_error".into(), json!(e));
    }
    Reply::json(200, &reply)
}

/// `GET /v1/policies`.
pub fn policies(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    let (policy, meta) = match current(state) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let program = policy.program();
    let atoms = |field: Field, range: std::ops::Range<u32>| -> Vec<String> {
        let table = meta.atoms.get(field.index());
        range
            .filter_map(|a| table.and_then(|t| t.get(a as usize)))
            .flat_map(|a| a.patterns.iter().map(|p| p.text.clone()))
            .collect()
    };
    let list: Vec<Value> = program
        .policies()
        .zip(&meta.policies)
        .map(|(p, m)| {
            let agent = atoms(Field::Agent, p.agent()..p.agent() + 1);
            json!({
                "name": m.name,
                "priority": m.priority,
                "source_file": m.file,
                "match_tools": atoms(Field::Tool, p.tools().iter()),
                "match_agent": agent.first().cloned().unwrap_or_else(|| "*".into()),
                "rule_count": p.rule_count(),
            })
        })
        .collect();
    Reply::json(
        200,
        &json!({
            "policies": list,
            "default_action": program.default_action().as_str(),
            "count": program.policy_count(),
        }),
    )
}

/// `GET /v1/policy/summary`.
pub fn summary(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    let (policy, meta) = match current(state) {
        Ok(c) => c,
        Err(reply) => return reply,
    };
    let program = policy.program();
    let mut rules = Vec::new();
    for (p, m) in program.policies().zip(&meta.policies) {
        for r in p.rules() {
            let message = program.text(r.message());
            let summary = if message.is_empty() {
                m.description.clone()
            } else {
                message.to_string()
            };
            rules.push(json!({"name": m.name, "action": r.action().as_str(), "summary": summary}));
        }
    }
    let default = program.default_action().as_str();
    Reply::json(
        200,
        &json!({
            "default_action": default,
            "summary": format!("{} active rules loaded; default action: {default}", rules.len()),
            "rules": rules,
        }),
    )
}

/// `POST /v1/policy/reload`: 429 within a second of the last one; a failed reload keeps the
/// policy in force and says why.
pub fn reload(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    {
        let mut last = state
            .last_reload
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.is_some_and(|t| t.elapsed() < RELOAD_INTERVAL) {
            return Reply::error(429, "policy reload rate limited; try again in a second");
        }
        *last = Some(Instant::now());
    }
    let started = Instant::now();
    match state.engine.reload() {
        Ok(counts) => Reply::json(
            200,
            &json!({
                "success": true,
                "policies_loaded": counts.policies,
                "rules_total": counts.rules,
                "reload_time_ms": started.elapsed().as_millis(),
            }),
        ),
        Err(e) => Reply::json(500, &json!({"success": false, "error": e})),
    }
}

/// `POST /v1/test`: what the policy says about a command (or a path, for read and write), with
/// nothing counted, claimed or recorded.
pub fn test(state: &State, ex: &mut Exchange, _p: &Principal) -> Reply {
    let body = match super::json_body(ex) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let text = |k: &str| super::text_field(&body, k);
    let command = text("command");
    let tool = Some(text("tool"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "exec".into());
    if let Err(e) = crate::request::tool_name(&tool) {
        return Reply::error(400, e);
    }
    let key = match tool.as_str() {
        "read" | "write" | "edit" => "path",
        "fetch" | "web_fetch" | "http" | "browser" => "url",
        _ => "command",
    };
    let mut call = Call::new(&tool, &text("agent"), &[(key, &command)]);
    call.session = text("session");
    let decision = super::tool::evaluate(state, &call);
    match decision {
        Ok(d) => Reply::json(
            200,
            &json!({
                "command": command, "tool": tool, "action": d.action.as_str(), "message": d.message,
                "matched_policies": d.matched_policies, "policy_scope": "global",
            }),
        ),
        Err(e) => Reply::error(503, format!("no usable policy: {e}")),
    }
}
