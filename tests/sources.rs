//! The policy in force through the real binary: merged sources, the project policy, user rules
//! taking effect on the next call, single-use rules claimed once under racing processes,
//! expired rules, a damaged cache and racing rebuilds. Each test has its own HOME and git
//! repository.

use serde_json::Value;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A scratch HOME and a git repository (the working directory) with `./rampart.yaml`.
struct Scratch {
    root: PathBuf,
}

const PRIMARY: &str = r#"
default_action: deny
policies:
  - name: base
    rules:
      - action: allow
        when: {command_matches: ["ls *", "git status"]}
"#;

impl Scratch {
    fn new(name: &str) -> Scratch {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("sources-{name}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home/.rampart/policies")).unwrap();
        std::fs::create_dir_all(root.join("repo/sub")).unwrap();
        let git = Command::new("git")
            .args(["init", "-q"])
            .current_dir(root.join("repo"))
            .status()
            .unwrap();
        assert!(git.success());
        std::fs::write(root.join("repo/rampart.yaml"), PRIMARY).unwrap();
        Scratch { root }
    }

    fn home(&self) -> PathBuf {
        self.root.join("home")
    }

    fn repo(&self) -> PathBuf {
        self.root.join("repo")
    }

    fn user_file(&self, name: &str, text: &str) {
        std::fs::write(self.home().join(".rampart/policies").join(name), text).unwrap();
    }

    fn project(&self, text: &str) {
        std::fs::create_dir_all(self.repo().join(".rampart")).unwrap();
        std::fs::write(self.repo().join(".rampart/policy.yaml"), text).unwrap();
    }

    fn rampart(&self, args: &[&str]) -> Command {
        let mut c = Command::new(crate::rampart_bin());
        c.args(args)
            .current_dir(self.repo())
            .env("HOME", self.home())
            .env_remove("RAMPART_NO_PROJECT_POLICY");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.rampart(args).output().unwrap()
    }

    /// Decides `command` with `rampart check` (`--enforce` when `enforce`).
    fn decide_with(&self, mut c: Command, command: &str) -> Value {
        let line = serde_json::json!({"tool": "exec", "params": {"command": command}});
        let out = with_input(&mut c, format!("{line}\n").as_bytes());
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"))
    }

    fn decide(&self, command: &str) -> Value {
        self.decide_with(self.rampart(&["check"]), command)
    }

    fn enforce(&self, command: &str) -> Value {
        self.decide_with(self.rampart(&["check", "--enforce"]), command)
    }
}

fn with_input(c: &mut Command, input: &[u8]) -> Output {
    let mut child = c
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that fails before reading closes its stdin: that write error is not the test's
    // (what the command answered is).
    let _ = child.stdin.take().unwrap().write_all(input);
    child.wait_with_output().unwrap()
}

