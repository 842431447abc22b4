//! The `rampart` binary: the command line of [`rampart`], parsed and run.
//!
//! The entry point is C's `main`, not std's. Before a Rust `main` runs, std finds the main
//! thread's stack guard by reading and parsing `/proc/self/maps` (a sixth of a whole `rampart
//! hook` process on a VM), and `rampart hook` starts once per tool call of an agent. So this
//! binary does itself what of std's start-up it needs: the standard descriptors are made valid
//! (a closed stdout must not become the first file opened, or an answer printed to it would land
//! in that file: the audit log), SIGPIPE is ignored (a write to a closed pipe fails instead of
//! killing the process), and stdout is flushed on the way out. What it gives up is std's
//! stack-overflow message: an overflow still stops the process, by SIGSEGV.
#![no_main]

use clap::Parser;
use std::ffi::{c_char, c_int};
use std::io::Write;
use std::process::ExitCode;

#[no_mangle]
pub extern "C" fn main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    standard_descriptors();
    // SAFETY: setting a signal's disposition to SIG_IGN has no preconditions; no other thread
    // exists yet.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_IGN) };
    let exit = if std::env::args_os().nth(1).is_some_and(|a| a == "hook") {
        rampart::commands::hook::main(std::env::args_os().skip(2))
    } else {
        rampart::run(rampart::Cli::parse())
    };
    let _ = std::io::stdout().flush();
    code(exit)
}

/// Opens `/dev/null` on whichever of descriptors 0, 1 and 2 is closed (as std's start-up does).
fn standard_descriptors() {
    let mut fds = [0, 1, 2].map(|fd| libc::pollfd {
        fd,
        events: 0,
        revents: 0,
    });
    // SAFETY: `fds` is a valid array of three pollfd for the duration of the call.
    if unsafe { libc::poll(fds.as_mut_ptr(), 3, 0) } < 0 {
        return;
    }
    for pfd in fds.iter().filter(|p| p.revents & libc::POLLNVAL != 0) {
        // SAFETY: the path is a NUL-terminated string; the descriptor returned is the lowest
        // free one, which is `pfd.fd` since lower ones are open (checked in order).
        let fd = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
        if fd != pfd.fd {
            std::process::abort();
        }
    }
}

/// The number of an exit code (std keeps it private; it is one of 0..=255).
fn code(exit: ExitCode) -> c_int {
    (0..=255u8)
        .find(|n| ExitCode::from(*n) == exit)
        .map_or(1, c_int::from)
}
