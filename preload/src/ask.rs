//! Asking the server about an `ask` decision: a human approves through it, so with no server an ask
//! is denied.
//!
//! Kept deliberately small: a loopback HTTP/1.1 POST of upstream's preflight body (§4.2) over a
//! socket with a short connect timeout, and upstream's strict reply rule (§4.3): status exactly 200
//! and a JSON object whose only `allowed` key is the literal `true` or `false`. Host names are not
//! resolved (resolution is neither vfork-safe nor quick): the URL's host must be an IP literal or
//! `localhost`, and only `http` is spoken. Anything else denies.

use alloc::vec::Vec;
use core::ffi::c_int;

use crate::sys;
use crate::text::json_string;

extern "C" {
    // Not in the libc crate for this target; glibc's inet_pton is async-signal-safe in practice
    // (no allocation, no locks).
    fn inet_pton(af: c_int, src: *const core::ffi::c_char, dst: *mut core::ffi::c_void) -> c_int;
}

const CONNECT_TIMEOUT_MS: c_int = 300;
const REPLY_TIMEOUT_MS: c_int = 2000;
/// Upstream's reply cap.
const MAX_REPLY: usize = 64 * 1024;

/// The parts of RAMPART_URL this client can use.
#[derive(Debug, PartialEq, Eq)]
pub struct Endpoint<'a> {
    pub addr: Addr,
    pub port: u16,
    pub host: &'a [u8],
    /// Base path without trailing `/` (upstream keeps a `/prefix`).
    pub prefix: &'a [u8],
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

/// Parses `http://host[:port][/prefix]`; `None` for anything this client will not speak to.
pub fn parse_url(url: &[u8]) -> Option<Endpoint<'_>> {
    let rest = url.strip_prefix(b"http://")?;
    let (authority, prefix) = match rest.iter().position(|&b| b == b'/') {
        Some(i) => (rest.get(..i)?, rest.get(i..)?),
        None => (rest, &b""[..]),
    };
    let prefix = trim_trailing_slashes(prefix);
    if authority
        .iter()
        .any(|&b| matches!(b, b'@' | b'?' | b'#' | b' ' | b'\\'))
        || prefix
            .iter()
            .any(|&b| matches!(b, b'?' | b'#' | b' ' | b'\\'))
    {
        return None;
    }
    let (host, port) = split_port(authority)?;
    let addr = if host == b"localhost" {
        Addr::V4([127, 0, 0, 1])
    } else if let Some(v6) = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")) {
        Addr::V6(parse_inet(v6, libc::AF_INET6)?)
    } else {
        let v4: [u8; 16] = parse_inet(host, libc::AF_INET)?;
        Addr::V4([v4[0], v4[1], v4[2], v4[3]])
    };
    Some(Endpoint {
        addr,
        port,
        host: authority,
        prefix,
    })
}

fn trim_trailing_slashes(mut s: &[u8]) -> &[u8] {
    while let Some(t) = s.strip_suffix(b"/") {
        s = t;
    }
    s
}

fn split_port(authority: &[u8]) -> Option<(&[u8], u16)> {
    let colon = authority.iter().rposition(|&b| b == b':');
    let closing = authority.iter().rposition(|&b| b == b']');
    match colon {
        Some(i) if closing.is_none_or(|c| i > c) => {
            let port = authority.get(i + 1..)?;
            if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let n = port.iter().fold(0u32, |n, &d| n * 10 + u32::from(d - b'0'));
            Some((
                authority.get(..i)?,
                u16::try_from(n).ok().filter(|&p| p != 0)?,
            ))
        }
        _ => Some((authority, 80)),
    }
}

fn parse_inet(host: &[u8], family: c_int) -> Option<[u8; 16]> {
    if host.is_empty() || host.len() > 45 {
        return None;
    }
    let mut text = [0u8; 46];
    text.get_mut(..host.len())?.copy_from_slice(host);
    let mut out = [0u8; 16];
    // SAFETY: NUL-terminated input (text is zero-filled past host); `out` holds either family.
    let ok = unsafe { inet_pton(family, text.as_ptr().cast(), out.as_mut_ptr().cast()) };
    (ok == 1).then_some(out)
}

/// Upstream's preflight body.
pub fn preflight_body(agent: &str, session: &str, command: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(96 + command.len());
    body.extend_from_slice(b"{\"agent\":");
    json_string(&mut body, agent.as_bytes());
    body.extend_from_slice(b",\"session\":");
    json_string(&mut body, session.as_bytes());
    body.extend_from_slice(b",\"params\":{\"command\":");
    json_string(&mut body, command.as_bytes());
    body.extend_from_slice(b"},\"enforce\":true}");
    body
}

