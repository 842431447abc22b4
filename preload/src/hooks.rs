//! The interposed functions. Each one turns its arguments into a [`Command`], asks
//! [`decide`](crate::decide::decide), and either fails the way its caller expects (-1/EPERM, an
//! EPERM return, NULL) or calls the real function with the child environment repaired.
//!
//! glibc's execl/execv/execvp reach execve/execvpe through internal aliases, not the interposable
//! symbols, so every entry point has its own hook (reference §5). execl, execlp and execle are
//! C-variadic: the exported symbols are naked trampolines that jump to the C shim (src/shim.c),
//! which collects the arguments and calls [`rampart_exec_from_shim`]. (A symbol defined in C would
//! be hidden by rustc's version script for the cdylib; a Rust-defined trampoline is exported.)
//!
//! Every hook is written for a vfork child: no libc allocation (the arena), no locks, no lazy
//! initialisation on the normal path, output only through write(2).

use core::ffi::{c_char, c_int};

use rampart_runtime::invariant::or_closed;

use crate::command::Command;
use crate::decide::decide;
use crate::real::{
    self, Argv, ExecveFn, ExecveatFn, FexecveFn, ForkFn, PopenFn, SpawnFn, SystemFn,
};
use crate::resolve;
use crate::settings::{Mode, Settings};
use crate::sys;
use crate::text::{c_array, c_bytes};
use crate::{arena, childenv, say};

/// Commands longer than this are refused in enforce mode (upstream's 1 MiB input limit); the bound
/// also keeps every hook far inside its arena.
pub const MAX_COMMAND: usize = 1 << 20;

fn set_errno(e: c_int) {
    // SAFETY: errno is thread-local and always writable.
    unsafe { *libc::__errno_location() = e };
}

/// Where a call's child environment comes from.
#[derive(Clone, Copy)]
enum EnvFrom {
    /// The `envp` argument (execve, execvpe, execle, execveat, fexecve, posix_spawn*).
    Given(Argv),
    /// The process's `environ` (execv, execvp, execl, execlp).
    Environ,
}

/// What a hook is asked to run.
enum Target<'a> {
    Argv {
        path: &'a [u8],
        argv: Argv,
        report: bool,
        /// A bare `path` is looked up in `$PATH` (execvp and friends).
        search: bool,
    },
    Shell(&'a [u8]),
}

/// The outcome of the gate: run with this environment, or fail.
enum Gate {
    /// Call through with the environment the caller gave (disabled mode, or nothing to repair).
    Unchanged,
    /// Call through with this repaired, NULL-terminated environment.
    Env(alloc::vec::Vec<*const c_char>),
    Denied,
}

/// Decides `target` and prepares its environment. The caller holds `scope` until the real call.
///
/// # Safety
/// The pointers in `target` and `env` are valid C strings / arrays as the hooked function requires.
unsafe fn gate(hook: &str, target: Target<'_>, env: EnvFrom, s: &Settings) -> Gate {
    let enforce = s.mode == Mode::Enforce;
    let command = match target {
        Target::Argv {
            path,
            argv,
            report,
            search,
        } => {
            // SAFETY: caller's contract.
            let words = unsafe { c_array(argv) };
            let size: usize = words.iter().map(|w| w.len() + 1).sum();
            if size > MAX_COMMAND && enforce {
                say::line(&[b"blocked an oversized command from ", hook.as_bytes()]);
                return Gate::Denied;
            }
            // The program the kernel will load, when a link gives it another name.
            // SAFETY: reading the process's environment, as getenv does.
            let path_var = unsafe { childenv::process_var(b"PATH") };
            let real = resolve::real_program(path, search, path_var)
                .map(|r| Command::from_argv(r.as_bytes(), &words));
            (Command::from_argv(path, &words), real, report)
        }
        Target::Shell(text) => {
            if text.len() > MAX_COMMAND && enforce {
                say::line(&[b"blocked an oversized command from ", hook.as_bytes()]);
                return Gate::Denied;
            }
            (Command::from_shell(text), None, true)
        }
    };
    if !decide(hook, &command.0, command.1.as_ref(), s, command.2) {
        return Gate::Denied;
    }
    let rebuilt = match env {
        // SAFETY: caller's contract.
        EnvFrom::Given(envp) => unsafe { childenv::rebuild(envp, s) },
        EnvFrom::Environ => childenv::rebuild_from_environ(s),
    };
    match rebuilt {
        Some(env) => Gate::Env(env),
        None if enforce => {
            say::line(&[b"blocked: cannot pass LD_PRELOAD on (library path unknown)"]);
            Gate::Denied
        }
        None => Gate::Unchanged,
    }
}

