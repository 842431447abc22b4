//! What an enforcing decision changes besides the audit trail (upstream's `Engine.Enforce`): call
//! counts for `call_count` rules, and the claim of a single-use (`once`) rule.
//!
//! The threat: a rate limit that never counts, or a single-use permission that is never used up,
//! is a permanent permission. Both are state shared by every surface of one user (a hook process
//! per call, the server, the MCP proxy), so the state lives behind [`Enforcement`]: a surface asks
//! it to count a call before evaluating it and to claim the `once` rule that allowed it, and a
//! failure of either denies the call. Previews (explanations, `rampart test`, a preflight without
//! `enforce`) only read the counts and claim nothing.

use rampart_runtime::counter::{CallCounter, CounterError, MemoryCounter};
use rampart_runtime::eval::Decision;
use rampart_runtime::Call;

/// The state enforcing decisions keep.
pub trait Enforcement: Send + Sync {
    /// Counts `call` before it is evaluated (upstream counts first, so the call that crosses a
    /// limit is the one denied).
    fn count(&self, call: &Call, now_unix: i64) -> Result<(), CounterError>;

    /// The counts `call_count` conditions read.
    fn counter(&self) -> &dyn CallCounter;

    /// Claims the `once` rule that supplied `decision`, if its winning rule is one; an `Err`
    /// (already used up by a racing call, or the claim could not be stored) denies the call.
    fn claim_once(&self, decision: &Decision) -> Result<(), String>;
}

/// Counts kept in this process's memory: a long-lived surface's own calls.
///
/// One-shot hook processes need the counts of every earlier call, kept in a locked file
/// (`~/.rampart/hook-call-counts.json`, upstream's); until that counter exists, a hook counts the
/// calls of its own process only. `once` rules are not yet carried by the bundle (the compiler
/// drops the key), so there is nothing to claim.
#[derive(Debug, Default)]
pub struct InMemory {
    counts: MemoryCounter,
}

impl Enforcement for InMemory {
    fn count(&self, call: &Call, now_unix: i64) -> Result<(), CounterError> {
        self.counts.record(&call.tool, now_unix)
    }

    fn counter(&self) -> &dyn CallCounter {
        &self.counts
    }

    fn claim_once(&self, _decision: &Decision) -> Result<(), String> {
        Ok(())
    }
}
