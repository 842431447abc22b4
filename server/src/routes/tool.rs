//! `POST /v1/tool/{name}` (the enforcement boundary of upstream's clients) and
//! `POST /v1/preflight/{name}` (a decision without a queue; with `enforce`, the boundary of the
//! preload), reference §3.4 and §3.5.
//!
//! One extension, for waiters that should not poll: `?wait=30s` on either route. On `/v1/tool` an
//! `ask` then waits up to that long for the approval and answers as the approved (200) or denied
//! (403) call; on an enforcing `/v1/preflight` an `ask` creates an approval and waits, and the
//! reply is the person's answer (upstream's preflight never creates one, so its clients, which
//! never send `wait`, see upstream's contract unchanged). The preload library asks this way.

use std::time::Duration;

use rampart_runtime::eval::{Action, Decision};
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use serde_json::{json, Map, Value};

use crate::approvals::{Approval, CreateError, NewApproval, Status};
use crate::auth::Principal;
use crate::engine::{Intent, Outcome, Phase, Request};
use crate::http::{Exchange, Reply};
use crate::request::{self, Prepared};
use crate::tokens::Scope;
use crate::State;

/// The longest `?wait=` honoured.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// What a redacted response is replaced with.
pub const REDACTED: &str = "[REDACTED: sensitive content removed by Rampart]";

thread_local! {
    static READER: std::cell::RefCell<Reader> = std::cell::RefCell::new(Reader::new());
}

/// Decides with this worker thread's reader (its buffers serve every call the thread decides).
pub fn decide(state: &State, request: &Request<'_>) -> Outcome {
    READER.with(|r| match r.try_borrow_mut() {
        Ok(mut reader) => state.engine.decide(&mut reader, request),
        Err(_) => state.engine.decide(&mut Reader::new(), request),
    })
}

/// What the policy says about `call`, with nothing counted, claimed or recorded.
pub fn evaluate(state: &State, call: &rampart_runtime::Call) -> Result<Decision, String> {
    READER.with(|r| match r.try_borrow_mut() {
        Ok(mut reader) => state.engine.evaluate(&mut reader, call),
        Err(_) => state.engine.evaluate(&mut Reader::new(), call),
    })
}

/// Reads, authenticates and prepares a tool request.
fn prepared(state: &State, ex: &mut Exchange, name: &str) -> Result<(Prepared, Principal), Reply> {
    request::tool_name(name).map_err(|e| Reply::error(400, e))?;
    let principal = state.auth.check(ex, Scope::Eval, false)?;
    let body = super::json_body(ex)?;
    let mut prepared = request::prepare(name, &body).map_err(|e| Reply::error(400, e))?;
    if let Principal::Agent(token) = &principal {
        prepared.call.agent.clone_from(&token.agent);
    }
    state.metrics.tool(&prepared.call.tool);
    Ok((prepared, principal))
}

/// `?wait=30s` (or `500ms`, `2m`, plain seconds), capped at [`MAX_WAIT`].
pub fn wait_param(ex: &Exchange) -> Result<Option<Duration>, Reply> {
    match ex.query("wait") {
        None | Some("") => Ok(None),
        Some(text) => parse_duration(text)
            .map(|d| Some(d.min(MAX_WAIT)))
            .ok_or_else(|| {
                Reply::error(
                    400,
                    format!("invalid wait {text:?}: use e.g. 30s, 500ms, 2m"),
                )
            }),
    }
}

/// `500ms`, `30s`, `2m`, `1h`, or plain seconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: f64 = number.parse().ok()?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return None,
    };
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(1e9)))
}

/// `POST /v1/preflight/{name}`.
pub fn preflight(state: &State, ex: &mut Exchange, name: &str) -> Reply {
    let (prepared, principal) = match prepared(state, ex, name) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let wait = match wait_param(ex) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    if prepared.verification {
        return verification(state, &prepared, &principal);
    }
    let intent = if prepared.enforce {
        Intent::Enforce
    } else {
        Intent::Preview
    };
    let outcome = decide(
        state,
        &request_of(&prepared, Phase::Request, intent, &prepared.params),
    );
    state.metrics.decided(&outcome);
    publish_audit(state);
    let mode = state.engine.mode();
    if prepared.enforce && mode == Mode::Enforce && outcome.audit_error.is_some() {
        return Reply::error(503, crate::engine::MSG_AUDIT_FAILED);
    }
    let enforced = prepared.enforce && mode == Mode::Enforce;
    let shown = if prepared.enforce || mode == Mode::Disabled {
        outcome.decision.clone()
    } else {
        outcome.policy.clone()
    };
    let mut reply = obj(json!({
        "allowed": shown.allowed(),
        "decision": shown.action.as_str(),
        "message": shown.message,
        "matched_policies": matched(&shown),
        "eval_duration_us": outcome.eval_us,
        "enforced": enforced,
        "enforcement_requested": prepared.enforce,
        "audit_id": outcome.audit_id.clone().unwrap_or_default(),
    }));
    if !outcome.suggestions.is_empty() {
        reply.insert("suggestions".into(), json!(outcome.suggestions));
    }
    if prepared.enforce && mode != Mode::Enforce {
        reply.insert(
            "policy_decision".into(),
            json!(outcome.policy.action.as_str()),
        );
        reply.insert("policy_message".into(), json!(outcome.policy.message));
    }
    if let (true, Action::Ask, Some(wait)) = (enforced, shown.action, wait) {
        return await_preflight(state, &prepared, &principal, &outcome, wait, reply);
    }
    Reply::json(200, &Value::Object(reply))
}

