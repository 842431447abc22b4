//! The event stream (`GET /v1/events/stream`): decisions and approval changes as server-sent
//! events, as upstream sends them (`connected`, `approvals`, `audit` with the recorded event).
//!
//! Each subscriber has a bounded queue; one that falls [`QUEUE`] events behind (a client that
//! stopped reading) is dropped rather than allowed to hold memory or a publisher.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::Duration;

use serde_json::{json, Value};

/// Events a subscriber may fall behind before it is dropped.
pub const QUEUE: usize = 1024;
/// A comment line is sent when nothing happened for this long, so proxies and clients see a
/// live stream and a gone client is noticed.
pub const KEEPALIVE: Duration = Duration::from_secs(15);

/// The subscribers.
#[derive(Default)]
pub struct Hub {
    subscribers: Mutex<Vec<SyncSender<String>>>,
    /// Whether the watcher follows the audit log (it does only while someone subscribes).
    following: Mutex<bool>,
    follow_changed: Condvar,
}

impl Hub {
    /// A new subscriber's queue.
    pub fn subscribe(&self) -> Receiver<String> {
        let (tx, rx) = sync_channel(QUEUE);
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(tx);
        rx
    }

    /// The watcher started (or stopped) following the audit log.
    pub fn set_following(&self, following: bool) {
        *self
            .following
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = following;
        self.follow_changed.notify_all();
    }

    /// Waits up to `limit` until the watcher follows the audit log, so that a subscriber told
    /// "connected" sees every decision recorded after that; whether it does.
    pub fn wait_following(&self, limit: Duration) -> bool {
        let guard = self
            .following
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = self
            .follow_changed
            .wait_timeout_while(guard, limit, |following| !*following)
            .unwrap_or_else(PoisonError::into_inner);
        *guard
    }

    pub fn subscribers(&self) -> usize {
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Sends `data` to every subscriber; drops those that are gone or too far behind.
    pub fn publish(&self, data: &Value) {
        let line = format!("data: {data}\n\n");
        self.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|tx| match tx.try_send(line.clone()) {
                Ok(()) => true,
                Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
            });
    }

    /// An approval was created, resolved or expired.
    pub fn approvals_changed(&self) {
        self.publish(&json!({"type": "approvals"}));
    }

    /// A decision was recorded (the event as written: redacted).
    pub fn audit(&self, event: &Value) {
        self.publish(&json!({"type": "audit", "event": event}));
    }
}
