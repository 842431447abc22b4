//! A record edited, deleted, inserted or reordered, a file removed from the middle: verify names
//! what happened, and where.

use rampart_audit::chain;
use rampart_audit::verify::{verify, VerifyError, VerifyOptions};
use rampart_audit::{Writer, WriterOptions};

use crate::support::{self, event, Temp};

/// A log of `n` events in files of about 2,000 bytes; returns its directory.
fn log(t: &Temp, n: u64) -> std::path::PathBuf {
    let dir = t.audit();
    let mut opts = WriterOptions::new(&dir);
    opts.rotate_bytes = 2000;
    let mut w = Writer::open(opts).unwrap();
    for i in 0..n {
        w.append(event(i)).unwrap();
    }
    dir
}

fn edit(dir: &std::path::Path, file: &str, f: impl FnOnce(&mut Vec<String>)) {
    let path = dir.join(file);
    let mut lines: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    f(&mut lines);
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
}

fn broken(dir: &std::path::Path) -> rampart_audit::verify::Break {
    match verify(dir, &VerifyOptions::default()) {
        Err(VerifyError::Broken(b)) => b,
        other => panic!("expected a break, got {other:?}"),
    }
}

fn id_of(line: &str) -> String {
    chain::event_id(line.as_bytes()).unwrap()
}

#[test]
fn an_edited_record_is_named_by_id_file_and_line() {
    let t = Temp::new("edited");
    let dir = log(&t, 10);
    let file = support::log_files(&dir).remove(0);
    let mut victim = String::new();
    edit(&dir, &file, |lines| {
        victim = id_of(&lines[2]);
        lines[2] = lines[2].replace("echo 2", "echo 3");
    });
    let b = broken(&dir);
    assert_eq!(
        (b.file.as_str(), b.line, b.id.as_deref()),
        (file.as_str(), 3, Some(victim.as_str()))
    );
    assert!(b.what.contains("edited"), "{}", b.what);
    assert!(b.to_string().starts_with(&format!(
        "CHAIN BROKEN at event {victim} in file {file} line 3"
    )));
    assert!(support::python_verify(&dir).is_err());
}

#[test]
fn a_deleted_record_is_reported_at_the_event_after_it() {
    let t = Temp::new("deleted");
    let dir = log(&t, 10);
    let file = support::log_files(&dir).remove(0);
    let mut after = String::new();
    edit(&dir, &file, |lines| {
        lines.remove(2);
        after = id_of(&lines[2]);
    });
    let b = broken(&dir);
    assert_eq!(b.id.as_deref(), Some(after.as_str()));
    assert!(b.what.contains("deleted"), "{}", b.what);
}

#[test]
fn an_inserted_record_with_a_valid_hash_is_named() {
    let t = Temp::new("inserted");
    let dir = log(&t, 10);
    let file = support::log_files(&dir).remove(0);
    let mut forged_id = String::new();
    edit(&dir, &file, |lines| {
        // A forger who links a new record to line 2's and hashes it correctly.
        let prev = chain::classify(lines[1].as_bytes())
            .ok()
            .and_then(|l| match l {
                chain::Line::Event(r) => Some(r.hash.to_owned()),
                _ => None,
            });
        let mut e = event(99);
        e.id = "01JFORGED0000000000000000X".into();
        e.host = rampart_audit::Host::this();
        let sealed = chain::seal(&mut e, &prev.unwrap());
        forged_id = e.id.clone();
        lines.insert(
            2,
            String::from_utf8(sealed.line)
                .unwrap()
                .trim_end()
                .to_owned(),
        );
    });
    let b = broken(&dir);
    assert!(
        b.what.contains(&format!("so event {forged_id}")) && b.what.contains("inserted"),
        "{}",
        b.what
    );
    assert_eq!(b.line, 4);
}

#[test]
fn reordered_records_are_named() {
    let t = Temp::new("reordered");
    let dir = log(&t, 10);
    let file = support::log_files(&dir).remove(0);
    edit(&dir, &file, |lines| lines.swap(2, 3));
    let b = broken(&dir);
    assert_eq!(b.line, 3);
    assert!(b.what.contains("reordered"), "{}", b.what);
}

#[test]
fn a_file_removed_from_the_middle_is_named() {
    let t = Temp::new("removed");
    let dir = log(&t, 30);
    let files = support::log_files(&dir);
    assert!(files.len() >= 4, "{files:?}");
    std::fs::remove_file(dir.join(&files[1])).unwrap();
    let b = broken(&dir);
    assert_eq!(b.file, files[2]);
    assert_eq!(b.line, 1);
    assert!(
        b.what.contains(&format!("file {} is missing", files[1])),
        "{}",
        b.what
    );
}

#[test]
fn a_duplicated_record_is_caught() {
    let t = Temp::new("dup");
    let dir = log(&t, 5);
    let file = support::log_files(&dir).remove(0);
    let mut at = 0;
    edit(&dir, &file, |lines| {
        let copy = lines[lines.len() - 1].clone();
        lines.push(copy);
        at = lines.len() as u64;
    });
    let b = broken(&dir);
    assert_eq!(b.line, at);
}

#[test]
fn a_writer_refuses_to_extend_a_log_whose_last_record_was_edited() {
    let t = Temp::new("refuse");
    let dir = log(&t, 3);
    let file = support::log_files(&dir).remove(0);
    edit(&dir, &file, |lines| {
        let last = lines.len() - 1;
        lines[last] = lines[last].replace("echo 2", "echo 7");
    });
    let err = support::writer(&dir).append(event(3)).unwrap_err();
    assert!(err.to_string().contains("does not match its hash"), "{err}");
}
