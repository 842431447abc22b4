//! The decide-and-record seam of the server: every route that decides a call goes through
//! [`Engine::decide`], which mirrors `rampart_integrations::surface::Surface` (the one path every
//! surface shares) so that the server switches to it by changing what [`Engine`] wraps.
//!
//! What the server needs beyond a surface: the policy it keeps when a reload fails or would load
//! no policy at all (upstream keeps the old config), events of its own in the same chain
//! (approvals resolved or timed out, the preload's records), and the policy's metadata for the
//! introspection routes.

use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rampart_audit::{
    AuditError, Event, EventDecision, EventResponse, GroupCommit, Writer, WriterOptions,
};
use rampart_compiler::sources::{Claim, PolicyInForce, Sources};
use rampart_runtime::counter::MemoryCounter;
use rampart_runtime::eval::{Action, Decision, EvalContext, Evaluator};
use rampart_runtime::paths::FsResolver;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{Map, Value};

/// Upstream's answer when a record cannot be written in enforce mode.
pub const MSG_AUDIT_FAILED: &str = "audit storage is unavailable; refusing tool call";
/// Upstream's answer in disabled mode.
pub const MSG_DISABLED: &str = "policy evaluation disabled";

/// Who made a call, beyond the [`Call`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    pub run_id: String,
    pub tool_call_id: String,
    pub approval_owner: String,
}

/// Which side of the tool's run is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase<'a> {
    Request,
    Response { output: &'a str },
}

/// Whether the host acts on the decision (counted, claimed) or only looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    Enforce,
    Preview,
}

/// One decision to make and record.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub call: &'a Call,
    pub identity: &'a Identity,
    pub phase: Phase<'a>,
    pub intent: Intent,
    /// The call's parameters as recorded.
    pub params: &'a Map<String, Value>,
}

/// A decision made and recorded.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The answer after the mode.
    pub decision: Decision,
    /// What the policy said.
    pub policy: Decision,
    pub enforced: bool,
    pub audit_id: Option<String>,
    pub audit_error: Option<AuditError>,
    pub suggestions: Vec<String>,
    pub eval_us: u64,
}

/// An opened policy and its evaluator.
pub struct OpenPolicy {
    // Declared before `in_force`, so it is dropped first: it borrows `in_force`'s bytes.
    evaluator: Evaluator<'static>,
    in_force: Box<PolicyInForce>,
}

impl OpenPolicy {
    fn new(in_force: PolicyInForce) -> Result<OpenPolicy, String> {
        let in_force = Box::new(in_force);
        let evaluator = in_force.evaluator().map_err(|e| e.to_string())?;
        // SAFETY: the evaluator borrows bytes `in_force` owns (static bytes of an embedded
        // profile, a mapping, or a heap buffer), which do not move when the box moves and are
        // never written while it lives. The evaluator is dropped first (field order) and only
        // shorter borrows of it leave this struct.
        let evaluator =
            unsafe { std::mem::transmute::<Evaluator<'_>, Evaluator<'static>>(evaluator) };
        Ok(OpenPolicy {
            evaluator,
            in_force,
        })
    }

    /// The decoded rule tables.
    pub fn program(&self) -> &rampart_runtime::program::Program {
        self.evaluator.program()
    }

    pub fn in_force(&self) -> &PolicyInForce {
        &self.in_force
    }
}

/// The outcome of a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reloaded {
    pub policies: usize,
    pub rules: usize,
}

/// The server's decide-and-record path.
pub struct Engine {
    mode: Mode,
    sources: Sources,
    policy: RwLock<Result<Arc<OpenPolicy>, String>>,
    /// Why the last reload kept the previous policy.
    reload_error: Mutex<Option<String>>,
    counter: MemoryCounter,
    audit: Result<GroupCommit, AuditError>,
}

