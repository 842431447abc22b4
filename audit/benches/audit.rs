//! Audit throughput, on the paths production runs: records per second with group commit (durable),
//! with an fdatasync per record, unsynced; a hook's whole open-and-append; verify speed.
//!
//! `cargo bench -p rampart-audit` (or `-- quick` for a smaller run). Each figure is a plain
//! count over elapsed wall-clock time in a fresh temporary directory on the machine's disk, so it
//! includes the real fdatasync cost; the results go to benches/RESULTS.md by hand.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rampart_audit::verify::{verify, VerifyOptions};
use rampart_audit::{Durability, Event, EventDecision, GroupCommit, Writer, WriterOptions};
use serde_json::{json, Value};

/// A realistic record: a 60-byte command, two matched policies, a message (about 480 bytes).
fn event(n: u64) -> Event {
    let Value::Object(request) =
        json!({ "command": format!("git commit -m 'change {n}' && cargo test -p rampart-audit") })
    else {
        return Event::new("exec", serde_json::Map::new());
    };
    Event::new("exec", request)
        .agent("claude-code")
        .session("rampart/main")
        .decision(EventDecision {
            action: "allow".into(),
            matched_policies: vec!["allow-git".into(), "watch-cargo".into()],
            evaluation_time_us: 3,
            message: "allowed by allow-git".into(),
            suggestions: Vec::new(),
        })
}

fn fresh(label: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "rampart-audit-bench-{label}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn rate(n: u64, start: Instant) -> f64 {
    n as f64 / start.elapsed().as_secs_f64()
}

fn group_commit(dir: &Path, threads: u64, per_thread: u64) -> f64 {
    let writer = Writer::open(WriterOptions::new(dir).durability(Durability::Group)).ok();
    let Some(writer) = writer else { return 0.0 };
    let group = Arc::new(GroupCommit::new(writer));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let g = Arc::clone(&group);
            std::thread::spawn(move || {
                for n in 0..per_thread {
                    if g.append(event(t * per_thread + n)).is_err() {
                        return;
                    }
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    rate(threads * per_thread, start)
}

fn one_by_one(dir: &Path, durability: Durability, n: u64) -> f64 {
    let Ok(mut w) = Writer::open(WriterOptions::new(dir).durability(durability)) else {
        return 0.0;
    };
    let start = Instant::now();
    for i in 0..n {
        if w.append(event(i)).is_err() {
            return 0.0;
        }
    }
    rate(n, start)
}

/// What a hook process does after it decided: open the writer, append one record, drop it.
fn hook_appends(dir: &Path, n: u64) -> f64 {
    let start = Instant::now();
    for i in 0..n {
        let ok = Writer::open(WriterOptions::new(dir)).and_then(|mut w| w.append(event(i)));
        if ok.is_err() {
            return 0.0;
        }
    }
    start.elapsed().as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "quick");
    let scale = if quick { 1 } else { 4 };
    // `-- unsynced` (or group, every, verify) runs one measurement, for a profiler.
    let sections = ["group", "every", "unsynced", "verify"];
    let chosen: Vec<&str> = sections
        .into_iter()
        .filter(|s| args.iter().any(|a| a == s))
        .collect();
    let run = |s: &str| chosen.is_empty() || chosen.contains(&s);

    if run("group") {
        for threads in [16, 64] {
            let dir = fresh("group");
            let r = group_commit(&dir, threads, 64_000 * scale / threads);
            println!(
                "group commit, durable ({threads} threads, one fdatasync per batch): {r:>8.0} records/s"
            );
            let _ = std::fs::remove_dir_all(&dir);
        }
    }

    if run("every") {
        let dir = fresh("every");
        let r = one_by_one(&dir, Durability::EveryRecord, 250 * scale);
        println!("fdatasync per record (1 thread):                            {r:>10.0} records/s");
        let _ = std::fs::remove_dir_all(&dir);
    }

    if run("unsynced") {
        let dir = fresh("never");
        let r = one_by_one(&dir, Durability::Never, 20_000 * scale);
        println!("unsynced, one append per call (1 thread):                   {r:>10.0} records/s");

        let us = hook_appends(&dir, 500 * scale);
        println!(
            "hook: open + append one record, in a {}-record log:    {us:>10.1} us",
            20_000 * scale
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    if run("verify") {
        let dir = fresh("verify");
        let Ok(mut w) = Writer::open(WriterOptions::new(&dir)) else {
            return;
        };
        let total = 50_000 * scale;
        for chunk in 0..total / 1000 {
            let events = (0..1000).map(|i| event(chunk * 1000 + i)).collect();
            if w.append_batch(events).is_err() {
                return;
            }
        }
        let start = Instant::now();
        let report = verify(&dir, &VerifyOptions::default());
        let r = rate(total, start);
        let events = report.map(|r| r.events).unwrap_or(0);
        println!(
            "verify ({events} records):                                   {r:>10.0} records/s"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