/// The preload's blocking ask: an approval created and waited for; the reply says what the
/// person said (or that nobody did in time).
fn await_preflight(
    state: &State,
    prepared: &Prepared,
    principal: &Principal,
    outcome: &Outcome,
    wait: Duration,
    mut reply: Map<String, Value>,
) -> Reply {
    let approval = match create_approval(state, prepared, principal, outcome, Some(wait)) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    let settled = state.approvals.wait(&approval.id, wait).unwrap_or(approval);
    let allowed = settled.status == Status::Approved;
    if allowed {
        // The approval is used by this very call.
        let _ = state.approvals.take_replay(&settled.fingerprint);
    }
    let obj = &mut reply;
    obj.insert("allowed".into(), json!(allowed));
    obj.insert(
        "decision".into(),
        json!(if allowed { "allow" } else { "deny" }),
    );
    obj.insert(
        "message".into(),
        json!(approval_message(&settled, &outcome.decision)),
    );
    obj.insert("approval_id".into(), json!(settled.id));
    obj.insert("approval_status".into(), json!(settled.status.as_str()));
    Reply::json(200, &Value::Object(reply))
}

fn approval_message(a: &Approval, decision: &Decision) -> String {
    match a.status {
        Status::Approved => format!(
            "approved by {} via Rampart approval",
            a.resolved_by.as_deref().unwrap_or("a person")
        ),
        Status::Denied => format!(
            "denied by {} via Rampart approval: {}",
            a.resolved_by.as_deref().unwrap_or("a person"),
            decision.message
        ),
        Status::Expired => "approval timed out — command blocked".into(),
        Status::Pending => format!("approval still pending: {}", decision.message),
    }
}

/// `verification:true`: the admin's dry run, neither enforced nor recorded.
fn verification(state: &State, prepared: &Prepared, principal: &Principal) -> Reply {
    if !principal.has(Scope::Admin) {
        return Reply::error(403, "verification requires admin scope");
    }
    if prepared.enforce {
        return Reply::error(400, "verification cannot be combined with enforce");
    }
    match evaluate(state, &prepared.call) {
        Ok(d) => Reply::json(
            200,
            &json!({
                "allowed": d.allowed(), "decision": d.action.as_str(), "message": d.message,
                "matched_policies": matched(&d), "enforced": false, "enforcement_requested": false,
                "verification": true,
            }),
        ),
        Err(e) => Reply::error(503, format!("no usable policy: {e}")),
    }
}

/// `POST /v1/tool/{name}`.
pub fn tool(state: &State, ex: &mut Exchange, name: &str) -> Reply {
    let (prepared, principal) = match prepared(state, ex, name) {
        Ok(p) => p,
        Err(reply) => return reply,
    };
    let wait = match wait_param(ex) {
        Ok(w) => w,
        Err(reply) => return reply,
    };
    if prepared.verification {
        return Reply::error(400, "verification is only available on /v1/preflight");
    }
    let outcome = decide(
        state,
        &request_of(&prepared, Phase::Request, Intent::Enforce, &prepared.params),
    );
    state.metrics.decided(&outcome);
    publish_audit(state);
    let mode = state.engine.mode();
    if mode == Mode::Enforce && outcome.audit_error.is_some() {
        return Reply::error(503, crate::engine::MSG_AUDIT_FAILED);
    }
    let decision = &outcome.decision;
    let mut reply = tool_reply(&outcome, mode);
    if mode == Mode::Enforce {
        match decision.action {
            Action::Deny => return Reply::json(403, &Value::Object(reply)),
            Action::Webhook => return webhook(reply),
            Action::Ask => {
                return ask(state, &prepared, &principal, &outcome, wait, reply);
            }
            Action::Allow | Action::Watch => {}
        }
    }
    if let Some(output) = &prepared.response {
        scan_response(state, &prepared, &outcome, output, &mut reply);
    }
    Reply::json(200, &Value::Object(reply))
}