/// Runs an argv-style hook: decide, then `call` with the environment to use, or fail with EPERM.
///
/// # Safety
/// As for [`gate`]; `call` is the real function.
unsafe fn run<R>(
    hook: &str,
    target: Target<'_>,
    env: EnvFrom,
    denied: R,
    call: impl FnOnce(Argv) -> R,
) -> R {
    let given = match env {
        EnvFrom::Given(envp) => envp,
        // SAFETY: reading the process's environ pointer.
        EnvFrom::Environ => unsafe { childenv::environ_ptr() },
    };
    let Some(s) = crate::settings() else {
        return call(given);
    };
    if s.mode == Mode::Disabled {
        return call(given);
    }
    let Some(_scope) = arena::enter() else {
        if s.mode == Mode::Monitor {
            return call(given);
        }
        say::line(&[b"blocked: no arena for ", hook.as_bytes()]);
        set_errno(libc::EPERM);
        return denied;
    };
    // SAFETY: caller's contract.
    match unsafe { gate(hook, target, env, s) } {
        Gate::Unchanged => call(given),
        // The arena scope is still held here, so `env` stays valid through the real call (and an
        // exec that succeeds never comes back to release it; see arena.rs).
        Gate::Env(env) => call(env.as_ptr()),
        Gate::Denied => {
            set_errno(libc::EPERM);
            denied
        }
    }
}

/// Whether a path-based exec would find a file there: a PATH search trying directories reports
/// nothing for the misses.
fn exists(path: *const c_char) -> bool {
    // SAFETY: NUL-terminated path from the caller.
    unsafe { sys::access(path, libc::F_OK) == 0 }
}

/// Calls the real `execve`, or fails with ENOSYS if libc lacks it.
unsafe fn real_execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the signature matches glibc's execve.
    match unsafe { real::get::<ExecveFn>(&real::EXECVE) } {
        // SAFETY: the real execve, with the caller's arguments.
        Some(f) => unsafe { f(path, argv, envp) },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    }
}

unsafe fn real_execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the signature matches glibc's execvpe.
    match unsafe { real::get::<ExecveFn>(&real::EXECVPE) } {
        // SAFETY: the real execvpe, with the caller's arguments.
        Some(f) => unsafe { f(file, argv, envp) },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    }
}

unsafe fn path_exec(hook: &str, path: *const c_char, argv: Argv, env: EnvFrom) -> c_int {
    // SAFETY: caller's contract (a C string or null).
    let Some(p) = (unsafe { c_bytes(path) }) else {
        // SAFETY: caller's contract; a null path is execve's to refuse.
        return unsafe { real_execve(path, argv, env_or_environ(env)) };
    };
    let target = Target::Argv {
        path: p,
        argv,
        report: exists(path),
        search: false,
    };
    // SAFETY: caller's contract.
    unsafe { run(hook, target, env, -1, |envp| real_execve(path, argv, envp)) }
}

unsafe fn search_exec(hook: &str, file: *const c_char, argv: Argv, env: EnvFrom) -> c_int {
    // SAFETY: caller's contract.
    let Some(f) = (unsafe { c_bytes(file) }) else {
        // SAFETY: caller's contract; a null file is execvpe's to refuse.
        return unsafe { real_execvpe(file, argv, env_or_environ(env)) };
    };
    let target = Target::Argv {
        path: f,
        argv,
        report: true,
        search: true,
    };
    // SAFETY: caller's contract.
    unsafe { run(hook, target, env, -1, |envp| real_execvpe(file, argv, envp)) }
}

fn env_or_environ(env: EnvFrom) -> Argv {
    match env {
        EnvFrom::Given(e) => e,
        // SAFETY: reading the process's environ pointer.
        EnvFrom::Environ => unsafe { childenv::environ_ptr() },
    }
}

