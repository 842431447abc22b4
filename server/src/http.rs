//! The thin layer over tiny_http: a request's parts, its body read under upstream's limits, and
//! replies in upstream's shapes.
//!
//! The threat: hostile bytes. A body of any size, a body that never finishes, a head of any size,
//! JSON with a second document behind the first or a key given twice, text that is not UTF-8.
//! Upstream caps bodies at 1 MiB and heads at 64 KiB and answers every such request with a JSON
//! error and a 4xx; so does this module, with two things tiny_http makes it handle itself:
//!
//! - tiny_http reads a body over 1 KiB from the socket only as the handler reads it, and when a
//!   request is dropped it drains what is left of a declared body into **one buffer of the
//!   remaining size**. A client that declares a body of terabytes and is answered 413 unread
//!   would make that allocation fail, which aborts the process. So a declared length over
//!   [`DRAIN_LIMIT`] is answered through tiny_http's connection upgrade and the connection is
//!   abandoned ([`Exchange::abandon`]): it costs one parked thread and one descriptor, never the
//!   server.
//! - Bodies are read with a deadline ([`BODY_DEADLINE`]): a client that sends one byte a second
//!   is answered 408 once it is over. (A client that stops sending altogether blocks its worker's
//!   read until it closes: see `net`.)

use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Upstream's body limit.
pub const MAX_BODY: usize = 1 << 20;
/// Upstream's head limit.
pub const MAX_HEAD: usize = 64 << 10;
/// How long a body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);
/// Declared lengths above this are answered without letting tiny_http drain them (see the
/// module doc).
pub const DRAIN_LIMIT: usize = 1 << 30;

/// A reply: status, content type, extra headers and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: u16, value: &Value) -> Reply {
        let mut body = serde_json::to_vec(value).unwrap_or_default();
        body.push(b'\n');
        Reply {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body,
        }
    }

    /// Upstream's error shape, `{"error":"…"}`.
    pub fn error(status: u16, message: impl Into<String>) -> Reply {
        Reply::json(status, &json!({ "error": message.into() }))
    }

    /// Upstream's unknown path.
    pub fn not_found() -> Reply {
        Reply::error(404, "not found")
    }

    /// Go's plain-text 405 for a known path with another method.
    pub fn method_not_allowed(allow: &str) -> Reply {
        Reply {
            status: 405,
            content_type: "text/plain; charset=utf-8",
            headers: vec![("Allow", allow.to_string())],
            body: b"Method Not Allowed\n".to_vec(),
        }
    }

    /// Plain text (Prometheus metrics).
    pub fn text(status: u16, content_type: &'static str, body: String) -> Reply {
        Reply {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }
}

/// The HTTP method, for routing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Delete,
    Other,
}

/// One request being answered.
pub struct Exchange {
    request: Option<tiny_http::Request>,
    pub method: Method,
    /// The path without the query, percent-decoded per segment by the router.
    pub path: String,
    pub query: Vec<(String, String)>,
}

