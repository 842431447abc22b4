//! The one decide-and-record path every surface takes: the agent hooks, and next the MCP proxy,
//! the `$SHELL` wrapper and the HTTP server.
//!
//! The threat: a surface that decides differently from the others, or answers before its
//! decision is on record, or lets a call through because something of ours broke. Each surface
//! turns its host's input into a [`Call`] and answers in its host's form; everything between is
//! [`Surface::decide`]:
//!
//! 1. open the policy in force ([`rampart_compiler::sources`]); none, or a damaged one, is a deny;
//! 2. for an enforcing request whose policy counts calls, count the call ([`Enforcement`])
//!    before evaluating it;
//! 3. evaluate the request, or the tool's output in the response phase;
//! 4. for an enforcing decision of a single-use rule, claim the rule (and decide again when
//!    another process claimed it first);
//! 5. record the decision, with the `rampart allow` commands that would permit a denied call,
//!    in the audit chain; in enforce mode a record that cannot be written turns the answer into
//!    a deny;
//! 6. apply the mode: `monitor` and `audit` let everything through but record what the policy
//!    said, as upstream; `disabled` decides nothing.
//!
//! # Which constructor
//!
//! * A one-shot process (a hook: one call per process) makes a [`Surface::one_shot`], decides once
//!   with a fresh [`Reader`], and exits. The policy is opened at the first decision (the cached
//!   bundle: no YAML is read while it is fresh), the audit writer at the first record (head-only
//!   recovery, no sync: upstream's hook durability); call counts are kept in upstream's counts
//!   file.
//! * A long-lived process (the server, the MCP proxy, the wrapper) makes one
//!   [`Surface::service`] and shares it between its threads (`Surface` is `Sync`); each thread
//!   keeps its own [`Reader`]. The policy is reopened when it changes (checked at most twice a
//!   second), when a single-use rule was claimed, or on [`Surface::reload`]; records go through
//!   group commit after the whole chain was verified at start; call counts are kept in memory.
//! * The server, which watches its policy sources itself and keeps the last good policy when an
//!   edit breaks it (upstream's serve), makes a [`Surface::held`] and calls [`Surface::reload`]
//!   when its sources change. It records its own events (approvals resolved, the preload's
//!   records) through [`Surface::record`], so that one writer holds the chain.

mod enforce;
mod notice;
mod policy;
mod record;

pub use enforce::{CountsFile, Enforcement, InMemory};
pub use policy::{OpenPolicy, PolicyError};
pub use record::AuditTarget;

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use rampart_audit::{AuditError, Event, EventDecision, EventResponse, Notice};
use rampart_compiler::sources::{Claim, Discovery, Sources, MSG_ONCE_CONTENDED};
use rampart_runtime::counter::CallCounter;
use rampart_runtime::eval::{Action, Decision, EvalContext, MSG_COUNTER_FAILED};
use rampart_runtime::paths::FsResolver;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{Map, Value};

use notice::Notices;
use policy::PolicySlot;
use record::Recorder;

/// Upstream's answer when a record cannot be written in enforce mode.
pub const MSG_AUDIT_FAILED: &str = "audit storage is unavailable; refusing tool call";
/// Upstream's answer in disabled mode.
pub const MSG_DISABLED: &str = "policy evaluation disabled";

/// What a surface is set up with.
#[derive(Clone, Debug)]
pub struct SurfaceConfig {
    pub mode: Mode,
    /// Where the policy in force comes from.
    pub discovery: Discovery,
    pub audit: AuditTarget,
}

/// Who made a call, beyond what the [`Call`] itself carries (agent, session, agent depth).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Identity {
    /// The agent run (upstream's `run_id`): a conversation, a task, a turn.
    pub run_id: String,
    /// The host's id of this tool call, which ties its request and response records together.
    pub tool_call_id: String,
    /// Who answers an `ask` for this call, when the host says (the server's hosted approvals).
    pub approval_owner: String,
}

