//! What `rampart mcp` and `rampart wrap` add, measured against the same work without them.
//!
//! - **Per unjudged message**: a `ping` round trip to a minimal MCP server (this binary started
//!   with `--echo-server`), directly and through `rampart mcp --`, the two sessions alive side by
//!   side and asked in alternation, so that drift of the machine hits both alike; reported as each
//!   side's percentiles and the median of the paired differences.
//! - **Per `tools/call`**: the same with a call the standard profile lets through (`watch`): judged,
//!   recorded, forwarded, its response scanned and recorded. Twice: with the audit trail in HOME
//!   (group commit's `fdatasync` on this machine's disk, what users get) and on tmpfs (the
//!   proxy's own work without the disk's sync).
//! - **The wrapper's shim**: `$SHELL -c true` through the shim against `bash -c true`.
//!
//! `CARGO_BIN_EXE_rampart` under `cargo bench` is the release-profile binary users run, so the
//! proxy measured is the production one, child process, pipes and audit trail included.
//!
//! `cargo bench --bench mcp [-- ping|call|shim]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/percentiles.rs"]
mod percentiles;

use percentiles::{human, Summary};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const RAMPART: &str = env!("CARGO_BIN_EXE_rampart");

fn main() {
    if std::env::args().any(|a| a == "--echo-server") {
        return echo_server();
    }
    if !percentiles::benchmarking() {
        return;
    }
    let scratch = std::env::temp_dir().join(format!("rampart-bench-mcp-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let shm = Path::new("/dev/shm").join(format!("rampart-bench-mcp-{}", std::process::id()));
    Summary::print_header();
    let ping = |id: u64| format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"ping\"}}\n");
    let call = |id: u64| {
        format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"method\":\"tools/call\",\"params\":{{\"name\":\"echo\",\"arguments\":{{\"text\":\"hello\"}}}}}}\n")
    };
    if percentiles::selected("ping") {
        paired("ping (unjudged)", &scratch, &[], 3000, &ping);
    }
    if percentiles::selected("call") {
        paired("tools/call, audit on disk", &scratch, &[], 400, &call);
    }
    if percentiles::selected("call") && std::fs::create_dir_all(&shm).is_ok() {
        let dir = shm.to_string_lossy().into_owned();
        paired(
            "tools/call, audit on tmpfs",
            &scratch,
            &["--audit-dir", &dir],
            1500,
            &call,
        );
        let _ = std::fs::remove_dir_all(&shm);
    }
    if percentiles::selected("shim") {
        shim(&scratch, 300);
    }
    let _ = std::fs::remove_dir_all(&scratch);
}

/// A minimal MCP server: answers `ping` with `{}` and any `tools/call` with a text result.
fn echo_server() {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let Some(id) = line
            .split("\"id\":")
            .nth(1)
            .and_then(|r| r.split([',', '}']).next())
        else {
            continue;
        };
        let reply = if line.contains("tools/call") {
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{\"content\":[{{\"type\":\"text\",\"text\":\"hello\"}}],\"isError\":false}}}}\n")
        } else {
            format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":{{}}}}\n")
        };
        let _ = out.write_all(reply.as_bytes()).and_then(|()| out.flush());
    }
}

struct Session {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Session {
    fn start(mut command: Command) -> Session {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Session {
            child,
            stdin,
            stdout,
        }
    }

    /// One request's round trip.
    fn round_trip(&mut self, request: &str) -> Duration {
        let mut line = String::new();
        let start = Instant::now();
        self.stdin.write_all(request.as_bytes()).expect("write");
        self.stdin.flush().expect("flush");
        self.stdout.read_line(&mut line).expect("read");
        let elapsed = start.elapsed();
        assert!(line.contains("\"result\""), "unexpected answer: {line}");
        elapsed
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server() -> Command {
    let mut command = Command::new(std::env::current_exe().expect("exe"));
    command.arg("--echo-server");
    command
}

fn proxied(scratch: &Path, flags: &[&str]) -> Command {
    let mut command = Command::new(RAMPART);
    command
        .current_dir(scratch)
        .env("HOME", scratch)
        .env("RAMPART_URL", "http://127.0.0.1:9")
        .args(["mcp", "--pin", "off"])
        .args(flags)
        .arg("--")
        .arg(std::env::current_exe().expect("exe"))
        .arg("--echo-server");
    command
}

/// `n` round trips of `request` to the bare server and through the proxy, alternating.
fn paired(name: &str, scratch: &Path, flags: &[&str], n: u64, request: &dyn Fn(u64) -> String) {
    let mut direct = Session::start(server());
    let mut proxy = Session::start(proxied(scratch, flags));
    for id in 0..50 {
        direct.round_trip(&request(id));
        proxy.round_trip(&request(id));
    }
    let (mut a, mut b, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for id in 100..100 + n {
        let d = direct.round_trip(&request(id));
        let p = proxy.round_trip(&request(id));
        a.push(d);
        b.push(p);
        diffs.push(p.as_nanos() as i128 - d.as_nanos() as i128);
    }
    Summary::from_samples(&format!("{name}: direct"), a).print();
    Summary::from_samples(&format!("{name}: through rampart mcp"), b).print();
    print_added(name, diffs);
}

/// `$SHELL -c true` through the shim against `bash -c true`, alternating.
fn shim(scratch: &Path, n: usize) {
    let dir = scratch.join("shim");
    std::fs::create_dir_all(&dir).expect("shim dir");
    let link = dir.join("bash");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(RAMPART, &link).expect("symlink");
    let real = which("bash");
    let run = |program: &Path| {
        let start = Instant::now();
        let status = Command::new(program)
            .args(["-c", "true"])
            .current_dir(scratch)
            .env("HOME", scratch)
            .env("RAMPART_WRAP_DIR", &dir)
            .status()
            .expect("run");
        assert!(status.success());
        start.elapsed()
    };
    for _ in 0..20 {
        run(&real);
        run(&link);
    }
    let (mut a, mut b, mut diffs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..n {
        let d = run(&real);
        let s = run(&link);
        a.push(d);
        b.push(s);
        diffs.push(s.as_nanos() as i128 - d.as_nanos() as i128);
    }
    Summary::from_samples("bash -c true", a).print();
    Summary::from_samples("bash -c true through the wrap shim", b).print();
    print_added("wrap shim per command", diffs);
}

fn print_added(name: &str, mut diffs: Vec<i128>) {
    diffs.sort_unstable();
    let at = |q: f64| {
        diffs
            .get(((diffs.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0)
    };
    let show = |ns: i128| {
        let sign = if ns < 0 { "-" } else { "+" };
        format!(
            "{sign}{}",
            human(Duration::from_nanos(ns.unsigned_abs() as u64))
        )
    };
    println!(
        "{:<48} added (paired differences): p50 {}, p90 {}, p99 {}",
        name,
        show(at(0.5)),
        show(at(0.9)),
        show(at(0.99))
    );
}

fn which(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(format!("/bin/{name}")))
}
