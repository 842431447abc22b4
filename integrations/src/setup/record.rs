//! `~/.rampart/setup.json`: what setup did, so that it can be checked and undone later.
//!
//! The host's own files say what is installed *now*; they cannot say what was installed before a
//! settings UI dropped it (Gemini's has been seen to), which files setup created (and may delete
//! again), which hook file of the user's it moved aside, or what an MCP server's command was
//! before setup wrapped it. That is kept here. It is a convenience for doctor and remove, never
//! the source of truth about the host's settings: those are always read from the files.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::file::{read_optional, write_atomic};
use super::SetupError;

/// The record's file name under `~/.rampart`.
pub const FILE: &str = "setup.json";

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Hosts set up, by name (`claude-code`).
    #[serde(default)]
    pub hosts: BTreeMap<String, HostRecord>,
    /// Files setup created (deleted again when removing leaves them as created).
    #[serde(default)]
    pub created: BTreeSet<PathBuf>,
    /// A user's file setup moved aside to put its own in place (`--force`), by the path it took.
    #[serde(default)]
    pub displaced: BTreeMap<PathBuf, PathBuf>,
    /// MCP servers setup wrapped.
    #[serde(default)]
    pub mcp: Vec<McpRecord>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostRecord {
    /// RFC 3339.
    pub installed_at: String,
    /// `command` or `http`.
    pub transport: String,
}

/// One wrapped MCP server: where it is, what it was, and what setup wrote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpRecord {
    pub file: PathBuf,
    /// Keys from the file's top level to the server's entry.
    pub path: Vec<String>,
    /// The original `command` value, as raw JSON text.
    pub command: String,
    /// The original `args` value as raw JSON text; `None` when the entry had no `args`.
    pub args: Option<String>,
    /// What setup wrote, to tell whether someone changed it since.
    pub wrapped: serde_json::Value,
}

impl Record {
    /// The record under `rampart_home`; empty when there is none.
    pub fn load(rampart_home: &Path) -> Result<Record, SetupError> {
        let path = rampart_home.join(FILE);
        match read_optional(&path)? {
            None => Ok(Record::default()),
            Some(text) => serde_json::from_str(&text).map_err(|e| {
                SetupError::new(format!(
                    "{} is not valid ({e}); move it away and run setup again",
                    path.display()
                ))
            }),
        }
    }

    /// Writes the record (0600), or deletes it when it holds nothing.
    pub fn save(&self, rampart_home: &Path) -> Result<(), SetupError> {
        let path = rampart_home.join(FILE);
        if *self == Record::default() {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    Err(SetupError::io("cannot remove", &path, &e))
                }
                _ => Ok(()),
            };
        }
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| SetupError::new(format!("cannot encode {}: {e}", path.display())))?;
        write_atomic(&path, format!("{text}\n").as_bytes())
    }
}