/// # Safety
/// As for glibc's execve.
#[no_mangle]
pub unsafe extern "C" fn execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the caller upholds execve's contract, which is what path_exec asks.
    unsafe { path_exec("execve", path, argv, EnvFrom::Given(envp)) }
}

/// # Safety
/// As for glibc's execv.
#[no_mangle]
pub unsafe extern "C" fn execv(path: *const c_char, argv: Argv) -> c_int {
    // SAFETY: the caller upholds execv's contract, which is what path_exec asks.
    unsafe { path_exec("execv", path, argv, EnvFrom::Environ) }
}

/// # Safety
/// As for glibc's execvp.
#[no_mangle]
pub unsafe extern "C" fn execvp(file: *const c_char, argv: Argv) -> c_int {
    // SAFETY: the caller upholds execvp's contract, which is what search_exec asks.
    unsafe { search_exec("execvp", file, argv, EnvFrom::Environ) }
}

/// # Safety
/// As for glibc's execvpe.
#[no_mangle]
pub unsafe extern "C" fn execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the caller upholds execvpe's contract, which is what search_exec asks.
    unsafe { search_exec("execvpe", file, argv, EnvFrom::Given(envp)) }
}

/// Called by the C shim with the collected arguments of execl (0), execlp (1) or execle (2).
///
/// # Safety
/// As for the corresponding exec function.
#[no_mangle]
pub unsafe extern "C" fn rampart_exec_from_shim(
    kind: c_int,
    path: *const c_char,
    argv: Argv,
    envp: Argv,
) -> c_int {
    // SAFETY: the shim passes the caller's arguments of execl, execlp or execle, collected into
    // a NULL-terminated argv.
    unsafe {
        match kind {
            0 => path_exec("execl", path, argv, EnvFrom::Environ),
            1 => search_exec("execlp", path, argv, EnvFrom::Environ),
            _ => path_exec("execle", path, argv, EnvFrom::Given(envp)),
        }
    }
}

extern "C" {
    fn rampart_execl();
    fn rampart_execlp();
    fn rampart_execle();
}

/// Jumps to the C shim with every register and the stack untouched, so the variadic arguments
/// arrive exactly as the caller passed them.
macro_rules! trampoline {
    ($name:ident => $target:ident) => {
        /// # Safety
        /// As for the glibc function of the same name (a C-variadic function).
        #[no_mangle]
        #[unsafe(naked)]
        pub unsafe extern "C" fn $name() {
            #[cfg(target_arch = "x86_64")]
            core::arch::naked_asm!("jmp {}", sym $target);
            #[cfg(target_arch = "aarch64")]
            core::arch::naked_asm!("b {}", sym $target);
        }
    };
}

trampoline!(execl => rampart_execl);
trampoline!(execlp => rampart_execlp);
trampoline!(execle => rampart_execle);

/// # Safety
/// As for glibc's execveat.
#[no_mangle]
pub unsafe extern "C" fn execveat(
    dirfd: c_int,
    path: *const c_char,
    argv: Argv,
    envp: Argv,
    flags: c_int,
) -> c_int {
    // SAFETY: the signature matches glibc's execveat.
    let call = |env: Argv| match unsafe { real::get::<ExecveatFn>(&real::EXECVEAT) } {
        // SAFETY: the real execveat, with the caller's arguments and the gate's environment.
        Some(f) => unsafe { f(dirfd, path, argv, env, flags) },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    };
    // SAFETY: caller's contract.
    let given = unsafe { c_bytes(path) }.unwrap_or(b"");
    let mut buf = [0u8; 2 * libc::PATH_MAX as usize];
    let target_path = execveat_target(dirfd, given, flags, &mut buf);
    let target = Target::Argv {
        path: target_path,
        argv,
        report: true,
        search: false,
    };
    // SAFETY: caller's contract.
    unsafe { run("execveat", target, EnvFrom::Given(envp), -1, call) }
}

