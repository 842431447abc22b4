//! Reading and replacing a host's settings file without ever losing it.
//!
//! The threat: a settings file half-written when setup is interrupted, a user's dotfile symlink
//! replaced by a plain file, a concurrent write by the host itself (Claude Code rewrites
//! `~/.claude.json` while it runs) silently overwritten, or an edit nobody can undo. So the
//! original is copied aside before anything changes (`<file>.rampart-backup-<time>`), the new
//! text goes to a temporary file in the same directory that is synced and renamed over the
//! original (with the original's permissions), a symlink is followed and its target replaced, and
//! the file is read again just before the rename: if it changed since setup read it, nothing is
//! written.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::SetupError;

/// A settings file as setup read it.
#[derive(Clone, Debug)]
pub struct Settings {
    pub path: PathBuf,
    /// Its text; `None` when the file does not exist yet.
    pub original: Option<String>,
}

impl Settings {
    /// Reads `path`; a missing file is `original: None`.
    pub fn read(path: &Path) -> Result<Settings, SetupError> {
        let original = read_optional(path)?;
        Ok(Settings {
            path: path.to_path_buf(),
            original,
        })
    }

    /// The text to edit: the file's, or nothing for a new file.
    pub fn text(&self) -> &str {
        self.original.as_deref().unwrap_or_default()
    }

    /// Replaces the file with `text`, keeping a backup of the original. Returns the backup's
    /// path (`None` for a file that did not exist).
    pub fn replace(&self, text: &str) -> Result<Option<PathBuf>, SetupError> {
        let target = write_target(&self.path);
        if read_optional(&target)? != self.original {
            return Err(SetupError::new(format!(
                "{} changed while rampart was editing it (is the agent running?); nothing was written, run the command again",
                self.path.display()
            )));
        }
        let backup = match &self.original {
            Some(original) => Some(backup(&self.path, &target, original)?),
            None => None,
        };
        write_atomic(&target, text.as_bytes())?;
        Ok(backup)
    }

    /// Deletes the file (setup created it and everything in it was setup's), keeping a backup.
    pub fn delete(&self) -> Result<Option<PathBuf>, SetupError> {
        let target = write_target(&self.path);
        let backup = match &self.original {
            Some(original) => Some(backup(&self.path, &target, original)?),
            None => return Ok(None),
        };
        fs::remove_file(&self.path).map_err(|e| SetupError::io("cannot remove", &self.path, &e))?;
        Ok(backup)
    }
}

/// Takes group and other permissions off `path` (following a symlink): for a settings file that
/// now holds the server's token. Returns whether the mode changed.
pub fn make_private(path: &Path) -> Result<bool, SetupError> {
    let target = write_target(path);
    let mode = fs::metadata(&target)
        .map_err(|e| SetupError::io("cannot read", &target, &e))?
        .permissions()
        .mode();
    if mode & 0o077 == 0 {
        return Ok(false);
    }
    fs::set_permissions(&target, fs::Permissions::from_mode(mode & 0o7700))
        .map(|()| true)
        .map_err(|e| SetupError::io("cannot change the permissions of", &target, &e))
}

/// The file's text, `None` when it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<String>, SetupError> {
    match fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| SetupError::new(format!("{} is not UTF-8 text", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SetupError::io("cannot read", path, &e)),
    }
}

/// Where a write to `path` lands: the target of a symlink (a dotfile manager's link stays a link).
fn write_target(path: &Path) -> PathBuf {
    let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        if let Ok(target) = fs::canonicalize(path) {
            return target;
        }
    }
    path.to_path_buf()
}

/// Copies `original` (the text of `target`) to `<path>.rampart-backup-<time>`, with the original's
/// permissions.
fn backup(path: &Path, target: &Path, original: &str) -> Result<PathBuf, SetupError> {
    let mode = fs::metadata(target).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    let stamp = backup_stamp();
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for n in 0..100 {
        let suffix = if n == 0 {
            String::new()
        } else {
            format!("-{n}")
        };
        let candidate = path.with_file_name(format!("{name}.rampart-backup-{stamp}{suffix}"));
        let created = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&candidate);
        match created {
            Ok(mut file) => {
                file.write_all(original.as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| SetupError::io("cannot write the backup", &candidate, &e))?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(SetupError::io("cannot write the backup", &candidate, &e)),
        }
    }
    Err(SetupError::new(format!(
        "too many backups of {} this second",
        path.display()
    )))
}

/// `20261204T203000Z`: sorts by time, and is a valid file name everywhere.
fn backup_stamp() -> String {
    let iso = rampart_audit::Timestamp::now().rfc3339_nano();
    let seconds = iso.get(..19).unwrap_or(&iso);
    format!("{}Z", seconds.replace(['-', ':'], ""))
}

/// Writes `bytes` to a temporary file beside `path`, syncs it and renames it over `path`, keeping
/// the permissions `path` had (0600 for a new file: settings may hold a token).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SetupError> {
    let mode = fs::metadata(path).map_or(0o600, |m| m.permissions().mode() & 0o7777);
    write_atomic_mode(path, bytes, mode)
}

/// [`write_atomic`] with the permissions given.
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> Result<(), SetupError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| SetupError::io("cannot create", dir, &e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.rampart-tmp-{}", std::process::id()));
    let written = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.set_permissions(fs::Permissions::from_mode(mode))?;
            file.sync_all()
        })
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(SetupError::io("cannot write", path, &e));
    }
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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
    fn replace_follows_symlinks_keeps_modes_and_backs_up() {
        let dir = std::env::temp_dir().join(format!("rampart-setup-file-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("dotfiles")).unwrap();
        let real = dir.join("dotfiles/settings.json");
        fs::write(&real, "{}").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("settings.json");
        std::os::unix::fs::symlink(&real, &link).unwrap();

        let settings = Settings::read(&link).unwrap();
        let backup = settings.replace("{\"a\": 1}").unwrap().unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "{\"a\": 1}");
        assert_eq!(
            fs::metadata(&real).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(fs::read_to_string(&backup).unwrap(), "{}");
        assert!(backup
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("settings.json.rampart-backup-2"));

        // Changed behind setup's back: nothing is written.
        fs::write(&real, "{\"host\": 2}").unwrap();
        assert!(settings.replace("{}").is_err());
        assert_eq!(fs::read_to_string(&real).unwrap(), "{\"host\": 2}");
        let _ = fs::remove_dir_all(&dir);
    }
}
