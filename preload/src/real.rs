//! The real libc functions behind the hooks, resolved with dlsym/dlvsym(RTLD_NEXT).
//!
//! Each is resolved on first use, not in the constructor: a dlsym is ~1,000 instructions, and
//! resolving the exec family up front cost every process ~4,200 instructions and ~6 us of its
//! start (benches/RESULTS.md), though most processes never exec. First use may be in a vfork
//! child. That is safe here: dlsym allocates only to report an error, and its lock is recursive
//! and held only briefly by other threads, which keep running while the vforking thread waits.
//! The address is stored in memory the parent shares, so it resolves once for both.
//!
//! posix_spawn and posix_spawnp exist twice in glibc (`@@GLIBC_2.15` and a compat `@GLIBC_2.2.5`
//! with older semantics); dlvsym picks the current one explicitly.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// One interposed function: its name, glibc version (for dlvsym) and resolved address.
pub struct Real {
    name: &'static CStr,
    version: Option<&'static CStr>,
    addr: AtomicUsize,
}

impl Real {
    const fn new(name: &'static CStr, version: Option<&'static CStr>) -> Real {
        Real {
            name,
            version,
            addr: AtomicUsize::new(0),
        }
    }

    fn resolve(&self) -> usize {
        // SAFETY: dlsym/dlvsym with RTLD_NEXT and NUL-terminated names.
        let p = unsafe {
            match self.version {
                Some(v) => libc::dlvsym(libc::RTLD_NEXT, self.name.as_ptr(), v.as_ptr()),
                None => libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()),
            }
        };
        let p = if p.is_null() && self.version.is_some() {
            // A libc without that version node: take the default definition.
            // SAFETY: as above.
            unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) }
        } else {
            p
        };
        self.addr.store(p as usize, Ordering::Release);
        p as usize
    }

    /// The address, resolved on first use. `None` if libc lacks it.
    pub fn addr(&self) -> Option<*const c_void> {
        let a = match self.addr.load(Ordering::Acquire) {
            0 => self.resolve(),
            a => a,
        };
        (a != 0).then_some(a as *const c_void)
    }
}

pub static EXECVE: Real = Real::new(c"execve", None);
pub static EXECVPE: Real = Real::new(c"execvpe", None);
pub static EXECVEAT: Real = Real::new(c"execveat", None);
pub static FEXECVE: Real = Real::new(c"fexecve", None);
pub static POSIX_SPAWN: Real = Real::new(c"posix_spawn", Some(c"GLIBC_2.15"));
pub static POSIX_SPAWNP: Real = Real::new(c"posix_spawnp", Some(c"GLIBC_2.15"));
pub static SYSTEM: Real = Real::new(c"system", None);
pub static POPEN: Real = Real::new(c"popen", None);
pub static FORK: Real = Real::new(c"fork", None);

pub type Argv = *const *const c_char;
pub type ExecveFn = unsafe extern "C" fn(*const c_char, Argv, Argv) -> c_int;
pub type ExecveatFn = unsafe extern "C" fn(c_int, *const c_char, Argv, Argv, c_int) -> c_int;
pub type FexecveFn = unsafe extern "C" fn(c_int, Argv, Argv) -> c_int;
pub type SpawnFn = unsafe extern "C" fn(
    *mut libc::pid_t,
    *const c_char,
    *const libc::posix_spawn_file_actions_t,
    *const libc::posix_spawnattr_t,
    Argv,
    Argv,
) -> c_int;
pub type SystemFn = unsafe extern "C" fn(*const c_char) -> c_int;
pub type ForkFn = unsafe extern "C" fn() -> libc::pid_t;
pub type PopenFn = unsafe extern "C" fn(*const c_char, *const c_char) -> *mut libc::FILE;

/// The address of `real` as a function of type `F`.
///
/// # Safety
/// `F` must be the C signature of the function `real` names.
pub unsafe fn get<F: Copy>(real: &Real) -> Option<F> {
    let addr = real.addr()?;
    // SAFETY: F is a function pointer type of the same size as a data pointer (caller's contract).
    Some(unsafe { core::mem::transmute_copy::<*const c_void, F>(&addr) })
}
