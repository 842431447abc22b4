//! The command line's side of the API (`rampart pending`, `approve`, `deny`): one HTTP/1.1
//! request per call over loopback (or any IP literal), the admin token as bearer.
//!
//! No name resolution and no proxies: the server's address is an IP literal or `localhost`, and
//! the admin token never goes anywhere a DNS answer or a proxy variable could send it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

/// Where the server listens unless told otherwise.
pub const DEFAULT_URL: &str = "http://127.0.0.1:9090";
const MAX_REPLY: u64 = 16 << 20;

/// A server to talk to.
#[derive(Clone, Debug)]
pub struct Client {
    addr: SocketAddr,
    authority: String,
    prefix: String,
    token: String,
    pub timeout: Duration,
}

impl Client {
    /// The server at `url` (else `RAMPART_URL`, else [`DEFAULT_URL`]) with `token` (else
    /// `RAMPART_TOKEN`, else `~/.rampart/token`).
    pub fn new(url: Option<&str>, token: Option<&str>, home: &Path) -> Result<Client, String> {
        let env_url = std::env::var(rampart_runtime::settings::ENV_URL)
            .ok()
            .filter(|u| !u.is_empty());
        let url = url
            .map(str::to_string)
            .or(env_url)
            .unwrap_or_else(|| DEFAULT_URL.to_string());
        let token = match token {
            Some(t) => t.to_string(),
            None => crate::secrets::admin_token_for_client(home)?,
        };
        let bad = || format!("{url}: not an http://IP[:port] URL of a rampart server");
        let rest = url.strip_prefix("http://").ok_or_else(bad)?;
        let (authority, prefix) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| bad())?)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = if host == "localhost" {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            host.parse::<IpAddr>().map_err(|_| bad())?
        };
        Ok(Client {
            addr: SocketAddr::new(ip, port),
            authority: authority.to_string(),
            prefix: prefix.trim_end_matches('/').to_string(),
            token,
            timeout: Duration::from_secs(10),
        })
    }

    /// One request: the status and the JSON body (`Null` when empty).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let unreachable = |e: std::io::Error| {
            format!(
                "no rampart server at http://{} ({e}); start one with `rampart serve`",
                self.authority
            )
        };
        let mut stream =
            TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).map_err(unreachable)?;
        stream
            .set_read_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        stream
            .set_write_timeout(Some(self.timeout))
            .map_err(unreachable)?;
        let body = body.map(Value::to_string).unwrap_or_default();
        let head = format!(
            "{method} {}{path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.prefix, self.authority, self.token, body.len()
        );
        stream.write_all(head.as_bytes()).map_err(unreachable)?;
        stream.write_all(body.as_bytes()).map_err(unreachable)?;
        let mut reply = Vec::new();
        stream
            .take(MAX_REPLY)
            .read_to_end(&mut reply)
            .map_err(unreachable)?;
        parse_reply(&reply)
    }
}

/// A whole HTTP/1.1 reply: its status and JSON body (identity or chunked).
pub fn parse_reply(reply: &[u8]) -> Result<(u16, Value), String> {
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
