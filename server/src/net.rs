//! Listening: the sockets tiny_http serves, the options it does not set, and the workers that
//! answer.
//!
//! The threat: a client that holds the server. tiny_http parses each connection's request head on
//! a thread of its own (its pool grows with the connections), so a client that trickles a request
//! head a byte a second occupies that thread only. What it leaves to us:
//!
//! - **Socket options.** tiny_http accepts internally and sets nothing on the accepted sockets.
//!   Linux copies `TCP_NODELAY` and the keep-alive settings from a listening socket to the
//!   sockets it accepts, so they are set on the listener before tiny_http gets it: no Nagle delay
//!   on replies, and a peer that vanished without closing is noticed within about 90 seconds.
//!   Read and write timeouts cannot be set this way: `SO_RCVTIMEO` on a listener also bounds
//!   `accept`, and tiny_http stops accepting for good on the first `accept` error. So a live client
//!   that stops sending holds its connection (and, mid-body, its worker) until it closes; the
//!   workers below make sure that costs nobody else anything.
//! - **Connections queued behind busy ones.** tiny_http hands each accepted connection to its
//!   thread pool, which starts a new thread only when it sees no idle one; a burst of connections
//!   that arrives while its idle threads have not yet woken is queued, and a queued connection
//!   waits until some connection *closes*. Keep-alive and slow clients may never close, so a
//!   connection from a burst could wait forever (the server's own tests showed it). A pool thread
//!   started for a new connection that ends at once goes on to take the oldest queued one, so
//!   [`unstick`] opens and closes a connection to the server every [`UNSTICK`]: a queued
//!   connection waits at most that long per connection ahead of it.
//! - **Accept errors.** tiny_http stops accepting for good on the first `accept` error (with
//!   `EMFILE`, say). A server that no longer accepts fails every client closed but answers nobody,
//!   so the workers end the process when they see it ([`Workers`]), for its supervisor to restart.
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

/// Workers kept waiting for requests when the server is idle.
pub const SPARE_WORKERS: usize = 4;
/// Workers at most; beyond this a request waits for a worker to finish.
pub const MAX_WORKERS: usize = 2048;

/// Binds `addr` for tiny_http with the options it does not set (see the module doc).
pub fn bind_tcp(addr: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(addr)?;
    let fd = listener.as_raw_fd();
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1)?;
    set_int(fd, libc::SOL_SOCKET, libc::SO_KEEPALIVE, 1)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, 60)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, 10)?;
    set_int(fd, libc::IPPROTO_TCP, libc::TCP_KEEPCNT, 3)?;
    Ok(listener)
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

/// How often [`unstick`] frees a connection queued in tiny_http's pool.
pub const UNSTICK: Duration = Duration::from_millis(50);

/// Where a server listens, for [`unstick`].
#[derive(Clone, Debug)]
pub enum Endpoint {
    Tcp(std::net::SocketAddr),
    Unix(std::path::PathBuf),
}

/// Opens and closes a connection to `endpoint` every [`UNSTICK`] (see the module doc).
pub fn unstick(endpoint: Endpoint) {
    let _ = std::thread::Builder::new()
        .name("rampart-unstick".into())
        .stack_size(64 * 1024)
        .spawn(move || loop {
            std::thread::sleep(UNSTICK);
            match &endpoint {
                Endpoint::Tcp(addr) => drop(std::net::TcpStream::connect_timeout(addr, UNSTICK)),
                Endpoint::Unix(path) => drop(std::os::unix::net::UnixStream::connect(path)),
            }
        });
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
            .stack_size(8 << 20)
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
            let request = match request {
                Ok(request) => request,
                Err(e) => {
                    // tiny_http's accept loop has stopped (see the module doc).
                    eprintln!("rampart serve: the listener stopped accepting ({e}); exiting for a restart");
                    std::process::exit(3);
                }
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