/// Which side of the tool's run is being decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase<'a> {
    /// Before the tool runs: the request rules.
    Request,
    /// After the tool ran: the response rules over what it returned, as text.
    Response { output: &'a str },
}

/// Whether a decision is the one the call is held to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intent {
    /// The host acts on this decision: calls are counted, `once` rules claimed, and in enforce
    /// mode a failed record denies.
    Enforce,
    /// A look ahead (upstream's preflight without `enforce`): recorded (a long-lived surface
    /// answers once the record is written, without waiting for its sync), nothing counted or
    /// claimed, and a failed record does not change the answer.
    Preview,
}

/// One decision to make and record.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub call: &'a Call,
    pub identity: &'a Identity,
    pub phase: Phase<'a>,
    pub intent: Intent,
    /// Whether an enforcing answer waits for its record's sync on a long-lived surface (a
    /// one-shot surface never syncs: upstream's hook durability). The server's http hooks do not,
    /// so that they answer as the hook process does: once the record is written.
    pub wait_for_sync: bool,
    /// The call's parameters as they are recorded (the audit event's `request`).
    pub params: &'a Map<String, Value>,
}

/// A decision made and recorded.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The answer: the policy's decision in enforce mode (or a deny when the record failed), an
    /// allow in monitor, audit and disabled modes.
    pub decision: Decision,
    /// What the policy said (or why nothing could be decided): what the audit record holds.
    pub policy: Decision,
    /// Whether the answer is the policy's own (enforce mode).
    pub enforced: bool,
    /// The id of the audit record, when it was written.
    pub audit_id: Option<String>,
    /// Why the record could not be written.
    pub audit_error: Option<AuditError>,
    /// Commands that would permit a denied call (`rampart allow ...`), narrowest first.
    pub suggestions: Vec<String>,
    /// An `ask` whose rule says `headless_only`: a person answers it through the server's
    /// approval queue, even where the host could ask.
    pub ask_headless_only: bool,
    /// How long evaluating took, in microseconds.
    pub eval_us: u64,
}

/// A surface's decide-and-record path. See the module documentation.
pub struct Surface {
    mode: Mode,
    policy: PolicySlot,
    recorder: Recorder,
    enforcement: Box<dyn Enforcement>,
    notices: Notices,
}

impl Surface {
    /// A surface for a process that decides once and exits (a hook).
    pub fn one_shot(config: SurfaceConfig) -> Surface {
        let counts = CountsFile::of(config.discovery.home.as_deref());
        let rampart_home = config.discovery.home.as_ref().map(|h| h.join(".rampart"));
        Surface {
            mode: config.mode,
            policy: PolicySlot::once(config.discovery),
            recorder: Recorder::one_shot(config.audit),
            enforcement: Box::new(counts),
            notices: Notices::detached(rampart_home),
        }
    }

    /// A surface for a long-lived process: the audit chain is verified now, the policy is
    /// reopened when its sources change. Never fails: what cannot be opened denies every
    /// decision (enforce mode) with the reason.
    pub fn service(config: SurfaceConfig) -> Surface {
        Surface {
            mode: config.mode,
            policy: PolicySlot::watched(config.discovery),
            recorder: Recorder::service(&config.audit),
            enforcement: Box::new(InMemory::default()),
            notices: Notices::threads(),
        }
    }

    /// A surface for a long-lived process that decides with the policy of `sources` until it
    /// asks for a [`Surface::reload`], which keeps the policy in force when the new one is
    /// broken (the server). The audit chain is verified now; call counts are kept in memory.
    pub fn held(mode: Mode, sources: Sources, audit: &AuditTarget) -> Surface {
        Surface {
            mode,
            policy: PolicySlot::held(sources),
            recorder: Recorder::service(audit),
            enforcement: Box::new(InMemory::default()),
            notices: Notices::threads(),
        }
    }

