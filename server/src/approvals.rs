//! The approval queue: calls a policy said `ask` about, waiting for a person.
//!
//! The threat: an approval that lets through more than was approved, or a call that waits
//! forever, or a waiter that learns of a denial late (and meanwhile its host timed out and let the
//! call run). So:
//!
//! - an approval is for one exact call ([`Approval::fingerprint`]: agent, session, run, tool call
//!   id, tool, workdir, parameters, owner); an approved `/v1/tool` call is honoured once, for the
//!   identical call, within [`REPLAY_WINDOW`] (upstream's exact replay), and an identical call
//!   that arrives while one is pending joins it instead of asking twice;
//! - at most [`MAX_PENDING`] wait at once (a full queue answers 503, never an allow);
//! - every approval expires ([`Store::expire_due`]), which denies it and is recorded;
//! - every waiter (a long poll, the preload's blocking preflight, an http hook, a `/v1/tool`
//!   client) sleeps on one condition variable that every change wakes, so an answer reaches it at
//!   once, not at its next poll;
//! - pending approvals are written to `~/.rampart/pending-approvals.jsonl` on every change and
//!   read back at start, so a restart loses none (those that expired meanwhile are denied).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::engine::now_ms;
use crate::tokens::rfc3339;

/// At most this many approvals wait at once.
pub const MAX_PENDING: usize = 1000;
/// How long an approved call may be replayed (once).
pub const REPLAY_WINDOW: Duration = Duration::from_secs(60);
/// How long a run grant (bulk approval of a whole run) lasts.
pub const RUN_GRANT_TTL: Duration = Duration::from_secs(15 * 60);
/// Resolved approvals kept for status queries.
const KEEP_RESOLVED: usize = 2000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Approved,
    Denied,
    Expired,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Denied => "denied",
            Status::Expired => "expired",
        }
    }
}

/// One approval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub id: String,
    pub tool: String,
    pub command: String,
    #[serde(default)]
    pub path: String,
    pub agent: String,
    pub session: String,
    #[serde(default)]
    pub run_id: String,
    /// Who asked (the token's agent, `admin`), upstream's `credential_owner`.
    #[serde(default)]
    pub credential_owner: String,
    pub message: String,
    pub status: Status,
    pub created_ms: u64,
    pub expires_ms: u64,
    #[serde(default)]
    pub resolved_ms: Option<u64>,
    #[serde(default)]
    pub resolved_by: Option<String>,
    #[serde(default)]
    pub persisted: bool,
    /// The exact call, for replay and for joining identical asks (empty: not replayable).
    #[serde(default)]
    pub fingerprint: String,
    /// The audit id of the decision that asked.
    #[serde(default)]
    pub policy_audit_id: String,
    /// Replayed once already.
    #[serde(default)]
    pub consumed: bool,
}

impl Approval {
    /// `GET /v1/approvals/{id}`.
    pub fn status_json(&self) -> Value {
        let mut v = json!({
            "id": self.id, "tool": self.tool, "command": self.command, "agent": self.agent,
            "session": self.session, "message": self.message, "status": self.status.as_str(),
            "created_at": rfc3339(self.created_ms), "expires_at": rfc3339(self.expires_ms),
        });
        if let Some(obj) = v.as_object_mut() {
            if let Some(t) = self.resolved_ms {
                obj.insert("resolved_at".into(), json!(rfc3339(t)));
            }
            if let Some(by) = &self.resolved_by {
                obj.insert("resolved_by".into(), json!(by));
            }
            if self.status != Status::Pending {
                obj.insert("persisted".into(), json!(self.persisted));
            }
            if !self.path.is_empty() {
                obj.insert("path".into(), json!(self.path));
            }
        }
        v
    }

    /// An item of `GET /v1/approvals`.
    pub fn list_json(&self) -> Value {
        let mut v = json!({
            "id": self.id, "tool": self.tool, "command": self.command, "agent": self.agent,
            "session": self.session, "credential_owner": self.credential_owner,
            "message": self.message, "status": self.status.as_str(),
            "created_at": rfc3339(self.created_ms), "expires_at": rfc3339(self.expires_ms),
        });
        if let (false, Some(obj)) = (self.run_id.is_empty(), v.as_object_mut()) {
            obj.insert("run_id".into(), json!(self.run_id));
        }
        v
    }
}

