//! Listening: the sockets tiny_http serves, the options it does not set, and the workers that
//! answer.
//!
//! The threat: a client that holds the server. tiny_http parses each connection's request head on
//! a thread of its own (its pool grows with the connections), so a client that trickles a request
//! head a byte a second occupies that thread only. What it leaves to us:
//!
//! - **Socket options.** tiny_http accepts internally and sets nothing on the accepted sockets.
//!   Linux copies `TCP_NODELAY`, `SO_RCVTIMEO` and `SO_SNDTIMEO` from a listening socket to the
//!   sockets it accepts, so they are set on the listener before tiny_http gets it: no Nagle delay
//!   on replies, and every read or write that waits longer than [`IO_TIMEOUT`] fails (a silent
//!   client's connection is closed; a client that stops reading the event stream is dropped).
//! - **Workers.** Bodies over 1 KiB, long polls, approval waits and the event stream block the
//!   thread that handles them, for as long as a slow client or a human takes. So the workers are
//!   an elastic pool ([`Workers`]): whenever a worker takes a request and no other is left
//!   waiting for the next one, it starts another first. A request that blocks never delays the
//!   next; idle workers beyond [`SPARE_WORKERS`] exit.

use std::net::TcpListener;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long one read or write on a client socket may wait (upstream's read/write timeout).
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);
/// Workers kept waiting for requests when the server is idle.
pub const SPARE_WORKERS: usize = 4;
/// Workers at most; beyond this a request waits for a worker to finish.
pub const MAX_WORKERS: usize = 2048;

/// Binds `addr` for tiny_http with the options it does not set (see the module doc).
pub fn bind_tcp(addr: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    let fd = listener.as_raw_fd();
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    set_timeout(fd, libc::SO_RCVTIMEO, IO_TIMEOUT)?;
    set_timeout(fd, libc::SO_SNDTIMEO, IO_TIMEOUT)?;
    Ok(listener)
}

/// Sets the same timeouts on a Unix listening socket (its accepted sockets inherit them too).
pub fn unix_timeouts(listener: &std::os::unix::net::UnixListener) -> std::io::Result<()> {
    let fd = listener.as_raw_fd();
    set_timeout(fd, libc::SO_RCVTIMEO, IO_TIMEOUT)?;
    set_timeout(fd, libc::SO_SNDTIMEO, IO_TIMEOUT)
}

fn set_int(
    fd: libc::c_int,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> std::io::Result<()> {
    // SAFETY: setsockopt on a descriptor the caller owns, with a pointer to a live c_int and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&value as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

fn set_timeout(fd: libc::c_int, name: libc::c_int, timeout: Duration) -> std::io::Result<()> {
    let tv = libc::timeval {
        tv_sec: libc::time_t::try_from(timeout.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
    };
    // SAFETY: setsockopt on a descriptor the caller owns, with a pointer to a live timeval and its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            name,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The elastic pool of workers serving one tiny_http server.
pub struct Workers {
    server: Arc<tiny_http::Server>,
    handle: Arc<dyn Fn(tiny_http::Request) + Send + Sync>,
    /// Workers waiting in `recv`.
    idle: AtomicUsize,
    /// Workers alive.
    alive: AtomicUsize,
}

impl Workers {
    /// Starts [`SPARE_WORKERS`] workers that answer `server`'s requests with `handle`.
    pub fn start(
        server: Arc<tiny_http::Server>,
        handle: Arc<dyn Fn(tiny_http::Request) + Send + Sync>,
    ) -> Arc<Workers> {
        let workers = Arc::new(Workers {
            server,
            handle,
            idle: AtomicUsize::new(0),
            alive: AtomicUsize::new(0),
        });
        for _ in 0..SPARE_WORKERS {
            Workers::spawn(&workers);
        }
        workers
    }

    /// Workers alive now.
    pub fn alive(&self) -> usize {
        self.alive.load(Ordering::Relaxed)
    }

    fn spawn(workers: &Arc<Workers>) {
        if workers.alive.fetch_add(1, Ordering::SeqCst) >= MAX_WORKERS {
            workers.alive.fetch_sub(1, Ordering::SeqCst);
            return;
        }
        let me = Arc::clone(workers);
        let spawned = std::thread::Builder::new()
            .name("rampart-http".into())
            .stack_size(256 * 1024)
            .spawn(move || me.work());
        if spawned.is_err() {
            workers.alive.fetch_sub(1, Ordering::SeqCst);
        }
    }

    fn work(self: Arc<Workers>) {
        loop {
            self.idle.fetch_add(1, Ordering::SeqCst);
            let request = self.server.recv();
            let left = self.idle.fetch_sub(1, Ordering::SeqCst) - 1;
            let Ok(request) = request else {
                // The server was unblocked (shutdown) or its queue failed.
                break;
            };
            if left == 0 {
                Workers::spawn(&self);
            }
            (self.handle)(request);
            if self.idle.load(Ordering::SeqCst) >= SPARE_WORKERS {
                break;
            }
        }
        self.alive.fetch_sub(1, Ordering::SeqCst);
    }
}
