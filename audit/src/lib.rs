//! Rampart's audit trail: upstream's hash-chained JSONL log, byte for byte, written by every
//! surface and provable afterwards.
//!
//! The threat: an agent ran something, and later nobody can say what, or the record was quietly
//! changed. Every decision (hook, server, MCP proxy, wrapper, every preloaded process) becomes one
//! record in a chain where each record's hash covers the one before it (§5 of the upstream
//! reference), so an edit, deletion, insertion or reordering shows; signed checkpoints over a
//! Merkle tree of the records, kept outside the agent's reach, show a whole-log rewrite too.
//!
//! # What each surface calls
//!
//! * **A one-shot hook** (one process per tool call, a budget of a few hundred microseconds):
//!   ```no_run
//!   # use rampart_audit::{Event, EventDecision, Writer, WriterOptions};
//!   # fn run(home: &std::path::Path, request: serde_json::Map<String, serde_json::Value>) -> Result<(), rampart_audit::AuditError> {
//!   let mut writer = Writer::open(WriterOptions::hook(home))?;
//!   let event = Event::new("exec", request).agent("claude-code").session("repo/main")
//!       .decision(EventDecision { action: "deny".into(), ..Default::default() });
//!   let appended = writer.append(event)?; // Err => answer the host's deny (enforce mode)
//!   for notice in writer.take_notices() { eprintln!("{notice}"); }
//!   # let _ = appended; Ok(()) }
//!   ```
//!   Opening reads nothing; the append takes the directory lock, reads the newest file's last
//!   line (self-checked), drains the preload spool if anything is waiting, writes one line and
//!   returns after `write(2)` ([`Durability::Never`]).
//! * **The server and the MCP proxy** (long-lived, many threads): open once with
//!   [`WriterOptions::service`] ([`Recovery::Full`]: the whole chain is verified before the first
//!   append; [`Durability::Group`]), wrap it in a [`GroupCommit`] and call
//!   [`GroupCommit::append`] from any thread; each call returns after its batch's single
//!   `fdatasync`. [`Durability::EveryRecord`] syncs each record instead.
//! * **Readers** (server routes, CLI): [`read::page`] (a day's events, newest first, with
//!   offset/limit/filters), [`read::dates`], [`read::export`], [`read::stats_between`],
//!   [`read::last`], [`read::events`] with a [`read::Filter`], [`read::Follower`];
//!   [`verify::verify`]; [`against::against`] for a kept checkpoint.
//! * **The preload** never calls this crate: it appends to its spool, which every writer drains
//!   ([`spool`] explains the hand-over). A server that receives the preload's datagrams turns each
//!   into an event with [`spool::event_from_line`].
//!
//! # Modules, in the order a record flows through them
//!
//! [`event`] (the record) → [`redact`] and [`compact`] → [`encode`] (Go's `encoding/json`) →
//! [`chain`] (the hash) → [`writer`] ([`lock`], [`secure`], [`layout`], [`state`], [`spool`],
//! [`export`]) → [`merkle`] and [`checkpoint`]; then [`scan`], [`verify`], [`against`], [`read`].

pub mod against;
pub mod chain;
pub mod checkpoint;
pub mod compact;
pub mod encode;
pub mod error;
pub mod event;
pub mod export;
pub mod group;
pub mod ids;
pub mod layout;
pub mod lock;
pub mod merkle;
pub mod read;
pub mod redact;
pub mod scan;
pub mod secure;
pub mod spool;
pub mod state;
pub mod time;
pub mod verify;
pub mod writer;

pub use error::AuditError;
pub use event::{Event, EventDecision, EventResponse, Host};
pub use group::GroupCommit;
pub use time::{Date, Timestamp};
pub use writer::{Appended, CheckpointPolicy, Durability, Notice, Recovery, Writer, WriterOptions};
