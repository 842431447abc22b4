//! The preload's spool: decisions made inside preloaded processes, taken into the chain in order
//! and exactly once.
//!
//! The threat is silent loss. The preload library decides every exec of every process under it and
//! must never block one, so it cannot take the audit lock or write the chain; it appends one JSON
//! line per decision to `~/.rampart/spool/preload.jsonl` with a single `O_APPEND` write. Whichever
//! writer next holds the audit lock drains that file into the chain. Three things can go wrong, and
//! the protocol below closes each:
//!
//! 1. **A line appended while the file is being drained.** The drainer never reads the live file.
//!    It renames it to `draining-<ULID>.jsonl` and then takes `LOCK_EX` on the renamed file. A
//!    preload appends only while holding `LOCK_SH` (non-blocking) on its descriptor *and* after
//!    checking, under that lock, that `preload.jsonl` still names the inode it opened. So any
//!    append to the renamed inode completed before the drainer's `LOCK_EX` was granted (the check
//!    ran before the rename, the write under the same lock), and any preload that checks after the
//!    rename sees another inode (or none), closes, and opens a fresh `preload.jsonl`. A preload that
//!    finds the lock taken (`EWOULDBLOCK`) knows the rename already happened and reopens too, so it
//!    never waits. The drainer drops `LOCK_EX` at once; from then on the renamed file is frozen.
//! 2. **A drain that crashes halfway.** Each ingested record's `tool_call_id` is
//!    `preload-spool:<batch>:<offset>`, the batch's name and the line's byte offset. A writer that
//!    finds a `draining-*` file resumes after the line the chain's last record names (the drainer
//!    holds the audit lock, so nothing else is appended between a drain's records), and deletes the
//!    file only once every line is in the chain (and synced, when the writer syncs at all).
//!    Nothing is taken twice and nothing is skipped.
//! 3. **A torn or foreign line.** A line that does not parse is still recorded, as an event with
//!    action `unknown` holding the raw text, so nothing is lost quietly; a spool directory that is
//!    not this user's 0700 directory is not read at all (anyone else could plant records).
//!
//! Drains are strictly one at a time: a new batch is claimed only after every earlier one is
//! ingested, so batch order is chain order.

use std::fs::File;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::AuditError;
use crate::event::{Event, EventDecision};
use crate::time::Timestamp;

/// The live spool file the preload appends to.
pub const SPOOL_FILE: &str = "preload.jsonl";
const DRAINING_PREFIX: &str = "draining-";
/// The prefix of an ingested record's `tool_call_id`.
pub const CURSOR_PREFIX: &str = "preload-spool:";

/// One spool line, as `preload/src/record.rs` writes it.
#[derive(Deserialize)]
struct SpoolLine {
    ts: u64,
    pid: u64,
    #[serde(default)]
    agent: String,
    #[serde(default)]
    session: String,
    #[serde(default = "exec")]
    tool: String,
    command: String,
    decision: String,
    allowed: bool,
    #[serde(default)]
    message: String,
    #[serde(default)]
    matched_policies: Vec<String>,
    #[serde(default)]
    hook: String,
    #[serde(default)]
    mode: String,
}

fn exec() -> String {
    "exec".to_owned()
}

/// The event for one spool line (or for a line that could not be read). The preload's settings
/// give agent and session; the request is upstream's `{"command": …}` plus what only the preload
/// knows (`_rampart_preload`: the hook, the mode, the pid, whether the call went ahead, which in
/// monitor mode or after an approval differs from the decision).
pub fn event_from_line(line: &[u8]) -> Event {
    match serde_json::from_slice::<SpoolLine>(line) {
        Ok(s) => {
            let mut preload = Map::new();
            preload.insert("allowed".into(), Value::Bool(s.allowed));
            preload.insert("hook".into(), Value::String(s.hook));
            preload.insert("mode".into(), Value::String(s.mode));
            preload.insert("pid".into(), Value::from(s.pid));
            let mut request = Map::new();
            request.insert("command".into(), Value::String(s.command));
            request.insert("_rampart_preload".into(), Value::Object(preload));
            Event::new(&s.tool, request)
                .agent(&s.agent)
                .session(&s.session)
                .at(Timestamp::from_unix_ms(s.ts))
                .decision(EventDecision {
                    action: s.decision,
                    matched_policies: s.matched_policies,
                    message: s.message,
                    ..EventDecision::default()
                })
        }
        Err(e) => {
            let mut request = Map::new();
            request.insert(
                "_rampart_spool_line".into(),
                Value::String(String::from_utf8_lossy(line).into_owned()),
            );
            Event::new("exec", request)
                .agent("preload")
                .decision(EventDecision {
                    action: "unknown".into(),
                    message: format!("unreadable preload spool line: {e}"),
                    ..EventDecision::default()
                })
        }
    }
}

pub fn cursor(batch: &str, offset: u64) -> String {
    format!("{CURSOR_PREFIX}{batch}:{offset}")
}

/// The batch and line offset an ingested record's `tool_call_id` names.
pub fn parse_cursor(tool_call_id: &str) -> Option<(&str, u64)> {
    let rest = tool_call_id.strip_prefix(CURSOR_PREFIX)?;
    let (batch, offset) = rest.rsplit_once(':')?;
    Some((batch, offset.parse().ok()?))
}

