//! Golden load errors: each `golden/load-errors/NAME.yaml` (or directory `NAME/`) must fail to load
//! with exactly the one-line message in `NAME.expected`, position included. Lint must flag the same
//! place, so an author who lints first is never surprised by the loader.
//!
//! Positions name files as the paths given; the expected messages read `NAME.yaml:line:col`, as
//! a user running `rampart` in that directory would see them, so the directory is taken off the
//! front of every path in a message before comparing (the working directory is not changed: the
//! other tests of this binary run alongside).

use rampart_compiler::lint::{lint_path, Severity};
use rampart_compiler::load::load_paths;
use std::path::{Path, PathBuf};

fn cases(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut cases: Vec<(String, PathBuf)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) != Some("expected"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            let input = PathBuf::from(p.file_name().unwrap());
            (name, input)
        })
        .collect();
    cases.sort();
    cases
}

#[test]
fn every_bad_policy_fails_with_its_expected_message() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../golden/load-errors");
    let cases = cases(&dir);
    let relative = |message: String| message.replace(&format!("{}/", dir.display()), "");
    assert!(cases.len() >= 20, "only {} golden load errors", cases.len());
    let mut failures = Vec::new();
    for (name, input) in &cases {
        let expected_file = dir.join(format!("{name}.expected"));
        let expected = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|_| panic!("{} is missing", expected_file.display()));
        let expected = expected.trim_end();
        let input = &dir.join(input);
        let actual = match load_paths(std::slice::from_ref(input)) {
            Ok(_) => "(loaded without error)".to_string(),
            Err(e) => relative(e.to_string()),
        };
        if actual != expected {
            failures.push(format!(
                "{name}:\n  expected: {expected}\n  actual:   {actual}"
            ));
            continue;
        }
        if input.is_file() {
            let err = load_paths(std::slice::from_ref(input)).unwrap_err();
            let pos = err.pos.expect("every golden error has a position");
            let findings = lint_path(input).unwrap();
            let flagged = findings.iter().any(|f| {
                f.severity != Severity::Info && (f.pos.line, f.pos.column) == (pos.line, pos.column)
            });
            if !flagged {
                let pos = relative(pos.to_string());
                failures.push(format!("{name}: lint does not flag {pos}: {findings:#?}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Every expected file belongs to a case.
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("expected") {
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(
                cases.iter().any(|(n, _)| *n == stem),
                "{stem}.expected has no case"
            );
        }
    }
}
