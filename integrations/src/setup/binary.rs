//! The stable path every hook runs: `~/.rampart/bin/rampart`, a symlink to the installed binary.
//!
//! The threat: a hook whose command stops pointing at rampart protects nothing, and hosts run
//! hooks without a login shell's PATH, so the command must be an absolute path. An absolute path
//! to the binary as installed breaks the day it moves (a versioned install directory, a package
//! manager's store), and Codex trusts a hook by the hash of its definition, so a command that
//! changes on every upgrade is silently skipped until someone re-trusts it.
//!
//! Why a symlink and not a copy: a copy keeps running the old version after an upgrade (stale
//! rules and fixes, silently) and cannot find `librampart.so` beside the real binary. The link
//! keeps the hook command constant for ever, follows upgrades made in place (`cargo install`,
//! a package manager's `bin/`), and when the binary it points at disappears, the hook fails to
//! start, which Claude Code and Cursor turn into a block (`onFailure`, `failClosed`) and
//! `rampart doctor` reports with the command that repairs it. The link points at the path the
//! user runs rampart by (the first `rampart` on PATH that is this very binary), not at the
//! resolved file, so a package manager's versioned store behind a stable `bin/` link is followed.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::SetupError;

/// `<rampart home>/bin/rampart`.
pub fn stable_path(rampart_home: &Path) -> PathBuf {
    rampart_home.join("bin").join("rampart")
}

/// What the stable path is now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// A link to an executable file.
    Ok(PathBuf),
    Missing,
    /// A link to nothing (the binary was moved or removed).
    Dangling(PathBuf),
    /// It resolves, but not to an executable file.
    NotExecutable(PathBuf),
    /// A file that is not a link (not written by setup).
    NotALink,
}

/// The state of the stable path at `link`.
pub fn state(link: &Path) -> LinkState {
    let Ok(meta) = fs::symlink_metadata(link) else {
        return LinkState::Missing;
    };
    if !meta.file_type().is_symlink() {
        return LinkState::NotALink;
    }
    let target = fs::read_link(link).unwrap_or_default();
    match fs::metadata(link) {
        Err(_) => LinkState::Dangling(target),
        Ok(m) if m.is_file() && m.permissions().mode() & 0o111 != 0 => LinkState::Ok(target),
        Ok(_) => LinkState::NotExecutable(target),
    }
}

/// Whether `path` names an executable file (after following links).
pub fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Points the stable path at `target`. A file that is not a link is replaced only with `force`.
/// Returns whether anything changed.
pub fn install(link: &Path, target: &Path, force: bool) -> Result<bool, SetupError> {
    let current = state(link);
    if current == LinkState::Ok(target.to_path_buf()) {
        return Ok(false);
    }
    if current == LinkState::NotALink && !force {
        return Err(SetupError::new(format!(
            "{} exists and is not a link written by rampart; move it away or pass --force",
            link.display()
        )));
    }
    let dir = link.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| SetupError::io("cannot create", dir, &e))?;
    let tmp = dir.join(format!(".rampart-link-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .and_then(|()| fs::rename(&tmp, link))
        .map_err(|e| {
            let _ = fs::remove_file(&tmp);
            SetupError::io("cannot link", link, &e)
        })?;
    Ok(true)
}

/// Removes the stable path when it is a link (setup's); returns whether it did.
pub fn remove(link: &Path) -> Result<bool, SetupError> {
    match state(link) {
        LinkState::Missing => Ok(false),
        LinkState::NotALink => Err(SetupError::new(format!(
            "{} is not a link written by rampart; leaving it alone",
            link.display()
        ))),
        _ => fs::remove_file(link)
            .map(|()| true)
            .map_err(|e| SetupError::io("cannot remove", link, &e)),
    }
}

/// The path the stable link at `link` should point at for the running binary: the first
/// `rampart` on `path_var` that is this very file (but not the link itself), else the running
/// executable.
pub fn link_target(link: &Path, current_exe: &Path, path_var: Option<&std::ffi::OsStr>) -> PathBuf {
    let exe = fs::canonicalize(current_exe).unwrap_or_else(|_| current_exe.to_path_buf());
    path_var
        .and_then(|paths| {
            std::env::split_paths(paths)
                .filter(|dir| dir.is_absolute())
                .map(|dir| dir.join("rampart"))
                .filter(|candidate| candidate != link)
                .find(|candidate| fs::canonicalize(candidate).is_ok_and(|c| c == exe))
        })
        .unwrap_or(exe)
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
    fn the_link_is_installed_refreshed_and_judged() {
        let dir = std::env::temp_dir().join(format!("rampart-setup-bin-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("v1")).unwrap();
        let exe = dir.join("v1/rampart");
        fs::write(&exe, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&exe, fs::Permissions::from_mode(0o755)).unwrap();
        let link = stable_path(&dir.join(".rampart"));
        assert_eq!(state(&link), LinkState::Missing);
        assert!(install(&link, &exe, false).unwrap());
        assert!(!install(&link, &exe, false).unwrap());
        assert_eq!(state(&link), LinkState::Ok(exe.clone()));
        fs::remove_file(&exe).unwrap();
        assert_eq!(state(&link), LinkState::Dangling(exe.clone()));
        assert!(remove(&link).unwrap());
        fs::write(&link, "mine").unwrap();
        assert_eq!(state(&link), LinkState::NotALink);
        assert!(install(&link, &exe, false).is_err());
        assert!(remove(&link).is_err());
        let _ = fs::remove_dir_all(&dir);
    }
}
