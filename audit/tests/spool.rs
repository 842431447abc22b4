//! The preload spool: drained into the chain in order, exactly once, by whichever writer holds
//! the lock, with nothing lost to an append racing the drain.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rampart_audit::writer::Notice;
use rampart_audit::{Writer, WriterOptions};

use crate::support::{self, event, Temp};

fn spool_line(n: u64, agent: &str) -> String {
    format!(
        r#"{{"ts":1700000000{:03},"pid":4242,"agent":"{agent}","session":"sess","tool":"exec","command":"echo spool {n}","decision":"deny","allowed":false,"message":"blocked","matched_policies":["p"],"hook":"execve","mode":"enforce"}}"#,
        n % 1000
    ) + "\n"
}

/// Appends one line the way preload/src/record.rs does: O_APPEND, a shared non-blocking flock,
/// and a check under it that the path still names the file; a draining writer makes it reopen.
fn preload_append(spool: &Path, line: &str) {
    let path = spool.join("preload.jsonl");
    loop {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&path)
            .unwrap();
        // SAFETY: flock on our own descriptor.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } != 0 {
            continue;
        }
        let same = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.ino() == file.metadata().unwrap().ino());
        if !same {
            continue;
        }
        (&file).write_all(line.as_bytes()).unwrap();
        return;
    }
}

fn home(t: &Temp) -> (PathBuf, WriterOptions) {
    let spool = t.path.join(".rampart/spool");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::set_permissions(
        t.path.join(".rampart"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    std::fs::set_permissions(&spool, std::fs::Permissions::from_mode(0o700)).unwrap();
    let mut opts = WriterOptions::new(t.audit()).with_home(&t.path);
    opts.checkpoints = None;
    (spool, opts)
}

fn commands(dir: &Path) -> Vec<String> {
    support::all_lines(dir)
        .iter()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            v["request"]["command"].as_str().map(str::to_owned)
        })
        .collect()
}

#[test]
fn the_next_writer_takes_the_spool_into_the_chain_in_order_with_upstreams_shape() {
    let t = Temp::new("spool");
    let (spool, opts) = home(&t);
    for n in 0..5 {
        preload_append(&spool, &spool_line(n, "codex"));
    }
    let mut w = Writer::open(opts).unwrap();
    w.append(event(100)).unwrap();
    let notices = w.take_notices();
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::SpoolIngested { records: 5, .. })),
        "{notices:?}"
    );
    let dir = t.audit();
    let got = commands(&dir);
    assert_eq!(
        got,
        vec![
            "echo spool 0",
            "echo spool 1",
            "echo spool 2",
            "echo spool 3",
            "echo spool 4",
            "echo 100"
        ]
    );
    let first: serde_json::Value = serde_json::from_str(&support::all_lines(&dir)[0]).unwrap();
    assert_eq!(first["agent"], "codex");
    assert_eq!(first["session"], "sess");
    assert_eq!(first["tool"], "exec");
    assert_eq!(first["decision"]["action"], "deny");
    assert_eq!(first["request"]["_rampart_preload"]["hook"], "execve");
    assert_eq!(first["timestamp"], "2023-11-14T22:13:20Z");
    assert!(first["tool_call_id"]
        .as_str()
        .unwrap()
        .starts_with("preload-spool:"));
    assert_eq!(
        std::fs::read_dir(&spool).unwrap().count(),
        0,
        "the spool is consumed"
    );
    // Nothing is taken twice.
    w.append(event(101)).unwrap();
    assert_eq!(commands(&dir).len(), 7);
    assert_eq!(support::python_verify(&dir), Ok("ok 7 1".into()));
}

