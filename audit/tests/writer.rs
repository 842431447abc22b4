//! The writer's ordinary behaviour: one chain, rotation, repair, group commit, redaction,
//! compaction, and a state file that is only a hint.

use std::sync::Arc;

use rampart_audit::verify::{verify, VerifyOptions};
use rampart_audit::writer::Notice;
use rampart_audit::{Durability, GroupCommit, Writer, WriterOptions};

use crate::support::{self, event, Temp};

#[test]
fn appended_records_form_one_chain_that_both_verifiers_accept() {
    let t = Temp::new("chain");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    let mut ids = Vec::new();
    for n in 0..50 {
        ids.push(w.append(event(n)).unwrap().id);
    }
    let report = verify(&dir, &VerifyOptions::default()).unwrap();
    assert_eq!(report.events, 50);
    assert_eq!(support::python_verify(&dir), Ok("ok 50 1".into()));
    let lines = support::all_lines(&dir);
    assert!(
        lines[0].contains(r#""prev_hash":"""#),
        "genesis links to the empty hash"
    );
    for (line, id) in lines.iter().zip(&ids) {
        assert!(line.starts_with(&format!(
            r#"{{"schema_version":"rampart.audit.v1","id":"{id}","timestamp":""#
        )));
    }
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(sorted, ids, "ids of one writer sort in write order");
}

#[test]
fn size_rotation_starts_each_part_with_a_continuation_header() {
    let t = Temp::new("rotate");
    let dir = t.audit();
    let mut opts = WriterOptions::new(&dir);
    opts.rotate_bytes = 2000;
    let mut w = Writer::open(opts).unwrap();
    for n in 0..20 {
        w.append(event(n)).unwrap();
    }
    let files = support::log_files(&dir);
    assert!(files.len() >= 4, "{files:?}");
    assert!(files[1].ends_with(".p1.jsonl") && files[2].ends_with(".p2.jsonl"));
    let second = std::fs::read_to_string(dir.join(&files[1])).unwrap();
    assert!(second.starts_with(r#"{"chain_continue":"sha256:"#));
    assert!(second
        .lines()
        .next()
        .unwrap()
        .ends_with(&format!(r#""prev_file":"{}"}}"#, files[0])));
    assert_eq!(verify(&dir, &VerifyOptions::default()).unwrap().events, 20);
    assert_eq!(
        support::python_verify(&dir),
        Ok(format!("ok 20 {}", files.len()))
    );
}

#[test]
fn a_new_day_starts_a_new_file_that_continues_the_chain() {
    let t = Temp::new("day");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    w.append(event(1)).unwrap();
    drop(w);
    let today = support::log_files(&dir).remove(0);
    std::fs::rename(dir.join(&today), dir.join("2020-01-01.jsonl")).unwrap();
    let mut w = support::writer(&dir);
    w.append(event(2)).unwrap();
    assert_eq!(
        support::log_files(&dir),
        vec!["2020-01-01.jsonl".to_owned(), today.clone()]
    );
    let text = std::fs::read_to_string(dir.join(&today)).unwrap();
    assert!(text
        .lines()
        .next()
        .unwrap()
        .contains(r#""prev_file":"2020-01-01.jsonl""#));
    assert_eq!(support::python_verify(&dir), Ok("ok 2 2".into()));
}

#[test]
fn a_torn_last_line_is_cut_off_and_reported_keeping_everything_before_it() {
    let t = Temp::new("torn");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    for n in 0..3 {
        w.append(event(n)).unwrap();
    }
    drop(w);
    let file = dir.join(&support::log_files(&dir)[0]);
    let before = std::fs::read(&file).unwrap();
    let mut torn = before.clone();
    torn.extend_from_slice(br#"{"schema_version":"rampart.audit.v1","id":"01J"#);
    std::fs::write(&file, &torn).unwrap();
    let report = verify(&dir, &VerifyOptions::default()).unwrap();
    assert_eq!(
        report.torn.len(),
        1,
        "verify reports the torn tail without failing"
    );
    let mut w = support::writer(&dir);
    w.append(event(3)).unwrap();
    let notices = w.take_notices();
    assert!(
        notices
            .iter()
            .any(|n| matches!(n, Notice::TornTail { bytes, .. } if *bytes == 46)),
        "{notices:?}"
    );
    let after = std::fs::read(&file).unwrap();
    assert_eq!(&after[..before.len()], &before[..]);
    assert_eq!(support::python_verify(&dir), Ok("ok 4 1".into()));
}

#[test]
fn group_commit_answers_every_thread_with_its_own_record() {
    let t = Temp::new("group");
    let dir = t.audit();
    let w = Writer::open(WriterOptions::new(&dir).durability(Durability::Group)).unwrap();
    let group = Arc::new(GroupCommit::new(w));
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            let g = Arc::clone(&group);
            std::thread::spawn(move || {
                (0..50u64)
                    .map(|n| g.append(event(i * 1000 + n)).unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut answered = Vec::new();
    for th in threads {
        answered.extend(th.join().unwrap());
    }
    assert_eq!(answered.len(), 400);
    let lines = support::all_lines(&dir);
    assert_eq!(lines.len(), 400);
    for a in &answered {
        let line = lines.iter().find(|l| l.contains(&a.id)).unwrap();
        assert!(line.ends_with(&format!(r#""hash":"{}"}}"#, a.hash)));
        let n: u64 = a.event.request["command"].as_str().unwrap()[5..]
            .parse()
            .unwrap();
        assert!(line.contains(&format!(r#""command":"echo {n}""#)));
    }
    assert_eq!(support::python_verify(&dir), Ok("ok 400 1".into()));
}

#[test]
fn secrets_are_redacted_before_hashing() {
    let t = Temp::new("redact");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    let mut req = support::request(r#"curl -H "Authorization: Bearer sekrit123" https://x"#);
    req.insert("api_key".into(), "k-123".into());
    let mut e = rampart_audit::Event::new("exec", req).agent("a");
    e.decision.message = "used --token hunter2".into();
    w.append(e).unwrap();
    let line = &support::all_lines(&dir)[0];
    assert!(!line.contains("sekrit123") && !line.contains("k-123") && !line.contains("hunter2"));
    assert!(line.contains(r#""api_key":"[REDACTED]""#));
    assert!(line.contains("Bearer [REDACTED]"));
    assert!(line.contains(r#""message":"used --token [REDACTED]""#));
    assert_eq!(support::python_verify(&dir), Ok("ok 1 1".into()));
}

#[test]
fn an_oversized_record_is_compacted_and_still_chained() {
    let t = Temp::new("compact");
    let dir = t.audit();
    let mut w = support::writer(&dir);
    let big = "x".repeat(3 << 20);
    let a = w
        .append(rampart_audit::Event::new("write", support::request(&big)))
        .unwrap();
    assert!(a.event.compacted_fields.contains_key("request"));
    let line = &support::all_lines(&dir)[0];
    assert!(line.len() < 4096, "{}", line.len());
    assert!(line.contains(r#""_rampart_compacted":{"original_json_bytes":3145742"#));
    assert_eq!(support::python_verify(&dir), Ok("ok 1 1".into()));
}

#[test]
fn a_wrong_state_file_never_forks_the_chain_or_miscounts() {
    let t = Temp::new("state");
    let dir = t.audit();
    let mut opts = WriterOptions::new(&dir).with_home(&t.path);
    opts.spool = None;
    if let Some(c) = &mut opts.checkpoints {
        c.every_records = 5;
    }
    let mut w = Writer::open(opts.clone()).unwrap();
    for n in 0..7 {
        w.append(event(n)).unwrap();
    }
    drop(w);
    let state = dir.join(".audit-chain-state.json");
    // A forged hint: another head, another count.
    let mut forged: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    forged["last_hash"] = "sha256:0000".into();
    forged["event_count"] = 999.into();
    std::fs::write(&state, forged.to_string()).unwrap();
    let mut w = Writer::open(opts.clone()).unwrap();
    for n in 7..12 {
        w.append(event(n)).unwrap();
    }
    assert!(w
        .take_notices()
        .iter()
        .any(|n| matches!(n, Notice::Rebuilt { .. })));
    // A stale hint: the file as it was two appends ago.
    let stale = std::fs::read(&state).unwrap();
    w.append(event(12)).unwrap();
    w.append(event(13)).unwrap();
    drop(w);
    std::fs::write(&state, &stale).unwrap();
    let mut w = Writer::open(opts).unwrap();
    w.append(event(14)).unwrap();
    let key = rampart_audit::checkpoint::Key::load_or_create(
        &t.path.join(".rampart/audit.key"),
        "unused",
    )
    .unwrap();
    let report = verify(
        &dir,
        &VerifyOptions {
            key: Some(key.verifier()),
            ..VerifyOptions::default()
        },
    )
    .unwrap();
    assert_eq!(report.events, 15);
    assert!(report.checkpoints_checked >= 2, "{report:?}");
    assert_eq!(support::python_verify(&dir), Ok("ok 15 1".into()));
}

#[test]
fn two_long_lived_writers_in_turn_keep_one_chain() {
    let t = Temp::new("two");
    let dir = t.audit();
    let mut a = support::writer(&dir);
    let mut b = support::writer(&dir);
    for n in 0..20 {
        if n % 3 == 0 {
            b.append(event(n)).unwrap();
        } else {
            a.append(event(n)).unwrap();
        }
    }
    assert_eq!(support::python_verify(&dir), Ok("ok 20 1".into()));
}
