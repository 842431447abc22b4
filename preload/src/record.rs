//! Decision records, handed over without ever blocking the exec.
//!
//! Why two ways: the audit chain has one writer (the server), so the library hands records over.
//! A Unix datagram to `~/.rampart/preload.sock` is one non-blocking syscall when a listener is
//! there. When it is not (no socket, nobody bound, queue full, record too large), the record is
//! appended as one JSON line to `~/.rampart/spool/preload.jsonl` with a single O_APPEND write, which
//! the kernel keeps whole between concurrent writers, for the writer to pick up later. Either way
//! nothing is lost and nothing waits.
//!
//! The hand-over to the audit writer that drains the spool (rampart-audit's `spool` module has
//! the whole argument): a writer renames the spool away and then takes an exclusive `flock` on the
//! renamed file. So the library appends only while holding a shared, non-blocking `flock` on its
//! descriptor, and only after checking under that lock that `preload.jsonl` still names the file
//! it opened. A line is then either in the renamed file before the writer reads it, or goes to a
//! fresh `preload.jsonl`; a taken lock (a drain in progress) means the rename already happened,
//! so the library reopens instead of waiting.

use alloc::vec::Vec;
use core::ffi::c_char;

use crate::sys;
use crate::text::{json_string, push_u64};

/// One decision, as recorded.
pub struct Entry<'a> {
    pub agent: &'a str,
    pub session: &'a str,
    pub command: &'a str,
    /// allow, deny, ask, watch (what the policy, or the fallback, decided).
    pub decision: &'a str,
    /// Whether the call went ahead (monitor mode and ask approval can differ from `decision`).
    pub allowed: bool,
    pub message: &'a str,
    pub matched_policies: &'a [&'a str],
    pub hook: &'a str,
    pub mode: &'a str,
}

impl Entry<'_> {
    /// The JSON line, newline included.
    pub fn to_json(&self, ts_ms: u64, pid: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.command.len());
        out.extend_from_slice(b"{\"ts\":");
        push_u64(&mut out, ts_ms);
        out.extend_from_slice(b",\"pid\":");
        push_u64(&mut out, u64::from(pid));
        let fields: [(&[u8], &str); 5] = [
            (b"agent", self.agent),
            (b"session", self.session),
            (b"tool", "exec"),
            (b"command", self.command),
            (b"decision", self.decision),
        ];
        for (name, value) in fields {
            push_field(&mut out, name, value);
        }
        out.extend_from_slice(if self.allowed {
            b",\"allowed\":true"
        } else {
            b",\"allowed\":false"
        });
        push_field(&mut out, b"message", self.message);
        out.extend_from_slice(b",\"matched_policies\":[");
        for (i, name) in self.matched_policies.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_string(&mut out, name.as_bytes());
        }
        out.push(b']');
        push_field(&mut out, b"hook", self.hook);
        push_field(&mut out, b"mode", self.mode);
        out.extend_from_slice(b"}\n");
        out
    }
}

fn push_field(out: &mut Vec<u8>, name: &[u8], value: &str) {
    out.push(b',');
    json_string(out, name);
    out.push(b':');
    json_string(out, value.as_bytes());
}

/// Milliseconds since the epoch (CLOCK_REALTIME, vDSO: no syscall).
pub fn now_ms() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    (ts.tv_sec.max(0) as u64) * 1000 + (ts.tv_nsec.max(0) as u64) / 1_000_000
}

/// Hands `line` to the listener at `<home>/.rampart/preload.sock`, else appends it to the spool.
pub fn send(home: &[u8], line: &[u8]) {
    if !send_datagram(home, line) {
        append_to_spool(home, line);
    }
}

fn send_datagram(home: &[u8], line: &[u8]) -> bool {
    // SAFETY: sockaddr_un is plain data, for which all zeros is a valid (empty) value.
    let mut addr: libc::sockaddr_un = unsafe { core::mem::zeroed() };
    addr.sun_family = libc::AF_UNIX as libc::sa_family_t;
    let path = [home, b"/.rampart/preload.sock\0"].concat();
    if path.len() > addr.sun_path.len() {
        return false;
    }
    // With no server, socket + sendto (failing) + close cost ~3.5 us here; looking for the
    // socket file first costs ~0.4 us. A stale file (server gone) still fails at sendto.
    // SAFETY: NUL-terminated path.
    if unsafe { sys::access(path.as_ptr().cast(), libc::F_OK) } != 0 {
        return false;
    }
    for (dst, &src) in addr.sun_path.iter_mut().zip(path.iter()) {
        *dst = src as c_char;
    }
    // SAFETY: plain socket calls on our own descriptor; the address is initialised above.
    unsafe {
        let fd = sys::socket(
            libc::AF_UNIX,
            libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        );
        if fd < 0 {
            return false;
        }
        let sent = sys::sendto(
            fd,
            line.as_ptr().cast(),
            line.len(),
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            (&addr as *const libc::sockaddr_un).cast(),
            core::mem::size_of::<libc::sockaddr_un>() as libc::socklen_t,
        );
        sys::close(fd);
        sent == line.len() as isize
    }
}

