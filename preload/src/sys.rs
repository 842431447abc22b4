//! The system calls the library makes for itself, through `syscall(2)` rather than libc's
//! wrappers.
//!
//! Why: every libc function the library imports is a symbol the dynamic loader looks up in
//! every process the library is preloaded into (the library is linked with eager binding, and
//! Rust calls through the GOT), whether the process ever execs or not. A lookup costs ~800
//! instructions here; twenty wrappers were ~16,000 instructions of the per-process budget, and
//! one `syscall` import replaces them. Each function keeps its libc counterpart's signature and
//! behaviour (-1 and `errno` on failure, which `syscall` sets), using the `*at` and `ppoll`
//! forms that exist on every 64-bit Linux architecture.
//!
//! Only the library's own bookkeeping goes through here. The exec family is still called through
//! the real libc functions (see `real.rs`): glibc does more there than the system call.

use core::ffi::{c_char, c_int, c_long, c_void};

use libc::{size_t, sockaddr, socklen_t, ssize_t, AT_FDCWD};

/// # Safety
/// As `open(2)`: `path` is NUL-terminated.
pub unsafe fn open(path: *const c_char, flags: c_int, mode: c_int) -> c_int {
    let at = c_long::from(AT_FDCWD);
    // SAFETY: the caller upholds open(2)'s contract (see # Safety), which openat(2) keeps.
    unsafe {
        libc::syscall(
            libc::SYS_openat,
            at,
            path,
            c_long::from(flags),
            c_long::from(mode),
        ) as c_int
    }
}

/// # Safety
/// As `close(2)`.
pub unsafe fn close(fd: c_int) -> c_int {
    // SAFETY: the caller upholds close(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_close, c_long::from(fd)) as c_int }
}

/// # Safety
/// As `write(2)`: `buf` holds `len` bytes.
pub unsafe fn write(fd: c_int, buf: *const c_void, len: size_t) -> ssize_t {
    // SAFETY: the caller upholds write(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_write, c_long::from(fd), buf, len) as ssize_t }
}

/// # Safety
/// As `flock(2)` on a descriptor the caller owns.
pub unsafe fn flock(fd: c_int, operation: c_int) -> c_int {
    // SAFETY: the caller upholds flock(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_flock, c_long::from(fd), c_long::from(operation)) as c_int }
}

/// # Safety
/// As `stat(2)`: `path` is NUL-terminated and `st` writable.
pub unsafe fn stat(path: *const c_char, st: *mut libc::stat) -> c_int {
    let at = c_long::from(AT_FDCWD);
    // SAFETY: the caller upholds stat(2)'s contract (see # Safety), which newfstatat(2) keeps.
    unsafe { libc::syscall(libc::SYS_newfstatat, at, path, st, 0 as c_long) as c_int }
}

/// # Safety
/// As `fstat(2)`: `st` is writable.
pub unsafe fn fstat(fd: c_int, st: *mut libc::stat) -> c_int {
    // SAFETY: the caller upholds fstat(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_fstat, c_long::from(fd), st) as c_int }
}

/// # Safety
/// As `access(2)`: `path` is NUL-terminated.
pub unsafe fn access(path: *const c_char, mode: c_int) -> c_int {
    let at = c_long::from(AT_FDCWD);
    // SAFETY: the caller upholds access(2)'s contract (see # Safety), which faccessat(2) keeps.
    unsafe {
        libc::syscall(
            libc::SYS_faccessat,
            at,
            path,
            c_long::from(mode),
            0 as c_long,
        ) as c_int
    }
}

/// # Safety
/// As `mkdir(2)`: `path` is NUL-terminated.
pub unsafe fn mkdir(path: *const c_char, mode: libc::mode_t) -> c_int {
    let at = c_long::from(AT_FDCWD);
    // SAFETY: the caller upholds mkdir(2)'s contract (see # Safety), which mkdirat(2) keeps.
    unsafe { libc::syscall(libc::SYS_mkdirat, at, path, c_long::from(mode)) as c_int }
}

/// # Safety
/// As `readlink(2)`: `path` is NUL-terminated, `buf` holds `len` bytes.
pub unsafe fn readlink(path: *const c_char, buf: *mut c_char, len: size_t) -> ssize_t {
    let at = c_long::from(AT_FDCWD);
    // SAFETY: the caller upholds readlink(2)'s contract (see # Safety), which readlinkat(2) keeps.
    unsafe { libc::syscall(libc::SYS_readlinkat, at, path, buf, len) as ssize_t }
}