/// Upstream's `/v1/tool` body.
fn tool_reply(outcome: &Outcome, mode: Mode) -> Map<String, Value> {
    let d = &outcome.decision;
    let mut reply = obj(json!({
        "allowed": d.allowed(),
        "decision": d.action.as_str(),
        "message": d.message,
        "eval_duration_us": outcome.eval_us,
        "audit_id": outcome.audit_id.clone().unwrap_or_default(),
        "suggestions": outcome.suggestions,
    }));
    let obj = &mut reply;
    if let Some(first) = d.matched_policies.first() {
        obj.insert("policy".into(), json!(first));
    }
    if mode == Mode::Monitor || mode == Mode::Audit {
        obj.insert("enforced".into(), json!(false));
        obj.insert(
            "policy_decision".into(),
            json!(outcome.policy.action.as_str()),
        );
        obj.insert("policy_message".into(), json!(outcome.policy.message));
    }
    reply
}

/// A webhook rule decided: until the webhook client lands, the rule's call is refused (its
/// `fail_open` is not consulted: a call no webhook answered is not an allowed call).
fn webhook(mut reply: Map<String, Value>) -> Reply {
    let obj = &mut reply;
    obj.insert("allowed".into(), json!(false));
    obj.insert("decision".into(), json!("deny"));
    obj.insert(
        "message".into(),
        json!("webhook action: this server has no webhook client; refusing tool call"),
    );
    Reply::json(403, &Value::Object(reply))
}

/// enforce + ask (§3.4 step 8).
fn ask(
    state: &State,
    prepared: &Prepared,
    principal: &Principal,
    outcome: &Outcome,
    wait: Option<Duration>,
    mut reply: Map<String, Value>,
) -> Reply {
    if let Some(hosted) = hosted(prepared, principal, outcome, state) {
        reply.extend(hosted);
        return Reply::json(200, &Value::Object(reply));
    }
    if let Some(approved) = state.approvals.take_replay(&prepared.fingerprint) {
        return replayed(reply, &approved);
    }
    let owner = principal.owner();
    let call = &prepared.call;
    if state.approvals.run_granted(
        &call.agent,
        &call.session,
        &prepared.identity.run_id,
        &owner,
    ) {
        let obj = &mut reply;
        obj.insert("allowed".into(), json!(true));
        obj.insert("decision".into(), json!("allow"));
        obj.insert("message".into(), json!("auto-approved by bulk-resolve"));
        obj.insert("policy".into(), json!("auto-approved"));
        return Reply::json(200, &Value::Object(reply));
    }
    let approval = match create_approval(state, prepared, principal, outcome, None) {
        Ok(a) => a,
        Err(reply) => return reply,
    };
    if let Some(wait) = wait {
        let settled = state
            .approvals
            .wait(&approval.id, wait)
            .unwrap_or(approval.clone());
        match settled.status {
            Status::Approved => {
                if let Some(approved) = state.approvals.take_replay(&prepared.fingerprint) {
                    return replayed(reply, &approved);
                }
            }
            Status::Denied | Status::Expired => {
                let obj = &mut reply;
                obj.insert("allowed".into(), json!(false));
                obj.insert("decision".into(), json!("deny"));
                obj.insert(
                    "message".into(),
                    json!(approval_message(&settled, &outcome.decision)),
                );
                obj.insert("approval_id".into(), json!(settled.id));
                obj.insert("approval_status".into(), json!(settled.status.as_str()));
                return Reply::json(403, &Value::Object(reply));
            }
            Status::Pending => {}
        }
    }
    let obj = &mut reply;
    obj.insert("approval_id".into(), json!(approval.id));
    obj.insert("approval_status".into(), json!("pending"));
    obj.insert(
        "expires_at".into(),
        json!(crate::tokens::rfc3339(approval.expires_ms)),
    );
    Reply::json(202, &Value::Object(reply))
}

fn replayed(mut reply: Map<String, Value>, approved: &Approval) -> Reply {
    let obj = &mut reply;
    obj.insert("allowed".into(), json!(true));
    obj.insert("decision".into(), json!("allow"));
    obj.insert(
        "message".into(),
        json!("approved once via Rampart approval"),
    );
    obj.insert("approval_id".into(), json!(approved.id));
    obj.insert("approval_status".into(), json!("approved"));
    obj.insert("approval_scope".into(), json!("once"));
    obj.insert(
        "approval_resolved_by".into(),
        json!(approved.resolved_by.clone().unwrap_or_default()),
    );
    obj.insert(
        "approval_policy_audit_id".into(),
        json!(approved.policy_audit_id),
    );
    Reply::json(200, &Value::Object(reply))
}

