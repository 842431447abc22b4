//! Call counts for `call_count` rules on surfaces that are separate processes (the agent hooks):
//! upstream's `~/.rampart/hook-call-counts.json`, read and rewritten under a lock per call.
//!
//! The threat: a rate limit that an agent escapes by making its calls from fresh processes, or
//! by flooding the count store until it breaks. So every enforced call is recorded *before* it
//! is decided (the current call counts), the store is bounded as upstream bounds it (1,000
//! timestamps per tool, 1,024 tools, tool names of at most 256 bytes, 30 days kept), and a
//! store that cannot be read, locked, written or extended fails the call closed
//! ([`CounterError`] makes the evaluator deny). Keeping only a tool's latest 1,000 timestamps
//! loses nothing: `gte` is at most 1,000, so any window holding more already matches.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rampart_runtime::counter::{CallCounter, CounterError};

use super::cache::Lock;
use super::edit::lock_path;
use crate::write::write_atomic;

/// Timestamps kept per tool.
pub const MAX_PER_TOOL: usize = 1000;
/// Tools kept.
pub const MAX_TOOLS: usize = 1024;
/// Longest tool name counted.
pub const MAX_TOOL_NAME: usize = 256;
/// How long a timestamp is kept (the longest `call_count.window`).
pub const RETENTION_SECS: i64 = 30 * 24 * 3600;

/// The counts file of a home directory.
pub fn counts_path(home: &Path) -> PathBuf {
    home.join(".rampart/hook-call-counts.json")
}

/// Calls per tool, as of one moment: what a decision counts with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    calls: BTreeMap<String, Vec<i64>>,
}

impl CallCounter for Counts {
    fn count(&self, tool: &str, window_secs: u64, now_unix: i64) -> Result<u64, CounterError> {
        let since = now_unix.saturating_sub(i64::try_from(window_secs).unwrap_or(i64::MAX));
        let n = self.calls.get(tool).map_or(0, |ts| {
            ts.iter().filter(|&&t| t > since && t <= now_unix).count()
        });
        Ok(n as u64)
    }
}

/// Records one call of `tool` at `now_unix` in the file at `path` (under its lock), and returns
/// the counts including it.
pub fn record_call(path: &Path, tool: &str, now_unix: i64) -> Result<Counts, CounterError> {
    if tool.len() > MAX_TOOL_NAME {
        return Err(CounterError);
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|_| CounterError)?;
    }
    let _lock = Lock::take(&lock_path(path)).map_err(|_| CounterError)?;
    let mut counts = match std::fs::read(path) {
        Ok(bytes) => decode(&bytes)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Counts::default(),
        Err(_) => return Err(CounterError),
    };
    counts.add(tool, now_unix)?;
    let text = serde_json::to_vec(&counts.calls).map_err(|_| CounterError)?;
    write_atomic(path, &text).map_err(|_| CounterError)?;
    Ok(counts)
}

/// The counts in the file at `path` without recording anything (a preview, `rampart status`).
pub fn read_counts(path: &Path) -> Result<Counts, CounterError> {
    match std::fs::read(path) {
        Ok(bytes) => decode(&bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Counts::default()),
        Err(_) => Err(CounterError),
    }
}

/// A file that is not the store's JSON fails closed: it may have been tampered with.
fn decode(bytes: &[u8]) -> Result<Counts, CounterError> {
    let calls: BTreeMap<String, Vec<i64>> =
        serde_json::from_slice(bytes).map_err(|_| CounterError)?;
    Ok(Counts { calls })
}

impl Counts {
    /// Adds a call, dropping what the retention and the caps drop; an error when the store is
    /// full of other tools.
    fn add(&mut self, tool: &str, now_unix: i64) -> Result<(), CounterError> {
        let oldest = now_unix.saturating_sub(RETENTION_SECS);
        for ts in self.calls.values_mut() {
            ts.retain(|&t| t > oldest && t <= now_unix.saturating_add(RETENTION_SECS));
        }
        self.calls.retain(|_, ts| !ts.is_empty());
        if !self.calls.contains_key(tool) && self.calls.len() >= MAX_TOOLS {
            return Err(CounterError);
        }
        let ts = self.calls.entry(tool.to_string()).or_default();
        ts.push(now_unix);
        ts.sort_unstable();
        let excess = ts.len().saturating_sub(MAX_PER_TOOL);
        ts.drain(..excess);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rampart-counts-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("hook-call-counts.json")
    }

    #[test]
    fn a_call_counts_before_it_is_decided_and_old_calls_age_out() {
        let path = scratch("age");
        record_call(&path, "exec", 1_000).unwrap();
        let counts = record_call(&path, "exec", 1_010).unwrap();
        assert_eq!(counts.count("exec", 60, 1_010), Ok(2));
        assert_eq!(counts.count("exec", 5, 1_010), Ok(1));
        assert_eq!(counts.count("read", 60, 1_010), Ok(0));
        let later = record_call(&path, "exec", 1_010 + RETENTION_SECS + 5).unwrap();
        assert_eq!(
            later.count("exec", u64::MAX / 4, 1_010 + RETENTION_SECS + 5),
            Ok(1)
        );
    }

    #[test]
    fn caps_keep_the_latest_calls_and_refuse_a_store_full_of_tools() {
        let path = scratch("caps");
        let mut counts = Counts::default();
        for t in 0..(MAX_PER_TOOL as i64 + 50) {
            counts.add("exec", 10_000 + t).unwrap();
        }
        assert_eq!(
            counts.count("exec", 100_000, 20_000),
            Ok(MAX_PER_TOOL as u64)
        );
        for i in 1..MAX_TOOLS {
            counts.add(&format!("tool-{i}"), 20_000).unwrap();
        }
        assert_eq!(counts.add("one-too-many", 20_000), Err(CounterError));
        assert_eq!(
            record_call(&path, &"x".repeat(MAX_TOOL_NAME + 1), 1),
            Err(CounterError)
        );
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(record_call(&path, "exec", 1), Err(CounterError));
    }
}
