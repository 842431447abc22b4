//! A small client of a running `rampart serve`: the approval queue (reference §3.6).
//!
//! Hosts that cannot ask the user themselves (Codex, Gemini CLI, Cursor) hand an `ask` to the
//! server's queue, where a person approves or denies it, and wait for the answer. The threat is
//! an ask that turns into an allow by accident: a server that is not running, answers garbage,
//! goes away mid-wait or lets the wait outlast the host's own hook timeout (a hook the host kills
//! is a hook that let the call through). So every way this can go wrong is a [`Wait`] other than
//! `Approved`, which the caller answers with a deny, and the wait ends well before the host's
//! timeout ([`DEFAULT_WAIT`]).
//!
//! The client speaks HTTP/1.1 over loopback (or any IP literal) without name resolution, one
//! connection per request, with short timeouts: it is used from one-shot hook processes.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Where the server listens unless told otherwise (upstream's default).
pub const DEFAULT_URL: &str = "http://127.0.0.1:9090";
/// How long a hook waits for a person by default: under the shortest default hook timeout of the
/// hosts that use the queue (Gemini CLI's 60 s).
pub const DEFAULT_WAIT: Duration = Duration::from_secs(55);
/// How often the approval is polled (upstream's hook clients: every 500 ms).
pub const POLL: Duration = Duration::from_millis(500);

const CONNECT_TIMEOUT: Duration = Duration::from_millis(300);
const IO_TIMEOUT: Duration = Duration::from_secs(2);
const MAX_REPLY: usize = 64 * 1024;

/// A server to talk to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Server {
    addr: SocketAddr,
    /// `host[:port]` as given, for the `Host` header.
    authority: String,
    /// A path prefix without its trailing `/`.
    prefix: String,
    token: Option<String>,
    connect_timeout: Duration,
    io_timeout: Duration,
    max_reply: usize,
}

/// What became of an approval request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    Approved {
        id: String,
    },
    Denied {
        id: String,
    },
    /// Expired on the server, or not resolved within the wait.
    TimedOut {
        id: Option<String>,
    },
    /// No server, or one that did not answer as the API says.
    Unavailable(String),
}

/// What an approval is requested for (upstream's `POST /v1/approvals` body).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub tool: String,
    pub command: String,
    pub agent: String,
    pub path: String,
    pub message: String,
    pub run_id: String,
}

/// The server's URL: `given`, else `RAMPART_URL`, else [`DEFAULT_URL`].
pub fn url_in_force(given: Option<&str>) -> String {
    let env_url = std::env::var(rampart_runtime::settings::ENV_URL).ok();
    given
        .map(String::from)
        .or(env_url.filter(|u| !u.is_empty()))
        .unwrap_or_else(|| DEFAULT_URL.to_string())
}

