//! Signed checkpoints: written every N records, printed, and a kept one catches a rewrite.

use rampart_audit::against::{against, Diverged};
use rampart_audit::checkpoint::{Checkpoint, Key};
use rampart_audit::{Writer, WriterOptions};

use crate::support::{self, event, Temp};

fn options(t: &Temp, every: u64) -> WriterOptions {
    let mut opts = WriterOptions::new(t.audit()).with_home(&t.path);
    opts.spool = None;
    if let Some(c) = &mut opts.checkpoints {
        c.every_records = every;
    }
    opts
}

fn key(t: &Temp) -> Key {
    Key::load_or_create(&t.path.join(".rampart/audit.key"), "unused").unwrap()
}

#[test]
fn checkpoints_are_signed_every_n_records_and_the_key_file_is_private() {
    let t = Temp::new("cp");
    let mut w = Writer::open(options(&t, 10)).unwrap();
    for n in 0..25 {
        w.append(event(n)).unwrap();
    }
    let stored = rampart_audit::checkpoint::stored(&t.audit()).unwrap();
    let sizes: Vec<u64> = stored
        .iter()
        .map(|(_, note)| Checkpoint::open(note, &key(&t).verifier()).unwrap().size)
        .collect();
    // The first record is pinned at once (no checkpoint is older than T), then every 10.
    assert_eq!(sizes, vec![1, 11, 21]);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(t.path.join(".rampart/audit.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let latest = w.checkpoint_now().unwrap().unwrap();
    assert_eq!(latest.size, 25);
    assert!(latest.note.lines().nth(3) == Some(""));
    assert!(latest
        .note
        .lines()
        .nth(4)
        .unwrap()
        .starts_with("\u{2014} rampart-audit-"));
}

#[test]
fn a_kept_checkpoint_proves_the_log_extends_it() {
    let t = Temp::new("extends");
    let mut w = Writer::open(options(&t, 1000)).unwrap();
    for n in 0..13 {
        w.append(event(n)).unwrap();
    }
    let kept = w.checkpoint_now().unwrap().unwrap().note;
    for n in 13..40 {
        w.append(event(n)).unwrap();
    }
    let ok = against(&t.audit(), &kept, &key(&t).verifier()).unwrap();
    assert_eq!((ok.checkpoint.size, ok.log_size), (13, 40));
    assert!(ok.proof_len > 0 && ok.same_origin);
}

#[test]
fn a_whole_log_rewritten_with_a_valid_chain_is_caught_only_by_the_kept_checkpoint() {
    let t = Temp::new("rewrite");
    let mut w = Writer::open(options(&t, 1000)).unwrap();
    for n in 0..20 {
        w.append(event(n)).unwrap();
    }
    let kept = w.checkpoint_now().unwrap().unwrap().note;
    drop(w);
    // The attacker rewrites everything: one event changed, every hash recomputed, the local
    // checkpoints and state deleted, and a fresh chain written from scratch.
    let dir = t.audit();
    let lines = support::all_lines(&dir);
    for f in std::fs::read_dir(&dir).unwrap() {
        std::fs::remove_file(f.unwrap().path()).unwrap();
    }
    let mut w = Writer::open(WriterOptions::new(&dir)).unwrap();
    for (i, line) in lines.iter().enumerate() {
        let mut e = rampart_audit::Event::parse(line.as_bytes()).unwrap();
        if i == 7 {
            e.request.insert("command".into(), "echo innocent".into());
        }
        w.append(e).unwrap();
    }
    assert!(rampart_audit::verify::verify(&dir, &Default::default()).is_ok());
    assert!(support::python_verify(&dir).is_ok());
    match against(&dir, &kept, &key(&t).verifier()) {
        Err(Diverged::Rewritten { size, files }) => {
            assert_eq!(size, 20);
            assert_eq!(files, support::log_files(&dir));
        }
        other => panic!("expected a rewrite, got {other:?}"),
    }
    // Dropping records after the rewrite: the checkpoint covers more than the log holds.
    let file = dir.join(&support::log_files(&dir)[0]);
    let text = std::fs::read_to_string(&file).unwrap();
    let kept_lines: Vec<&str> = text.lines().take(5).collect();
    std::fs::write(&file, kept_lines.join("\n") + "\n").unwrap();
    assert!(matches!(
        against(&dir, &kept, &key(&t).verifier()),
        Err(Diverged::Shorter {
            checkpoint: 20,
            log: 5
        })
    ));
}

#[test]
fn a_replaced_key_and_an_altered_note_are_named() {
    let t = Temp::new("key");
    let mut w = Writer::open(options(&t, 1000)).unwrap();
    w.append(event(1)).unwrap();
    let kept = w.checkpoint_now().unwrap().unwrap().note;
    let other = Temp::new("key2");
    let other_key = key(&other);
    let err = against(&t.audit(), &kept, &other_key.verifier()).unwrap_err();
    assert!(err.to_string().contains("not signed by key"), "{err}");
    let altered = kept.replacen("\n1\n", "\n2\n", 1);
    let err = against(&t.audit(), &altered, &key(&t).verifier()).unwrap_err();
    assert!(err.to_string().contains("does not verify"), "{err}");
}
