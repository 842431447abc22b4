//! The policy server as production runs it: the `rampart serve` binary of this build (release
//! under `cargo bench`), on loopback, with the audit chain on, its own HOME and the embedded
//! standard profile plus a small ask rule.
//!
//! - round trips on one keep-alive connection (budget: preflight p50 <= 150 us): `GET /healthz`
//!   (the HTTP floor), a preview `POST /v1/preflight/exec` (recorded, answered once written), an
//!   enforcing `POST /v1/tool/exec` (counted and recorded through group commit, so each waits for
//!   its `fdatasync`), and `POST /v1/hooks/claude-code` with a Claude Code `PreToolUse` payload
//!   (what an `http` hook costs the host); then the same with `--audit-dir` on tmpfs, where the
//!   sync costs nothing;
//! - sustained enforcing requests per second from 1, 4 and 16 keep-alive clients for a few
//!   seconds each, every reply checked, the chain verified afterwards;
//! - from `approve` to the waiting caller's answer: a caller blocks on `POST /v1/tool?wait=30s`
//!   (and a Codex hook on `POST /v1/hooks/codex`, which waits in the server's queue), a person
//!   resolves it; the time from sending the resolve request to the caller holding its answer,
//!   next to the resolve round trip alone.
//!
//! `cargo bench --bench server`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/percentiles.rs"]
mod percentiles;

use percentiles::Summary;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RAMPART: &str = env!("CARGO_BIN_EXE_rampart");

const ASK_POLICY: &str = r#"
policies:
  - name: bench-ask
    match: {tool: [exec]}
    rules:
      - action: ask
        when: {command_matches: ["sudo bench *"]}
        message: a person decides
"#;