#[test]
fn a_drain_that_crashed_halfway_resumes_after_the_last_record_it_wrote() {
    let t = Temp::new("resume");
    let (spool, opts) = home(&t);
    for n in 0..6 {
        preload_append(&spool, &spool_line(n, "a"));
    }
    // A drain that renamed the batch and wrote its first three records, then died.
    let name = rampart_audit::spool::claim(&spool).unwrap().unwrap();
    let batch = rampart_audit::spool::batch_of(&name).to_owned();
    let lines = rampart_audit::spool::read_batch(&spool.join(&name), 0).unwrap();
    let mut plain = Writer::open(WriterOptions::new(t.audit())).unwrap();
    for (offset, line) in lines.iter().take(3) {
        let e = rampart_audit::spool::event_from_line(line)
            .tool_call_id(&rampart_audit::spool::cursor(&batch, *offset));
        plain.append(e).unwrap();
    }
    drop(plain);
    preload_append(&spool, &spool_line(6, "a"));
    let mut w = Writer::open(opts).unwrap();
    w.append(event(100)).unwrap();
    let got = commands(&t.audit());
    let want: Vec<String> = (0..7)
        .map(|n| format!("echo spool {n}"))
        .chain(["echo 100".to_owned()])
        .collect();
    assert_eq!(got, want);
}

#[test]
fn appends_racing_drains_are_all_taken_exactly_once_in_order() {
    let t = Temp::new("race");
    let (spool, opts) = home(&t);
    let stop = Arc::new(AtomicBool::new(false));
    let appenders: Vec<_> = (0..2)
        .map(|who| {
            let spool = spool.clone();
            std::thread::spawn(move || {
                for n in 0..400u64 {
                    preload_append(
                        &spool,
                        &spool_line(n, &format!("p{who}")).replace("spool", &format!("p{who}")),
                    );
                }
            })
        })
        .collect();
    let drainer = {
        let stop = Arc::clone(&stop);
        let opts = opts.clone();
        std::thread::spawn(move || {
            let mut w = Writer::open(opts).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                w.append(event(1_000_000 + n)).unwrap();
                n += 1;
            }
        })
    };
    for a in appenders {
        a.join().unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    drainer.join().unwrap();
    let mut w = Writer::open(opts).unwrap();
    w.append(event(5)).unwrap();
    let got = commands(&t.audit());
    for who in ["p0", "p1"] {
        let mine: Vec<&String> = got
            .iter()
            .filter(|c| c.starts_with(&format!("echo {who} ")))
            .collect();
        let want: Vec<String> = (0..400).map(|n| format!("echo {who} {n}")).collect();
        assert_eq!(mine.len(), 400, "{who}: every line exactly once");
        assert!(
            mine.iter().zip(&want).all(|(a, b)| *a == b),
            "{who}: in order"
        );
    }
    assert!(support::python_verify(&t.audit())
        .unwrap()
        .starts_with("ok "));
}

#[test]
fn an_unreadable_spool_line_is_recorded_not_dropped() {
    let t = Temp::new("badline");
    let (spool, opts) = home(&t);
    preload_append(&spool, "{\"ts\":17000000\n");
    preload_append(&spool, &spool_line(1, "a"));
    let mut w = Writer::open(opts).unwrap();
    w.append(event(2)).unwrap();
    let lines = support::all_lines(&t.audit());
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].contains(r#""_rampart_spool_line":"{\"ts\":17000000""#),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains(r#""action":"unknown""#));
}

#[test]
fn a_spool_other_users_can_write_is_not_read() {
    let t = Temp::new("loose");
    let (spool, opts) = home(&t);
    preload_append(&spool, &spool_line(1, "a"));
    std::fs::set_permissions(&spool, std::fs::Permissions::from_mode(0o777)).unwrap();
    let mut w = Writer::open(opts).unwrap();
    w.append(event(2)).unwrap();
    assert_eq!(commands(&t.audit()), vec!["echo 2"]);
    let notices = w.take_notices();
    assert!(
        notices.iter().any(|n| n
            .to_string()
            .contains(&format!("chmod 700 '{}'", spool.display()))),
        "{notices:?}"
    );
    assert!(
        spool.join("preload.jsonl").exists(),
        "left for a safe writer"
    );
}
