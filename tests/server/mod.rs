//! `rampart serve` through the real binary: each test starts a server on a free loopback port
//! with its own HOME and drives it with a small HTTP/1.1 client over std's TcpStream.

mod api;
mod approvals;
mod bad_input;
mod hooks;
mod lifecycle;
mod load;
mod preload;
mod tokens;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch HOME.
pub struct Home {
    pub root: PathBuf,
}

impl Home {
    pub fn new(name: &str) -> Home {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("serve-{name}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home/.rampart/policies")).unwrap();
        std::fs::create_dir_all(root.join("work")).unwrap();
        Home { root }
    }

    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    pub fn work(&self) -> PathBuf {
        self.root.join("work")
    }

    pub fn rampart(&self, args: &[&str]) -> Command {
        let mut c = Command::new(crate::rampart_bin());
        c.args(args)
            .current_dir(self.work())
            .env("HOME", self.home())
            .env_remove("RAMPART_TOKEN")
            .env_remove("RAMPART_URL")
            .env_remove("RAMPART_MODE");
        c
    }

    pub fn token(&self) -> String {
        std::fs::read_to_string(self.home().join(".rampart/token"))
            .unwrap()
            .trim()
            .to_string()
    }

    /// Every event in the audit chain, oldest first.
    pub fn audit(&self) -> Vec<Value> {
        let dir = self.home().join(".rampart/audit");
        let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        names.retain(|p| {
            p.extension().is_some_and(|e| e == "jsonl") && !p.ends_with("audit-checkpoints.jsonl")
        });
        names.sort();
        let mut out = Vec::new();
        for name in names {
            for line in std::fs::read_to_string(name).unwrap().lines() {
                let v: Value = serde_json::from_str(line).unwrap();
                if v.get("id").is_some() {
                    out.push(v);
                }
            }
        }
        out
    }

    pub fn verify(&self) {
        let out = self.rampart(&["audit", "verify"]).output().unwrap();
        assert!(out.status.success(), "audit verify: {out:?}");
    }
}

/// A running `rampart serve`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub token: String,
}

impl Server {
    /// Starts `rampart serve` on a free port with `args`, waiting for /healthz.
    pub fn start(home: &Home, args: &[&str]) -> Server {
        Server::try_start(home, args).unwrap_or_else(|e| panic!("{e}"))
    }

    pub fn try_start(home: &Home, args: &[&str]) -> Result<Server, String> {
        let port = free_port();
        let port_text = port.to_string();
        let mut all = vec!["serve", "--port", &port_text];
        all.extend_from_slice(args);
        let mut child = home
            .rampart(&all)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(status)) = child.try_wait() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return Err(format!("serve exited {status}: {err}"));
            }
            if let Ok(mut c) = Conn::open(port) {
                if c.get("/healthz", None).status == 200 {
                    return Ok(Server {
                        child,
                        port,
                        token: home.token(),
                    });
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        Err("serve did not answer within 20 s".into())
    }

    pub fn conn(&self) -> Conn {
        Conn::open(self.port).unwrap()
    }

    /// One admin request on a new connection.
    pub fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Resp {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        self.conn().request(
            method,
            path,
            &[("Authorization", &format!("Bearer {}", self.token))],
            body.as_bytes(),
        )
    }

    /// Stops it with SIGTERM and waits.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A reply.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A keep-alive HTTP/1.1 connection.
pub struct Conn {
    pub stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Conn { stream, reader })
    }

    pub fn get(&mut self, path: &str, token: Option<&str>) -> Resp {
        let auth = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> =
            auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        self.request("GET", path, &headers, b"")
    }

    pub fn post(&mut self, path: &str, token: &str, body: &Value) -> Resp {
        self.request(
            "POST",
            path,
            &[("Authorization", &format!("Bearer {token}"))],
            body.to_string().as_bytes(),
        )
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        self.stream.write_all(&all).unwrap();
        self.read_reply()
    }

    pub fn read_reply(&mut self) -> Resp {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status: u16 = line
            .split(' ')
            .nth(1)
            .unwrap_or_else(|| panic!("no status in {line:?}"))
            .parse()
            .unwrap();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (k, v) = h.split_once(':').unwrap();
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
        let find = |name: &str| {
            headers
                .iter()
                .find(|(k, _): &&(String, String)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let mut body = Vec::new();
        if let Some(n) = find("Content-Length") {
            body.resize(n.parse().unwrap(), 0);
            self.reader.read_exact(&mut body).unwrap();
        } else if find("Transfer-Encoding").is_some_and(|t| t.contains("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).unwrap();
                let n = usize::from_str_radix(size.trim(), 16).unwrap();
                let mut chunk = vec![0; n + 2];
                self.reader.read_exact(&mut chunk).unwrap();
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        }
        Resp {
            status,
            headers,
            body,
        }
    }
}

/// A small policy: allow `ls`/`git status`, deny `rm`, ask on `sudo`, default allow.
pub const POLICY: &str = r#"
default_action: allow
policies:
  - name: test-deny
    match: {tool: [exec]}
    rules:
      - action: deny
        when: {command_matches: ["rm *"]}
        message: no rm
  - name: test-ask
    match: {tool: [exec]}
    rules:
      - action: ask
        when: {command_matches: ["sudo *"]}
        message: sudo needs a person
"#;

pub fn exec(command: &str) -> Value {
    serde_json::json!({"agent": "test-agent", "session": "s1", "params": {"command": command}})
}

pub fn path_of(p: &Path) -> &str {
    p.to_str().unwrap()
}