/// What the server said.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// A well-formed 200 reply with `"allowed":true`.
    Allowed,
    /// Any other reply, a URL or token this client will not use: upstream's safety failures.
    Denied,
    /// No server answered (connect, send or receive failed or timed out) or it answered 5xx:
    /// upstream's recoverable failures, which follow RAMPART_FAIL_OPEN where that applies.
    Unreachable,
}

/// Sends upstream's enforcing preflight for `command` to the server at `url`.
pub fn ask(url: &[u8], token: &[u8], agent: &str, session: &str, command: &str) -> Answer {
    let Some(endpoint) = parse_url(url) else {
        return Answer::Denied;
    };
    if token.iter().any(|&b| b == b'\r' || b == b'\n') || token.len() > 4096 {
        return Answer::Denied;
    }
    let body = preflight_body(agent, session, command);
    let mut request = Vec::with_capacity(256 + body.len());
    request.extend_from_slice(b"POST ");
    request.extend_from_slice(endpoint.prefix);
    request.extend_from_slice(b"/v1/preflight/exec HTTP/1.1\r\nHost: ");
    request.extend_from_slice(endpoint.host);
    request.extend_from_slice(b"\r\nContent-Type: application/json\r\nConnection: close\r\n");
    if !token.is_empty() {
        request.extend_from_slice(b"Authorization: Bearer ");
        request.extend_from_slice(token);
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"Content-Length: ");
    crate::text::push_u64(&mut request, body.len() as u64);
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(&body);
    match exchange(&endpoint, &request) {
        Some(reply) if reply.starts_with(b"HTTP/1.1 5") || reply.starts_with(b"HTTP/1.0 5") => {
            Answer::Unreachable
        }
        Some(reply) if reply_allows(&reply) => Answer::Allowed,
        Some(_) => Answer::Denied,
        None => Answer::Unreachable,
    }
}

/// Connects (bounded by CONNECT_TIMEOUT_MS), sends, reads until close (bounded by time and size).
fn exchange(endpoint: &Endpoint<'_>, request: &[u8]) -> Option<Vec<u8>> {
    let socket = Socket::connect(endpoint)?;
    let mut sent = 0;
    while sent < request.len() {
        socket.wait(libc::POLLOUT, REPLY_TIMEOUT_MS)?;
        let rest = request.get(sent..)?;
        // SAFETY: our socket and buffer.
        let n = unsafe {
            sys::send(
                socket.0,
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_NOSIGNAL,
            )
        };
        if n <= 0 {
            return None;
        }
        sent += n as usize;
    }
    let mut reply = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        socket.wait(libc::POLLIN, REPLY_TIMEOUT_MS)?;
        // SAFETY: our socket and buffer.
        let n = unsafe { sys::recv(socket.0, chunk.as_mut_ptr().cast(), chunk.len(), 0) };
        match n {
            0 => return Some(reply),
            n if n < 0 => return None,
            n => reply.extend_from_slice(chunk.get(..n as usize)?),
        }
        if reply.len() > MAX_REPLY + 8192 {
            return None;
        }
    }
}

struct Socket(c_int);

impl Drop for Socket {
    fn drop(&mut self) {
        // SAFETY: our descriptor.
        unsafe { sys::close(self.0) };
    }
}

