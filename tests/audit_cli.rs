//! `rampart audit …` and `rampart log` through the real binary, on logs written by rampart-audit.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

use rampart_audit::{Event, EventDecision, Writer, WriterOptions};

struct Home(PathBuf);

impl Home {
    fn new(label: &str) -> Home {
        let path = std::env::temp_dir().join(format!("rampart-cli-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o700)).unwrap();
        Home(path)
    }

    fn audit(&self) -> PathBuf {
        self.0.join(".rampart/audit")
    }

    fn rampart(&self, args: &[&str]) -> Output {
        Command::new(crate::rampart_bin())
            .args(args)
            .env("HOME", &self.0)
            .env_remove("NO_COLOR")
            .output()
            .unwrap()
    }

    fn write(&self, n: u64) {
        let mut opts = WriterOptions::hook(&self.0);
        opts.spool = None;
        let mut w = Writer::open(opts).unwrap();
        for i in 0..n {
            let serde_json::Value::Object(req) =
                serde_json::json!({"command": format!("ls dir{i}")})
            else {
                unreachable!()
            };
            let action = if i % 4 == 3 { "deny" } else { "allow" };
            let e = Event::new(if i % 5 == 4 { "read" } else { "exec" }, req)
                .agent(if i % 2 == 0 { "claude-code" } else { "codex" })
                .session("s")
                .decision(EventDecision {
                    action: action.into(),
                    message: format!("because {i}"),
                    ..EventDecision::default()
                });
            w.append(e).unwrap();
        }
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn verify_passes_a_good_log_and_names_a_broken_one_with_exit_1() {
    let h = Home::new("verify");
    h.write(8);
    let ok = h.rampart(&["audit", "verify"]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(
        stdout(&ok).lines().next(),
        Some("✓ Chain verified: 8 events across 1 files, no tampering detected")
    );
    let file = std::fs::read_dir(h.audit())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.extension().is_some_and(|x| x == "jsonl")
                && p.file_name().unwrap().to_str().unwrap().starts_with("20")
        })
        .unwrap();
    let text = std::fs::read_to_string(&file)
        .unwrap()
        .replace("ls dir5", "ls dir6");
    std::fs::write(&file, text).unwrap();
    let bad = h.rampart(&[
        "audit",
        "verify",
        "--audit-dir",
        h.audit().to_str().unwrap(),
    ]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).starts_with("audit: CHAIN BROKEN at event "),
        "{}",
        stderr(&bad)
    );
    assert!(stderr(&bad).contains(" line 6: "), "{}", stderr(&bad));
    let json = h.rampart(&["audit", "verify", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (v["ok"].as_bool(), v["line"].as_u64()),
        (Some(false), Some(6))
    );
}

#[test]
fn log_shows_aligned_rows_without_colour_when_piped_and_json_lines_on_request() {
    let h = Home::new("log");
    h.write(12);
    let out = h.rampart(&["log", "-n", "3", "--deny"]);
    assert!(out.status.success());
    let text = stdout(&out);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 3, "{text}");
    assert!(
        !text.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(rows.iter().all(|r| r.contains("  deny   ")), "{text}");
    assert!(
        rows[2].contains("ls dir11") && rows[2].contains("(because 11)"),
        "{text}"
    );
    let col = rows[0].find("ls dir").unwrap();
    assert!(
        rows.iter().all(|r| r.find("ls dir") == Some(col)),
        "columns align:\n{text}"
    );
    let json = h.rampart(&["log", "-n", "2", "--json", "--today"]);
    let lines: Vec<serde_json::Value> = stdout(&json)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["request"]["command"], "ls dir11");
    assert!(lines[1]["hash"].as_str().unwrap().starts_with("sha256:"));
}

#[test]
fn tail_search_and_stats_read_the_log() {
    let h = Home::new("read");
    h.write(10);
    let tail = h.rampart(&["audit", "tail", "-n", "2", "--json"]);
    let text = stdout(&tail);
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains("ls dir9"));
    let search = h.rampart(&[
        "audit",
        "search",
        "--agent",
        "codex",
        "--decision",
        "deny",
        "DIR",
    ]);
    let rows: Vec<String> = stdout(&search).lines().map(str::to_owned).collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows[0].contains("ls dir3") && rows[1].contains("ls dir7"));
    let stats = h.rampart(&["audit", "stats", "--since", "24h"]);
    let text = stdout(&stats);
    assert!(text.starts_with("10 events since 24h"), "{text}");
    let row = |name: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .map(|l| l.split_whitespace().last().unwrap_or("").to_owned())
    };
    assert_eq!(row("allow").as_deref(), Some("8"), "{text}");
    assert_eq!(row("claude-code").as_deref(), Some("5"), "{text}");
    let json = h.rampart(&["audit", "stats", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["by_action"]["deny"], 2);
    assert_eq!(v["by_tool"]["read"], 2);
    let replay = h.rampart(&["audit", "replay", "--speed", "0"]);
    assert_eq!(stdout(&replay).lines().count(), 10);
}

#[test]
fn a_kept_checkpoint_catches_a_rewritten_log() {
    let h = Home::new("cp");
    h.write(6);
    let cp = h.rampart(&["audit", "checkpoint"]);
    assert!(cp.status.success(), "{}", stderr(&cp));
    let note = stdout(&cp);
    assert_eq!(note.lines().nth(1), Some("6"));
    assert!(stderr(&cp).contains("verifier key"));
    let kept = h.0.join("kept.note");
    std::fs::write(&kept, &note).unwrap();
    h.write(3);
    let ok = h.rampart(&["audit", "verify", "--against", kept.to_str().unwrap()]);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(stdout(&ok).starts_with("✓ The log extends the checkpoint: 6 events then, 9 now"));
    // Rewrite: delete everything and write a new log of the same shape.
    for e in std::fs::read_dir(h.audit()).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    h.write(9);
    let bad = h.rampart(&["audit", "verify", "--against", kept.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("LOG REWRITTEN"), "{}", stderr(&bad));
}

#[test]
fn bad_flags_are_usage_errors() {
    let h = Home::new("usage");
    let out = h.rampart(&["audit", "stats", "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("is not a duration"),
        "{}",
        stderr(&out)
    );
    let out = h.rampart(&["audit", "frobnicate"]);
    assert_eq!(out.status.code(), Some(2));
}
