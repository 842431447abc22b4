//! Recording decisions in the audit chain, the way each kind of surface can afford.
//!
//! A one-shot hook process opens the writer when it first records and returns after `write(2)`
//! (no recovery beyond the chain's head, no sync); a long-lived surface verifies the chain once,
//! when it opens, and records through group commit, so concurrent calls share one `fdatasync`.
//! Either way the caller learns whether the record was written: an error is the caller's deny in
//! enforce mode, never a warning.

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};

use rampart_audit::{
    AuditError, Durability, Event, GroupCommit, Notice, Recovery, Writer, WriterOptions,
};

/// Where decisions are recorded.
#[derive(Clone, Debug, Default)]
pub struct AuditTarget {
    /// The audit directory (`--audit-dir`); `~/.rampart/audit` when `None`.
    pub dir: Option<PathBuf>,
    /// The user's home: `~/.rampart/spool` is drained and checkpoints are signed with its key.
    pub home: Option<PathBuf>,
}

impl AuditTarget {
    /// The options of a one-shot writer of this target (`WriterOptions::hook` when no directory
    /// was given).
    fn options(&self) -> Result<WriterOptions, AuditError> {
        match (&self.dir, &self.home) {
            (Some(dir), Some(home)) => Ok(WriterOptions::new(dir).with_home(home)),
            (Some(dir), None) => Ok(WriterOptions::new(dir)),
            (None, Some(home)) => Ok(WriterOptions::hook(home)),
            (None, None) => Err(AuditError::Format {
                what: "no audit directory: HOME is not set and no --audit-dir was given".into(),
            }),
        }
    }
}

/// Records events for one surface.
pub(crate) enum Recorder {
    /// A one-shot process: the writer is opened on first use.
    OneShot {
        target: AuditTarget,
        writer: Mutex<Option<Box<Writer>>>,
    },
    /// A long-lived process: group commit over a writer that verified the chain when it opened.
    Group(GroupCommit),
    /// A long-lived process whose writer could not be opened: every record fails with this.
    Unavailable(AuditError),
}

impl Recorder {
    pub(crate) fn one_shot(target: AuditTarget) -> Recorder {
        Recorder::OneShot {
            target,
            writer: Mutex::new(None),
        }
    }

    pub(crate) fn service(target: &AuditTarget) -> Recorder {
        // What `WriterOptions::service` adds to a hook's: the whole chain verified at open, one
        // sync per batch.
        let opened = target
            .options()
            .map(|o| o.durability(Durability::Group).recovery(Recovery::Full))
            .and_then(Writer::open)
            .map(GroupCommit::new);
        match opened {
            Ok(group) => Recorder::Group(group),
            Err(e) => Recorder::Unavailable(e),
        }
    }

    /// Appends `event`; returns its id once it is written (and synced, for a service).
    pub(crate) fn record(&self, event: Event) -> Result<String, AuditError> {
        match self {
            Recorder::OneShot { target, writer } => {
                let mut slot = writer.lock().unwrap_or_else(PoisonError::into_inner);
                let writer = match slot.as_mut() {
                    Some(writer) => writer,
                    None => slot.insert(Box::new(Writer::open(target.options()?)?)),
                };
                writer.append(event).map(|a| a.id)
            }
            Recorder::Group(group) => group.append(event).map(|a| a.id),
            Recorder::Unavailable(e) => Err(e.clone()),
        }
    }

    /// What the writer repaired or skipped (a torn tail cut off, the spool left for later).
    pub(crate) fn take_notices(&self) -> Vec<Notice> {
        match self {
            Recorder::OneShot { writer, .. } => writer
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_mut()
                .map(|w| w.take_notices())
                .unwrap_or_default(),
            Recorder::Group(group) => group.take_notices(),
            Recorder::Unavailable(_) => Vec::new(),
        }
    }
}