impl Socket {
    fn connect(endpoint: &Endpoint<'_>) -> Option<Socket> {
        let family = match endpoint.addr {
            Addr::V4(_) => libc::AF_INET,
            Addr::V6(_) => libc::AF_INET6,
        };
        // SAFETY: plain socket creation.
        let fd = unsafe {
            sys::socket(
                family,
                libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
            )
        };
        if fd < 0 {
            return None;
        }
        let socket = Socket(fd);
        // SAFETY: zeroed sockaddr structs are valid; we fill the fields we need.
        let rc = unsafe {
            match endpoint.addr {
                Addr::V4(ip) => {
                    let mut sa: libc::sockaddr_in = core::mem::zeroed();
                    sa.sin_family = libc::AF_INET as libc::sa_family_t;
                    sa.sin_port = endpoint.port.to_be();
                    sa.sin_addr.s_addr = u32::from_ne_bytes(ip);
                    sys::connect(
                        fd,
                        (&sa as *const libc::sockaddr_in).cast(),
                        size_of_val(&sa) as u32,
                    )
                }
                Addr::V6(ip) => {
                    let mut sa: libc::sockaddr_in6 = core::mem::zeroed();
                    sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                    sa.sin6_port = endpoint.port.to_be();
                    sa.sin6_addr.s6_addr = ip;
                    sys::connect(
                        fd,
                        (&sa as *const libc::sockaddr_in6).cast(),
                        size_of_val(&sa) as u32,
                    )
                }
            }
        };
        // SAFETY: errno read right after the failing call.
        if rc != 0 && unsafe { *libc::__errno_location() } != libc::EINPROGRESS {
            return None;
        }
        socket.wait(libc::POLLOUT, CONNECT_TIMEOUT_MS)?;
        let mut err: c_int = 0;
        let mut len = size_of_val(&err) as libc::socklen_t;
        // SAFETY: valid out-pointers.
        let rc = unsafe {
            sys::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_ERROR,
                (&mut err as *mut c_int).cast(),
                &mut len,
            )
        };
        (rc == 0 && err == 0).then_some(socket)
    }

    fn wait(&self, events: i16, timeout_ms: c_int) -> Option<()> {
        let mut pfd = libc::pollfd {
            fd: self.0,
            events,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { sys::poll(&mut pfd, 1, timeout_ms) };
        (n == 1 && pfd.revents & events != 0).then_some(())
    }
}

/// Upstream's reply rule: status exactly 200, body at most 64 KiB, one JSON object with exactly one
/// `allowed` key whose value is the literal `true` or `false`.
pub fn reply_allows(reply: &[u8]) -> bool {
    let Some(split) = reply.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let (head, body) = (
        reply.get(..split).unwrap_or(&[]),
        reply.get(split + 4..).unwrap_or(&[]),
    );
    let status_ok = head.starts_with(b"HTTP/1.1 200 ")
        || head.starts_with(b"HTTP/1.0 200 ")
        || head.split(|&b| b == b'\r').next() == Some(&b"HTTP/1.1 200"[..]);
    status_ok && body.len() <= MAX_REPLY && json::allowed(body) == Some(true)
}

/// A strict structural reader for the one question asked of a reply.
mod json {
    const MAX_DEPTH: usize = 32;

