//! The approval endpoints (reference §3.6): create (for hooks), list, status (with a long poll),
//! resolve (admin token or a signed link), bulk resolve.

use std::collections::BTreeMap;
use std::time::Duration;

use rampart_audit::{Event, EventDecision};
use rampart_compiler::sources::user_rules::{add_rule, escape_glob, UserRule};
use rampart_runtime::eval::Action;
use serde_json::{json, Map, Value};

use crate::approvals::{
    Approval, CreateError, NewApproval, ResolveError, RunGrant, Status, RUN_GRANT_TTL,
};
use crate::auth::Principal;
use crate::engine::now_ms;
use crate::http::{Exchange, Reply};
use crate::tokens::rfc3339;
use crate::State;

/// The file persisted approvals are written to, in the user policy directory.
pub const AUTO_ALLOWED: &str = "auto-allowed.yaml";

fn text(body: &Map<String, Value>, key: &str) -> Result<String, Reply> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Reply::error(
            400,
            format!("invalid request: {key:?} must be a string"),
        )),
    }
}

fn flag(body: &Map<String, Value>, key: &str) -> Result<bool, Reply> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(Reply::error(
            400,
            format!("invalid request: {key:?} must be a boolean"),
        )),
    }
}

/// `POST /v1/approvals`: a hook hands an `ask` to the queue.
pub fn create(state: &State, ex: &mut Exchange, principal: &Principal) -> Reply {
    let result = (|| {
        let body = super::json_body(ex)?;
        let tool = text(&body, "tool")?;
        if tool.is_empty() {
            return Err(Reply::error(400, "invalid request: \"tool\" is required"));
        }
        Ok(NewApproval {
            tool,
            command: text(&body, "command")?,
            path: text(&body, "path")?,
            agent: text(&body, "agent")?,
            session: "hook".into(),
            run_id: text(&body, "run_id")?,
            credential_owner: principal.owner(),
            message: text(&body, "message")?,
            ..NewApproval::default()
        })
    })();
    let new = match result {
        Ok(new) => new,
        Err(reply) => return reply,
    };
    match enqueue(state, new) {
        Ok(Queued::Granted { id }) => {
            let now = now_ms();
            Reply::json(
                200,
                &json!({"id": id, "status": "approved",
                        "message": "auto-approved by bulk-resolve", "expires_at": rfc3339(now)}),
            )
        }
        Ok(Queued::Pending(a)) => Reply::json(
            201,
            &json!({"id": a.id, "status": "pending", "expires_at": rfc3339(a.expires_ms)}),
        ),
        Err(reply) => reply,
    }
}

/// What became of a call handed to the queue.
pub enum Queued {
    /// Its run was approved whole by a bulk resolve: no person is asked again.
    Granted { id: String },
    /// Waiting for a person.
    Pending(Box<Approval>),
}

/// Hands `new` to the queue (`POST /v1/approvals`, and the `ask` of an http hook); the 503 when
/// the queue is full or cannot be stored.
pub fn enqueue(state: &State, new: NewApproval) -> Result<Queued, Reply> {
    if state
        .approvals
        .run_granted(&new.agent, &new.session, &new.run_id, &new.credential_owner)
    {
        return Ok(Queued::Granted {
            id: rampart_audit::ids::new_id(now_ms()),
        });
    }
    match state.approvals.create(new) {
        Ok((a, _)) => {
            state.events.approvals_changed();
            Ok(Queued::Pending(Box::new(a)))
        }
        Err(CreateError::Full) => Err(Reply::error(
            503,
            format!(
                "approval queue is full ({} pending)",
                crate::approvals::MAX_PENDING
            ),
        )),
        Err(CreateError::Storage(e)) => Err(Reply::error(
            503,
            format!("approval store is unavailable: {e}"),
        )),
    }
}

/// `GET /v1/approvals`: the pending items, and the runs that hold two or more of them.
pub fn list(state: &State, _ex: &mut Exchange, _p: &Principal) -> Reply {
    let pending = state.approvals.pending();
    let mut groups: BTreeMap<(String, String, String, String), Vec<&Approval>> = BTreeMap::new();
    for a in pending.iter().filter(|a| !a.run_id.is_empty()) {
        groups
            .entry((
                a.agent.clone(),
                a.session.clone(),
                a.run_id.clone(),
                a.credential_owner.clone(),
            ))
            .or_default()
            .push(a);
    }
    let run_groups: Vec<Value> = groups
        .into_iter()
        .filter(|(_, items)| items.len() >= 2)
        .map(|((agent, session, run_id, owner), items)| {
            json!({
                "agent": agent, "session": session, "run_id": run_id, "credential_owner": owner,
                "count": items.len(),
                "earliest_created_at": items.first().map(|a| rfc3339(a.created_ms)),
                "items": items.iter().map(|a| a.list_json()).collect::<Vec<_>>(),
            })
        })
        .collect();
    Reply::json(
        200,
        &json!({
            "approvals": pending.iter().map(Approval::list_json).collect::<Vec<_>>(),
            "run_groups": run_groups,
            "run_grant_ttl_ms": RUN_GRANT_TTL.as_millis(),
        }),
    )
}

