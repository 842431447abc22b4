//! Group commit: many threads, one writer, one `fdatasync` per batch.
//!
//! Why: a durable record costs one `fdatasync`, which takes far longer than encoding and writing the
//! record. A service deciding for many agents at once (the server, the MCP proxy) would be bounded
//! by one sync per decision. Here each caller queues its event and waits; one caller at a time
//! becomes the leader, takes everything queued, appends it as one batch (one lock, one `write(2)`
//! per file, one sync under [`Durability::Group`](crate::Durability::Group)) and answers every
//! caller of the batch. Callers that arrive while a batch is being written form the next one, so
//! the interval adapts by itself: one sync's duration. Nobody is answered before their record is
//! written (and synced, per the writer's durability), and a failed batch answers each of its
//! callers with the error, which they turn into a deny.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use crate::error::AuditError;
use crate::event::Event;
use crate::writer::{Appended, Notice, Writer};

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
    results: HashMap<u64, Result<Appended, AuditError>>,
    leading: bool,
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

    /// Appends `event` with whatever else is queued; returns once its batch is written.
    pub fn append(&self, event: Event) -> Result<Appended, AuditError> {
        let shared = &self.shared;
        let mut queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
        let ticket = queue.next_ticket;
        queue.next_ticket += 1;
        queue.waiting.push((ticket, event));
        loop {
            if let Some(result) = queue.results.remove(&ticket) {
                return result;
            }
            if queue.leading {
                queue = shared
                    .answered
                    .wait(queue)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            queue.leading = true;
            let batch = std::mem::take(&mut queue.waiting);
            drop(queue);
            let results = self.write(batch);
            queue = shared.queue.lock().unwrap_or_else(PoisonError::into_inner);
            queue.results.extend(results);
            queue.leading = false;
            shared.answered.notify_all();
        }
    }

    fn write(&self, batch: Vec<(u64, Event)>) -> Vec<(u64, Result<Appended, AuditError>)> {
        let (tickets, events): (Vec<u64>, Vec<Event>) = batch.into_iter().unzip();
        let mut writer = self
            .shared
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let count = tickets.len();
        match writer.append_batch(events) {
            Ok(appended) if appended.len() == count => tickets
                .into_iter()
                .zip(appended.into_iter().map(Ok))
                .collect(),
            Ok(_) => {
                let e = AuditError::Format {
                    what: "a batch returned a different number of records".into(),
                };
                tickets.into_iter().map(|t| (t, Err(e.clone()))).collect()
            }
            Err(e) => tickets.into_iter().map(|t| (t, Err(e.clone()))).collect(),
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
