//! Temporary audit directories, events, child writer processes and the independent verifier.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use rampart_audit::{Event, EventDecision, Writer, WriterOptions};
use serde_json::{json, Map, Value};

/// A directory removed on drop.
pub struct Temp {
    pub path: PathBuf,
}

impl Temp {
    pub fn new(label: &str) -> Temp {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "rampart-audit-{label}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        Temp { path }
    }

    /// The audit directory inside (not created).
    pub fn audit(&self) -> PathBuf {
        self.path.join("audit")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chmod")
            .args(["-R", "u+rwx"])
            .arg(&self.path)
            .status();
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

pub fn request(command: &str) -> Map<String, Value> {
    let Value::Object(map) = json!({ "command": command }) else {
        unreachable!()
    };
    map
}

pub fn event(n: u64) -> Event {
    Event::new("exec", request(&format!("echo {n}")))
        .agent("test-agent")
        .session("s1")
        .decision(EventDecision {
            action: if n.is_multiple_of(3) { "deny" } else { "allow" }.into(),
            matched_policies: vec!["p".into()],
            evaluation_time_us: 5,
            message: format!("m{n}"),
            suggestions: Vec::new(),
        })
}

pub fn writer(dir: &Path) -> Writer {
    Writer::open(WriterOptions::new(dir)).unwrap()
}

/// The log files' names, in order.
pub fn log_files(dir: &Path) -> Vec<String> {
    rampart_audit::layout::log_files(dir)
        .unwrap()
        .into_iter()
        .map(|f| f.name())
        .collect()
}

pub fn all_lines(dir: &Path) -> Vec<String> {
    log_files(dir)
        .iter()
        .flat_map(|f| {
            std::fs::read_to_string(dir.join(f))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Runs tests/verify_chain.py on `dir`: `Ok("ok N M")` or `Err(problem)`.
pub fn python_verify(dir: &Path) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/verify_chain.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{text}{}", String::from_utf8_lossy(&out.stderr)))
    }
}

/// The environment variable that turns the test binary into a child writer.
pub const CHILD: &str = "RAMPART_AUDIT_TEST_CHILD";

/// Starts this test binary again as a child running `role` (see `faults::child`).
pub fn spawn_child(role: &str, dir: &Path, extra: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "faults::child",
        "--nocapture",
        "--test-threads=1",
        "-q",
    ])
    .env(CHILD, role)
    .env("RAMPART_AUDIT_TEST_DIR", dir)
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Copies a fixture directory into a fresh 0700 directory with 0600 files (git keeps 0644).
pub fn fixture(name: &str, into: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let dst = into.join(name);
    std::fs::create_dir_all(&dst).unwrap();
    std::fs::set_permissions(&dst, std::fs::Permissions::from_mode(0o700)).unwrap();
    for entry in std::fs::read_dir(&src).unwrap() {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        std::fs::copy(entry.path(), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    dst
}

pub fn is_root() -> bool {
    // SAFETY: no arguments, no failure mode.
    unsafe { libc::geteuid() == 0 }
}
