//! `rampart check`, `test`, `bench` and `init` as a user runs them, each in a scratch directory
//! that is also its HOME: the semantic gaps of issue 16 §4 closed where a user would notice, and
//! the upstream behaviours of §5.

use crate::cli::run_with_input;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh directory, used as the working directory and HOME.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("user-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn rampart(dir: &Path, args: &[&str]) -> Output {
    run(dir, args, None)
}

fn run(dir: &Path, args: &[&str], input: Option<&str>) -> Output {
    let mut command = Command::new(crate::rampart_bin());
    command
        .args(args)
        .current_dir(dir)
        .env("HOME", dir)
        .env_remove("RAMPART_NO_PROJECT_POLICY");
    run_with_input(command, input.unwrap_or("").as_bytes())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `rampart check` on the embedded standard profile: one decision per call.
fn check(dir: &Path, calls: &[Value]) -> Vec<Value> {
    let input: String = calls.iter().map(|c| format!("{c}\n")).collect();
    let out = run(dir, &["check"], Some(&input));
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn check_sees_the_call_the_server_would() {
    let dir = scratch("check-prepared");
    let calls = [
        // `rm -rf /`, standard base64.
        serde_json::json!({"tool": "exec", "params": {"command_b64": "cm0gLXJmIC8="}}),
        serde_json::json!({"tool": "exec", "params": {"command": "ls", "command_b64": "cm0gLXJmIC8="}}),
        serde_json::json!({"tool": "exec", "params": {"command_b64": "not base64!"}}),
        serde_json::json!({"tool": "exec", "params": {"command": "# list\n\nls -la"}}),
    ];
    let replies = check(&dir, &calls);
    let decisions: Vec<&str> = replies
        .iter()
        .map(|r| r["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["deny", "deny", "deny", "allow"], "{replies:?}");
    assert!(replies[0]["message"]
        .as_str()
        .unwrap()
        .contains("Recursive delete"));
    assert!(replies[1]["message"]
        .as_str()
        .unwrap()
        .contains("conflicting"));
    assert!(replies[2]["message"].as_str().unwrap().contains("base64"));
}

#[test]
fn wrapper_chains_and_relative_patterns_are_read_through() {
    let dir = scratch("check-gaps");
    let exec = |c: &str| serde_json::json!({"tool": "exec", "params": {"command": c}});
    let replies = check(
        &dir,
        &[
            exec("sudo env LD_PRELOAD=/tmp/x.so ls"),
            exec("doas nice env LD_PRELOAD=/tmp/x.so ls"),
            exec("xargs env RAMPART_MODE=disabled ls"),
        ],
    );
    for r in &replies {
        assert_eq!(r["decision"], "deny", "{r}");
        assert_eq!(r["policy"], "block-rampart-tamper", "{r}");
    }
    // A project's own deny of secrets/** holds for the absolute spelling under the workdir.
    std::fs::write(
        dir.join("rampart.yaml"),
        "default_action: allow\npolicies:\n  - name: secrets\n    rules:\n      - action: deny\n        when: {path_matches: [\"secrets/**\"]}\n        message: secrets\n",
    )
    .unwrap();
    let read =
        |p: &str| serde_json::json!({"tool": "read", "params": {"file_path": p}, "cwd": "/proj"});
    let replies = check(
        &dir,
        &[
            read("/proj/secrets/key"),
            read("secrets/key"),
            read("/other/secrets/key"),
        ],
    );
    let decisions: Vec<&str> = replies
        .iter()
        .map(|r| r["decision"].as_str().unwrap())
        .collect();
    assert_eq!(decisions, ["deny", "deny", "allow"]);
}

const SUITE_POLICY: &str = "default_action: allow\npolicies:\n  - name: no-push\n    rules:\n      - action: deny\n        when: {command_matches: [\"git push*\"]}\n        message: no push\n";

#[test]
fn test_reports_as_upstream() {
    let dir = scratch("test");
    std::fs::write(dir.join("policy.yaml"), SUITE_POLICY).unwrap();
    std::fs::write(
        dir.join("suite.yaml"),
        "policy: policy.yaml\ntests:\n  - name: push denied\n    tool: exec\n    params: {command: git push}\n    expect: deny\n  - name: status allowed\n    tool: exec\n    params: {command: git status}\n    expect: deny\n",
    )
    .unwrap();
    let out = rampart(&dir, &["test", "--json", "suite.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (
            report["passed"].as_u64(),
            report["failed"].as_u64(),
            report["total"].as_u64()
        ),
        (Some(1), Some(1), Some(2))
    );
    let passed = &report["tests"][0];
    assert_eq!(
        passed.as_object().unwrap().len(),
        2,
        "only name and passed: {passed}"
    );
    let failed = &report["tests"][1];
    assert_eq!(
        (failed["expected"].as_str(), failed["got"].as_str()),
        (Some("deny"), Some("allow"))
    );
    assert!(failed.get("actual").is_none() && failed["message"].is_string());

    // --config beats the suite's policy:.
    std::fs::write(
        dir.join("allow-all.yaml"),
        "default_action: allow\npolicies: []\n",
    )
    .unwrap();
    let out = rampart(
        &dir,
        &[
            "--config",
            "allow-all.yaml",
            "test",
            "--run",
            "push*",
            "suite.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("expected deny, got allow"));
    // --run matching nothing, a suite without tests, a missing suite: errors.
    let out = rampart(&dir, &["test", "--run", "nothing*", "suite.yaml"]);
    assert!(!out.status.success() && stderr(&out).contains("matches none"));
    std::fs::write(dir.join("empty.yaml"), "policy: policy.yaml\ntests: []\n").unwrap();
    let out = rampart(&dir, &["test", "empty.yaml"]);
    assert!(!out.status.success() && stderr(&out).contains("no tests"));
    assert!(!rampart(&dir, &["test", "missing.yaml"]).status.success());

    // A bare call: exit 1 on deny in text mode; --json is a preflight-shaped decision.
    let config = ["--config", "policy.yaml", "test"];
    let denied = rampart(&dir, &[&config[..], &["git push origin main"]].concat());
    assert_eq!(denied.status.code(), Some(1));
    assert!(stdout(&denied).starts_with("deny: git push origin main (no push)"));
    let allowed = rampart(&dir, &[&config[..], &["git status"]].concat());
    assert_eq!(allowed.status.code(), Some(0));
    let json = rampart(&dir, &[&config[..], &["--json", "git push"]].concat());
    assert_eq!(json.status.code(), Some(0));
    let d: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(
        (d["decision"].as_str(), d["allowed"].as_bool()),
        (Some("deny"), Some(false))
    );
    assert!(d["eval_duration_us"].is_u64() && d["matched_policies"].is_array());
    // With --tool, a .yaml target is a path to decide, not a suite.
    let path = rampart(
        &dir,
        &[&config[..], &["--tool", "read", "suite.yaml"]].concat(),
    );
    assert_eq!(path.status.code(), Some(0), "{}", stderr(&path));
    assert!(stdout(&path).starts_with("allow: suite.yaml"));
}

#[test]
fn bench_runs_outside_the_checkout_and_reads_upstreams_corpus() {
    let dir = scratch("bench");
    let out = rampart(&dir, &["bench", "--min-coverage", "98"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("total"));
    for corpus in ["embedded:attacks", "embedded:benign"] {
        let out = rampart(&dir, &["bench", "--corpus", corpus, "--json"]);
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert!(
            report["table"]["total"]["total"].as_u64().unwrap() > 100,
            "{corpus}"
        );
    }
    assert!(!rampart(&dir, &["bench", "--corpus", "embedded:nope"])
        .status
        .success());

    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/upstream-bench-corpus.yaml"
    );
    let total = |args: &[&str]| {
        let out = rampart(
            &dir,
            &[&["bench", "--json", "--corpus", fixture][..], args].concat(),
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
        let t = &report["table"]["total"];
        (
            t["as_labelled"].as_u64().unwrap(),
            t["total"].as_u64().unwrap(),
        )
    };
    // Medium and up, this host (linux): five cases; standard stops them all, the sudo restart
    // by asking.
    assert_eq!(total(&[]), (5, 5));
    assert_eq!(total(&["--strict"]), (4, 5));
    assert_eq!(total(&["--severity", "critical"]), (2, 2));
    // The Windows case joins those for any platform; the linux-only one leaves.
    assert_eq!(total(&["--os", "windows", "--severity", "low"]), (6, 6));
    assert_eq!(total(&["--id", "credentials-ssh-key"]), (1, 1));
    // --policy names the policy benched.
    std::fs::write(
        dir.join("open.yaml"),
        "default_action: allow\npolicies: []\n",
    )
    .unwrap();
    assert_eq!(total(&["--policy", "open.yaml"]), (0, 5));
    let out = rampart(
        &dir,
        &["bench", "--corpus", fixture, "--id", "recon-whoami"],
    );
    assert!(
        !out.status.success(),
        "a low-severity id is not selected by default"
    );
}

#[test]
fn init_writes_rampart_yaml_and_the_profiles_pass_their_tests() {
    let dir = scratch("init");
    let policies = dir.join(".rampart/policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("paranoid.yaml"), "# mine\n").unwrap();
    for profile in [
        "block-prompt-injection",
        "research-agent",
        "mcp-server",
        "ci",
        "guard",
    ] {
        let out = rampart(&dir, &["init", "--profile", profile, "--force"]);
        assert!(out.status.success(), "{profile}: {}", stderr(&out));
        let written = std::fs::read_to_string(dir.join("rampart.yaml")).unwrap();
        assert!(written.contains(&format!("built-in profile: {profile}")));
        let out = rampart(&dir, &["test", "rampart.yaml"]);
        assert!(out.status.success(), "{profile}: {}", stdout(&out));
    }
    // An existing file is kept without --force; nothing else is touched.
    let out = rampart(&dir, &["init", "--profile", "paranoid"]);
    assert!(!out.status.success() && stderr(&out).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(policies.join("paranoid.yaml")).unwrap(),
        "# mine\n"
    );
    assert!(rampart(&dir, &["init", "--force"]).status.success());
    assert_eq!(
        std::fs::read_to_string(policies.join("paranoid.yaml")).unwrap(),
        "# mine\n"
    );

    // --project: the git root's .rampart/policy.yaml, from anywhere inside the repository.
    let repo = dir.join("repo");
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::create_dir_all(repo.join("src/deep")).unwrap();
    let out = rampart(&repo.join("src/deep"), &["init", "--project"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let project = repo.join(".rampart/policy.yaml");
    assert!(project.is_file());
    let out = rampart(&repo, &["test", ".rampart/policy.yaml"]);
    assert!(out.status.success(), "{}", stdout(&out));
    // The target directory lies inside this checkout, itself a git repository.
    let outside = std::env::temp_dir().join(format!("rampart-init-outside-{}", std::process::id()));
    std::fs::create_dir_all(&outside).unwrap();
    let out = rampart(&outside, &["init", "--project"]);
    let _ = std::fs::remove_dir_all(&outside);
    assert!(!out.status.success() && stderr(&out).contains("not inside a git repository"));
}