/// # Safety
/// As `mmap(2)`.
pub unsafe fn mmap(
    addr: *mut c_void,
    len: size_t,
    prot: c_int,
    flags: c_int,
    fd: c_int,
    offset: libc::off_t,
) -> *mut c_void {
    let (prot, flags, fd) = (c_long::from(prot), c_long::from(flags), c_long::from(fd));
    // SAFETY: the caller upholds mmap(2)'s contract (see # Safety).
    let p = unsafe { libc::syscall(libc::SYS_mmap, addr, len, prot, flags, fd, offset) };
    if p == -1 {
        libc::MAP_FAILED
    } else {
        p as *mut c_void
    }
}

/// # Safety
/// As `munmap(2)`.
pub unsafe fn munmap(addr: *mut c_void, len: size_t) -> c_int {
    // SAFETY: the caller upholds munmap(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_munmap, addr, len) as c_int }
}

/// # Safety
/// As `madvise(2)`.
pub unsafe fn madvise(addr: *mut c_void, len: size_t, advice: c_int) -> c_int {
    // SAFETY: the caller upholds madvise(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_madvise, addr, len, c_long::from(advice)) as c_int }
}

pub fn getpid() -> libc::pid_t {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::syscall(libc::SYS_getpid) as libc::pid_t }
}

pub fn getuid() -> libc::uid_t {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::syscall(libc::SYS_getuid) as libc::uid_t }
}

/// # Safety
/// As `socket(2)`.
pub unsafe fn socket(domain: c_int, kind: c_int, protocol: c_int) -> c_int {
    let (d, k, p) = (
        c_long::from(domain),
        c_long::from(kind),
        c_long::from(protocol),
    );
    // SAFETY: the caller upholds socket(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_socket, d, k, p) as c_int }
}

/// # Safety
/// As `connect(2)`: `addr` holds `len` bytes.
pub unsafe fn connect(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    // SAFETY: the caller upholds connect(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_connect, c_long::from(fd), addr, c_long::from(len)) as c_int }
}

/// # Safety
/// As `sendto(2)`: `buf` holds `len` bytes, `addr` (may be null) holds `addr_len`.
pub unsafe fn sendto(
    fd: c_int,
    buf: *const c_void,
    len: size_t,
    flags: c_int,
    addr: *const sockaddr,
    addr_len: socklen_t,
) -> ssize_t {
    let (fd, flags, addr_len) = (
        c_long::from(fd),
        c_long::from(flags),
        c_long::from(addr_len),
    );
    // SAFETY: the caller upholds sendto(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_sendto, fd, buf, len, flags, addr, addr_len) as ssize_t }
}

/// # Safety
/// As `send(2)`: `buf` holds `len` bytes.
pub unsafe fn send(fd: c_int, buf: *const c_void, len: size_t, flags: c_int) -> ssize_t {
    // SAFETY: the caller upholds send(2)'s contract, which is sendto(2)'s without an address.
    unsafe { sendto(fd, buf, len, flags, core::ptr::null(), 0) }
}

/// # Safety
/// As `recv(2)`: `buf` holds `len` bytes.
pub unsafe fn recv(fd: c_int, buf: *mut c_void, len: size_t, flags: c_int) -> ssize_t {
    let null = core::ptr::null_mut::<c_void>();
    let (fd, flags) = (c_long::from(fd), c_long::from(flags));
    // SAFETY: the caller upholds recv(2)'s contract (see # Safety), which recvfrom(2) keeps.
    unsafe { libc::syscall(libc::SYS_recvfrom, fd, buf, len, flags, null, null) as ssize_t }
}

/// # Safety
/// As `getsockopt(2)`: `value` holds `*len` bytes.
pub unsafe fn getsockopt(
    fd: c_int,
    level: c_int,
    name: c_int,
    value: *mut c_void,
    len: *mut socklen_t,
) -> c_int {
    let (fd, level, name) = (c_long::from(fd), c_long::from(level), c_long::from(name));
    // SAFETY: the caller upholds getsockopt(2)'s contract (see # Safety).
    unsafe { libc::syscall(libc::SYS_getsockopt, fd, level, name, value, len) as c_int }
}

/// # Safety
/// As `poll(2)`: `fds` holds `n` entries. A negative timeout waits forever.
pub unsafe fn poll(fds: *mut libc::pollfd, n: libc::nfds_t, timeout_ms: c_int) -> c_int {
    let timeout = libc::timespec {
        tv_sec: libc::time_t::from(timeout_ms.max(0) / 1000),
        tv_nsec: c_long::from(timeout_ms.max(0) % 1000) * 1_000_000,
    };
    let wait: *const libc::timespec = if timeout_ms < 0 {
        core::ptr::null()
    } else {
        &timeout
    };
    let no_mask = core::ptr::null::<c_void>();
    // SAFETY: the caller upholds poll(2)'s contract (see # Safety), which ppoll(2) keeps.
    unsafe { libc::syscall(libc::SYS_ppoll, fds, n, wait, no_mask, 8 as c_long) as c_int }
}
