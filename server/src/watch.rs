//! The server's background duties, on one thread: approvals expire on time, the policy is reloaded
//! when its sources change, token files are re-read, and event-stream subscribers get the log's new
//! records.
//!
//! Why polling `stat` rather than inotify: the sources are a handful of files and one or two
//! directories, so a check costs a few `stat` calls, twice a second; it needs no dependency, works
//! on every filesystem (network and container mounts where inotify does not), and sees files
//! replaced by rename (how rampart and editors write them) like any other change.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use crate::routes::approvals::{sweep, SWEEP};
use crate::State;

/// How often the sources and token files are checked.
pub const RECHECK: Duration = Duration::from_millis(500);

static POKE: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());

/// Wakes the watcher now (a decision was recorded and someone streams events).
pub fn poke() {
    let (flag, cv) = &POKE;
    *flag.lock().unwrap_or_else(PoisonError::into_inner) = true;
    cv.notify_one();
}

pub fn start(state: &Arc<State>) {
    let state = Arc::clone(state);
    let _ = std::thread::Builder::new()
        .name("rampart-watch".into())
        .spawn(move || run(&state));
}

fn run(state: &State) {
    let mut stamp = Stamp::of(state);
    let mut checked = Instant::now();
    let mut follower: Option<rampart_audit::read::Follower> = None;
    let mut reported: Option<String> = None;
    loop {
        nap(SWEEP);
        sweep(state);
        if state.events.subscribers() > 0 {
            let f = follower
                .take()
                .or_else(|| rampart_audit::read::Follower::at_end(&state.config.audit_dir()).ok());
            if let Some(mut f) = f {
                for stored in f.poll().unwrap_or_default() {
                    if let Ok(event) = serde_json::from_str::<serde_json::Value>(&stored.line) {
                        state.events.audit(&event);
                    }
                }
                follower = Some(f);
                state.events.set_following(true);
            }
        } else if follower.take().is_some() {
            state.events.set_following(false);
        }
        if checked.elapsed() < RECHECK {
            continue;
        }
        checked = Instant::now();
        if let Err(e) = state.auth.refresh() {
            report(&mut reported, format!("token files: {e}"));
        }
        let now = Stamp::of(state);
        if now != stamp {
            stamp = now;
            match state.engine.reload() {
                Ok(_) => reported = None,
                Err(e) => report(
                    &mut reported,
                    format!("policy reload failed, keeping the policy in force: {e}"),
                ),
            }
        }
    }
}

fn nap(limit: Duration) {
    let (flag, cv) = &POKE;
    let guard = flag.lock().unwrap_or_else(PoisonError::into_inner);
    let (mut guard, _) = cv
        .wait_timeout_while(guard, limit, |poked| !*poked)
        .unwrap_or_else(PoisonError::into_inner);
    *guard = false;
}

fn report(last: &mut Option<String>, message: String) {
    if last.as_deref() != Some(message.as_str()) {
        eprintln!("rampart serve: {message}");
        *last = Some(message);
    }
}

/// What the policy's places looked like: each with its size, inode and modification time, and
/// the entries of the directories among them.
#[derive(Debug, Default, PartialEq, Eq)]
struct Stamp(Vec<(PathBuf, Option<FileState>)>);

/// Size, inode and modification time.
type FileState = (u64, u64, SystemTime);

impl Stamp {
    fn of(state: &State) -> Stamp {
        let config = &state.config;
        let mut places = vec![config.cwd.join("rampart.yaml"), config.policy_dir()];
        places.extend(config.config.iter().cloned());
        if let Ok(p) = state.engine.policy() {
            places.extend(p.in_force().files().iter().map(|f| PathBuf::from(&f.path)));
        }
        let mut out = Vec::new();
        for place in places {
            out.push((place.clone(), stat(&place)));
            if let Ok(entries) = std::fs::read_dir(&place) {
                let mut names: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                names.sort();
                out.extend(names.into_iter().map(|p| {
                    let s = stat(&p);
                    (p, s)
                }));
            }
        }
        Stamp(out)
    }
}

fn stat(path: &Path) -> Option<FileState> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.ino(), meta.modified().ok()?))
}