/// # Safety
/// As for glibc's fexecve.
#[no_mangle]
pub unsafe extern "C" fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the signature matches glibc's fexecve.
    let call = |env: Argv| match unsafe { real::get::<FexecveFn>(&real::FEXECVE) } {
        // SAFETY: the real fexecve, with the caller's arguments and the gate's environment.
        Some(f) => unsafe { f(fd, argv, env) },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    };
    let mut buf = [0u8; libc::PATH_MAX as usize];
    let target_path = fd_path(fd, &mut buf).unwrap_or(b"/proc/self/fd/?");
    let target = Target::Argv {
        path: target_path,
        argv,
        report: true,
        search: false,
    };
    // SAFETY: caller's contract.
    unsafe { run("fexecve", target, EnvFrom::Given(envp), -1, call) }
}

/// The file execveat runs, as a path: `path` itself when absolute or relative to the cwd, else
/// resolved through the directory descriptor (or the descriptor itself with AT_EMPTY_PATH).
/// Stack buffers only: the arena is not entered until [`run`].
fn execveat_target<'a>(dirfd: c_int, given: &'a [u8], flags: c_int, buf: &'a mut [u8]) -> &'a [u8] {
    if given.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        return fd_path(dirfd, buf).unwrap_or(given);
    }
    if given.first() == Some(&b'/') || dirfd == libc::AT_FDCWD {
        return given;
    }
    let Some(dir_len) = fd_path(dirfd, buf).map(<[u8]>::len) else {
        return given;
    };
    let total = dir_len + 1 + given.len();
    match buf.get_mut(dir_len..total) {
        Some(tail) => {
            if let Some((slash, rest)) = tail.split_first_mut() {
                *slash = b'/';
                rest.copy_from_slice(given);
            }
            // The tail just written ends there; were it not, the path as given, never none.
            or_closed(buf.get(..total), given)
        }
        None => given,
    }
}