    struct Reader<'a> {
        s: &'a [u8],
        i: usize,
    }

    /// The value of the single top-level `allowed` key, or `None` for anything malformed.
    pub fn allowed(body: &[u8]) -> Option<bool> {
        let mut r = Reader { s: body, i: 0 };
        r.ws();
        r.eat(b'{')?;
        let mut found = None;
        r.ws();
        if r.peek() == Some(b'}') {
            return None;
        }
        loop {
            r.ws();
            let key = r.string()?;
            r.ws();
            r.eat(b':')?;
            r.ws();
            if key == b"allowed" {
                if found.is_some() {
                    return None;
                }
                found = Some(r.boolean()?);
            } else {
                r.value(1)?;
            }
            r.ws();
            match r.next()? {
                b',' => continue,
                b'}' => break,
                _ => return None,
            }
        }
        r.ws();
        (r.i == r.s.len()).then_some(())?;
        found
    }

    impl<'a> Reader<'a> {
        fn peek(&self) -> Option<u8> {
            self.s.get(self.i).copied()
        }
        fn next(&mut self) -> Option<u8> {
            let b = self.peek()?;
            self.i += 1;
            Some(b)
        }
        fn eat(&mut self, b: u8) -> Option<()> {
            (self.next()? == b).then_some(())
        }
        fn ws(&mut self) {
            while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.i += 1;
            }
        }
        fn literal(&mut self, word: &[u8]) -> Option<()> {
            let end = self.i.checked_add(word.len())?;
            (self.s.get(self.i..end)? == word).then(|| self.i = end)
        }
        fn boolean(&mut self) -> Option<bool> {
            match self.peek()? {
                b't' => self.literal(b"true").map(|_| true),
                b'f' => self.literal(b"false").map(|_| false),
                _ => None,
            }
        }
        /// A string's raw contents (escapes left as written).
        fn string(&mut self) -> Option<&'a [u8]> {
            self.eat(b'"')?;
            let start = self.i;
            loop {
                match self.next()? {
                    b'"' => return self.s.get(start..self.i - 1),
                    b'\\' => {
                        self.next()?;
                    }
                    c if c < 0x20 => return None,
                    _ => {}
                }
            }
        }
        fn value(&mut self, depth: usize) -> Option<()> {
            if depth > MAX_DEPTH {
                return None;
            }
            match self.peek()? {
                b'"' => self.string().map(|_| ()),
                b't' => self.literal(b"true"),
                b'f' => self.literal(b"false"),
                b'n' => self.literal(b"null"),
                b'{' => self.container(b'}', depth, true),
                b'[' => self.container(b']', depth, false),
                b'-' | b'0'..=b'9' => {
                    let start = self.i;
                    while matches!(
                        self.peek(),
                        Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                    ) {
                        self.i += 1;
                    }
                    (self.i > start).then_some(())
                }
                _ => None,
            }
        }
        fn container(&mut self, close: u8, depth: usize, keyed: bool) -> Option<()> {
            self.next()?;
            self.ws();
            if self.peek() == Some(close) {
                self.i += 1;
                return Some(());
            }
            loop {
                self.ws();
                if keyed {
                    self.string()?;
                    self.ws();
                    self.eat(b':')?;
                    self.ws();
                }
                self.value(depth + 1)?;
                self.ws();
                match self.next()? {
                    b',' => continue,
                    c if c == close => return Some(()),
                    _ => return None,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_parsing_follows_upstream() {
        let ok =
            |body: &str| reply_allows(format!("HTTP/1.1 200 OK\r\nX: y\r\n\r\n{body}").as_bytes());
        // accepted
        assert!(ok(r#"{"allowed":true}"#));
        assert!(ok(
            r#" { "decision" : "allow", "allowed" : true , "n": [1, {"a": null}] } "#
        ));
        // rejected
        assert!(!ok(r#"{"allowed":false}"#));
        assert!(!ok(r#"{"message":"\"allowed\":true","allowed":false}"#));
        assert!(!ok(r#"{"allowed":true,"allowed":true}"#));
        assert!(!ok(r#"{"allowed":"true"}"#));
        assert!(!ok(r#"{"allowed":true} x"#));
        assert!(!ok(r#"{"decision":"allow"}"#));
        assert!(!ok(""));
        let deep = format!(
            r#"{{"x":{}1{},"allowed":true}}"#,
            "[".repeat(40),
            "]".repeat(40)
        );
        assert!(!ok(&deep));
        assert!(!reply_allows(
            b"HTTP/1.1 401 Unauthorized\r\n\r\n{\"allowed\":true}"
        ));
        let big = format!(r#"{{"pad":"{}","allowed":true}}"#, "x".repeat(70 * 1024));
        assert!(!ok(&big));
    }

    #[test]
    fn url_table() {
        let v4 = |url: &str| parse_url(url.as_bytes()).map(|e| (e.addr, e.port, e.prefix.to_vec()));
        assert_eq!(
            v4("http://127.0.0.1:9090"),
            Some((Addr::V4([127, 0, 0, 1]), 9090, vec![]))
        );
        assert_eq!(
            v4("http://localhost:8080/prefix/"),
            Some((Addr::V4([127, 0, 0, 1]), 8080, b"/prefix".to_vec()))
        );
        assert_eq!(
            v4("http://10.0.0.2"),
            Some((Addr::V4([10, 0, 0, 2]), 80, vec![]))
        );
        assert!(matches!(
            v4("http://[::1]:9090"),
            Some((Addr::V6(_), 9090, _))
        ));
        for bad in [
            "https://127.0.0.1:9090",
            "file:///etc/passwd",
            "http://user@127.0.0.1:9090",
            "http://127.0.0.1:",
            "http://127.0.0.1:99999",
            "http://example.com:9090",
            "http://127.0.0.1:9090/?x",
            "http://::1:9090",
        ] {
            assert_eq!(v4(bad), None, "{bad}");
        }
    }

    #[test]
    fn preflight_body_is_upstreams() {
        let body = preflight_body("a", "s", "rm \"x\"");
        assert_eq!(
            core::str::from_utf8(&body).unwrap(),
            r#"{"agent":"a","session":"s","params":{"command":"rm \"x\""},"enforce":true}"#
        );
    }

    #[test]
    fn nothing_listening_is_not_an_approval() {
        // Port 9 (discard) on loopback: nothing listens in a test environment.
        assert_eq!(
            ask(b"http://127.0.0.1:9", b"", "a", "s", "ls"),
            Answer::Unreachable
        );
        assert_eq!(
            ask(b"http://example.com", b"", "a", "s", "ls"),
            Answer::Denied
        );
    }
}