impl Exchange {
    pub fn new(request: tiny_http::Request) -> Exchange {
        let method = match request.method() {
            tiny_http::Method::Get | tiny_http::Method::Head => Method::Get,
            tiny_http::Method::Post => Method::Post,
            tiny_http::Method::Delete => Method::Delete,
            _ => Method::Other,
        };
        let url = request.url().to_string();
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_string(), parse_query(q)),
            None => (url, Vec::new()),
        };
        Exchange {
            request: Some(request),
            method,
            path,
            query,
        }
    }

    /// An exchange with no request behind it: answering it sends nothing.
    pub fn detached() -> Exchange {
        Exchange {
            request: None,
            method: Method::Other,
            path: String::new(),
            query: Vec::new(),
        }
    }

    /// A query parameter's first value.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<String> {
        let request = self.request.as_ref()?;
        request
            .headers()
            .iter()
            .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str().to_string())
    }

    /// Bytes of the request head (request line and headers), as tiny_http parsed them.
    pub fn head_bytes(&self) -> usize {
        self.request.as_ref().map_or(0, |r| {
            r.url().len()
                + r.headers()
                    .iter()
                    .map(|h| h.field.as_str().as_str().len() + h.value.as_str().len() + 4)
                    .sum::<usize>()
        })
    }

    /// The body, read under upstream's limits: 413 over [`MAX_BODY`], 408 when it does not
    /// arrive in time, 400 when the connection breaks.
    pub fn body(&mut self) -> Result<Vec<u8>, Reply> {
        self.body_within(MAX_BODY)
    }

    /// The body, read as [`Exchange::body`] under a limit of `max` bytes (an agent host's hook
    /// payload, whose tool output may be larger than an API request).
    pub fn body_within(&mut self, max: usize) -> Result<Vec<u8>, Reply> {
        let request = self
            .request
            .as_mut()
            .ok_or_else(|| Reply::error(500, "request already answered"))?;
        if let Some(declared) = request.body_length() {
            if declared > max {
                return Err(too_large());
            }
        }
        let started = Instant::now();
        let mut body = Vec::with_capacity(request.body_length().unwrap_or(1024).min(max));
        let mut chunk = [0u8; 16 * 1024];
        let reader = request.as_reader();
        loop {
            if started.elapsed() > BODY_DEADLINE {
                return Err(Reply::error(408, "request body timed out"));
            }
            match reader.read(&mut chunk) {
                Ok(0) => return Ok(body),
                Ok(n) => {
                    if body.len() + n > max {
                        return Err(too_large());
                    }
                    body.extend_from_slice(chunk.get(..n).unwrap_or_default());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(Reply::error(408, "request body timed out"))
                }
                Err(e) => return Err(Reply::error(400, format!("reading the request body: {e}"))),
            }
        }
    }

    /// Sends `reply`. A declared body too large to drain abandons the connection (module doc).
    pub fn send(mut self, reply: Reply) {
        let Some(request) = self.request.take() else {
            return;
        };
        if request.body_length().is_some_and(|n| n > DRAIN_LIMIT) {
            abandon(request, reply);
            return;
        }
        let _ = request.respond(response(reply, false));
    }

    /// Takes the raw connection for a streamed reply (the event stream): the caller writes the
    /// status line, the headers and the body itself.
    pub fn into_writer(mut self) -> Option<Box<dyn std::io::Write + Send + 'static>> {
        self.request.take().map(tiny_http::Request::into_writer)
    }
}

fn too_large() -> Reply {
    Reply::error(413, "request body too large")
}

/// Answers `reply` and leaves the connection's remaining body unread: tiny_http would otherwise
/// drain it into one allocation of its declared size (module doc). The stream is parked forever.
fn abandon(request: tiny_http::Request, reply: Reply) {
    let stream = request.upgrade("close", response(reply, true));
    std::mem::forget(stream);
}

fn response(reply: Reply, closing: bool) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let mut headers = Vec::with_capacity(reply.headers.len() + 2);
    let mut push = |name: &str, value: &str| {
        if let Ok(h) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
            headers.push(h);
        }
    };
    push("Content-Type", reply.content_type);
    if closing {
        push("Connection", "close");
    }
    for (name, value) in &reply.headers {
        push(name, value);
    }
    let length = reply.body.len();
    tiny_http::Response::new(
        tiny_http::StatusCode(reply.status),
        headers,
        std::io::Cursor::new(reply.body),
        Some(length),
        None,
    )
}

/// `a=1&b=x%20y` as pairs, percent-decoded (`+` is a space).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k, true), decode(v, true))
        })
        .collect()
}

/// Percent-decodes `text` (lossily: invalid UTF-8 becomes U+FFFD); `plus` turns `+` into a space.
pub fn decode(text: &str, plus: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b),
                }
            }
            b'+' if plus => out.push(b' '),
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        assert_eq!(
            parse_query("a=1&b=x%20y+z&c&=v"),
            [
                ("a".to_string(), "1".to_string()),
                ("b".into(), "x y z".into()),
                ("c".into(), "".into()),
                ("".into(), "v".into())
            ]
        );
        assert_eq!(decode("%zz%4", false), "%zz%4");
    }
}