/// What an approval is created from.
#[derive(Clone, Debug, Default)]
pub struct NewApproval {
    pub tool: String,
    pub command: String,
    pub path: String,
    pub agent: String,
    pub session: String,
    pub run_id: String,
    pub credential_owner: String,
    pub message: String,
    pub fingerprint: String,
    pub policy_audit_id: String,
    /// How long it may wait; the store's timeout when `None`.
    pub timeout: Option<Duration>,
}

/// Why an approval could not be created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreateError {
    Full,
    Storage(String),
}

/// Why a resolve was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResolveError {
    NotFound,
    /// Already approved, denied or expired (410).
    Gone(Status),
}

/// A bulk approval of a whole run: later asks of the run are approved while it lasts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunGrant {
    pub agent: String,
    pub session: String,
    pub run_id: String,
    pub credential_owner: String,
    pub expires_ms: u64,
}

#[derive(Default)]
struct Inner {
    items: BTreeMap<String, Approval>,
    grants: Vec<RunGrant>,
}

/// The queue.
pub struct Store {
    inner: Mutex<Inner>,
    changed: Condvar,
    /// Serialises resolutions, so that each is recorded before it is published and only once.
    resolving: Mutex<()>,
    file: Option<PathBuf>,
    timeout: Duration,
}

impl Store {
    /// A queue persisted to `file`, whose approvals wait `timeout` unless told otherwise.
    /// Pending approvals in the file are loaded.
    pub fn open(file: Option<PathBuf>, timeout: Duration) -> Store {
        let mut inner = Inner::default();
        if let Some(text) = file.as_ref().and_then(|f| std::fs::read_to_string(f).ok()) {
            for line in text.lines().filter(|l| !l.trim().is_empty()) {
                if let Ok(a) = serde_json::from_str::<Approval>(line) {
                    if a.status == Status::Pending {
                        inner.items.insert(a.id.clone(), a);
                    }
                }
            }
        }
        Store {
            inner: Mutex::new(inner),
            changed: Condvar::new(),
            resolving: Mutex::new(()),
            file,
            timeout,
        }
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Creates a pending approval, or returns the pending one of the identical call.
    pub fn create(&self, new: NewApproval) -> Result<(Approval, bool), CreateError> {
        let mut inner = self.lock();
        if !new.fingerprint.is_empty() {
            if let Some(a) = inner
                .items
                .values()
                .find(|a| a.status == Status::Pending && a.fingerprint == new.fingerprint)
            {
                return Ok((a.clone(), false));
            }
        }
        let pending = inner
            .items
            .values()
            .filter(|a| a.status == Status::Pending)
            .count();
        if pending >= MAX_PENDING {
            return Err(CreateError::Full);
        }
        let now = now_ms();
        let timeout = new.timeout.unwrap_or(self.timeout).min(self.timeout);
        let approval = Approval {
            id: rampart_audit::ids::new_id(now),
            tool: new.tool,
            command: new.command,
            path: new.path,
            agent: new.agent,
            session: new.session,
            run_id: new.run_id,
            credential_owner: new.credential_owner,
            message: new.message,
            status: Status::Pending,
            created_ms: now,
            expires_ms: now.saturating_add(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX)),
            resolved_ms: None,
            resolved_by: None,
            persisted: false,
            fingerprint: new.fingerprint,
            policy_audit_id: new.policy_audit_id,
            consumed: false,
        };
        inner.items.insert(approval.id.clone(), approval.clone());
        self.save(&inner).map_err(CreateError::Storage)?;
        drop(inner);
        self.changed.notify_all();
        Ok((approval, true))
    }

    pub fn get(&self, id: &str) -> Option<Approval> {
        self.lock().items.get(id).cloned()
    }

    /// Pending approvals, oldest first.
    pub fn pending(&self) -> Vec<Approval> {
        let mut items: Vec<Approval> = self
            .lock()
            .items
            .values()
            .filter(|a| a.status == Status::Pending)
            .cloned()
            .collect();
        items.sort_by(|a, b| a.created_ms.cmp(&b.created_ms).then(a.id.cmp(&b.id)));
        items
    }

