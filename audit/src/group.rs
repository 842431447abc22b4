//! Group commit: many threads, one writer, one `fdatasync` per batch.
//!
//! Why: a durable record costs one `fdatasync`, which takes far longer than encoding and writing the
//! record. A service deciding for many agents at once (the server, the MCP proxy) would be bounded
//! by one sync per decision. Here each caller queues its event and waits; one caller at a time
//! becomes the leader, takes everything queued, appends it as one batch (one lock, one `write(2)`
//! per file, one sync under [`Durability::Group`](crate::Durability::Group)) and answers every
//! caller of the batch. Callers that arrive while a batch is being written or synced form the
//! next one, so the interval adapts by itself: one sync's duration. The sync runs after the writer
//! is released, so the next batch is written while the previous one syncs; a sync that fails
//! answers its batch with the error (the records are in the file, but never confirmed: a deny is
//! the safe side). Nobody is answered before their record is
//! written (and synced, per the writer's durability), and a failed batch answers each of its
//! callers with the error, which they turn into a deny.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::error::AuditError;
use crate::event::Event;
use crate::writer::{Appended, Notice, PendingSync, Writer};

type Answers = Vec<(u64, Result<Appended, AuditError>)>;

/// A [`Writer`] shared between threads. Cloning is cheap (an `Arc`).
#[derive(Clone)]
pub struct GroupCommit {
    shared: Arc<Shared>,
}

struct Shared {
    queue: Mutex<Queue>,
    answered: Condvar,
    writer: Mutex<Writer>,
}

#[derive(Default)]
struct Queue {
    next_ticket: u64,
    waiting: Vec<(u64, Event)>,
    /// Each ticket's answer and the number of the batch that wrote it.
    results: HashMap<u64, (u64, Result<Appended, AuditError>)>,
    /// A caller is writing a batch.
    writing: bool,
    /// A caller is syncing.
    syncing: bool,
    /// Batches written, and batches known durable.
    written: u64,
    synced: u64,
    /// What the written batches still owe.
    owed: Vec<PendingSync>,
}

impl Queue {
    fn answer(&mut self, ticket: u64) -> Option<Result<Appended, AuditError>> {
        match self.results.get(&ticket) {
            Some((batch, _)) if *batch <= self.synced => {
                self.results.remove(&ticket).map(|(_, r)| r)
            }
            _ => None,
        }
    }
}

impl GroupCommit {
    pub fn new(writer: Writer) -> GroupCommit {
        GroupCommit {
            shared: Arc::new(Shared {
                queue: Mutex::new(Queue::default()),
                answered: Condvar::new(),
                writer: Mutex::new(writer),
            }),
        }
    }

    /// Appends `event` with whatever else is queued; returns once its batch is written and
    /// synced.
    ///
    /// Two roles rotate among the callers: one writes the queued events as a batch, one syncs
    /// everything written so far. They overlap (a batch is written while the previous one syncs),
    /// but there is only ever one of each, so every sync covers all the batches written before it
    /// started.
    pub fn append(&self, event: Event) -> Result<Appended, AuditError> {
        let shared = &self.shared;
        let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push((ticket, event));
        loop {
            if let Some(result) = queue.answer(ticket) {
                return result;
            }
            if !queue.writing && !queue.waiting.is_empty() {
                queue.writing = true;
                let batch = std::mem::take(&mut queue.waiting);
                drop(queue);
                let (answers, pending) = self.write(batch);
                queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
                queue.writing = false;
                queue.written += 1;
                let number = queue.written;
                for (t, result) in answers {
                    // A failed write is answered at once; a written record waits for its sync.
                    let batch = if result.is_ok() { number } else { 0 };
                    queue.results.insert(t, (batch, result));
                }
                queue.owed.extend(pending);
                shared.answered.notify_all();
                continue;
            }
            if !queue.syncing && queue.synced < queue.written {
                queue.syncing = true;
                let target = queue.written;
                let owed = std::mem::take(&mut queue.owed);
                drop(queue);
                let mut all = PendingSync::default();
                owed.into_iter().for_each(|p| all.absorb(p));
                let synced = all.sync();
                queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
                queue.syncing = false;
                if let Err(e) = synced {
                    for (batch, result) in queue.results.values_mut() {
                        if *batch <= target && result.is_ok() {
                            *result = Err(e.clone());
                        }
                    }
                }
                queue.synced = target;
                shared.answered.notify_all();
                continue;
            }
            queue = shared
                .answered
                .wait(queue)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    /// Writes a batch; the syncs it owes are returned, to run after the writer is released.
    fn write(&self, batch: Vec<(u64, Event)>) -> (Answers, Option<PendingSync>) {
        let (tickets, events): (Vec<u64>, Vec<Event>) = batch.into_iter().unzip();
        let mut writer = self
            .shared
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = tickets.len();
        let fail = |e: AuditError| tickets.iter().map(|t| (*t, Err(e.clone()))).collect();
        match writer.append_batch_deferred(events) {
            Ok((appended, pending)) if appended.len() == count => (
                tickets
                    .iter()
                    .copied()
                    .zip(appended.into_iter().map(Ok))
                    .collect(),
                Some(pending),
            ),
            Ok(_) => (
                fail(AuditError::Format {
                    what: "a batch returned a different number of records".into(),
                }),
                None,
            ),
            Err(e) => (fail(e), None),
        }
    }

    /// Runs `f` on the writer (for notices, checkpoints), between batches.
    pub fn with_writer<T>(&self, f: impl FnOnce(&mut Writer) -> T) -> T {
        let mut writer = self
            .shared
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        f(&mut writer)
    }

    /// What the writer repaired or skipped since the last call.
    pub fn take_notices(&self) -> Vec<Notice> {
        self.with_writer(Writer::take_notices)
    }
}
