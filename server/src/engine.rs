//! The server's decide-and-record path: [`rampart_integrations::surface`], the one path every
//! surface shares, held by the server.
//!
//! What the server adds around its [`Surface`]: it watches its policy sources itself and asks for
//! each reload, and a reload that fails or would load no policies keeps the policy in force
//! (upstream's serve; [`Surface::held`]) and is reported here until the next one succeeds; its
//! own events (approvals resolved or timed out, the preload's records) go into the same chain
//! through the surface's writer; and it counts every enforced call for `GET /v1/status`, whether
//! or not a rule counts calls.

use std::sync::{Arc, Mutex, PoisonError};

use rampart_audit::{AuditError, Event};
use rampart_compiler::sources::Sources;
use rampart_integrations::surface::{AuditTarget, Surface};
use rampart_runtime::counter::{CallCounter, MemoryCounter};
use rampart_runtime::eval::Decision;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;

pub use rampart_integrations::surface::{
    Identity, Intent, OpenPolicy, Outcome, Phase, Request, MSG_AUDIT_FAILED, MSG_DISABLED,
};

/// The outcome of a reload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reloaded {
    pub policies: usize,
    pub rules: usize,
}

/// The server's surface, and what it reports about it.
pub struct Engine {
    surface: Surface,
    /// Why the last reload kept the previous policy.
    reload_error: Mutex<Option<String>>,
    /// Every enforced call, for the status route (rules count calls in the surface).
    seen: MemoryCounter,
}

impl Engine {
    /// Opens the policy of `sources` and the audit chain (verified whole) of `audit`.
    pub fn new(mode: Mode, sources: Sources, audit: &AuditTarget) -> Engine {
        Engine {
            surface: Surface::held(mode, sources, audit),
            reload_error: Mutex::new(None),
            seen: MemoryCounter::default(),
        }
    }

    /// The surface itself (the agent hooks' adapters decide through it).
    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    pub fn mode(&self) -> Mode {
        self.surface.mode()
    }

    pub fn sources(&self) -> Sources {
        self.surface.sources()
    }

    /// Why the audit chain cannot be written, if it cannot.
    pub fn audit_error(&self) -> Option<String> {
        self.surface.audit_error().map(|e| e.to_string())
    }

    /// The policy in force now (the last one that loaded).
    pub fn policy(&self) -> Result<Arc<OpenPolicy>, String> {
        self.surface.policy().map_err(|e| e.to_string())
    }

    /// Why the last reload kept the previous policy.
    pub fn reload_error(&self) -> Option<String> {
        self.reload_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reopens the sources; a policy that fails to load, or loads no policy where there were
    /// some, is refused and the previous one stays (upstream); the error says why.
    pub fn reload(&self) -> Result<Reloaded, String> {
        let result = self
            .surface
            .reload()
            .map_err(|e| e.to_string())
            .and_then(|()| self.policy())
            .map(|policy| {
                let program = policy.program();
                Reloaded {
                    policies: program.policy_count(),
                    rules: program.policies().map(|p| p.rule_count()).sum(),
                }
            });
        *self
            .reload_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = result.as_ref().err().cloned();
        result
    }

    /// Decides `request` and records it; the mode applies to the answer.
    pub fn decide(&self, reader: &mut Reader, request: &Request<'_>) -> Outcome {
        if request.intent == Intent::Enforce && request.phase == Phase::Request {
            // Only the status route reads these: a count that cannot be kept decides nothing.
            let _ = self.seen.record(&request.call.tool, now_unix());
        }
        self.surface.decide(reader, request)
    }

    /// What the policy says, without counting, claiming, recording or the mode.
    pub fn evaluate(&self, reader: &mut Reader, call: &Call) -> Result<Decision, String> {
        self.surface
            .evaluate(reader, call, Phase::Request)
            .map_err(|e| e.to_string())
    }

    /// Calls of `tool` this server was asked to enforce in the last `window_secs` seconds.
    pub fn call_count(&self, tool: &str, window_secs: u64) -> u64 {
        self.seen.count(tool, window_secs, now_unix()).unwrap_or(0)
    }

    /// Appends an event of the server's own to the chain.
    pub fn record(&self, event: Event) -> Result<String, AuditError> {
        self.surface.record(event)
    }
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}