fn decision(v: &Value) -> &str {
    v["decision"].as_str().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn the_primary_the_user_directory_and_the_project_policy_all_apply() {
    let s = Scratch::new("merged");
    s.user_file(
        "custom.yaml",
        "policies:\n  - name: no-curl\n    rules:\n      - action: deny\n        when: {command_matches: [\"curl *\"]}\n        message: no curl\n  - name: base\n    rules:\n      - action: allow\n        when: {default: true}\n",
    );
    s.project(
        "policies:\n  - name: no-wget\n    rules:\n      - action: deny\n        when: {command_matches: [\"wget *\"]}\n        message: no wget here\n",
    );
    assert_eq!(decision(&s.decide("ls -la")), "allow");
    let curl = s.decide("curl x");
    assert_eq!(
        (decision(&curl), curl["message"].as_str()),
        ("deny", Some("no curl"))
    );
    let wget = s.decide("wget x");
    assert_eq!(wget["message"], "[Project Policy] no wget here");
    // The primary wins the name clash: the user's catch-all `base` is dropped.
    assert_eq!(decision(&s.decide("make")), "deny");

    let check = s.run(&["policy", "check"]);
    assert!(check.status.success(), "{check:?}");
    let text = stdout(&check);
    for file in [
        "repo/rampart.yaml",
        "policies/custom.yaml",
        "repo/.rampart/policy.yaml",
    ] {
        assert!(text.contains(file), "{file} not listed:\n{text}");
    }
    let rules = s.run(&["policy", "rules", "--json"]);
    let rules: Value = serde_json::from_slice(&rules.stdout).unwrap();
    let files: Vec<(&str, &str)> = rules["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap(),
                p["source_file"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(files
        .iter()
        .any(|(n, f)| *n == "no-wget" && f.ends_with("repo/.rampart/policy.yaml")));

    // RAMPART_NO_PROJECT_POLICY turns the project policy off.
    let mut off = s.rampart(&["check"]);
    off.env("RAMPART_NO_PROJECT_POLICY", "1");
    assert_eq!(decision(&s.decide_with(off, "wget x")), "deny");
    let mut off = s.rampart(&["check"]);
    off.env("RAMPART_NO_PROJECT_POLICY", "1");
    assert_eq!(
        s.decide_with(off, "wget x")["message"],
        "project policy cannot weaken global default deny"
    );
}

#[test]
fn a_project_policy_cannot_weaken_the_default_or_call_webhooks() {
    let s = Scratch::new("project");
    s.project(
        "policies:\n  - name: let-me\n    rules:\n      - action: allow\n        when: {command_matches: [\"rm *\"]}\n",
    );
    let rm = s.decide("rm notes.txt");
    assert_eq!(decision(&rm), "deny");
    assert_eq!(
        rm["message"],
        "project policy cannot weaken global default deny"
    );
    s.project(
        "policies:\n  - name: call-out\n    rules:\n      - action: webhook\n        webhook: {url: \"http://127.0.0.1:9/x\"}\n        when: {default: true}\n",
    );
    let out = with_input(
        &mut s.rampart(&["check"]),
        b"{\"tool\":\"exec\",\"params\":{\"command\":\"ls\"}}\n",
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("project policies may not use action webhook"));
}

#[test]
fn allow_and_block_apply_to_the_very_next_call_and_rules_removes_them() {
    let s = Scratch::new("user-rules");
    let denied = s.decide("npm install left-pad");
    assert_eq!(decision(&denied), "deny");
    assert_eq!(
        denied["suggestions"][0],
        "rampart allow 'npm install left-pad'"
    );
    assert_eq!(denied["suggestions"][1], "rampart allow 'npm install *'");
    assert!(s.run(&["allow", "npm install *", "-y"]).status.success());
    assert_eq!(decision(&s.decide("npm install left-pad")), "allow");
    assert!(s
        .run(&["block", "ls -la", "--message", "not that one"])
        .status
        .success());
    let ls = s.decide("ls -la");
    assert_eq!(
        (decision(&ls), ls["message"].as_str()),
        ("deny", Some("not that one"))
    );
    assert_eq!(decision(&s.decide("ls -l")), "allow");

    let list = stdout(&s.run(&["rules"]));
    assert!(list.contains("1. rampart allow npm install *"), "{list}");
    assert!(s.run(&["rules", "remove", "2"]).status.success());
    assert_eq!(decision(&s.decide("ls -la")), "allow");
    assert!(s.run(&["rules", "reset", "-y"]).status.success());
    assert_eq!(decision(&s.decide("npm install left-pad")), "deny");
    // The generated file loads under the strict loader.
    let custom = s.home().join(".rampart/policies/custom.yaml");
    assert!(s
        .run(&["policy", "check", custom.to_str().unwrap()])
        .status
        .success());
}

#[test]
fn a_rule_past_its_expiry_no_longer_applies() {
    let s = Scratch::new("expired");
    s.user_file(
        "custom.yaml",
        "policies:\n  - name: old\n    rules:\n      - action: allow\n        when: {command_matches: [\"make\"]}\n        expires_at: \"2020-01-01T00:00:00Z\"\n  - name: current\n    rules:\n      - action: allow\n        when: {command_matches: [\"make test\"]}\n        expires_at: \"2999-01-01T00:00:00Z\"\n",
    );
    assert_eq!(decision(&s.decide("make")), "deny");
    assert_eq!(decision(&s.enforce("make")), "deny");
    assert_eq!(decision(&s.decide("make test")), "allow");
    // `--for` writes an expiry in the future.
    assert!(s
        .run(&["allow", "cargo build", "--for", "1h"])
        .status
        .success());
    assert_eq!(decision(&s.decide("cargo build")), "allow");
}

#[test]
fn a_single_use_rule_is_consumed_exactly_once_by_racing_processes() {
    let s = Scratch::new("once");
    assert!(s.run(&["allow", "git push", "--once"]).status.success());
    // A preview does not consume it.
    assert_eq!(decision(&s.decide("git push")), "allow");
    assert_eq!(decision(&s.decide("git push")), "allow");
    let line = b"{\"tool\":\"exec\",\"params\":{\"command\":\"git push\"}}\n";
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut child = s
                .rampart(&["check", "--enforce"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(line).unwrap();
            child
        })
        .collect();
    let decisions: Vec<String> = children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            v["decision"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(
        decisions.iter().filter(|d| *d == "allow").count(),
        1,
        "{decisions:?}"
    );
    assert_eq!(decision(&s.enforce("git push")), "deny");
    assert_eq!(decision(&s.decide("git push")), "deny");
    assert!(stdout(&s.run(&["rules"])).contains("no user rules"));
}

/// The cached bundle of the scratch's sources.
fn cached_bundle(s: &Scratch) -> PathBuf {
    let dir = s.home().join(".rampart/cache");
    std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "bin"))
        .unwrap_or_else(|| panic!("no bundle in {}", dir.display()))
}

#[test]
fn a_damaged_cache_is_rebuilt_never_trusted() {
    let s = Scratch::new("corrupt");
    s.user_file("custom.yaml", "policies:\n  - name: no-curl\n    rules:\n      - action: deny\n        when: {command_matches: [\"curl *\"]}\n");
    assert_eq!(decision(&s.decide("curl x")), "deny");
    let bundle = cached_bundle(&s);
    let stamp = bundle.with_extension("stamp");
    for damage in [&b"garbage"[..], b""] {
        std::fs::write(&bundle, damage).unwrap();
        assert_eq!(decision(&s.decide("curl x")), "deny");
        assert_eq!(decision(&s.decide("ls x")), "allow");
    }
    // A bundle from other sources put in its place: its sha256 is not the record's.
    let other = Scratch::new("corrupt-other");
    assert_eq!(decision(&other.decide("curl x")), "deny");
    other.user_file("custom.yaml", "policies:\n  - name: all\n    rules:\n      - action: allow\n        when: {default: true}\n");
    assert_eq!(decision(&other.decide("curl x")), "allow");
    std::fs::copy(cached_bundle(&other), &bundle).unwrap();
    assert_eq!(decision(&s.decide("curl x")), "deny");
    std::fs::write(&stamp, b"rampart-stamp\0\0\x01nonsense").unwrap();
    assert_eq!(decision(&s.decide("curl x")), "deny");
    // Flipped bytes past the header are found by `policy check`, which rebuilds.
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(&bundle, &bytes).unwrap();
    let check = s.run(&["policy", "check"]);
    assert!(check.status.success(), "{check:?}");
    assert!(String::from_utf8_lossy(&check.stderr).contains("rebuilding"));
    assert_eq!(decision(&s.decide("curl x")), "deny");
    // Sources that do not load fail closed with the position.
    s.user_file("custom.yaml", "policies:\n  - name: x\n    rules: 3\n");
    let out = with_input(
        &mut s.rampart(&["check"]),
        b"{\"tool\":\"exec\",\"params\":{\"command\":\"ls\"}}\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("custom.yaml:3:12"));
}

#[test]
fn racing_rebuilds_agree_and_leave_a_whole_bundle() {
    let s = Scratch::new("race");
    assert_eq!(decision(&s.decide("curl x")), "deny");
    s.user_file("custom.yaml", "policies:\n  - name: curl-ok\n    rules:\n      - action: allow\n        when: {command_matches: [\"curl *\"]}\n");
    let line = b"{\"tool\":\"exec\",\"params\":{\"command\":\"curl x\"}}\n";
    let children: Vec<_> = (0..4)
        .map(|_| {
            let mut child = s
                .rampart(&["check"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap();
            child.stdin.take().unwrap().write_all(line).unwrap();
            child
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["decision"], "allow");
    }
    let check = s.run(&["policy", "check"]);
    assert!(
        check.status.success() && check.stderr.is_empty(),
        "{check:?}"
    );
    let leftovers: Vec<_> = std::fs::read_dir(s.home().join(".rampart/cache"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_preload_maps_the_same_cached_bundle() {
    let s = Scratch::new("preload-cache");
    let out = s.run(&["preload", "--", "/bin/sh", "-c", "echo $RAMPART_POLICY"]);
    let policy = stdout(&out);
    let path = Path::new(policy.trim());
    assert!(path.starts_with(s.home().join(".rampart/cache")), "{out:?}");
    assert_eq!(cached_bundle(&s), path);
}

/// Runs `/bin/true && echo ran` under the preload with the scratch's policy; whether it ran.
fn preloaded_true_ran(s: &Scratch, env: &[(&str, &str)]) -> bool {
    let mut c = s.rampart(&["preload", "--", "/bin/sh", "-c", "/bin/true && echo ran"]);
    c.env("RAMPART_URL", "http://127.0.0.1:9")
        .env_remove("RAMPART_FAIL_OPEN");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().unwrap();
    stdout(&out).contains("ran")
}

#[test]
fn the_preload_never_acts_on_a_single_use_rule_without_the_server() {
    let s = Scratch::new("preload-once");
    if !s
        .run(&["allow", "/bin/true", "--tool", "exec", "-y"])
        .status
        .success()
    {
        panic!("allow failed");
    }
    assert!(preloaded_true_ran(&s, &[]), "a plain allow runs");
    assert!(s.run(&["rules", "reset", "-y"]).status.success());
    assert!(s
        .run(&["allow", "/bin/true", "--tool", "exec", "--once"])
        .status
        .success());
    // No server to claim it: denied, and the rule is still there for an enforcing surface.
    assert!(!preloaded_true_ran(&s, &[]));
    assert!(stdout(&s.run(&["rules"])).contains("[once]"));
}

#[test]
fn the_preload_sends_only_counted_execs_to_the_server_and_says_what_it_did_without_one() {
    let s = Scratch::new("preload-count");
    s.user_file(
        "custom.yaml",
        "policies:\n  - name: rate\n    match: {tool: [exec]}\n    rules:\n      - action: deny\n        when:\n          command_matches: [\"/bin/true\"]\n          call_count: {gte: 100, window: 1h}\n  - name: ok\n    match: {tool: [exec]}\n    rules:\n      - action: allow\n        when: {command_matches: [\"/bin/true\", \"/bin/echo *\"]}\n",
    );
    // Fail-open (the default): the counted exec runs, the record says why.
    assert!(preloaded_true_ran(&s, &[]));
    assert!(!preloaded_true_ran(&s, &[("RAMPART_FAIL_OPEN", "0")]));
    // An exec no count rule looks at is decided locally, server or not.
    let mut c = s.rampart(&["preload", "--", "/bin/sh", "-c", "/bin/echo local"]);
    c.env("RAMPART_URL", "http://127.0.0.1:9")
        .env("RAMPART_FAIL_OPEN", "0");
    assert!(stdout(&c.output().unwrap()).contains("local"));
}