/// The spool directory, if it is safe to read: this user's, 0700. `Ok(None)` when it does not
/// exist.
pub fn check_dir(dir: &Path) -> Result<Option<()>, AuditError> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuditError::io("stat", dir, &e)),
        Ok(meta) if meta.file_type().is_symlink() => Err(AuditError::Unsafe {
            path: dir.to_path_buf(),
            problem: "the preload spool is a symlink".into(),
            fix: format!("rm {}", crate::secure::shell_quote(dir)),
        }),
        Ok(_) => crate::secure::ensure_dir(dir, false).map(Some),
    }
}

/// The batches waiting to be ingested (oldest first).
pub fn pending(dir: &Path) -> Result<Vec<String>, AuditError> {
    let entries = std::fs::read_dir(dir).map_err(AuditError::at("list", dir))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(DRAINING_PREFIX) && n.ends_with(".jsonl"))
        .collect();
    names.sort_unstable();
    Ok(names)
}

/// The batch name of a draining file.
pub fn batch_of(file_name: &str) -> &str {
    file_name
        .strip_prefix(DRAINING_PREFIX)
        .and_then(|n| n.strip_suffix(".jsonl"))
        .unwrap_or(file_name)
}

/// Freezes the live spool file into a new batch (see the module doc): rename, then `LOCK_EX` to
/// wait out appends already past their check. `None` when there is nothing to drain.
pub fn claim(dir: &Path) -> Result<Option<String>, AuditError> {
    let live = dir.join(SPOOL_FILE);
    match std::fs::symlink_metadata(&live) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(AuditError::io("stat", &live, &e)),
        Ok(meta) if meta.len() == 0 || !meta.file_type().is_file() => return Ok(None),
        Ok(_) => {}
    }
    let name = format!(
        "{DRAINING_PREFIX}{}.jsonl",
        crate::ids::new_id(Timestamp::now().unix_ms())
    );
    let frozen = dir.join(&name);
    std::fs::rename(&live, &frozen).map_err(AuditError::at("rename", &live))?;
    let file = open_batch(&frozen)?;
    // SAFETY: flock on our own descriptor; blocking is bounded by the preloads' single write.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    if rc != 0 {
        return Err(AuditError::io(
            "lock",
            &frozen,
            &std::io::Error::last_os_error(),
        ));
    }
    // Closing drops the lock: every append to this inode is complete, and none will follow.
    drop(file);
    Ok(Some(name))
}

fn open_batch(path: &Path) -> Result<File, AuditError> {
    crate::secure::open(path, crate::secure::Access::Read)?.ok_or_else(|| AuditError::Io {
        op: "open",
        path: path.to_path_buf(),
        kind: std::io::ErrorKind::NotFound,
        message: "the spool batch vanished".into(),
    })
}

/// The complete lines of a batch from byte `from` on, each with its offset.
pub fn read_batch(path: &Path, from: u64) -> Result<Vec<(u64, Vec<u8>)>, AuditError> {
    use std::io::{Seek, SeekFrom};
    let mut file = open_batch(path)?;
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(from))
        .and_then(|_| file.read_to_end(&mut bytes))
        .map_err(AuditError::at("read", path))?;
    let mut out = Vec::new();
    let mut offset = from;
    for chunk in bytes.split_inclusive(|&b| b == b'\n') {
        let line = chunk.strip_suffix(b"\n").unwrap_or(chunk);
        if !line.iter().all(u8::is_ascii_whitespace) {
            out.push((offset, line.to_vec()));
        }
        offset += chunk.len() as u64;
    }
    Ok(out)
}

/// Where the batch's file is.
pub fn batch_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spool_line_becomes_an_upstream_shaped_event() {
        let line = br#"{"ts":1700000000123,"pid":77,"agent":"codex","session":"s1","tool":"exec","command":"rm -rf /x","decision":"deny","allowed":false,"message":"no","matched_policies":["p"],"hook":"execve","mode":"enforce"}"#;
        let e = event_from_line(line);
        assert_eq!(
            (e.agent.as_str(), e.session.as_str(), e.tool.as_str()),
            ("codex", "s1", "exec")
        );
        assert_eq!(e.timestamp.rfc3339_nano(), "2023-11-14T22:13:20.123Z");
        assert_eq!(e.request.get("command"), Some(&Value::from("rm -rf /x")));
        assert_eq!(e.decision.action, "deny");
        assert_eq!(e.decision.matched_policies, vec!["p".to_owned()]);
        let torn = event_from_line(br#"{"ts":17000"#);
        assert_eq!(torn.decision.action, "unknown");
        assert_eq!(
            torn.request.get("_rampart_spool_line"),
            Some(&Value::from(r#"{"ts":17000"#))
        );
    }

    #[test]
    fn cursors_round_trip() {
        let c = cursor("01ABC", 4096);
        assert_eq!(parse_cursor(&c), Some(("01ABC", 4096)));
        assert_eq!(parse_cursor("call_1"), None);
    }
}