struct Served {
    child: Child,
    port: u16,
    token: String,
    home: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(name: &str, extra: &[&str]) -> Served {
    let home = std::env::temp_dir().join(format!("rampart-bench-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join(".rampart/policies")).unwrap();
    std::fs::write(home.join(".rampart/policies/bench-ask.yaml"), ASK_POLICY).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut command = Command::new(RAMPART);
    command
        .args(["serve", "--port", &port.to_string()])
        .args(extra)
        .current_dir(&home)
        .env("HOME", &home)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("RAMPART_") {
            command.env_remove(k);
        }
    }
    let child = command.spawn().unwrap();
    let started = Instant::now();
    loop {
        if let Ok(mut c) = Conn::open(port) {
            if c.request("GET", "/healthz", "", b"").0 == 200 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "serve did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let token = std::fs::read_to_string(home.join(".rampart/token"))
        .unwrap()
        .trim()
        .to_string();
    Served {
        child,
        port,
        token,
        home,
    }
}

/// A keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Conn {
    fn open(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(Duration::from_secs(60)))?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Conn { stream, reader })
    }

    /// One request; the status and the body.
    fn request(&mut self, method: &str, path: &str, token: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n",
            body.len()
        );
        if !token.is_empty() {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        self.stream.write_all(&all).unwrap();
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status = line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut length = 0;
        loop {
            let mut h = String::new();
            self.reader.read_line(&mut h).unwrap();
            if h.trim().is_empty() {
                break;
            }
            if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut out = vec![0; length];
        self.reader.read_exact(&mut out).unwrap();
        (status, out)
    }
}

fn exec(command: &str) -> Vec<u8> {
    serde_json::json!({"agent": "bench", "session": "bench", "params": {"command": command}})
        .to_string()
        .into_bytes()
}

fn claude_pre(command: &str) -> Vec<u8> {
    serde_json::json!({
        "session_id": "bench", "transcript_path": "/tmp/t.jsonl", "cwd": "/tmp",
        "permission_mode": "default", "hook_event_name": "PreToolUse", "tool_name": "Bash",
        "tool_input": {"command": command}, "tool_use_id": "toolu_bench",
    })
    .to_string()
    .into_bytes()
}

/// `rounds` requests on one connection after a warm-up, each timed; every reply must say `expect`.
fn round_trips(s: &Served, name: &str, path: &str, body: &[u8], expect: &str, rounds: usize) {
    let mut c = Conn::open(s.port).unwrap();
    let mut samples = Vec::with_capacity(rounds);
    let method = if body.is_empty() { "GET" } else { "POST" };
    for i in 0..rounds + rounds / 10 {
        let start = Instant::now();
        let (status, reply) = c.request(method, path, &s.token, body);
        let took = start.elapsed();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        assert!(
            String::from_utf8_lossy(&reply).contains(expect),
            "{name}: {}",
            String::from_utf8_lossy(&reply)
        );
        if i >= rounds / 10 {
            samples.push(took);
        }
    }
    Summary::from_samples(name, samples).print();
}

/// `clients` keep-alive clients sending enforcing calls for `secs`; requests per second.
fn sustained(s: &Served, clients: usize, secs: u64) -> (u64, f64) {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let (stop, done, token, port) = (stop.clone(), done.clone(), s.token.clone(), s.port);
            std::thread::spawn(move || {
                let mut c = Conn::open(port).unwrap();
                let allowed = exec(&format!("git status --short {i}"));
                let denied = exec("rm -rf /nonexistent-bench");
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let (body, want) = if n % 4 == 3 {
                        (&denied, 403)
                    } else {
                        (&allowed, 200)
                    };
                    let (status, _) = c.request("POST", "/v1/tool/exec", &token, body);
                    assert_eq!(status, want);
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(secs));
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let n = done.load(Ordering::Relaxed);
    (n, n as f64 / started.elapsed().as_secs_f64())
}

/// The pending approval's id, once there is one.
fn pending_id(c: &mut Conn, token: &str) -> String {
    loop {
        let (_, body) = c.request("GET", "/v1/approvals", token, b"");
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        if let Some(id) = v["approvals"][0]["id"].as_str() {
            return id.to_string();
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A caller waits on `path` with `body`; a person approves; (approve -> answer, resolve RTT).
fn approve_to_answer(s: &Served, path: &str, body: Vec<u8>, rounds: usize) -> (Summary, Summary) {
    let mut to_answer = Vec::new();
    let mut resolve_rtt = Vec::new();
    let mut person = Conn::open(s.port).unwrap();
    for _ in 0..rounds {
        let (port, token, path, body) = (s.port, s.token.clone(), path.to_string(), body.clone());
        let waiter = std::thread::spawn(move || {
            let mut c = Conn::open(port).unwrap();
            let (status, reply) = c.request("POST", &path, &token, &body);
            (Instant::now(), status, reply)
        });
        let id = pending_id(&mut person, &s.token);
        let resolve = br#"{"approved":true,"resolved_by":"bench"}"#;
        let sent = Instant::now();
        let (status, _) = person.request(
            "POST",
            &format!("/v1/approvals/{id}/resolve"),
            &s.token,
            resolve,
        );
        let resolved = sent.elapsed();
        assert_eq!(status, 200);
        let (answered, status, reply) = waiter.join().unwrap();
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&reply));
        to_answer.push(answered.duration_since(sent));
        resolve_rtt.push(resolved);
    }
    (
        Summary::from_samples(&format!("approve -> answer, {path}"), to_answer),
        Summary::from_samples("resolve round trip alone", resolve_rtt),
    )
}

fn main() {
    let filter = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wanted = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let s = serve("server", &[]);
    println!("rampart serve {} on 127.0.0.1:{}", RAMPART, s.port);
    if wanted("round_trip") {
        Summary::print_header();
        // The floor: tiny_http and loopback, nothing decided or recorded.
        round_trips(
            &s,
            "GET /healthz (the HTTP floor)",
            "/healthz",
            b"",
            "\"ok\"",
            5000,
        );
        let allow = exec("git status");
        round_trips(
            &s,
            "preflight (preview), allow",
            "/v1/preflight/exec",
            &allow,
            "\"allow\"",
            5000,
        );
        let deny = exec("rm -rf /nonexistent-bench");
        round_trips(
            &s,
            "preflight (preview), deny",
            "/v1/preflight/exec",
            &deny,
            "\"deny\"",
            5000,
        );
        round_trips(
            &s,
            "hook claude-code PreToolUse, allow",
            "/v1/hooks/claude-code",
            &claude_pre("git status"),
            "\"allow\"",
            5000,
        );
        round_trips(
            &s,
            "hook claude-code PreToolUse, deny",
            "/v1/hooks/claude-code",
            &claude_pre("rm -rf /nonexistent-bench"),
            "\"deny\"",
            5000,
        );
        round_trips(
            &s,
            "tool (enforcing, group commit), allow",
            "/v1/tool/exec",
            &allow,
            "\"allow\"",
            3000,
        );
    }
    let shm = std::path::Path::new("/dev/shm");
    if wanted("tmpfs") && shm.is_dir() {
        // The same with the audit chain on tmpfs (`--audit-dir`): what the device's sync costs.
        let dir = shm.join(format!("rampart-bench-audit-{}", std::process::id()));
        let t = serve("tmpfs", &["--audit-dir", dir.to_str().unwrap()]);
        Summary::print_header();
        let allow = exec("git status");
        round_trips(
            &t,
            "preflight, allow, audit on tmpfs",
            "/v1/preflight/exec",
            &allow,
            "\"allow\"",
            5000,
        );
        round_trips(
            &t,
            "hook claude-code, allow, audit on tmpfs",
            "/v1/hooks/claude-code",
            &claude_pre("git status"),
            "\"allow\"",
            5000,
        );
        let (n, rate) = sustained(&t, 16, 5);
        println!("sustained /v1/tool/exec, 16 clients, audit on tmpfs, 5 s: {n} requests, {rate:.0} requests/s");
        drop(t);
        let _ = std::fs::remove_dir_all(dir);
    }
    if wanted("sustained") {
        for clients in [1, 4, 16] {
            let (n, rate) = sustained(&s, clients, 5);
            println!("sustained /v1/tool/exec, {clients:>2} keep-alive clients, 5 s: {n} requests, {rate:.0} requests/s");
        }
    }
    if wanted("approve") {
        Summary::print_header();
        let (answer, rtt) =
            approve_to_answer(&s, "/v1/tool/exec?wait=30s", exec("sudo bench ls"), 40);
        answer.print();
        rtt.print();
        let codex = serde_json::json!({
            "session_id": "bench", "turn_id": "t", "cwd": "/tmp", "hook_event_name": "PreToolUse",
            "model": "m", "permission_mode": "default", "tool_name": "Bash",
            "tool_input": {"command": "sudo bench ls"}, "tool_use_id": "call_bench",
        });
        let (answer, _) =
            approve_to_answer(&s, "/v1/hooks/codex", codex.to_string().into_bytes(), 40);
        answer.print();
    }
    let verify = Command::new(RAMPART)
        .args(["audit", "verify"])
        .env("HOME", &s.home)
        .output()
        .unwrap();
    println!(
        "audit verify: {} ({})",
        verify.status,
        String::from_utf8_lossy(&verify.stdout)
            .lines()
            .last()
            .unwrap_or_default()
    );
}
