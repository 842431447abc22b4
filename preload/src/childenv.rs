//! The child environment: LD_PRELOAD and the RAMPART_* settings put back into every child.
//!
//! Why: a child that starts without LD_PRELOAD runs unchecked, so `env -i sh -c 'rm -rf ~'` or a
//! program that calls `unsetenv("LD_PRELOAD")` before exec would escape. Every hooked call passes
//! the real function an environment rebuilt from the one it would have used (the `envp` given, or
//! the process's `environ`), with every managed entry dropped and the init-time snapshot appended.
//!
//! The rebuilt array holds pointers: to the caller's strings and to the snapshot's pre-rendered
//! entries. It lives in the hook's arena, so building it is vfork-safe and costs one pass.
//!
//! `system` and `popen` take no environment: glibc spawns the shell with `environ`, and popen's
//! FILE must come from glibc's popen for pclose to work, so the library cannot spawn on their
//! behalf. Instead [`restore_process_environ`] points `environ` at a repaired copy (in the
//! persistent arena, never freed) when, and only when, a managed entry is missing or different.
//! Replacing the pointer, rather than calling setenv, needs no malloc, and glibc's setenv copes:
//! it reallocates only arrays it allocated itself. The program sees its LD_PRELOAD back, which is
//! the point.

use alloc::vec::Vec;
use core::ffi::c_char;

use crate::arena;
use crate::settings::{Settings, MANAGED};
use crate::text::c_bytes;

extern "C" {
    static mut environ: *const *const c_char;
}

/// The process's current `environ`.
///
/// # Safety
/// Reads a global another thread may be replacing (as with any getenv).
pub unsafe fn environ_ptr() -> *const *const c_char {
    // SAFETY: a plain read of the pointer.
    unsafe { environ }
}

/// The value of the process's environment variable `name`, if set.
///
/// # Safety
/// Reads `environ`, which another thread may be replacing (as with any getenv).
pub unsafe fn process_var(name: &[u8]) -> Option<&'static [u8]> {
    // SAFETY: caller's contract: `environ` is NULL or a NULL-terminated array of C strings.
    let mut p = unsafe { environ_ptr() };
    if p.is_null() {
        return None;
    }
    loop {
        // SAFETY: within the NULL-terminated array.
        let entry = unsafe { *p };
        if entry.is_null() {
            return None;
        }
        // SAFETY: a NUL-terminated C string of the environment.
        let bytes = unsafe { core::ffi::CStr::from_ptr(entry) }.to_bytes();
        if let Some(value) = bytes.strip_prefix(name).and_then(|r| r.strip_prefix(b"=")) {
            return Some(value);
        }
        // SAFETY: the entry was not the terminator, so the next one exists.
        p = unsafe { p.add(1) };
    }
}

/// Whether `entry` (`NAME=value`) sets a variable the library owns.
fn is_managed(entry: &[u8]) -> bool {
    // Every managed name starts with `L` or `R`: most entries of a 50-variable environment are
    // rejected on their first byte, on every hooked call.
    if !matches!(entry.first(), Some(b'L' | b'R')) {
        return false;
    }
    let name = entry.split(|&b| b == b'=').next().unwrap_or(entry);
    MANAGED.contains(&name)
}

/// The environment for a child: `envp`'s unmanaged entries then the snapshot, NULL-terminated.
/// `None` when the snapshot could not be made (the library's own path is unknown).
///
/// # Safety
/// `envp` is null or a NULL-terminated array of C strings.
pub unsafe fn rebuild(
    envp: *const *const c_char,
    settings: &Settings,
) -> Option<Vec<*const c_char>> {
    let ours = settings.child_env.as_ref()?;
    let mut out = Vec::with_capacity(64);
    // SAFETY: caller's contract.
    unsafe {
        for_each(envp, |p, entry| {
            if !is_managed(entry) {
                out.push(p);
            }
        })
    };
    out.extend(ours.iter().map(|e| e.as_ptr() as *const c_char));
    out.push(core::ptr::null());
    Some(out)
}

/// The child environment built from the process's current `environ`.
pub fn rebuild_from_environ(settings: &Settings) -> Option<Vec<*const c_char>> {
    // SAFETY: environ is the process's NULL-terminated environment.
    unsafe { rebuild(environ, settings) }
}