/// What a descriptor refers to, from /proc/self/fd (a syscall; vfork-safe), written into `buf`.
fn fd_path(fd: c_int, buf: &mut [u8]) -> Option<&[u8]> {
    const PREFIX: &[u8] = b"/proc/self/fd/";
    let mut link = [0u8; 32];
    let mut digits = [0u8; 10];
    let mut n = u32::try_from(fd).ok()?;
    let mut i = digits.len();
    loop {
        i -= 1;
        *digits.get_mut(i)? = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let digits = digits.get(i..)?;
    link.get_mut(..PREFIX.len())?.copy_from_slice(PREFIX);
    link.get_mut(PREFIX.len()..PREFIX.len() + digits.len())?
        .copy_from_slice(digits);
    // SAFETY: `link` is NUL-terminated (zero-filled past the digits); buf is writable for its length.
    let n = unsafe { sys::readlink(link.as_ptr().cast(), buf.as_mut_ptr().cast(), buf.len()) };
    let n = usize::try_from(n)
        .ok()
        .filter(|&n| n > 0 && n < buf.len())?;
    buf.get(..n)
}

/// The arguments of posix_spawn/posix_spawnp, passed through untouched except for the environment.
struct Spawn {
    pid: *mut libc::pid_t,
    path: *const c_char,
    /// posix_spawnp: a bare name is looked up in `$PATH`.
    search: bool,
    fa: *const libc::posix_spawn_file_actions_t,
    attr: *const libc::posix_spawnattr_t,
    argv: Argv,
    envp: Argv,
}

unsafe fn spawn(hook: &str, which: &real::Real, a: Spawn) -> c_int {
    // SAFETY: the signature matches glibc's posix_spawn/posix_spawnp.
    let call = |env: Argv| match unsafe { real::get::<SpawnFn>(which) } {
        // SAFETY: the real function, with the caller's arguments and the gate's environment.
        Some(f) => unsafe { f(a.pid, a.path, a.fa, a.attr, a.argv, env) },
        None => libc::ENOSYS,
    };
    // SAFETY: caller's contract.
    let Some(p) = (unsafe { c_bytes(a.path) }) else {
        return call(a.envp);
    };
    let target = Target::Argv {
        path: p,
        argv: a.argv,
        report: true,
        search: a.search,
    };
    // SAFETY: caller's contract.
    unsafe { run(hook, target, EnvFrom::Given(a.envp), libc::EPERM, call) }
}

/// # Safety
/// As for glibc's posix_spawn.
#[no_mangle]
pub unsafe extern "C" fn posix_spawn(
    pid: *mut libc::pid_t,
    path: *const c_char,
    fa: *const libc::posix_spawn_file_actions_t,
    attr: *const libc::posix_spawnattr_t,
    argv: Argv,
    envp: Argv,
) -> c_int {
    let a = Spawn {
        pid,
        path,
        search: false,
        fa,
        attr,
        argv,
        envp,
    };
    // SAFETY: the caller upholds posix_spawn's contract, which is what spawn asks.
    unsafe { spawn("posix_spawn", &real::POSIX_SPAWN, a) }
}

/// # Safety
/// As for glibc's posix_spawnp.
#[no_mangle]
pub unsafe extern "C" fn posix_spawnp(
    pid: *mut libc::pid_t,
    file: *const c_char,
    fa: *const libc::posix_spawn_file_actions_t,
    attr: *const libc::posix_spawnattr_t,
    argv: Argv,
    envp: Argv,
) -> c_int {
    let a = Spawn {
        pid,
        path: file,
        search: true,
        fa,
        attr,
        argv,
        envp,
    };
    // SAFETY: the caller upholds posix_spawnp's contract, which is what spawn asks.
    unsafe { spawn("posix_spawnp", &real::POSIX_SPAWNP, a) }
}

/// Decides a shell string for system/popen and repairs `environ` (they take no envp).
/// Returns false when the call must fail.
unsafe fn gate_shell(hook: &str, command: *const c_char) -> bool {
    let Some(s) = crate::settings() else {
        return true;
    };
    // SAFETY: caller's contract; system(NULL)/popen(NULL) never reach here.
    let Some(text) = (unsafe { c_bytes(command) }) else {
        return true;
    };
    if s.mode == Mode::Disabled {
        return true;
    }
    let Some(_scope) = arena::enter() else {
        return s.mode != Mode::Enforce;
    };
    // SAFETY: a NULL-terminated envp is not used for shell targets.
    match unsafe { gate(hook, Target::Shell(text), EnvFrom::Environ, s) } {
        Gate::Denied => false,
        Gate::Unchanged => true,
        Gate::Env(_) => childenv::restore_process_environ(s) || s.mode != Mode::Enforce,
    }
}

/// # Safety
/// As for glibc's system.
#[no_mangle]
pub unsafe extern "C" fn system(command: *const c_char) -> c_int {
    // SAFETY: the signature matches glibc's system.
    let Some(real) = (unsafe { real::get::<SystemFn>(&real::SYSTEM) }) else {
        set_errno(libc::ENOSYS);
        return -1;
    };
    // SAFETY: a command that is not null is the caller's NUL-terminated string.
    if command.is_null() || unsafe { gate_shell("system", command) } {
        // SAFETY: the real function with the caller's argument.
        unsafe { real(command) }
    } else {
        set_errno(libc::EPERM);
        -1
    }
}

/// # Safety
/// As for glibc's popen.
#[no_mangle]
pub unsafe extern "C" fn popen(command: *const c_char, mode: *const c_char) -> *mut libc::FILE {
    // SAFETY: the signature matches glibc's popen.
    let Some(real) = (unsafe { real::get::<PopenFn>(&real::POPEN) }) else {
        set_errno(libc::ENOSYS);
        return core::ptr::null_mut();
    };
    // SAFETY: a command that is not null is the caller's NUL-terminated string.
    if command.is_null() || unsafe { gate_shell("popen", command) } {
        // SAFETY: the real function with the caller's arguments.
        unsafe { real(command, mode) }
    } else {
        set_errno(libc::EPERM);
        core::ptr::null_mut()
    }
}

/// Not a gate: prepares the parent so that its children start with a built evaluator (see
/// `before_fork` in lib.rs), then forks.
///
/// # Safety
/// As for glibc's fork.
#[no_mangle]
pub unsafe extern "C" fn fork() -> libc::pid_t {
    crate::before_fork();
    // SAFETY: the signature matches glibc's fork.
    match unsafe { real::get::<ForkFn>(&real::FORK) } {
        // SAFETY: the real fork, which takes no arguments.
        Some(real) => unsafe { real() },
        None => {
            set_errno(libc::ENOSYS);
            -1
        }
    }
}
