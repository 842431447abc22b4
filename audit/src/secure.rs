//! Who may touch the audit directory: its owner, and nobody through a link.
//!
//! The threats: another local user reading the log (it holds commands, paths and messages) or
//! planting records in it; a symlink swapped in for a day file, so appends land somewhere the
//! attacker chose (or in a file the writer then truncates); a FIFO or device that blocks or
//! swallows writes. So the directory is created 0700 and its files 0600 (with an explicit chmod,
//! since a umask can only narrow a mode, never guarantee it), every file is opened with
//! `O_NOFOLLOW` and checked with `fstat` on the descriptor actually used, and anything looser,
//! foreign, linked or irregular is refused with the command that fixes it. A refused write is an
//! error, which the surfaces turn into a deny in enforce mode.

use std::fs::{File, FileType, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use crate::error::AuditError;

/// How a file is opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    /// Read and write, created 0600 if missing.
    Create,
    /// Read and append, created 0600 if missing.
    Append,
}

/// `'path'`, quoted for a POSIX shell.
pub fn shell_quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

fn euid() -> u32 {
    // SAFETY: geteuid has no failure mode and no arguments.
    unsafe { libc::geteuid() }
}

/// Makes sure `dir` exists as a directory only its owner can enter, creating it (and missing
/// parents, also 0700) when `create` is set.
pub fn ensure_dir(dir: &Path, create: bool) -> Result<(), AuditError> {
    match std::fs::metadata(dir) {
        Ok(_) => {}
        Err(err) if err.kind() == io::ErrorKind::NotFound && create => {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(AuditError::at("create", dir))?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(AuditError::at("chmod", dir))?;
        }
        Err(err) => return Err(AuditError::io("open", dir, &err)),
    }
    let meta = std::fs::metadata(dir).map_err(AuditError::at("stat", dir))?;
    if !meta.is_dir() {
        return Err(AuditError::Unsafe {
            path: dir.to_path_buf(),
            problem: "not a directory".into(),
            fix: format!("mv {0} {0}.old", shell_quote(dir)),
        });
    }
    check_owner_and_mode(dir, meta.uid(), meta.mode(), 0o700)
}

fn check_owner_and_mode(path: &Path, uid: u32, mode: u32, want: u32) -> Result<(), AuditError> {
    let me = euid();
    if uid != me {
        return Err(AuditError::Unsafe {
            path: path.to_path_buf(),
            problem: format!("owned by uid {uid}, not by this user (uid {me})"),
            fix: format!("sudo chown {me} {}", shell_quote(path)),
        });
    }
    if mode & 0o077 != 0 {
        return Err(AuditError::Unsafe {
            path: path.to_path_buf(),
            problem: format!(
                "mode {:04o} lets other users in (want {want:04o})",
                mode & 0o7777
            ),
            fix: format!("chmod {want:o} {}", shell_quote(path)),
        });
    }
    Ok(())
}

/// Refuses a directory entry that is a symlink or not a regular file (from `readdir`'s type,
/// without a `stat`).
pub fn check_kind(path: &Path, kind: FileType) -> Result<(), AuditError> {
    if kind.is_symlink() {
        return Err(AuditError::Unsafe {
            path: path.to_path_buf(),
            problem: "a symlink in the audit directory (the trail never follows links)".into(),
            fix: format!("rm {}", shell_quote(path)),
        });
    }
    if !kind.is_file() {
        return Err(AuditError::Unsafe {
            path: path.to_path_buf(),
            problem: "not a regular file".into(),
            fix: format!("mv {0} {0}.not-audit", shell_quote(path)),
        });
    }
    Ok(())
}

/// Opens `path` inside the audit directory: never through a symlink, only a regular file of this
/// user that nobody else can read. Missing files are created 0600 for [`Access::Create`] and
/// [`Access::Append`]; `Ok(None)` when a file opened for reading does not exist.
pub fn open(path: &Path, access: Access) -> Result<Option<File>, AuditError> {
    let mut opts = OpenOptions::new();
    opts.read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
    match access {
        Access::Read => {}
        Access::Create => {
            opts.write(true);
        }
        Access::Append => {
            opts.append(true);
        }
    }
    let (file, created) = match opts.open(path) {
        Ok(file) => (file, false),
        Err(err) if err.kind() == io::ErrorKind::NotFound && access != Access::Read => {
            match opts.clone().create_new(true).mode(0o600).open(path) {
                Ok(file) => (file, true),
                // Another writer created it between the two opens.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => (
                    opts.open(path).map_err(AuditError::at("open", path))?,
                    false,
                ),
                Err(e) => return Err(AuditError::io("create", path, &e)),
            }
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            return Err(AuditError::Unsafe {
                path: path.to_path_buf(),
                problem: "a symlink in the audit directory (the trail never follows links)".into(),
                fix: format!("rm {}", shell_quote(path)),
            })
        }
        Err(err) => return Err(AuditError::io("open", path, &err)),
    };
    if created {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(AuditError::at("chmod", path))?;
    }
    check_open_file(path, &file)?;
    Ok(Some(file))
}

/// Checks the descriptor actually opened: a regular file, ours, 0600 or tighter.
pub fn check_open_file(path: &Path, file: &File) -> Result<(), AuditError> {
    let meta = file.metadata().map_err(AuditError::at("stat", path))?;
    check_kind(path, meta.file_type())?;
    check_owner_and_mode(path, meta.uid(), meta.mode(), 0o600)
}

/// Reads a small side file whole, or `None` when it does not exist.
pub fn read_small(path: &Path) -> Result<Option<Vec<u8>>, AuditError> {
    use std::io::Read;
    let Some(mut file) = open(path, Access::Read)? else {
        return Ok(None);
    };
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)
        .map_err(AuditError::at("read", path))?;
    Ok(Some(buf))
}

/// Replaces a small side file atomically: a 0600 temporary file in the same directory, renamed
/// over the old one, so a reader sees the old content or the new, never a mix.
pub fn replace(path: &Path, content: &[u8]) -> Result<(), AuditError> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&tmp)
        .map_err(AuditError::at("create", &tmp))?;
    let written = file
        .set_permissions(std::fs::Permissions::from_mode(0o600))
        .and_then(|()| file.write_all(content))
        .map_err(AuditError::at("write", &tmp))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(AuditError::at("rename", path)));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
