//! Why a record could not be written or a log could not be read.
//!
//! Every surface turns a writer error into its host's deny (enforce mode), so the error is one
//! line a person can act on: the file, what went wrong, and for unsafe permissions the exact
//! command that fixes them. Errors are `Clone` because a group commit answers every waiting
//! caller with the same failure.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditError {
    /// A system call on `path` failed.
    Io {
        op: &'static str,
        path: PathBuf,
        kind: io::ErrorKind,
        message: String,
    },
    /// A file or directory the audit trail will not use, and the command that fixes it.
    Unsafe {
        path: PathBuf,
        problem: String,
        fix: String,
    },
    /// The log does not check out where the writer would extend it.
    Broken {
        file: PathBuf,
        line: u64,
        problem: String,
    },
    /// Another process held the audit lock longer than the writer waits.
    LockTimeout { path: PathBuf, waited_ms: u64 },
    /// The signing key or a checkpoint is unusable.
    Checkpoint { path: PathBuf, problem: String },
    /// A record could not be written (or read) as JSON.
    Format { what: String },
}

impl AuditError {
    pub fn io(op: &'static str, path: &Path, err: &io::Error) -> AuditError {
        AuditError::Io {
            op,
            path: path.to_path_buf(),
            kind: err.kind(),
            message: err.to_string(),
        }
    }

    /// A closure for `map_err`.
    pub fn at<'p>(op: &'static str, path: &'p Path) -> impl Fn(io::Error) -> AuditError + 'p {
        move |err| AuditError::io(op, path, &err)
    }

    /// Whether the failure means the disk (or the file size limit) is full.
    pub fn is_disk_full(&self) -> bool {
        matches!(
            self,
            AuditError::Io {
                kind: io::ErrorKind::StorageFull
                    | io::ErrorKind::FileTooLarge
                    | io::ErrorKind::QuotaExceeded,
                ..
            }
        )
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Io {
                op, path, message, ..
            } => write!(f, "audit: cannot {op} {}: {message}", path.display()),
            AuditError::Unsafe { path, problem, fix } => write!(
                f,
                "audit: refusing {}: {problem}; fix it with: {fix}",
                path.display()
            ),
            AuditError::Broken {
                file,
                line,
                problem,
            } => write!(
                f,
                "audit: chain broken at {}:{line}: {problem}; run `rampart audit verify` for details",
                file.display()
            ),
            AuditError::LockTimeout { path, waited_ms } => write!(
                f,
                "audit: {} stayed locked by another process for {waited_ms} ms",
                path.display()
            ),
            AuditError::Checkpoint { path, problem } => {
                write!(f, "audit: checkpoint {}: {problem}", path.display())
            }
            AuditError::Format { what } => write!(f, "audit: {what}"),
        }
    }
}

impl std::error::Error for AuditError {}