    /// Resolves a pending approval. `record` writes the audit event first: if it fails, nothing
    /// changes and its error is returned as `Ok(Err(..))`.
    pub fn resolve<E>(
        &self,
        id: &str,
        approved: bool,
        resolved_by: &str,
        record: impl FnOnce(&Approval) -> Result<bool, E>,
    ) -> Result<Result<Approval, E>, ResolveError> {
        let _serial = self
            .resolving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let current = self.get(id).ok_or(ResolveError::NotFound)?;
        if current.status != Status::Pending {
            return Err(ResolveError::Gone(current.status));
        }
        let persisted = match record(&current) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e)),
        };
        Ok(Ok(self.publish(id, |a| {
            a.status = if approved {
                Status::Approved
            } else {
                Status::Denied
            };
            a.resolved_by = Some(resolved_by.to_string());
            a.persisted = persisted;
        })))
    }

    /// Expires every pending approval past its time; `record` writes each one's audit event
    /// first (one that cannot be recorded is retried at the next sweep).
    pub fn expire_due(&self, record: impl Fn(&Approval) -> bool) -> Vec<Approval> {
        let _serial = self
            .resolving
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let now = now_ms();
        let due: Vec<Approval> = self
            .lock()
            .items
            .values()
            .filter(|a| a.status == Status::Pending && a.expires_ms <= now)
            .cloned()
            .collect();
        let mut expired = Vec::new();
        for a in due {
            if record(&a) {
                expired.push(self.publish(&a.id, |a| {
                    a.status = Status::Expired;
                    a.resolved_by = Some("timeout".into());
                }));
            }
        }
        expired
    }

    /// Applies `change` to approval `id` (its resolution time set), saves, and wakes every
    /// waiter.
    fn publish(&self, id: &str, change: impl FnOnce(&mut Approval)) -> Approval {
        let mut inner = self.lock();
        let now = now_ms();
        let mut out = None;
        if let Some(a) = inner.items.get_mut(id) {
            change(a);
            a.resolved_ms = Some(now);
            out = Some(a.clone());
        }
        trim_resolved(&mut inner);
        let _ = self.save(&inner);
        drop(inner);
        self.changed.notify_all();
        out.unwrap_or_else(|| placeholder(id))
    }

    /// Waits until approval `id` is no longer pending or `wait` has passed; its state then.
    pub fn wait(&self, id: &str, wait: Duration) -> Option<Approval> {
        let deadline = Instant::now() + wait;
        let mut inner = self.lock();
        loop {
            let a = inner.items.get(id)?;
            let left = deadline.saturating_duration_since(Instant::now());
            if a.status != Status::Pending || left.is_zero() {
                return Some(a.clone());
            }
            let until_expiry = Duration::from_millis(a.expires_ms.saturating_sub(now_ms()));
            // Wake at the expiry too: the sweeper may be a moment late.
            let nap = left.min(until_expiry.max(Duration::from_millis(20)));
            inner = self
                .changed
                .wait_timeout(inner, nap)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// The approved, not yet replayed approval of the identical call, resolved within
    /// [`REPLAY_WINDOW`]; marks it replayed.
    pub fn take_replay(&self, fingerprint: &str) -> Option<Approval> {
        if fingerprint.is_empty() {
            return None;
        }
        let mut inner = self.lock();
        let now = now_ms();
        let window = u64::try_from(REPLAY_WINDOW.as_millis()).unwrap_or(u64::MAX);
        let a = inner.items.values_mut().find(|a| {
            a.fingerprint == fingerprint
                && a.status == Status::Approved
                && !a.consumed
                && a.resolved_ms
                    .is_some_and(|t| now.saturating_sub(t) <= window)
        })?;
        a.consumed = true;
        Some(a.clone())
    }

    /// Grants the run: later asks of it are approved until the grant expires.
    pub fn grant_run(&self, grant: RunGrant) {
        let mut inner = self.lock();
        let now = now_ms();
        inner.grants.retain(|g| g.expires_ms > now);
        inner.grants.push(grant);
    }

    /// Whether a run grant covers this identity.
    pub fn run_granted(&self, agent: &str, session: &str, run_id: &str, owner: &str) -> bool {
        if run_id.is_empty() {
            return false;
        }
        let now = now_ms();
        self.lock().grants.iter().any(|g| {
            g.expires_ms > now
                && g.agent == agent
                && g.session == session
                && g.run_id == run_id
                && g.credential_owner == owner
        })
    }

    fn save(&self, inner: &Inner) -> Result<(), String> {
        let Some(file) = &self.file else {
            return Ok(());
        };
        let mut text = String::new();
        for a in inner.items.values().filter(|a| a.status == Status::Pending) {
            text.push_str(&serde_json::to_string(a).map_err(|e| e.to_string())?);
            text.push('\n');
        }
        crate::secrets::write_private(file, text.trim_end_matches('\n'), false)
    }
}

fn trim_resolved(inner: &mut Inner) {
    let resolved = inner
        .items
        .values()
        .filter(|a| a.status != Status::Pending)
        .count();
    if resolved <= KEEP_RESOLVED {
        return;
    }
    let mut old: Vec<(u64, String)> = inner
        .items
        .values()
        .filter(|a| a.status != Status::Pending)
        .map(|a| (a.resolved_ms.unwrap_or(0), a.id.clone()))
        .collect();
    old.sort();
    for (_, id) in old.into_iter().take(resolved - KEEP_RESOLVED) {
        inner.items.remove(&id);
    }
}

fn placeholder(id: &str) -> Approval {
    Approval {
        id: id.to_string(),
        tool: String::new(),
        command: String::new(),
        path: String::new(),
        agent: String::new(),
        session: String::new(),
        run_id: String::new(),
        credential_owner: String::new(),
        message: String::new(),
        status: Status::Expired,
        created_ms: 0,
        expires_ms: 0,
        resolved_ms: None,
        resolved_by: None,
        persisted: false,
        fingerprint: String::new(),
        policy_audit_id: String::new(),
        consumed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn new(fp: &str) -> NewApproval {
        NewApproval {
            tool: "exec".into(),
            command: "sudo ls".into(),
            fingerprint: fp.into(),
            ..NewApproval::default()
        }
    }

    #[test]
    fn a_waiter_wakes_when_resolved_and_replay_is_once() {
        let store = Arc::new(Store::open(None, Duration::from_secs(60)));
        let (a, fresh) = store.create(new("fp")).unwrap();
        assert!(fresh);
        let (same, fresh) = store.create(new("fp")).unwrap();
        assert_eq!((same.id.as_str(), fresh), (a.id.as_str(), false));
        let waiter = {
            let store = Arc::clone(&store);
            let id = a.id.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                (
                    store.wait(&id, Duration::from_secs(30)).unwrap(),
                    started.elapsed(),
                )
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        let resolved = store
            .resolve(&a.id, true, "cli", |_| Ok::<bool, ()>(false))
            .unwrap()
            .unwrap();
        assert_eq!(resolved.status, Status::Approved);
        let (seen, took) = waiter.join().unwrap();
        assert_eq!(seen.status, Status::Approved);
        assert!(took < Duration::from_secs(5), "{took:?}");
        assert_eq!(
            store.resolve(&a.id, false, "cli", |_| Ok::<bool, ()>(false)),
            Err(ResolveError::Gone(Status::Approved))
        );
        assert!(store.take_replay("fp").is_some());
        assert!(store.take_replay("fp").is_none());
    }

    #[test]
    fn full_queue_expiry_and_restart() {
        let store = Store::open(None, Duration::from_secs(60));
        for i in 0..MAX_PENDING {
            store.create(new(&format!("{i}"))).unwrap();
        }
        assert_eq!(store.create(new("x")).unwrap_err(), CreateError::Full);
        let file =
            std::env::temp_dir().join(format!("rampart-pending-{}.jsonl", std::process::id()));
        let _ = std::fs::remove_file(&file);
        let store = Store::open(Some(file.clone()), Duration::from_millis(1));
        for i in 0..5 {
            store.create(new(&format!("{i}"))).unwrap();
        }
        let reopened = Store::open(Some(file.clone()), Duration::from_millis(1));
        assert_eq!(reopened.pending().len(), 5);
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(reopened.expire_due(|_| true).len(), 5);
        assert!(Store::open(Some(file.clone()), Duration::from_millis(1))
            .pending()
            .is_empty());
        let _ = std::fs::remove_file(&file);
    }
}
