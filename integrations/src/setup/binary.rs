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

/// How an executable was linked, as its ELF program headers say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Linkage {
    /// Started through the dynamic loader (it has a `PT_INTERP` header): each start maps libc
    /// and relocates the binary, which is most of a hook process's cost (benches/RESULTS.md).
    Dynamic,
    /// Everything is in the file: what `scripts/dist.sh` builds.
    Static,
}

/// How the executable at `path` was linked; `None` when it is not a 64-bit little-endian ELF
/// file (a wrapper script, another platform's binary).
pub fn linkage(path: &Path) -> Option<Linkage> {
    use std::os::unix::fs::FileExt;
    const PT_INTERP: u32 = 3;
    let file = fs::File::open(path).ok()?;
    let mut header = [0u8; 64];
    file.read_exact_at(&mut header, 0).ok()?;
    if header.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let field = |at: usize, width: usize| -> Option<u64> {
        let mut le = [0u8; 8];
        le.get_mut(..width)?
            .copy_from_slice(header.get(at..at + width)?);
        Some(u64::from_le_bytes(le))
    };
    let (table, entry, count) = (field(0x20, 8)?, field(0x36, 2)?, field(0x38, 2)?);
    let mut headers = vec![0u8; usize::try_from(entry * count).ok()?];
    file.read_exact_at(&mut headers, table).ok()?;
    let interp = headers
        .chunks_exact(usize::try_from(entry).ok()?.max(4))
        .any(|h| h.get(..4) == Some(&PT_INTERP.to_le_bytes()[..]));
    Some(if interp {
        Linkage::Dynamic
    } else {
        Linkage::Static
    })
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
    fn linkage_is_read_from_the_program_headers() {
        // This test binary is linked by cargo as the CLI is: dynamically.
        let exe = std::env::current_exe().unwrap();
        assert_eq!(linkage(&exe), Some(Linkage::Dynamic));
        let dir = std::env::temp_dir().join(format!("rampart-linkage-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let script = dir.join("script");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        assert_eq!(linkage(&script), None);
        // The same binary with its PT_INTERP header renamed (PT_NULL) reads as static.
        let mut bytes = fs::read(&exe).unwrap();
        let table = u64::from_le_bytes(bytes[0x20..0x28].try_into().unwrap()) as usize;
        let entry = u16::from_le_bytes(bytes[0x36..0x38].try_into().unwrap()) as usize;
        let count = u16::from_le_bytes(bytes[0x38..0x3a].try_into().unwrap()) as usize;
        for i in 0..count {
            let at = table + i * entry;
            if bytes[at..at + 4] == 3u32.to_le_bytes() {
                bytes[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
            }
        }
        let edited = dir.join("edited");
        fs::write(&edited, &bytes).unwrap();
        assert_eq!(linkage(&edited), Some(Linkage::Static));
        fs::write(&edited, &bytes[..40]).unwrap();
        assert_eq!(linkage(&edited), None, "a truncated header");
        let _ = fs::remove_dir_all(&dir);
    }

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