fn append_to_spool(home: &[u8], line: &[u8]) {
    let dir = [home, b"/.rampart/spool\0"].concat();
    let file = [home, b"/.rampart/spool/preload.jsonl\0"].concat();
    let open = || {
        // SAFETY: NUL-terminated path.
        unsafe {
            sys::open(
                file.as_ptr().cast(),
                libc::O_WRONLY
                    | libc::O_APPEND
                    | libc::O_CREAT
                    | libc::O_CLOEXEC
                    | libc::O_NOFOLLOW,
                0o600,
            )
        }
    };
    // Each retry follows a drain's rename; a handful covers any realistic race.
    for _ in 0..8 {
        let mut fd = open();
        if fd < 0 {
            let parent = [home, b"/.rampart\0"].concat();
            // SAFETY: NUL-terminated paths; failures (already exists) are fine.
            unsafe {
                sys::mkdir(parent.as_ptr().cast(), 0o700);
                sys::mkdir(dir.as_ptr().cast(), 0o700);
            }
            fd = open();
        }
        if fd < 0 {
            crate::say::line(&[b"cannot write the decision spool under ", home]);
            return;
        }
        let current = locked_and_current(fd, &file);
        if current {
            // SAFETY: our descriptor and buffer. One write: O_APPEND keeps the line whole.
            unsafe { sys::write(fd, line.as_ptr().cast(), line.len()) };
        }
        // SAFETY: our descriptor; closing also drops the shared lock.
        unsafe { sys::close(fd) };
        if current {
            return;
        }
    }
    crate::say::line(&[
        b"the decision spool kept being drained; a record was not written under ",
        home,
    ]);
}

/// Takes the shared lock without waiting and checks that `path` still names the open file (see
/// the module doc). False means: reopen.
fn locked_and_current(fd: libc::c_int, path: &[u8]) -> bool {
    // SAFETY: flock on our own descriptor.
    if unsafe { sys::flock(fd, libc::LOCK_SH | libc::LOCK_NB) } != 0 {
        return false;
    }
    // SAFETY: zeroed stat structs are valid out-buffers; `path` is NUL-terminated.
    unsafe {
        let mut open: libc::stat = core::mem::zeroed();
        let mut named: libc::stat = core::mem::zeroed();
        sys::fstat(fd, &mut open) == 0
            && sys::stat(path.as_ptr().cast(), &mut named) == 0
            && open.st_ino == named.st_ino
            && open.st_dev == named.st_dev
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_one_json_line_with_every_field() {
        let entry = Entry {
            agent: "a",
            session: "s",
            command: "rm -rf 'x y'",
            decision: "deny",
            allowed: false,
            message: "no \"rm\"",
            matched_policies: &["p1", "p2"],
            hook: "execve",
            mode: "enforce",
        };
        let line = entry.to_json(1700000000123, 77);
        let text = core::str::from_utf8(&line).unwrap();
        assert!(text.ends_with("}\n") && text.matches('\n').count() == 1);
        assert_eq!(
            text,
            concat!(
                r#"{"ts":1700000000123,"pid":77,"agent":"a","session":"s","tool":"exec","#,
                r#""command":"rm -rf 'x y'","decision":"deny","allowed":false,"#,
                r#""message":"no \"rm\"","matched_policies":["p1","p2"],"#,
                r#""hook":"execve","mode":"enforce"}"#,
                "\n"
            )
        );
    }

    #[test]
    fn without_a_listener_records_go_to_the_spool() {
        let home = std::env::temp_dir().join(format!("rampart-spool-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let home_bytes = home.to_str().unwrap().as_bytes();
        send(home_bytes, b"{\"n\":1}\n");
        send(home_bytes, b"{\"n\":2}\n");
        let spool = home.join(".rampart/spool/preload.jsonl");
        assert_eq!(
            std::fs::read_to_string(&spool).unwrap(),
            "{\"n\":1}\n{\"n\":2}\n"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spool).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn a_drained_spool_is_reopened_and_an_exclusive_lock_is_not_waited_for() {
        use std::os::fd::AsRawFd;
        let home = std::env::temp_dir().join(format!("rampart-drain-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        let home_bytes = home.to_str().unwrap().as_bytes();
        send(home_bytes, b"{\"n\":1}\n");
        // A drainer renames the spool and holds LOCK_EX on the renamed file.
        let spool = home.join(".rampart/spool");
        let frozen = spool.join("draining-1.jsonl");
        std::fs::rename(spool.join("preload.jsonl"), &frozen).unwrap();
        let held = std::fs::File::open(&frozen).unwrap();
        // SAFETY: flock on the descriptor `held` owns.
        assert_eq!(unsafe { libc::flock(held.as_raw_fd(), libc::LOCK_EX) }, 0);
        send(home_bytes, b"{\"n\":2}\n");
        assert_eq!(std::fs::read_to_string(&frozen).unwrap(), "{\"n\":1}\n");
        assert_eq!(
            std::fs::read_to_string(spool.join("preload.jsonl")).unwrap(),
            "{\"n\":2}\n"
        );
        drop(held);
        let _ = std::fs::remove_dir_all(&home);
    }

    #[test]
    fn a_bound_listener_gets_the_datagram() {
        let home = std::env::temp_dir().join(format!("rampart-sock-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(home.join(".rampart")).unwrap();
        let sock =
            std::os::unix::net::UnixDatagram::bind(home.join(".rampart/preload.sock")).unwrap();
        send(home.to_str().unwrap().as_bytes(), b"{\"n\":3}\n");
        let mut buf = [0u8; 64];
        let n = sock.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"{\"n\":3}\n");
        assert!(!home.join(".rampart/spool/preload.jsonl").exists());
        let _ = std::fs::remove_dir_all(&home);
    }
}
