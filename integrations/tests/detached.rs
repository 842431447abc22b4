//! A one-shot hook sends its notification after answering, from a detached process: the host,
//! which waits for the hook to exit and its stdout to close, does not wait for the network.
//!
//! Not a libtest harness: sending detached needs a single-threaded process. The binary plays
//! three parts, chosen by `DETACHED_ROLE`: the test (default), a slow webhook server, and a hook
//! that answers, sends detached and exits.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rampart_integrations::notify::rate::RateLimit;
use rampart_integrations::notify::{Notice, Notifier, NotifyConfig};

/// How long the server sits on each request before it answers.
const SERVER_DELAY: Duration = Duration::from_secs(3);

fn main() {
    match std::env::var("DETACHED_ROLE").as_deref() {
        Ok("server") => server(),
        Ok("hook") => hook(),
        _ => test(),
    }
}

fn test() {
    let dir = std::env::temp_dir().join(format!("rampart-detached-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let received = dir.join("received.json");
    let me = std::env::current_exe().unwrap();
    let mut server = Command::new(&me)
        .env("DETACHED_ROLE", "server")
        .env("DETACHED_OUT", &received)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut port = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();

    let start = Instant::now();
    let hook = Command::new(&me)
        .env("DETACHED_ROLE", "hook")
        .env(
            "DETACHED_URL",
            format!("http://127.0.0.1:{}/notify", port.trim()),
        )
        .env("DETACHED_HOME", &dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let answered_in = start.elapsed();
    assert_eq!(
        String::from_utf8_lossy(&hook.stdout),
        "{\"answer\":\"deny\"}\n"
    );
    assert!(hook.status.success());
    assert!(
        answered_in < SERVER_DELAY / 2,
        "the host waited {answered_in:?} for the hook"
    );

    let body = wait_for(&received, Duration::from_secs(10));
    let _ = server.kill();
    let _ = server.wait();
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["action"], "deny");
    assert_eq!(body["command"], "rm -rf /");
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "detached: the hook answered in {answered_in:?}; the notification arrived after it exited"
    );
}

fn wait_for(path: &PathBuf, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if !text.is_empty() {
                return text;
            }
        }
        assert!(
            start.elapsed() < limit,
            "no notification arrived at {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One request: recorded at once, answered after [`SERVER_DELAY`].
fn server() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    println!("{}", listener.local_addr().unwrap().port());
    std::io::stdout().flush().unwrap();
    let out = PathBuf::from(std::env::var_os("DETACHED_OUT").unwrap());
    for stream in listener.incoming().flatten() {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end().to_ascii_lowercase();
            if line.is_empty() {
                break;
            }
            if let Some(v) = line.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let tmp = out.with_extension("tmp");
        std::fs::write(&tmp, &body).unwrap();
        std::fs::rename(&tmp, &out).unwrap();
        std::thread::sleep(SERVER_DELAY);
        let mut stream = stream;
        let _ =
            stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    }
}

/// A hook: answers the host, then sends the notification detached and exits.
fn hook() {
    println!("{{\"answer\":\"deny\"}}");
    std::io::stdout().flush().unwrap();
    let config = NotifyConfig {
        url: std::env::var("DETACHED_URL").unwrap(),
        platform: "webhook".into(),
        on: Vec::new(),
    };
    let home = PathBuf::from(std::env::var_os("DETACHED_HOME").unwrap());
    let notifier = Notifier::new(
        &config,
        RateLimit::in_file(home.join("notify-state.json"), 10),
    )
    .unwrap();
    let notice = Notice {
        action: "deny".into(),
        tool: "exec".into(),
        command: "rm -rf /".into(),
        ..Notice::default()
    };
    notifier.send_detached(notice).unwrap();
}