/// Makes `environ` carry exactly the snapshot's managed entries (for system/popen).
/// Returns false when that could not be done.
pub fn restore_process_environ(settings: &Settings) -> bool {
    let Some(ours) = settings.child_env.as_ref() else {
        return false;
    };
    // SAFETY: environ is the process's NULL-terminated environment.
    let current = unsafe { environ };
    let mut managed_seen = 0usize;
    let mut all_ours = true;
    // SAFETY: as above.
    unsafe {
        for_each(current, |_, entry| {
            if is_managed(entry) {
                managed_seen += 1;
                all_ours &= ours.iter().any(|o| o.strip_suffix(b"\0") == Some(entry));
            }
        })
    };
    if all_ours && managed_seen == ours.len() {
        return true;
    }
    let Some(fresh) = rebuild_from_environ(settings) else {
        return false;
    };
    let Some(table) = arena::persist_slice(&fresh) else {
        return false;
    };
    // SAFETY: the table is NULL-terminated, persistent and never freed. Replacing the pointer is
    // what glibc's own clearenv/putenv do.
    unsafe { environ = table.as_ptr() };
    true
}

/// Calls `f` with each entry's pointer and bytes.
///
/// # Safety
/// `array` is null or a NULL-terminated array of C strings.
unsafe fn for_each(array: *const *const c_char, mut f: impl FnMut(*const c_char, &[u8])) {
    if array.is_null() {
        return;
    }
    let mut i = 0;
    loop {
        // SAFETY: NULL-terminated array (caller's contract).
        let p = unsafe { *array.add(i) };
        // SAFETY: an entry of the array: a C string, or the null that ends it.
        match unsafe { c_bytes(p) } {
            Some(entry) => f(p, entry),
            None => return,
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    fn settings() -> Settings {
        let get = |name: &str| match name {
            "RAMPART_MODE" => Some(&b"monitor"[..]),
            _ => None,
        };
        Settings::from_lookup(get, 1, b"/h", Some(b"/lib/librampart.so"))
    }

    fn strings(array: &[*const c_char]) -> Vec<String> {
        let (last, items) = array.split_last().unwrap();
        assert!(last.is_null());
        items
            .iter()
            .map(|&p| {
                // SAFETY: every entry before the final null is a C string `rebuild` made.
                unsafe { std::ffi::CStr::from_ptr(p) }
                    .to_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn hostile_entries_are_replaced_and_others_kept() {
        let given: Vec<CString> = [
            "PATH=/bin",
            "LD_PRELOAD=",
            "RAMPART_MODE=disabled",
            "RAMPART_FAIL_OPEN=1",
            "RAMPART_MODEX=kept",
            "HOME=/h",
        ]
        .iter()
        .map(|s| CString::new(*s).unwrap())
        .collect();
        let mut envp: Vec<*const c_char> = given.iter().map(|c| c.as_ptr()).collect();
        envp.push(core::ptr::null());
        let s = settings();
        // SAFETY: `envp` is a NULL-terminated array of C strings that outlive the call.
        let out = strings(&unsafe { rebuild(envp.as_ptr(), &s) }.unwrap());
        assert_eq!(&out[..3], ["PATH=/bin", "RAMPART_MODEX=kept", "HOME=/h"]);
        assert!(out.contains(&"LD_PRELOAD=/lib/librampart.so".to_owned()));
        assert!(out.contains(&"RAMPART_MODE=monitor".to_owned()));
        assert!(!out.contains(&"RAMPART_MODE=disabled".to_owned()));
        assert_eq!(
            out.iter()
                .filter(|e| e.starts_with("RAMPART_MODE="))
                .count(),
            1
        );
    }

    #[test]
    fn a_null_envp_gets_just_the_snapshot() {
        let s = settings();
        // SAFETY: a null envp is allowed.
        let out = strings(&unsafe { rebuild(core::ptr::null(), &s) }.unwrap());
        assert_eq!(out.len(), s.child_env.as_ref().unwrap().len());
        assert_eq!(out[0], "LD_PRELOAD=/lib/librampart.so");
    }
}