/// Trusted hosted approval (§3.4 step 8): the host asks its own user; no item is queued.
fn hosted(
    prepared: &Prepared,
    principal: &Principal,
    outcome: &Outcome,
    state: &State,
) -> Option<Map<String, Value>> {
    if *principal != Principal::Admin {
        return None;
    }
    let owner = prepared.approval_owner.as_ref();
    let text = |k: &str| {
        owner
            .and_then(|o| o.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
    };
    let flag = |k: &str| {
        owner
            .and_then(|o| o.get(k))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    };
    let trusted =
        (text("mode") == "hosted" && !text("host").is_empty() && flag("supports_exact_resume"))
            || (prepared.openclaw_hosted && prepared.skip_pending_approval);
    if !trusted {
        return None;
    }
    let always = flag("supports_allow_always");
    let mut scopes = vec!["once", "session"];
    if always {
        scopes.push("always");
    }
    let timeout = state.approvals.timeout();
    let expires = crate::engine::now_ms()
        .saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
    let mut out = Map::new();
    out.insert("approval_mode".into(), json!("hosted"));
    out.insert(
        "approval_owner".into(),
        owner.map_or(Value::Null, |o| Value::Object(o.clone())),
    );
    out.insert("tool_call_id".into(), json!(prepared.identity.tool_call_id));
    out.insert(
        "approval".into(),
        json!({
            "reason": outcome.decision.message,
            "scope_options": scopes,
            "allow_always_supported": always,
            "timeout_ms": u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX),
            "expires_at": crate::tokens::rfc3339(expires),
        }),
    );
    Some(out)
}

/// Queues the call for a person; the 503 when the queue is full or cannot be stored.
pub fn create_approval(
    state: &State,
    prepared: &Prepared,
    principal: &Principal,
    outcome: &Outcome,
    timeout: Option<Duration>,
) -> Result<Approval, Reply> {
    let text = |k: &str| super::text_field(&prepared.params, k);
    let new = NewApproval {
        tool: prepared.call.tool.clone(),
        command: text("command"),
        path: text("path"),
        agent: prepared.call.agent.clone(),
        session: prepared.call.session.clone(),
        run_id: prepared.identity.run_id.clone(),
        credential_owner: principal.owner(),
        message: outcome.decision.message.clone(),
        fingerprint: prepared.fingerprint.clone(),
        policy_audit_id: outcome.audit_id.clone().unwrap_or_default(),
        timeout,
    };
    match state.approvals.create(new) {
        Ok((approval, fresh)) => {
            if fresh {
                state.events.approvals_changed();
            }
            Ok(approval)
        }
        Err(CreateError::Full) => Err(Reply::error(
            503,
            format!(
                "approval queue is full ({} pending); refusing tool call",
                crate::approvals::MAX_PENDING
            ),
        )),
        Err(CreateError::Storage(e)) => Err(Reply::error(
            503,
            format!("approval store is unavailable ({e}); refusing tool call"),
        )),
    }
}

/// §3.4 step 9: an allowed call's output scanned with the response rules, recorded separately.
fn scan_response(
    state: &State,
    prepared: &Prepared,
    outcome: &Outcome,
    output: &str,
    reply: &mut Map<String, Value>,
) {
    let mut params = prepared.params.clone();
    params.insert(
        "request_audit_id".into(),
        json!(outcome.audit_id.clone().unwrap_or_default()),
    );
    let scanned = decide(
        state,
        &request_of(
            prepared,
            Phase::Response { output },
            Intent::Enforce,
            &params,
        ),
    );
    publish_audit(state);
    let obj = reply;
    let denied = scanned.policy.action == Action::Deny;
    if denied && state.engine.mode() == Mode::Enforce {
        obj.insert("allowed".into(), json!(false));
        obj.insert("decision".into(), json!(scanned.policy.action.as_str()));
        obj.insert("message".into(), json!(scanned.policy.message));
        if let Some(p) = scanned.policy.matched_policies.first() {
            obj.insert("policy".into(), json!(p));
        }
        obj.insert("response".into(), json!(REDACTED));
    } else {
        obj.insert("response".into(), json!(output));
    }
}

pub fn request_of<'a>(
    prepared: &'a Prepared,
    phase: Phase<'a>,
    intent: Intent,
    params: &'a Map<String, Value>,
) -> Request<'a> {
    Request {
        call: &prepared.call,
        identity: &prepared.identity,
        phase,
        intent,
        wait_for_sync: true,
        params,
    }
}

fn matched(d: &Decision) -> Value {
    if d.matched_policies.is_empty() {
        Value::Null
    } else {
        json!(d.matched_policies)
    }
}

/// The map of an object built with `json!({...})`.
pub fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Lets event-stream subscribers know a decision was recorded (they tail the log).
pub(crate) fn publish_audit(state: &State) {
    if state.events.subscribers() > 0 {
        crate::watch::poke();
    }
}
