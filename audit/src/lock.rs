//! The directory lock that serialises appends, and the sync calls behind durability.
//!
//! Why `flock` on a side file: hooks, the server, the MCP proxy and the wrapper are separate
//! processes appending to one chain, and each must read the head and append after it without
//! another process slipping in between. `flock` locks belong to the open file description, so the
//! kernel drops them when a writer dies, even by SIGKILL: a crashed writer can leave a torn line
//! (which the next one repairs) but never a stuck lock. The writer polls with `LOCK_NB` and a short
//! back-off instead of blocking, so a writer stopped while holding the lock (SIGSTOP, a debugger)
//! turns into a clear timeout, and so a deny, rather than every agent call hanging.

use std::fs::File;
use std::os::fd::{AsRawFd, RawFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::AuditError;
use crate::secure::{self, Access};

/// The held lock; dropping it unlocks. It names the [`LockFile`]'s descriptor without borrowing
/// it, so a writer can hold the lock while it mutates itself; the writer keeps the `LockFile`
/// alive for longer than any `DirLock` it takes.
pub struct DirLock {
    fd: RawFd,
}

/// An open lock file, locked on demand (a long-lived writer keeps it open).
pub struct LockFile {
    file: File,
    path: PathBuf,
}

impl LockFile {
    pub fn open(path: &Path) -> Result<LockFile, AuditError> {
        let file = secure::open(path, Access::Create)?.ok_or_else(|| AuditError::Io {
            op: "open",
            path: path.to_path_buf(),
            kind: std::io::ErrorKind::NotFound,
            message: "lock file vanished".into(),
        })?;
        Ok(LockFile {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Takes the exclusive lock, waiting at most `timeout`.
    pub fn lock(&self, timeout: Duration) -> Result<DirLock, AuditError> {
        let start = Instant::now();
        let mut pause = Duration::from_micros(20);
        loop {
            // SAFETY: flock on a descriptor we own.
            let rc = unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(DirLock {
                    fd: self.file.as_raw_fd(),
                });
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK)
                && err.raw_os_error() != Some(libc::EINTR)
            {
                return Err(AuditError::io("lock", &self.path, &err));
            }
            if start.elapsed() >= timeout {
                return Err(AuditError::LockTimeout {
                    path: self.path.clone(),
                    waited_ms: u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX),
                });
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(1));
        }
    }
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // SAFETY: unlocking the LockFile's descriptor, which outlives this guard (see the type's
        // doc); were it closed already, flock would fail harmlessly with EBADF.
        unsafe { libc::flock(self.fd, libc::LOCK_UN) };
    }
}

/// `fdatasync(2)`: the file's data (and the size that reaches it) is on disk.
pub fn data_sync(file: &File, path: &Path) -> Result<(), AuditError> {
    file.sync_data().map_err(AuditError::at("fdatasync", path))
}

/// Syncs a directory, so a file created or renamed in it survives a power cut.
pub fn sync_dir(dir: &Path) -> Result<(), AuditError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(AuditError::at("fsync", dir))
}
