//! How often one URL is notified: at most N per minute, the rest counted and reported later.
//!
//! The threat: an agent stuck in a loop of denied calls turns every deny into a message, floods
//! the channel (Slack accepts about one message a second per webhook, Discord thirty a minute)
//! and gets the webhook throttled or revoked, so the alert that matters is lost in the noise or
//! never sent. So each URL gets a fixed window of one minute holding at most `per_minute`
//! notifications; the ones beyond are counted, and the first one sent in a later window says how
//! many were held back.
//!
//! Hooks are one process per call, so the windows live in a small file
//! (`~/.rampart/notify-state.json`, keyed by a hash of the URL, since webhook URLs are
//! secrets), updated under an exclusive `flock` so that concurrent hooks count together. The
//! server keeps them in memory. A state file that cannot be read or locked lets the notification
//! through: a lost alert is worse than an extra one.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::hash::{Hash, Hasher};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::PathBuf;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// The default: enough to see an incident unfold, too few to flood a channel.
pub const DEFAULT_PER_MINUTE: u32 = 10;

const WINDOW_MS: u64 = 60_000;

/// Windows older than this are dropped from the state.
const KEEP_MS: u64 = 3_600_000;

/// One URL's current window.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Window {
    start_ms: u64,
    sent: u32,
    /// Held back in earlier windows and not reported yet, plus those of this window.
    held: u32,
}

/// Whether to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Send, mentioning how many were held back before.
    Send { held_back: u32 },
    /// Over the limit: counted, not sent.
    HoldBack,
}

/// A per-URL limit with its state.
#[derive(Debug)]
pub struct RateLimit {
    per_minute: u32,
    store: Store,
}

#[derive(Debug)]
enum Store {
    Memory(Mutex<BTreeMap<String, Window>>),
    File(PathBuf),
}

impl RateLimit {
    /// State in this process (the server).
    pub fn in_memory(per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            store: Store::Memory(Mutex::new(BTreeMap::new())),
        }
    }

    /// State shared by processes through `path` (one-shot hooks).
    pub fn in_file(path: PathBuf, per_minute: u32) -> RateLimit {
        RateLimit {
            per_minute,
            store: Store::File(path),
        }
    }

    /// Counts one notification to `url` at `now_ms` and says whether to send it.
    pub fn admit(&self, url: &str, now_ms: u64) -> Admit {
        let key = url_key(url);
        match &self.store {
            Store::Memory(windows) => match windows.lock() {
                Ok(mut windows) => self.step(&mut windows, key, now_ms),
                Err(poisoned) => self.step(&mut poisoned.into_inner(), key, now_ms),
            },
            Store::File(path) => self
                .step_in_file(path, key, now_ms)
                .unwrap_or(Admit::Send { held_back: 0 }),
        }
    }

    fn step(&self, windows: &mut BTreeMap<String, Window>, key: String, now_ms: u64) -> Admit {
        windows.retain(|_, w| now_ms.saturating_sub(w.start_ms) < KEEP_MS);
        let window = windows.entry(key).or_default();
        if now_ms.saturating_sub(window.start_ms) >= WINDOW_MS {
            window.start_ms = now_ms;
            window.sent = 0;
        }
        if window.sent >= self.per_minute {
            window.held += 1;
            return Admit::HoldBack;
        }
        window.sent += 1;
        let held_back = std::mem::take(&mut window.held);
        Admit::Send { held_back }
    }

    fn step_in_file(&self, path: &PathBuf, key: String, now_ms: u64) -> std::io::Result<Admit> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)?;
        // Released when `file` is closed, at the end of this function.
        lock_exclusive(&file)?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        let mut windows: BTreeMap<String, Window> = serde_json::from_str(&text).unwrap_or_default();
        let admit = self.step(&mut windows, key, now_ms);
        let out = serde_json::to_vec(&windows).map_err(std::io::Error::other)?;
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&out)?;
        Ok(admit)
    }
}

/// A URL's key in the state: a hash, so the file holds no webhook secret.
fn url_key(url: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    url.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

/// Takes an exclusive `flock` on `file`, held until the file is closed.
fn lock_exclusive(file: &File) -> std::io::Result<()> {
    // SAFETY: flock on a descriptor that `file` keeps open.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn a_window_holds_back_the_excess_and_reports_it_later() {
        let path = std::env::temp_dir().join(format!("rampart-rate-{}.json", std::process::id()));
        let _ = std::fs::remove_file(&path);
        for limit in [RateLimit::in_memory(2), RateLimit::in_file(path.clone(), 2)] {
            let t = 1_000_000;
            assert_eq!(limit.admit("https://a", t), Admit::Send { held_back: 0 });
            assert_eq!(
                limit.admit("https://a", t + 1),
                Admit::Send { held_back: 0 }
            );
            assert_eq!(limit.admit("https://a", t + 2), Admit::HoldBack);
            assert_eq!(limit.admit("https://a", t + 3), Admit::HoldBack);
            assert_eq!(
                limit.admit("https://b", t + 3),
                Admit::Send { held_back: 0 }
            );
            assert_eq!(
                limit.admit("https://a", t + WINDOW_MS),
                Admit::Send { held_back: 2 }
            );
            assert_eq!(
                limit.admit("https://a", t + WINDOW_MS + 1),
                Admit::Send { held_back: 0 }
            );
        }
        let state = std::fs::read_to_string(&path).unwrap();
        assert!(!state.contains("https"), "{state}");
        let _ = std::fs::remove_file(&path);
    }
}
