//! Interoperability with upstream's format, both ways.

use rampart_audit::chain::{self, Line};
use rampart_audit::verify::{verify, VerifyOptions};
use rampart_audit::Event;

use crate::support::{self, event, Temp};

#[test]
fn hand_built_upstream_fixtures_verify_under_ours() {
    let t = Temp::new("fixtures");
    let dir = support::fixture("upstream", &t.path);
    let report = verify(&dir, &VerifyOptions::default()).unwrap();
    assert_eq!((report.events, report.files), (6, 3));
    assert_eq!(support::python_verify(&dir), Ok("ok 6 3".into()));
}

#[test]
fn every_fixture_event_re_encodes_byte_for_byte() {
    let t = Temp::new("reencode");
    let dir = support::fixture("upstream", &t.path);
    for line in support::all_lines(&dir) {
        if let Ok(Line::Event(_)) = chain::classify(line.as_bytes()) {
            let event = Event::parse(line.as_bytes()).unwrap();
            assert_eq!(String::from_utf8(event.encode()).unwrap(), line);
        }
    }
}

#[test]
fn ours_extends_an_upstream_log_and_both_verifiers_accept_the_result() {
    let t = Temp::new("extend");
    let dir = support::fixture("upstream", &t.path);
    let mut w = support::writer(&dir);
    let mut e = event(1);
    e.request.insert("html".into(), "<script>&\u{2028}".into());
    e.request.insert(
        "n".into(),
        serde_json::json!({"big": 12345678901234567890u64, "f": 1.0e-9}),
    );
    w.append(e).unwrap();
    let files = support::log_files(&dir);
    assert_eq!(
        files.len(),
        4,
        "today's file follows the fixture's last file"
    );
    let ours = std::fs::read_to_string(dir.join(&files[3])).unwrap();
    assert!(ours.starts_with(r#"{"chain_continue":"sha256:"#));
    assert!(ours.contains(r#""prev_file":"2026-01-03.p1.jsonl""#));
    assert!(ours.contains(r#""html":"\u003cscript\u003e\u0026\u2028""#));
    assert!(ours.contains(r#""n":{"big":12345678901234567000,"f":1e-9}"#));
    assert_eq!(support::python_verify(&dir), Ok("ok 7 4".into()));
    assert_eq!(verify(&dir, &VerifyOptions::default()).unwrap().events, 7);
}