impl Engine {
    /// Opens the policy of `sources` and the audit chain (verified whole) in `audit`.
    pub fn new(mode: Mode, sources: Sources, audit: WriterOptions) -> Engine {
        let policy = open(&sources).map(Arc::new);
        Engine {
            mode,
            sources,
            policy: RwLock::new(policy),
            reload_error: Mutex::new(None),
            counter: MemoryCounter::default(),
            audit: Writer::open(audit).map(GroupCommit::new),
        }
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Why the audit chain cannot be written, if it cannot.
    pub fn audit_error(&self) -> Option<String> {
        self.audit.as_ref().err().map(ToString::to_string)
    }

    /// The policy in force now (the last one that loaded).
    pub fn policy(&self) -> Result<Arc<OpenPolicy>, String> {
        self.policy
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Why the last reload kept the previous policy.
    pub fn reload_error(&self) -> Option<String> {
        self.reload_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reopens the sources. A policy that fails to load, or loads no policy at all where there
    /// were some, is refused and the previous one stays (upstream); the error says why.
    pub fn reload(&self) -> Result<Reloaded, String> {
        let result = open(&self.sources).and_then(|fresh| {
            let counts = counts(&fresh)?;
            let before = self.policy().ok().and_then(|p| counts_of(&p));
            if counts.policies == 0 && before.is_some_and(|b| b.policies > 0) {
                return Err("the new policy set has no policies; keeping the current one".into());
            }
            Ok((fresh, counts))
        });
        let mut error = self
            .reload_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match result {
            Ok((fresh, counts)) => {
                *self.policy.write().unwrap_or_else(PoisonError::into_inner) = Ok(Arc::new(fresh));
                *error = None;
                Ok(counts)
            }
            Err(e) => {
                *error = Some(e.clone());
                Err(e)
            }
        }
    }

    /// Decides `request` and records it; the mode applies to the answer.
    pub fn decide(&self, reader: &mut Reader, request: &Request<'_>) -> Outcome {
        let started = Instant::now();
        let policy = self.policy_decision(reader, request);
        let eval_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let suggestions = if request.phase == Phase::Request {
            rampart_compiler::sources::user_rules::suggestions(request.call, &policy)
        } else {
            Vec::new()
        };
        let event = event(request, &policy, &suggestions, eval_us, self.mode);
        let (audit_id, audit_error) = match self.record(event) {
            Ok(id) => (Some(id), None),
            Err(e) => (None, Some(e)),
        };
        let decision = match (self.mode, &audit_error) {
            (Mode::Enforce, Some(e)) if request.intent == Intent::Enforce => {
                plain(Action::Deny, format!("{MSG_AUDIT_FAILED}: {e}"))
            }
            (Mode::Enforce, _) => policy.clone(),
            (Mode::Disabled, _) => plain(Action::Allow, MSG_DISABLED.into()),
            (Mode::Monitor | Mode::Audit, _) => observed(&policy),
        };
        Outcome {
            decision,
            policy,
            enforced: self.mode == Mode::Enforce,
            audit_id,
            audit_error,
            suggestions,
            eval_us,
        }
    }

    /// What the policy says, without counting, claiming, recording or the mode.
    pub fn evaluate(&self, reader: &mut Reader, call: &Call) -> Result<Decision, String> {
        let policy = self.policy()?;
        Ok(policy
            .evaluator
            .evaluate_with(reader, call, &self.context(now_unix())))
    }

    /// Calls of `tool` this server counted in the last `window_secs` seconds.
    pub fn call_count(&self, tool: &str, window_secs: u64) -> u64 {
        use rampart_runtime::counter::CallCounter;
        self.counter
            .count(tool, window_secs, now_unix())
            .unwrap_or(0)
    }

    /// Appends an event of the server's own to the chain.
    pub fn record(&self, event: Event) -> Result<String, AuditError> {
        match &self.audit {
            Ok(group) => group.append(event).map(|a| a.id),
            Err(e) => Err(e.clone()),
        }
    }

    fn policy_decision(&self, reader: &mut Reader, request: &Request<'_>) -> Decision {
        if self.mode == Mode::Disabled {
            return plain(Action::Allow, MSG_DISABLED.into());
        }
        let now = now_unix();
        let enforcing = request.intent == Intent::Enforce;
        let call = request.call;
        if let Phase::Response { output } = request.phase {
            return match self.policy() {
                Ok(p) => p.evaluator.evaluate_response(call, output, now),
                Err(e) => plain(
                    Action::Deny,
                    format!("no usable policy: {e}; failing closed"),
                ),
            };
        }
        if enforcing && self.counter.record(&call.tool, now).is_err() {
            return plain(
                Action::Deny,
                rampart_runtime::eval::MSG_COUNTER_FAILED.into(),
            );
        }
        for _ in 0..4 {
            let policy = match self.policy() {
                Ok(p) => p,
                Err(e) => {
                    return plain(
                        Action::Deny,
                        format!("no usable policy: {e}; failing closed"),
                    )
                }
            };
            let decision = policy
                .evaluator
                .evaluate_with(reader, call, &self.context(now));
            if !enforcing || !decision.allowed() {
                return decision;
            }
            match policy.in_force.claim_once(&policy.evaluator, &decision) {
                Ok(Claim::NotOnce | Claim::Claimed) => {
                    if policy
                        .evaluator
                        .winning_rule(&decision)
                        .is_some_and(|r| r.once)
                    {
                        let _ = self.reload();
                    }
                    return decision;
                }
                Ok(Claim::Gone) => {
                    let _ = self.reload();
                }
                Err(e) => {
                    return plain(
                        Action::Deny,
                        format!("single-use rule: {e}; failing closed"),
                    )
                }
            }
        }
        plain(
            Action::Deny,
            rampart_compiler::sources::MSG_ONCE_CONTENDED.into(),
        )
    }

    fn context(&self, now: i64) -> EvalContext<'_> {
        EvalContext {
            now_unix: now,
            counter: Some(&self.counter),
            resolver: Some(&FsResolver),
        }
    }
}

fn open(sources: &Sources) -> Result<OpenPolicy, String> {
    let in_force = sources.open().map_err(|e| e.to_string())?;
    OpenPolicy::new(in_force)
}

fn counts(policy: &OpenPolicy) -> Result<Reloaded, String> {
    counts_of(policy).ok_or_else(|| "the policy bundle has no readable program".into())
}

fn counts_of(policy: &OpenPolicy) -> Option<Reloaded> {
    let program = policy.evaluator.program();
    Some(Reloaded {
        policies: program.policies.len(),
        rules: program.policies.iter().map(|p| p.rules.len()).sum(),
    })
}

/// A decision no rule made.
pub fn plain(action: Action, message: String) -> Decision {
    Decision {
        action,
        message,
        matched_policies: Vec::new(),
        winner: None,
    }
}

/// Monitor mode: the call goes through; a decision that would have stopped it says so
/// (upstream's message).
fn observed(policy: &Decision) -> Decision {
    let mut answer = policy.clone();
    if policy.action != Action::Allow {
        answer.message = format!(
            "monitor mode observed {}; action allowed: {}",
            policy.action, policy.message
        );
    }
    answer.action = Action::Allow;
    answer
}

/// The audit record of a decision (upstream §5.1; the response phase as §3.4 step 9).
fn event(
    request: &Request<'_>,
    policy: &Decision,
    suggestions: &[String],
    eval_us: u64,
    mode: Mode,
) -> Event {
    let call = request.call;
    let mut params = request.params.clone();
    let mut response = None;
    if let Phase::Response { output } = request.phase {
        params.insert("rampart_phase".into(), Value::String("response".into()));
        params.insert("response_bytes".into(), Value::from(output.len()));
        let mut flags = vec!["response-evaluated".to_string()];
        if policy.action == Action::Deny {
            flags.push(match mode {
                Mode::Enforce => "response-redacted".into(),
                _ => "response-observed-deny".into(),
            });
        }
        response = Some(EventResponse {
            flags,
            ..EventResponse::default()
        });
    }
    let mut decision =
        EventDecision::from_decision(policy, i64::try_from(eval_us).unwrap_or(i64::MAX));
    decision.suggestions = suggestions.to_vec();
    let mut event = Event::new(&call.tool, params)
        .agent(&call.agent)
        .session(&call.session)
        .run_id(&request.identity.run_id)
        .tool_call_id(&request.identity.tool_call_id)
        .decision(decision);
    event.approval_owner = request.identity.approval_owner.clone();
    event.response = response;
    event
}

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
