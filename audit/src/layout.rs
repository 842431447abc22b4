//! The audit directory's files (§5.3): which names are log files, and their order.
//!
//! `YYYY-MM-DD.jsonl` is a day's first file and `YYYY-MM-DD.pN.jsonl` its N-th size rotation; the
//! chain runs through them in (date, N) order. Everything else in the directory is either one of
//! the side files named here or ignored. Legacy `audit-hook-*.jsonl` files (older upstream hooks
//! wrote one per process) are outside the chain; verify checks each of their records on its own.

use std::cmp::Ordering;
use std::fmt;
use std::path::Path;

use crate::error::AuditError;
use crate::time::Date;

/// Upstream's chain state file (a hint for writers, never the truth).
pub const STATE: &str = ".audit-chain-state.json";
/// The lock every writer holds while it appends (upstream's name, so upstream writers and ours
/// serialise with each other).
pub const LOCK: &str = ".audit-chain-state.json.rampart.lock";
/// Upstream's diagnostic anchor, rewritten every 100 events.
pub const ANCHOR: &str = "audit-anchor.json";
/// Our signed checkpoints, one JSON line each.
pub const CHECKPOINTS: &str = "audit-checkpoints.jsonl";
/// CEF export lines (upstream's `--cef`).
pub const CEF_LOG: &str = "cef.log";

/// Upstream's rotation size.
pub const ROTATE_BYTES: u64 = 100 << 20;

/// One log file of the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LogFile {
    pub date: Date,
    /// 0 for the day's first file, N for `.pN`.
    pub part: u32,
}

impl LogFile {
    pub fn new(date: Date) -> LogFile {
        LogFile { date, part: 0 }
    }

    /// Parses a managed file name.
    pub fn parse(name: &str) -> Option<LogFile> {
        let stem = name.strip_suffix(".jsonl")?;
        let date = Date::parse(stem.get(..10)?)?;
        let part = match stem.get(10..)? {
            "" => 0,
            rest => {
                let digits = rest.strip_prefix(".p")?;
                if digits.is_empty() || digits.starts_with('0') {
                    return None;
                }
                if !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                digits.parse().ok()?
            }
        };
        Some(LogFile { date, part })
    }

    pub fn name(&self) -> String {
        let mut out = String::with_capacity(24);
        self.date.push_iso(&mut out);
        if self.part > 0 {
            out.push_str(".p");
            crate::time::push_digits(&mut out, i64::from(self.part), 1);
        }
        out.push_str(".jsonl");
        out
    }

    /// The file a size rotation goes to.
    pub fn next_part(&self) -> LogFile {
        LogFile {
            date: self.date,
            part: self.part + 1,
        }
    }
}

impl fmt::Display for LogFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl Ord for LogFile {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.date, self.part).cmp(&(other.date, other.part))
    }
}

impl PartialOrd for LogFile {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Whether `name` is a legacy per-process hook log.
pub fn is_legacy(name: &str) -> bool {
    name.starts_with("audit-hook-") && name.ends_with(".jsonl")
}

/// The directory's log files in chain order. A managed name that is a symlink or not a regular
/// file is refused: the trail never follows a link out of its directory.
pub fn log_files(dir: &Path) -> Result<Vec<LogFile>, AuditError> {
    let mut files = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(AuditError::at("list", dir))?;
    for entry in entries {
        let entry = entry.map_err(AuditError::at("list", dir))?;
        let name = entry.file_name();
        let Some(file) = name.to_str().and_then(LogFile::parse) else {
            continue;
        };
        let kind = entry
            .file_type()
            .map_err(AuditError::at("stat", &entry.path()))?;
        crate::secure::check_kind(&entry.path(), kind)?;
        files.push(file);
    }
    files.sort_unstable();
    Ok(files)
}

/// The legacy hook logs, by name.
pub fn legacy_files(dir: &Path) -> Result<Vec<String>, AuditError> {
    let entries = std::fs::read_dir(dir).map_err(AuditError::at("list", dir))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| is_legacy(n))
        .collect();
    names.sort_unstable();
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_order_by_date_then_part() {
        let a = LogFile::parse("2026-01-02.jsonl");
        let b = LogFile::parse("2026-01-02.p2.jsonl");
        let c = LogFile::parse("2026-01-02.p10.jsonl");
        let d = LogFile::parse("2026-01-03.jsonl");
        assert!(a < b && b < c && c < d);
        assert_eq!(c.map(|f| f.name()).as_deref(), Some("2026-01-02.p10.jsonl"));
        for bad in [
            "2026-01-02.p0.jsonl",
            "2026-01-02.p01.jsonl",
            "2026-01-02.json",
            "2026-13-02.jsonl",
            "x2026-01-02.jsonl",
            "2026-01-02.px.jsonl",
        ] {
            assert_eq!(LogFile::parse(bad), None, "{bad}");
        }
    }
}
