//! Call counts for `call_count` rules: what an enforcing decision records besides the audit
//! trail (upstream's `Engine.Enforce`; single-use rules are claimed through the policy itself,
//! [`super::OpenPolicy::claim_once`]).
//!
//! The threat: a rate limit that never counts is no limit. The counts are shared by every
//! enforcing call of one surface: a long-lived surface keeps them in memory, one-shot hook
//! processes in upstream's locked file (`~/.rampart/hook-call-counts.json`). A call is counted
//! before it is evaluated (the call that crosses a limit is the one denied), and a count that
//! cannot be kept denies the call. Previews read the counts and record nothing.

use std::path::PathBuf;

use rampart_compiler::sources::counts::{counts_path, read_counts, record_call};
use rampart_runtime::counter::{CallCounter, CounterError, MemoryCounter};

/// Where a surface keeps its call counts.
pub trait Enforcement: Send + Sync {
    /// Records a call of `tool` at `now_unix`; the counts evaluation consults, this call
    /// included.
    fn count(&self, tool: &str, now_unix: i64) -> Result<Box<dyn CallCounter + '_>, CounterError>;

    /// The counts as they stand (previews).
    fn counts(&self) -> Result<Box<dyn CallCounter + '_>, CounterError>;
}

/// Counts in this process's memory: a long-lived surface's calls.
#[derive(Debug, Default)]
pub struct InMemory {
    counts: MemoryCounter,
}

impl Enforcement for InMemory {
    fn count(&self, tool: &str, now_unix: i64) -> Result<Box<dyn CallCounter + '_>, CounterError> {
        self.counts.record(tool, now_unix)?;
        Ok(Box::new(Borrowed(&self.counts)))
    }

    fn counts(&self) -> Result<Box<dyn CallCounter + '_>, CounterError> {
        Ok(Box::new(Borrowed(&self.counts)))
    }
}

/// A counter lent out for one decision.
struct Borrowed<'a>(&'a dyn CallCounter);

impl CallCounter for Borrowed<'_> {
    fn count(&self, tool: &str, window_secs: u64, now_unix: i64) -> Result<u64, CounterError> {
        self.0.count(tool, window_secs, now_unix)
    }
}

/// Counts in the user's counts file, shared by every hook process (no home: no counts, which
/// denies a call that a `call_count` rule would count).
#[derive(Debug, Default)]
pub struct CountsFile {
    path: Option<PathBuf>,
}

impl CountsFile {
    /// `~/.rampart/hook-call-counts.json` of `home`.
    pub fn of(home: Option<&std::path::Path>) -> CountsFile {
        CountsFile {
            path: home.map(counts_path),
        }
    }
}

impl Enforcement for CountsFile {
    fn count(&self, tool: &str, now_unix: i64) -> Result<Box<dyn CallCounter + '_>, CounterError> {
        let path = self.path.as_deref().ok_or(CounterError)?;
        Ok(Box::new(record_call(path, tool, now_unix)?))
    }

    fn counts(&self) -> Result<Box<dyn CallCounter + '_>, CounterError> {
        let path = self.path.as_deref().ok_or(CounterError)?;
        Ok(Box::new(read_counts(path)?))
    }
}
