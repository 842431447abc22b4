//! Passing the signals a terminal or a supervisor sends a surface on to the child it runs (the
//! MCP proxy's server, the wrapper's agent).
//!
//! The threat is an orphan: a host that stops its MCP server with SIGTERM (or a user's Ctrl-C)
//! stops the proxy, and a server left running without its client keeps whatever it held (locks,
//! connections, a half-written file). So the parent does not die of these signals itself: they
//! are blocked in every thread and taken by one thread with `sigwait`, which sends each to the
//! child; the child's exit then ends the parent with the child's status.

use std::io;
use std::os::unix::process::CommandExt;
use std::process::Command;

/// The signals passed on.
const FORWARDED: [libc::c_int; 7] = [
    libc::SIGINT,
    libc::SIGTERM,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
    libc::SIGWINCH,
];

/// The set of signals the proxy passes on, blocked in this thread (and every thread it starts
/// afterwards).
pub struct Blocked(libc::sigset_t);

/// Blocks the forwarded signals in the calling thread. Call it before starting any thread.
pub fn block() -> Result<Blocked, String> {
    // SAFETY: sigemptyset/sigaddset initialise and fill a set this function owns;
    // pthread_sigmask changes only the calling thread's mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in FORWARDED {
            libc::sigaddset(&mut set, signal);
        }
        let rc = libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        if rc != 0 {
            return Err(format!(
                "blocking signals: {}",
                io::Error::from_raw_os_error(rc)
            ));
        }
        Ok(Blocked(set))
    }
}

/// Makes `command`'s child start with no signal blocked (it inherits the proxy's mask
/// otherwise, and would ignore Ctrl-C).
pub fn unblock_in_child(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec and calls only
    // async-signal-safe functions on a set it owns.
    unsafe {
        command.pre_exec(|| {
            let mut none: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut none);
            libc::pthread_sigmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
            Ok(())
        });
    }
}

/// Starts the thread that sends every blocked signal to process `child`. It lives as long as
/// the process.
pub fn forward(blocked: Blocked, child: u32) -> std::thread::JoinHandle<()> {
    let pid = libc::pid_t::try_from(child).unwrap_or(0);
    std::thread::spawn(move || loop {
        let mut signal: libc::c_int = 0;
        // SAFETY: sigwait reads a set this thread owns and writes one int it owns.
        let rc = unsafe { libc::sigwait(&blocked.0, &mut signal) };
        if rc == 0 && pid > 0 {
            // SAFETY: kill sends a signal; pid is the child this process started.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    })
}

/// Waits for `child`: its exit code, or 128 + the signal that ended it (a shell's convention).
pub fn wait(child: &mut std::process::Child) -> Result<i32, String> {
    use std::os::unix::process::ExitStatusExt;
    let status = child
        .wait()
        .map_err(|e| format!("waiting for the child process: {e}"))?;
    Ok(status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1))
}