    /// Keeps call counts in `enforcement` instead of the constructor's choice.
    pub fn with_enforcement(mut self, enforcement: Box<dyn Enforcement>) -> Surface {
        self.enforcement = enforcement;
        self
    }

    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// Decides `request` and records the decision. See the module documentation for the steps.
    pub fn decide(&self, reader: &mut Reader, request: &Request<'_>) -> Outcome {
        let started = Instant::now();
        let (policy, ask_headless_only) = self.policy_decision(reader, request);
        let eval_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let mut outcome = self.finish(request, policy, eval_us);
        outcome.ask_headless_only = ask_headless_only;
        if request.intent == Intent::Enforce && self.mode != Mode::Disabled {
            if let Ok(policy) = self.policy.current() {
                self.notices.after(request, &outcome.policy, &policy);
            }
        }
        outcome
    }

    /// Refuses a call that could not be read (`reason` says why) and records the refusal like any
    /// decision: a deny in enforce mode, an allow that says what it would have been otherwise.
    pub fn refuse(&self, call: &Call, identity: &Identity, reason: &str) -> Outcome {
        let params = Map::new();
        let request = Request {
            call,
            identity,
            phase: Phase::Request,
            intent: Intent::Enforce,
            wait_for_sync: true,
            params: &params,
        };
        self.finish(
            &request,
            plain(Action::Deny, format!("{reason}; failing closed")),
            0,
        )
    }

    /// Records what the policy said and applies the mode.
    fn finish(&self, request: &Request<'_>, policy: Decision, eval_us: u64) -> Outcome {
        let suggestions = match request.phase {
            Phase::Request => suggestions(request.call, &policy),
            Phase::Response { .. } => Vec::new(),
        };
        let event = event(request, &policy, &suggestions, eval_us, self.mode);
        // A preview's answer does not depend on its record: it does not wait for the sync.
        let durable = request.intent == Intent::Enforce && request.wait_for_sync;
        let (audit_id, audit_error) = match self.recorder.record(event, durable) {
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
            ask_headless_only: false,
            eval_us,
        }
    }

    /// Decides `call` in `phase` without counting, claiming or recording anything, and without
    /// applying the mode: what the policy says (explanations, guidance for a call that failed, a
    /// REPL). The caller records nothing with it and answers no host with it.
    pub fn evaluate(
        &self,
        reader: &mut Reader,
        call: &Call,
        phase: Phase<'_>,
    ) -> Result<Decision, PolicyError> {
        let policy = self.policy.current()?;
        let now = now_unix();
        Ok(match phase {
            Phase::Request => {
                let counts = match policy.counts_calls() {
                    true => match self.enforcement.counts() {
                        Ok(counts) => Some(counts),
                        Err(_) => return Ok(plain(Action::Deny, MSG_COUNTER_FAILED.into())),
                    },
                    false => None,
                };
                policy.evaluate(reader, call, &context(now, counts.as_deref()))
            }
            Phase::Response { output } => policy.evaluate_response(call, output, now),
        })
    }

    /// Reopens the policy now, whether or not its sources changed.
    pub fn reload(&self) -> Result<(), PolicyError> {
        self.policy.reload()
    }

    /// The policy decisions are made with now.
    pub fn policy(&self) -> Result<std::sync::Arc<OpenPolicy>, PolicyError> {
        self.policy.current()
    }

    /// Where the policy is opened from.
    pub fn sources(&self) -> Sources {
        self.policy.sources()
    }

    /// Appends an event that is not a decision of this surface's (an approval resolved, an MCP
    /// tool that changed since it was pinned, another process's record) to the same chain, through the same writer; its id once written.
    pub fn record(&self, event: Event) -> Result<String, AuditError> {
        self.recorder.record(event, true)
    }

    /// Why records cannot be written, when the writer of a long-lived surface could not open.
    pub fn audit_error(&self) -> Option<AuditError> {
        self.recorder.unavailable()
    }

