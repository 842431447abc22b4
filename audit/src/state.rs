//! The chain state file, `.audit-chain-state.json`: a hint that saves a writer from rereading the
//! log, never the truth.
//!
//! The threat it must not open: a side file that says where the chain ends could be edited (or
//! left stale by a crash) so that a writer forks the chain or signs a checkpoint over records that
//! are not there. So a writer believes the file only as far as the log confirms it: the head always
//! comes from the last record of the newest log file, self-checked; the counts and the Merkle
//! frontier here are used only when this file's `last_hash` is that head, and otherwise the writer
//! catches up from the record this file names (checking that record first) or rescans the log.
//!
//! The fields are upstream's (so an upstream writer sharing the directory keeps working), plus a
//! `rampart` object it ignores. The file is rewritten in place under the lock, padded with spaces to
//! its previous length so one `pwrite` replaces it and JSON readers ignore the padding.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::AuditError;
use crate::merkle::{Frontier, Hash};
use crate::secure::{self, Access};

/// What the state file says.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct State {
    pub version: u32,
    pub event_count: u64,
    pub last_hash: String,
    pub current_file: String,
    pub current_size: u64,
    pub last_event_file: String,
    pub last_event_start: u64,
    pub last_event_size: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rampart: Option<Extra>,
}

/// Our additions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Extra {
    /// The Merkle frontier at `event_count` leaves, hex.
    pub tree: Vec<String>,
    /// The tool_call_id of the last event (where a spool drain resumes).
    pub last_tool_call_id: String,
    /// The tree size and Unix time of the last checkpoint.
    pub checkpoint_size: u64,
    pub checkpoint_unix: i64,
}

impl State {
    pub fn frontier(&self) -> Option<Frontier> {
        let extra = self.rampart.as_ref()?;
        let nodes: Option<Vec<Hash>> = extra.tree.iter().map(|h| parse_hex(h)).collect();
        Frontier::from_parts(self.event_count, nodes?)
    }
}

fn parse_hex(text: &str) -> Option<Hash> {
    crate::chain::parse_hash(&format!("{}{text}", crate::chain::HASH_PREFIX))
}

pub fn hex(hash: &Hash) -> String {
    let mut out = String::with_capacity(64);
    crate::chain::push_hex(&mut out, hash);
    out
}

/// The open state file.
pub struct StateFile {
    file: File,
    path: PathBuf,
    /// The length last written or read, which the next write pads to.
    len: u64,
}

impl StateFile {
    pub fn open(dir: &Path) -> Result<StateFile, AuditError> {
        let path = dir.join(crate::layout::STATE);
        let file = secure::open(&path, Access::Create)?.ok_or_else(|| AuditError::Format {
            what: format!("{} vanished while being opened", path.display()),
        })?;
        Ok(StateFile { file, path, len: 0 })
    }

    /// The current content, or `None` when it is empty or does not parse (a crash mid-write, or
    /// an edit): a hint that is not there.
    pub fn read(&mut self) -> Option<State> {
        let len = self.file.metadata().ok()?.len();
        self.len = len;
        let mut buf = vec![0u8; usize::try_from(len).ok()?.min(1 << 20)];
        self.file.read_exact_at(&mut buf, 0).ok()?;
        serde_json::from_slice(&buf).ok()
    }

    pub fn write(&mut self, state: &State) -> Result<(), AuditError> {
        let mut bytes = serde_json::to_vec(state).map_err(|e| AuditError::Format {
            what: e.to_string(),
        })?;
        bytes.push(b'\n');
        let new_len = bytes.len() as u64;
        if new_len < self.len {
            bytes.resize(usize::try_from(self.len).unwrap_or(bytes.len()), b' ');
        }
        self.file
            .write_all_at(&bytes, 0)
            .map_err(AuditError::at("write", &self.path))?;
        self.len = self.len.max(new_len);
        Ok(())
    }
}