/// `GET /v1/approvals/{id}`; with `?wait=30s` it answers as soon as the approval is resolved (or
/// when the wait is over).
pub fn get(state: &State, ex: &mut Exchange, id: &str) -> Reply {
    let wait = match super::tool::wait_param(ex) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    let found = match wait {
        Some(wait) => state.approvals.wait(id, wait),
        None => state.approvals.get(id),
    };
    match found {
        Some(a) => Reply::json(200, &a.status_json()),
        None => Reply::error(404, "approval not found"),
    }
}

/// `POST /v1/approvals/{id}/resolve`: with the admin token, or a signed link (`?sig=&exp=`),
/// which cannot persist.
pub fn resolve(state: &State, ex: &mut Exchange, id: &str) -> Reply {
    let signed = match (ex.query("sig"), ex.query("exp")) {
        (Some(sig), Some(exp)) => state.auth.signed_link(id, sig, exp),
        _ => false,
    };
    let admin = if signed && ex.header("Authorization").is_none() {
        false
    } else {
        match state.auth.check(ex, crate::tokens::Scope::Admin, false) {
            Ok(_) => true,
            Err(reply) => return reply,
        }
    };
    let body = match super::json_body(ex) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let parsed = (|| {
        let approved = match body.get("approved") {
            Some(Value::Bool(b)) => *b,
            _ => {
                return Err(Reply::error(
                    400,
                    "invalid request: \"approved\" must be true or false",
                ))
            }
        };
        Ok((
            approved,
            text(&body, "resolved_by")?,
            flag(&body, "persist")?,
        ))
    })();
    let (approved, resolved_by, persist) = match parsed {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    if persist && !admin {
        return Reply::error(403, "persist requires the admin token");
    }
    let resolved_by = if admin {
        if resolved_by.is_empty() {
            "api".to_string()
        } else {
            resolved_by
        }
    } else {
        "signed-link".to_string()
    };
    match resolve_one(state, id, approved, &resolved_by, persist && approved) {
        Ok(a) => Reply::json(
            200,
            &json!({"id": a.id, "status": a.status.as_str(), "approved": approved, "persisted": a.persisted}),
        ),
        Err(reply) => reply,
    }
}

/// Resolves one approval: the durable rule written first (`persist`), then the audit record,
/// then the answer published to every waiter.
fn resolve_one(
    state: &State,
    id: &str,
    approved: bool,
    resolved_by: &str,
    persist: bool,
) -> Result<Approval, Reply> {
    let outcome = state.approvals.resolve(id, approved, resolved_by, |a| {
        let persisted = if persist {
            persist_rule(state, a)?;
            true
        } else {
            false
        };
        record_resolution(state, a, approved, resolved_by, persisted).map_err(|e| {
            Reply::error(
                503,
                format!("audit storage is unavailable; approval not resolved: {e}"),
            )
        })?;
        Ok::<bool, Reply>(persisted)
    });
    match outcome {
        Ok(Ok(a)) => {
            state.events.approvals_changed();
            Ok(a)
        }
        Ok(Err(reply)) => Err(reply),
        Err(ResolveError::NotFound) => Err(Reply::error(404, "approval not found")),
        Err(ResolveError::Gone(status)) => Err(Reply::error(
            410,
            format!("approval already resolved ({})", status.as_str()),
        )),
    }
}

/// Writes the exact allow rule of an approved call to `auto-allowed.yaml` and reloads.
fn persist_rule(state: &State, a: &Approval) -> Result<(), Reply> {
    let pattern = if !a.command.is_empty() {
        escape_glob(&a.command)
    } else if !a.path.is_empty() {
        escape_glob(&a.path)
    } else {
        "*".to_string()
    };
    let mut rule = UserRule::new(Action::Allow, &pattern, Some(&a.tool))
        .map_err(|e| Reply::error(400, format!("cannot persist approval {}: {e}", a.id)))?;
    rule.message = format!("approved always (approval {})", a.id);
    let file = state.config.policy_dir().join(AUTO_ALLOWED);
    add_rule(&file, &rule, crate::engine::now_unix())
        .map_err(|e| Reply::error(500, format!("cannot persist approval {}: {e}", a.id)))?;
    if let Err(e) = state.engine.reload() {
        eprintln!(
            "rampart serve: reload after persisting approval {}: {e}",
            a.id
        );
    }
    Ok(())
}

/// The audit record of a resolution (upstream's `approval_resolved`).
pub fn record_resolution(
    state: &State,
    a: &Approval,
    approved: bool,
    resolved_by: &str,
    persisted: bool,
) -> Result<String, rampart_audit::AuditError> {
    let message = if approved {
        format!("approved by {resolved_by}")
    } else {
        format!("denied by {resolved_by}")
    };
    let event = resolution_event(
        a,
        if approved { "allow" } else { "deny" },
        &message,
        resolved_by,
        persisted,
    );
    state.engine.record(event)
}

/// The record of an approval's end (resolved or timed out).
pub fn resolution_event(
    a: &Approval,
    action: &str,
    message: &str,
    by: &str,
    persisted: bool,
) -> Event {
    let mut request = Map::new();
    request.insert("rampart_event".into(), json!("approval_resolved"));
    request.insert("approval_id".into(), json!(a.id));
    request.insert("resolved_by".into(), json!(by));
    request.insert("persisted".into(), json!(persisted));
    if !a.command.is_empty() {
        request.insert("command".into(), json!(a.command));
    }
    if !a.path.is_empty() {
        request.insert("path".into(), json!(a.path));
    }
    if !a.policy_audit_id.is_empty() {
        request.insert("request_audit_id".into(), json!(a.policy_audit_id));
    }
    Event::new(&a.tool, request)
        .agent(&a.agent)
        .session(&a.session)
        .run_id(&a.run_id)
        .decision(EventDecision {
            action: action.into(),
            message: message.into(),
            ..EventDecision::default()
        })
}

/// `POST /v1/approvals/bulk-resolve`: an exact reviewed set of one run's pending approvals.
pub fn bulk_resolve(state: &State, ex: &mut Exchange, principal: &Principal) -> Reply {
    let body = match super::json_body(ex) {
        Ok(b) => b,
        Err(reply) => return reply,
    };
    let parsed = (|| {
        let field = |k: &str| -> Result<String, Reply> {
            let v = text(&body, k)?;
            if v.is_empty() {
                return Err(Reply::error(
                    400,
                    format!("invalid request: {k:?} is required"),
                ));
            }
            Ok(v)
        };
        let (agent, session, run_id) = (field("agent")?, field("session")?, field("run_id")?);
        let approve = match field("action")?.as_str() {
            "approve" => true,
            "deny" => false,
            other => {
                return Err(Reply::error(
                    400,
                    format!("invalid action {other:?}: approve or deny"),
                ))
            }
        };
        let scope = field("scope")?;
        if scope != "pending" && scope != "run" {
            return Err(Reply::error(
                400,
                format!("invalid scope {scope:?}: pending or run"),
            ));
        }
        if scope == "run" && !approve {
            return Err(Reply::error(
                400,
                "scope \"run\" is only valid with action \"approve\"",
            ));
        }
        let ids: Vec<String> = match body.get("ids") {
            Some(Value::Array(items)) if !items.is_empty() => items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| Reply::error(400, "invalid request: \"ids\" must be strings"))?,
            _ => return Err(Reply::error(400, "invalid request: \"ids\" is required")),
        };
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        if unique.len() != ids.len() {
            return Err(Reply::error(400, "invalid request: \"ids\" must be unique"));
        }
        Ok((
            agent,
            session,
            run_id,
            approve,
            scope,
            ids,
            text(&body, "resolved_by")?,
        ))
    })();
    let (agent, session, run_id, approve, scope, ids, resolved_by) = match parsed {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let stale: Vec<&String> = ids
        .iter()
        .filter(|id| {
            state.approvals.get(id).is_none_or(|a| {
                a.status != Status::Pending
                    || a.agent != agent
                    || a.session != session
                    || a.run_id != run_id
            })
        })
        .collect();
    if !stale.is_empty() {
        return Reply::json(
            409,
            &json!({"error": "some approvals are no longer pending for this run; review again", "stale_ids": stale}),
        );
    }
    let by = if resolved_by.is_empty() {
        "bulk-resolve".to_string()
    } else {
        resolved_by
    };
    // A run grant covers the credential the run's calls came with.
    let owner = ids
        .first()
        .and_then(|id| state.approvals.get(id))
        .map_or_else(|| principal.owner(), |a| a.credential_owner);
    let mut resolved = Vec::new();
    for id in &ids {
        match resolve_one(state, id, approve, &by, false) {
            Ok(a) => resolved.push(a.id),
            Err(reply) if reply.status == 503 => return reply,
            Err(_) => {}
        }
    }
    let mut reply = json!({
        "resolved": resolved.len(), "ids": resolved, "reviewed_ids": ids,
        "race_covered_ids": [], "scope": scope, "future_calls_authorized": scope == "run",
    });
    if scope == "run" {
        let ttl = u64::try_from(RUN_GRANT_TTL.as_millis()).unwrap_or(u64::MAX);
        let expires = now_ms().saturating_add(ttl);
        state.approvals.grant_run(RunGrant {
            agent,
            session,
            run_id,
            credential_owner: owner,
            expires_ms: expires,
        });
        if let Some(obj) = reply.as_object_mut() {
            obj.insert("grant_ttl_ms".into(), json!(ttl));
            obj.insert("grant_expires_at".into(), json!(rfc3339(expires)));
        }
    }
    Reply::json(200, &reply)
}

/// Expires approvals past their time, recording each as a deny; every sweep.
pub fn sweep(state: &State) {
    let expired = state.approvals.expire_due(|a| {
        state
            .engine
            .record(resolution_event(
                a,
                "deny",
                "approval timed out — command blocked",
                "timeout",
                false,
            ))
            .is_ok()
    });
    if !expired.is_empty() {
        state.events.approvals_changed();
    }
}

/// How often approvals are checked for expiry.
pub const SWEEP: Duration = Duration::from_millis(250);
