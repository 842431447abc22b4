//! Call counting for `call_count` conditions (reference §2.4).
//!
//! The evaluator only asks; keeping the counts (in memory for the server, in a locked file for
//! hooks) and incrementing before evaluation on enforcement paths is the caller's job. A counter
//! that fails makes the decision deny: a rate limit that cannot be checked must not be skipped.

use core::fmt;

/// Why a count is unavailable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CounterError;

impl fmt::Display for CounterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("call counter unavailable")
    }
}

/// Counts past calls of a tool.
pub trait CallCounter {
    /// How many calls of `tool` happened in the `window_secs` seconds up to `now_unix`.
    fn count(&self, tool: &str, window_secs: u64, now_unix: i64) -> Result<u64, CounterError>;
}

/// A counter over timestamps held in memory (for tests, explain with history, and simple hosts).
#[cfg(feature = "std")]
#[derive(Debug, Default)]
pub struct MemoryCounter {
    calls: std::sync::Mutex<std::collections::HashMap<String, Vec<i64>>>,
}

#[cfg(feature = "std")]
impl MemoryCounter {
    /// Records one call of `tool` at `now_unix`.
    pub fn record(&self, tool: &str, now_unix: i64) -> Result<(), CounterError> {
        let mut calls = self.calls.lock().map_err(|_| CounterError)?;
        calls.entry(tool.to_string()).or_default().push(now_unix);
        Ok(())
    }
}

#[cfg(feature = "std")]
impl CallCounter for MemoryCounter {
    fn count(&self, tool: &str, window_secs: u64, now_unix: i64) -> Result<u64, CounterError> {
        let calls = self.calls.lock().map_err(|_| CounterError)?;
        let since = now_unix.saturating_sub(i64::try_from(window_secs).unwrap_or(i64::MAX));
        let n = calls.get(tool).map_or(0, |ts| {
            ts.iter().filter(|&&t| t > since && t <= now_unix).count()
        });
        Ok(n as u64)
    }
}