    /// What the audit writer repaired or skipped since the last call (for a service's log; a
    /// hook keeps its stderr empty).
    pub fn take_notices(&self) -> Vec<Notice> {
        self.recorder.take_notices()
    }

    /// What the policy says about `request` (and whether an `ask` is headless-only), with the
    /// call counted and a single-use winner claimed when enforcing; our own failures are denies
    /// that say what failed.
    fn policy_decision(&self, reader: &mut Reader, request: &Request<'_>) -> (Decision, bool) {
        if self.mode == Mode::Disabled {
            return (plain(Action::Allow, MSG_DISABLED.into()), false);
        }
        let failed = |e: PolicyError| (plain(Action::Deny, format!("{e}; failing closed")), false);
        let mut policy = match self.policy.current() {
            Ok(policy) => policy,
            Err(e) => return failed(e),
        };
        let now = now_unix();
        let call = request.call;
        if let Phase::Response { output } = request.phase {
            return (policy.evaluate_response(call, output, now), false);
        }
        let enforcing = request.intent == Intent::Enforce;
        let counts = match (policy.counts_calls(), enforcing) {
            (false, _) => None,
            (true, true) => Some(self.enforcement.count(&call.tool, now)),
            (true, false) => Some(self.enforcement.counts()),
        };
        let counts = match counts.transpose() {
            Ok(counts) => counts,
            Err(_) => return (plain(Action::Deny, MSG_COUNTER_FAILED.into()), false),
        };
        let ctx = context(now, counts.as_deref());
        // A single-use winner is claimed before it is acted on; when another process claimed it
        // first, the call is decided again against the policy now in force.
        for _ in 0..4 {
            let decision = policy.evaluate(reader, call, &ctx);
            if !enforcing {
                let headless = policy.ask_headless_only(&decision);
                return (decision, headless);
            }
            match policy.claim_once(&decision) {
                Ok(Claim::NotOnce) => {
                    let headless = policy.ask_headless_only(&decision);
                    return (decision, headless);
                }
                Ok(Claim::Claimed) => {
                    // Every later decision of this surface must see the rule gone.
                    let _ = self.policy.reload();
                    return (decision, false);
                }
                Ok(Claim::Gone) => {}
                Err(e) => return failed(e),
            }
            if let Err(e) = self.policy.reload() {
                return failed(e);
            }
            policy = match self.policy.current() {
                Ok(policy) => policy,
                Err(e) => return failed(e),
            };
        }
        (plain(Action::Deny, MSG_ONCE_CONTENDED.into()), false)
    }
}

/// The `rampart allow` commands that would permit `call`, narrowest first (none for a call that
/// is allowed, or denied by a deny rule, which no allow overrides).
pub fn suggestions(call: &Call, decision: &Decision) -> Vec<String> {
    rampart_compiler::sources::user_rules::suggestions(call, decision)
}

/// What evaluation consults: the clock, the call counts, the filesystem for symlinks.
fn context<'c>(now: i64, counts: Option<&'c (dyn CallCounter + 'c)>) -> EvalContext<'c> {
    EvalContext {
        now_unix: now,
        counter: counts,
        resolver: Some(&FsResolver),
    }
}

/// A decision no rule made (our own failures, the modes).
fn plain(action: Action, message: String) -> Decision {
    Decision {
        action,
        message,
        matched_policies: Vec::new(),
        winner: None,
    }
}

/// Monitor and audit modes: the call goes through; a decision that would have stopped it says so
/// (upstream's "monitor mode observed ..." message).
fn observed(policy: &Decision) -> Decision {
    let mut answer = policy.clone();
    if !matches!(policy.action, Action::Allow) {
        answer.message = format!(
            "monitor mode observed {}; action allowed: {}",
            policy.action, policy.message
        );
    }
    answer.action = Action::Allow;
    answer
}

/// The audit record of a decision (upstream §5.1; the response phase as the server records it,
/// §3.4 step 9).
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

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}
