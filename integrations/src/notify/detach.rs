//! Sending after a one-shot process has answered, without keeping its host waiting.
//!
//! A hook host waits for the hook process to exit and for its stdout to close, so a notification
//! sent before exiting, even after the answer is written, adds the network's round trip to the
//! agent's tool call. [`detached`] forks twice: the grandchild, in a new session with its stdio
//! on `/dev/null` and every other descriptor closed (an inherited audit lock or the host's pipe
//! must not live on in it), does the sending and exits; the caller waits only for the
//! intermediate child, which exits at once, and goes on to exit itself.
//!
//! Forking is only sound in a single-threaded process (another thread might hold the allocator's
//! lock in the copy). A process with more threads (the server, a test harness) sends inline
//! instead; long-lived processes should send from a thread of their own.

use std::panic::AssertUnwindSafe;

/// Runs `send` in a detached grandchild process, or inline when this process has other threads.
pub fn detached(send: impl FnOnce()) -> std::io::Result<()> {
    if !single_threaded() {
        send();
        return Ok(());
    }
    // SAFETY: the process has one thread, so the child is a complete copy that may allocate.
    let child = unsafe { libc::fork() };
    match child {
        -1 => Err(std::io::Error::last_os_error()),
        0 => in_child(send),
        pid => {
            let mut status = 0;
            // SAFETY: waiting for our own child, which exits right after its own fork.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            Ok(())
        }
    }
}

/// The intermediate child: a new session, one more fork, and exit; the grandchild sends.
fn in_child(send: impl FnOnce()) -> ! {
    // SAFETY: setsid and fork in the child of a single-threaded process; `_exit` never returns
    // into the caller's code (which would answer the host a second time).
    unsafe {
        libc::setsid();
        if libc::fork() != 0 {
            libc::_exit(0);
        }
    }
    quiet_descriptors();
    let _ = std::panic::catch_unwind(AssertUnwindSafe(send));
    // SAFETY: ends the grandchild without running the parent's exit handlers or destructors.
    unsafe { libc::_exit(0) }
}

/// stdio on /dev/null, every other descriptor closed.
fn quiet_descriptors() {
    let inherited: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().to_str().and_then(|n| n.parse().ok()))
                .filter(|fd| *fd > 2)
                .collect()
        })
        .unwrap_or_default();
    // SAFETY: plain descriptor calls on descriptors this process owns; closing the one read_dir
    // used is harmless (it was closed already).
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            for fd in 0..3 {
                libc::dup2(null, fd);
            }
            if null > 2 {
                libc::close(null);
            }
        }
        for fd in inherited {
            libc::close(fd);
        }
    }
}

/// Whether this process has exactly one thread (Linux: `/proc/self/task`).
fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}
