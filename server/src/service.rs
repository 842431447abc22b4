//! The process around the server: its pid file, a clean stop on SIGTERM or SIGINT, starting in
//! the background, and the systemd user unit that runs it at login.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `~/.rampart/serve.pid`.
pub fn pid_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("serve.pid")
}

/// `~/.rampart/serve.log` (the background server's output).
pub fn log_path(home: &Path) -> PathBuf {
    home.join(".rampart").join("serve.log")
}

/// The unit file `serve install` writes.
pub fn unit_path(home: &Path) -> PathBuf {
    home.join(".config")
        .join("systemd")
        .join("user")
        .join("rampart-serve.service")
}

/// Blocks SIGTERM and SIGINT in this thread and every thread started after, so that
/// [`wait_for_stop`] receives them. Call before starting the server.
pub fn block_stop_signals() {
    // SAFETY: plain signal-mask manipulation on a zero-initialised set.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}

/// Waits for SIGTERM, SIGINT or SIGHUP; returns the signal.
pub fn wait_for_stop() -> i32 {
    // SAFETY: sigwait on a set of blocked signals with a valid out-pointer.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGHUP);
        let mut sig = 0;
        libc::sigwait(&set, &mut sig);
        sig
    }
}

/// Writes this process's pid; refuses when another live server holds the file.
pub fn write_pid(home: &Path) -> Result<(), String> {
    let path = pid_path(home);
    if let Some(pid) = read_pid(home) {
        if pid != std::process::id() as i32 && alive(pid) {
            return Err(format!(
                "another rampart serve is running (pid {pid}, {}); stop it with `rampart serve stop`",
                path.display()
            ));
        }
    }
    crate::secrets::write_secret(&path, &std::process::id().to_string())
}

pub fn remove_pid(home: &Path) {
    if read_pid(home) == Some(std::process::id() as i32) {
        let _ = std::fs::remove_file(pid_path(home));
    }
}

pub fn read_pid(home: &Path) -> Option<i32> {
    std::fs::read_to_string(pid_path(home))
        .ok()?
        .trim()
        .parse()
        .ok()
}

pub fn alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid, 0) } == 0
}

/// `rampart serve stop`: SIGTERM to the server in the pid file, waiting up to 10 s for it to go.
pub fn stop(home: &Path) -> Result<String, String> {
    let Some(pid) = read_pid(home) else {
        return Err(format!(
            "no rampart serve is running ({} not found)",
            pid_path(home).display()
        ));
    };
    if !alive(pid) {
        let _ = std::fs::remove_file(pid_path(home));
        return Err(format!(
            "no rampart serve is running (stale pid {pid} removed)"
        ));
    }
    // SAFETY: sending SIGTERM to a pid read from our own pid file.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let started = Instant::now();
    while alive(pid) && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if alive(pid) {
        return Err(format!(
            "rampart serve (pid {pid}) did not stop within 10 s"
        ));
    }
    Ok(format!("rampart serve (pid {pid}) stopped"))
}

/// Starts `exe args` in a session of its own, its output appended to `log`.
pub fn spawn_detached(
    exe: &Path,
    args: &[String],
    log: &Path,
) -> Result<std::process::Child, String> {
    use std::os::unix::process::CommandExt;
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut command = std::process::Command::new(exe);
    command
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(err);
    // SAFETY: setsid is async-signal-safe; it detaches the child from the caller's session.
    unsafe {
        command.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    command.spawn().map_err(|e| e.to_string())
}

/// What the unit runs with.
#[derive(Clone, Debug)]
pub struct Unit {
    pub exe: PathBuf,
    pub args: Vec<String>,
    pub token: Option<String>,
}

/// The systemd user unit's text.
pub fn unit_text(unit: &Unit) -> String {
    let quote = |s: &str| {
        if s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-=:".contains(c))
        {
            s.to_string()
        } else {
            format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
        }
    };
    let mut exec = quote(&unit.exe.display().to_string());
    exec.push_str(" serve");
    for a in &unit.args {
        exec.push(' ');
        exec.push_str(&quote(a));
    }
    let mut text = format!(
        "[Unit]\nDescription=Rampart policy server (approvals, tokens, the HTTP API)\nAfter=network.target\n\n[Service]\nType=simple\nExecStart={exec}\nExecStop={} serve stop\nRestart=on-failure\nRestartSec=2\n",
        quote(&unit.exe.display().to_string())
    );
    if let Some(token) = &unit.token {
        text.push_str(&format!("Environment=RAMPART_TOKEN={}\n", quote(token)));
    }
    text.push_str("\n[Install]\nWantedBy=default.target\n");
    text
}