impl Server {
    /// The server at `url` (`http://host[:port][/prefix]`, host an IP literal or `localhost`),
    /// authenticated with `token`.
    pub fn new(url: &str, token: Option<String>) -> Result<Server, String> {
        let bad = || format!("{url}: not an http://IP[:port] URL of a rampart server");
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, prefix) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let port = |p: &str| p.parse::<u16>().map_err(|_| bad());
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => match bracketed.split_once(']').ok_or_else(bad)? {
                (host, "") => (host, 80),
                (host, after) => (host, port(after.strip_prefix(':').ok_or_else(bad)?)?),
            },
            None => match authority.split_once(':') {
                Some((host, p)) => (host, port(p)?),
                None => (authority, 80),
            },
        };
        let ip = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse::<IpAddr>().map_err(|_| bad())?
        };
        Ok(Server {
            addr: SocketAddr::new(ip, port),
            authority: authority.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
            token,
            connect_timeout: CONNECT_TIMEOUT,
            io_timeout: IO_TIMEOUT,
            max_reply: MAX_REPLY,
        })
    }

    /// The same server with other limits: a person's command (`rampart pending`) can wait longer
    /// and read larger replies than a hook process that must answer before its host's timeout.
    pub fn with_limits(self, connect: Duration, io: Duration, max_reply: usize) -> Server {
        Server {
            connect_timeout: connect,
            io_timeout: io,
            max_reply,
            ..self
        }
    }

    /// `host[:port]` as given in the URL.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The server a hook talks to: `url` (`--serve-url`), else `RAMPART_URL`, else
    /// [`DEFAULT_URL`]; the token from `RAMPART_TOKEN`, else `~/.rampart/token`.
    pub fn from_env(url: Option<&str>, home: Option<&Path>) -> Result<Server, String> {
        let url = url_in_force(url);
        let token = std::env::var(rampart_runtime::settings::ENV_TOKEN)
            .ok()
            .filter(|t| !t.is_empty())
            .or_else(|| {
                let path = home?.join(".rampart").join("token");
                let text = std::fs::read_to_string(path).ok()?;
                Some(text.trim().to_string()).filter(|t| !t.is_empty())
            });
        Server::new(&url, token)
    }

    /// Queues `request` and waits up to `wait` for a person's answer.
    pub fn ask(&self, request: &ApprovalRequest, wait: Duration) -> Wait {
        let deadline = Instant::now() + wait;
        let body = json!({
            "tool": request.tool, "command": request.command, "agent": request.agent,
            "path": request.path, "message": request.message, "run_id": request.run_id,
        });
        let created = match self.call("POST", "/v1/approvals", Some(&body)) {
            Ok((200 | 201, reply)) => reply,
            Ok((status, _)) => {
                return Wait::Unavailable(format!("the approval queue answered HTTP {status}"))
            }
            Err(e) => return Wait::Unavailable(e),
        };
        let Some(id) = created.get("id").and_then(Value::as_str).map(String::from) else {
            return Wait::Unavailable("the approval queue gave no approval id".into());
        };
        let mut status = created;
        loop {
            match status.get("status").and_then(Value::as_str) {
                Some("approved") => return Wait::Approved { id },
                Some("denied") => return Wait::Denied { id },
                Some("expired") => return Wait::TimedOut { id: Some(id) },
                Some("pending") => {}
                other => {
                    return Wait::Unavailable(format!(
                        "approval {id} has an unknown status {other:?}"
                    ))
                }
            }
            if Instant::now() + POLL > deadline {
                return Wait::TimedOut { id: Some(id) };
            }
            std::thread::sleep(POLL);
            status = match self.call("GET", &format!("/v1/approvals/{id}"), None) {
                Ok((200, reply)) => reply,
                Ok((status, _)) => {
                    return Wait::Unavailable(format!("approval {id}: HTTP {status}"))
                }
                Err(e) => return Wait::Unavailable(e),
            };
        }
    }

    /// One request; the status and the JSON body (`Null` when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let unreachable =
            |e: std::io::Error| format!("no rampart server at http://{} ({e})", self.authority);
        let mut stream =
            TcpStream::connect_timeout(&self.addr, self.connect_timeout).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(self.io_timeout))
            .map_err(unreachable)?;
        stream
            .set_write_timeout(Some(self.io_timeout))
            .map_err(unreachable)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let mut head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nAccept: application/json\r\nConnection: close\r\n",
            self.prefix, self.authority
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if method == "POST" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        head.push_str(&body);
        stream.write_all(head.as_bytes()).map_err(unreachable)?;
        let mut reply = Vec::new();
        stream
            .take(self.max_reply as u64 + 1)
            .read_to_end(&mut reply)
            .map_err(unreachable)?;
        if reply.len() > self.max_reply {
            return Err("the rampart server's reply is too large".into());
        }
        parse_reply(&reply)
    }
}

/// An HTTP/1.1 reply read to its end: the status and the body as JSON (`Content-Length` or
/// chunked bodies; anything else unparsable is an error).
fn parse_reply(reply: &[u8]) -> Result<(u16, Value), String> {
    let bad = |what: &str| format!("the rampart server's reply is not valid HTTP: {what}");
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let (head, body) = reply.split_at(split);
    let body = body.get(4..).unwrap_or_default();
    let head = std::str::from_utf8(head).map_err(|_| bad("headers are not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad("no status"))?;
    let chunked = lines.any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body).ok_or_else(|| bad("a broken chunked body"))?
    } else {
        body.to_vec()
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok((status, Value::Null));
    }
    let json = serde_json::from_slice(&body).map_err(|e| bad(&format!("body: {e}")))?;
    Ok((status, json))
}

fn dechunk(mut body: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let eol = body.windows(2).position(|w| w == b"\r\n")?;
        let size_line = std::str::from_utf8(body.get(..eol)?).ok()?;
        let size = usize::from_str_radix(size_line.split(';').next()?.trim(), 16).ok()?;
        body = body.get(eol + 2..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(body.get(..size)?);
        body = body.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let s = Server::new("http://127.0.0.1:9090", None).unwrap();
        assert_eq!(s.addr, "127.0.0.1:9090".parse().unwrap());
        assert_eq!(s.prefix, "");
        let s = Server::new("http://localhost:8080/rampart/", Some("t".into())).unwrap();
        assert_eq!((s.addr.port(), s.prefix.as_str()), (8080, "/rampart"));
        let s = Server::new("http://[::1]:9", None).unwrap();
        assert_eq!(s.addr, "[::1]:9".parse().unwrap());
        assert_eq!(Server::new("http://[::1]", None).unwrap().addr.port(), 80);
        assert_eq!(
            Server::new("http://10.0.0.1", None).unwrap().addr.port(),
            80
        );
        for bad in [
            "https://127.0.0.1",
            "http://example.com:9090",
            "http://1.2.3.4:x",
        ] {
            assert!(Server::new(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn replies() {
        let r = b"HTTP/1.1 201 Created\r\nContent-Length: 16\r\n\r\n{\"id\":\"a\",\"s\":1}";
        assert_eq!(parse_reply(r).unwrap(), (201, json!({"id": "a", "s": 1})));
        let r = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n";
        assert_eq!(parse_reply(r).unwrap(), (200, json!({"a": 1})));
        assert!(parse_reply(b"garbage").is_err());
        assert!(parse_reply(b"HTTP/1.1 200 OK\r\n\r\n{nope").is_err());
    }
}
