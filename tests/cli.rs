//! The `rampart` binary itself, as scripts and users run it: `check` over a stream of calls good
//! and bad, `version`, and arguments refused by the parser.

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const POLICY: &str = r#"
default_action: allow
policies:
  - name: no-rm
    rules:
      - action: deny
        when: {command_matches: ["rm -rf *"]}
        message: no recursive removal
"#;

/// A scratch directory with `policy.yaml`; commands run there, with it as their HOME.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
    dir
}

fn rampart(dir: &PathBuf, args: &[&str]) -> Command {
    let mut command = Command::new(crate::rampart_bin());
    command.args(args).current_dir(dir).env("HOME", dir);
    command
}

pub(crate) fn run_with_input(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    // A command that fails before reading closes its stdin: that write error is not the test's.
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    let _ = writer.join().unwrap();
    output
}

fn replies(output: &Output) -> Vec<Value> {
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

#[test]
fn check_decides_every_line_on_its_own() {
    let dir = scratch("check-lines");
    let mut input = Vec::new();
    for line in [
        &br#"{"tool":"exec","params":{"command":"git status"}}"#[..],
        b"{\"tool\":\"exec\",\"params\":{\"command\":\"ls \xff\"}}",
        b"{tool: exec",
        b"",
        b"[1, 2]",
        br#"{"tool":"exec","params":{"command":"rm -rf /"}}"#,
        b"   ",
        br#"{"tool":"exec","params":{"command":"ls"}}"#,
    ] {
        input.extend_from_slice(line);
        input.extend_from_slice(b"\r\n");
    }
    let output = run_with_input(rampart(&dir, &["--config", "policy.yaml", "check"]), &input);
    assert!(output.status.success(), "{output:?}");
    let replies = replies(&output);
    let decisions: Vec<&str> = replies
        .iter()
        .map(|r| r["decision"].as_str().unwrap())
        .collect();
    // Blank lines get no reply; every other line gets one, in order.
    assert_eq!(
        decisions,
        ["allow", "deny", "deny", "deny", "deny", "allow"]
    );
    let errors: Vec<&str> = replies.iter().filter_map(|r| r["error"].as_str()).collect();
    assert_eq!(errors.len(), 3, "{replies:?}");
    assert!(
        errors[0].starts_with("line 2: not valid UTF-8 (invalid byte at column 40)"),
        "{}",
        errors[0]
    );
    assert!(
        errors[1].starts_with("line 3: invalid JSON:"),
        "{}",
        errors[1]
    );
    assert_eq!(errors[2], "line 5: a tool call must be a JSON object");
    for bad in &replies[1..4] {
        assert_eq!(bad["allowed"], false);
        assert!(bad["message"]
            .as_str()
            .unwrap()
            .ends_with("; failing closed"));
    }
    assert_eq!(replies[4]["message"], "no recursive removal");
    assert_eq!(replies[4]["policy"], "no-rm");
    assert_eq!(replies[5]["allowed"], true);
}

#[test]
fn check_denies_an_overlong_line_and_reads_on() {
    let dir = scratch("check-long");
    let command = format!("echo {}", "x".repeat(1 << 20));
    let long = serde_json::json!({"tool": "exec", "params": {"command": command}});
    let mut input = long.to_string().into_bytes();
    input.extend_from_slice(b"\n{\"tool\":\"exec\",\"params\":{\"command\":\"ls\"}}\n");
    let output = run_with_input(rampart(&dir, &["--config", "policy.yaml", "check"]), &input);
    assert!(output.status.success(), "{output:?}");
    let replies = replies(&output);
    assert_eq!(replies.len(), 2);
    assert_eq!(replies[0]["decision"], "deny");
    assert_eq!(replies[0]["error"], "line 1: longer than 1048576 bytes");
    assert_eq!(replies[1]["decision"], "allow");
}

#[test]
fn check_without_a_usable_policy_fails_with_its_position() {
    let dir = scratch("check-bad-policy");
    std::fs::write(
        dir.join("bad.yaml"),
        "policies:\n  - name: x\n    rules: 3\n",
    )
    .unwrap();
    let input = br#"{"tool":"exec","params":{"command":"ls"}}"#;
    let output = run_with_input(rampart(&dir, &["--config", "bad.yaml", "check"]), input);
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("rampart: bad.yaml:3:12: "), "{stderr}");
}

#[test]
fn version_says_what_dash_dash_version_says_and_the_bundle_format() {
    let dir = scratch("version");
    let flag = rampart(&dir, &["--version"]).output().unwrap();
    let command = rampart(&dir, &["version"]).output().unwrap();
    assert!(flag.status.success() && command.status.success());
    let flag = String::from_utf8(flag.stdout).unwrap();
    let command = String::from_utf8(command.stdout).unwrap();
    let mut lines = command.lines();
    assert_eq!(lines.next(), flag.lines().next());
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "bundle format {} (regex-automata/4)",
                rampart_runtime::bundle::FORMAT_VERSION
            )
            .as_str()
        )
    );
    let json = rampart(&dir, &["version", "--json"]).output().unwrap();
    let json: Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn preload_accepts_only_the_library_modes() {
    let dir = scratch("preload-mode");
    for mode in ["loud", "audit", "MONITOR"] {
        let output = rampart(&dir, &["preload", "--mode", mode, "--", "true"])
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "--mode {mode}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("[possible values: enforce, monitor, disabled]"),
            "{stderr}"
        );
    }
}
