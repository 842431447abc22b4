//! Loading valid policies: every key of upstream's schema lands in the model with its position.

use rampart_compiler::load::{load_paths, load_str, load_suite, merge_over};
use rampart_compiler::model::{Action, AgentDepth, CallCount, PolicySet, SourcePos};
use serde_json::json;
use std::path::{Path, PathBuf};

const EVERY_KEY: &str = r#"version: "1"
default_action: Ask
notify:
  url: https://hooks.example.com/rampart
  platform: slack
  on: [deny, log, require_approval]
policies:
  - name: everything
    description: uses every key
    priority: 0
    enabled: yes
    match:
      agent: claude-code
      session: "ci-*"
      tool: [exec, "mcp__*"]
    rules:
      - action: webhook
        message: ask the hook
        webhook: {url: "https://decide.example.com", timeout: 10s, fail_open: true}
        expires_at: "2026-03-01T02:00:00+02:00"
        once: true
        added: 2025-01-01
        when:
          command_matches: ["rm -rf *", "git push --force*"]
          command_contains: [" --no-verify"]
          command_not_matches: ["rm -rf /tmp/*"]
          command_env_assignments: [LD_PRELOAD, "DYLD_*"]
          path_matches: ["**/.env"]
          path_not_matches: ["**/.env.example"]
          url_matches: ["https://*"]
          domain_matches: ["*.evil.example"]
          response_matches: ["AKIA[0-9A-Z]{16}"]
          response_not_matches: ["EXAMPLE"]
          session_matches: ["ci-*"]
          session_not_matches: ["ci-trusted"]
          agent_depth: {gte: 1, lte: 3, eq: 2}
          tool_param_matches:
            zeta: "z*"
            alpha: "a*"
          call_count: {tool: exec, gte: 20, window: 1h30m}
      - action: ask
        ask: {audit: true, headless_only: false}
        when:
          default: true
  - name: second
    priority: -5
    enabled: false
    match:
      tool: write
    rules:
      - action: LOG
        when:
          call_count: {gte: 3, window: 500ms}
tests:
  - name: rm is denied
    tool: exec
    params: {command: "rm -rf /", timeout: 5, flags: [a, 1], extra: ~}
    expect: deny
    expect_message: "*dangerous*"
  - name: defaults
    tool: read
    agent: ""
    expect: log
"#;

fn pos(line: u32, column: u32) -> SourcePos {
    SourcePos {
        file: "policies/every.yaml".to_string(),
        line,
        column,
    }
}

fn every_key() -> PolicySet {
    load_str("policies/every.yaml", EVERY_KEY).unwrap()
}

#[test]
fn top_level_keys() {
    let set = every_key();
    let default = set.default_action.as_ref().unwrap();
    assert_eq!((default.value, &default.pos), (Action::Ask, &pos(2, 17)));
    let notify = set.notify.as_ref().unwrap();
    assert_eq!(notify.url, "https://hooks.example.com/rampart");
    assert_eq!(notify.platform, "slack");
    assert_eq!(notify.on, [Action::Deny, Action::Watch, Action::Ask]);
    assert_eq!(set.files, ["policies/every.yaml"]);
    assert_eq!(set.policies.len(), 2);
}

#[test]
fn notify_on_keeps_the_words_that_name_a_decision_and_ignores_the_rest() {
    let set = load_str(
        "n.yaml",
        "notify:\n  url: https://h.example/x\n  on: [Deny, explode, LOG]\n",
    )
    .unwrap();
    assert_eq!(set.notify.unwrap().on, [Action::Deny, Action::Watch]);
    // Only unknown words: nothing notifies (not upstream's default of deny and ask).
    let set = load_str("n.yaml", "notify:\n  url: u\n  on: [allow]\n").unwrap();
    assert!(set.notify.unwrap().on.is_empty());
    let set = load_str("n.yaml", "notify:\n  url: u\n").unwrap();
    assert_eq!(set.notify.unwrap().on, [Action::Deny, Action::Ask]);
}

#[test]
fn policy_keys_and_scope() {
    let set = every_key();
    let p = &set.policies[0];
    assert_eq!(p.name.value, "everything");
    assert_eq!(p.name.pos, pos(8, 11));
    assert_eq!(p.pos, pos(8, 5));
    assert_eq!(p.description, "uses every key");
    assert_eq!(p.priority, 100, "priority 0 means 100");
    assert!(p.enabled, "yes is true in a bool field, as in yaml.v3");
    assert_eq!(p.source, "policies/every.yaml");
    assert_eq!(
        (p.agent.value.as_str(), &p.agent.pos),
        ("claude-code", &pos(13, 14))
    );
    assert_eq!(p.session.value, "ci-*");
    let tools: Vec<_> = p
        .tools
        .iter()
        .map(|t| (t.value.as_str(), t.pos.column))
        .collect();
    assert_eq!(tools, [("exec", 14), ("mcp__*", 20)]);

    let q = &set.policies[1];
    assert_eq!((q.priority, q.enabled), (-5, false));
    assert_eq!(q.tools[0].value, "write", "a single tool may be a string");
    assert_eq!(q.agent.value, "*", "absent agent is *");
    assert_eq!(q.agent.pos, q.pos, "a default points at the policy");
}

#[test]
fn rule_keys() {
    let set = every_key();
    let rule = &set.policies[0].rules[0];
    assert_eq!(rule.pos, pos(17, 9));
    assert_eq!(
        (rule.action.value, &rule.action.pos),
        (Action::Webhook, &pos(17, 17))
    );
    assert!(!rule.deprecated_log);
    assert_eq!(rule.message, "ask the hook");
    let hook = rule.webhook.as_ref().unwrap();
    assert_eq!(
        (hook.url.as_str(), hook.timeout_ms, hook.fail_open),
        ("https://decide.example.com", 10_000, true)
    );
    assert_eq!(rule.expires_at, Some(1_772_323_200));
    assert!(rule.once);

    let ask = &set.policies[0].rules[1];
    assert_eq!(ask.action.value, Action::Ask);
    assert!(ask.ask.audit && !ask.ask.headless_only);
    assert!(ask.when.default);
    assert!(!ask.when.is_empty());

    let log = &set.policies[1].rules[0];
    assert_eq!(log.action.value, Action::Watch);
    assert!(log.deprecated_log, "LOG is the deprecated alias of watch");
    assert_eq!(
        log.when.call_count,
        Some(CallCount {
            tool: None,
            gte: 3,
            window_secs: 1
        }),
        "a sub-second window rounds up to a second"
    );
}

#[test]
fn condition_keys_keep_order_and_positions() {
    let set = every_key();
    let when = &set.policies[0].rules[0].when;
    let values = |list: &[rampart_compiler::model::Located<String>]| {
        list.iter().map(|l| l.value.clone()).collect::<Vec<_>>()
    };
    assert_eq!(
        values(&when.command_matches),
        ["rm -rf *", "git push --force*"]
    );
    assert_eq!(when.command_matches[1].pos, pos(24, 41));
    assert_eq!(values(&when.command_contains), [" --no-verify"]);
    assert_eq!(values(&when.command_not_matches), ["rm -rf /tmp/*"]);
    assert_eq!(
        values(&when.command_env_assignments),
        ["LD_PRELOAD", "DYLD_*"]
    );
    assert_eq!(values(&when.path_matches), ["**/.env"]);
    assert_eq!(values(&when.path_not_matches), ["**/.env.example"]);
    assert_eq!(values(&when.url_matches), ["https://*"]);
    assert_eq!(values(&when.domain_matches), ["*.evil.example"]);
    assert_eq!(values(&when.response_matches), ["AKIA[0-9A-Z]{16}"]);
    assert_eq!(values(&when.response_not_matches), ["EXAMPLE"]);
    assert_eq!(values(&when.session_matches), ["ci-*"]);
    assert_eq!(values(&when.session_not_matches), ["ci-trusted"]);
    assert_eq!(
        when.agent_depth,
        Some(AgentDepth {
            gte: Some(1),
            lte: Some(3),
            eq: Some(2)
        })
    );
    let params: Vec<_> = when
        .tool_param_matches
        .iter()
        .map(|(k, v)| (k.as_str(), v.value.as_str(), v.pos.line))
        .collect();
    assert_eq!(
        params,
        [("zeta", "z*", 38), ("alpha", "a*", 39)],
        "written order, not sorted"
    );
    assert_eq!(
        when.call_count,
        Some(CallCount {
            tool: Some("exec".into()),
            gte: 20,
            window_secs: 5400
        })
    );
    assert!(!when.default);
}

#[test]
fn inline_tests() {
    let set = every_key();
    let t = &set.tests[0];
    assert_eq!(
        (t.name.as_str(), t.tool.as_str(), t.agent.as_str()),
        ("rm is denied", "exec", "test")
    );
    assert_eq!(
        t.params,
        json!({"command": "rm -rf /", "timeout": 5, "flags": ["a", 1], "extra": null})
    );
    assert_eq!(t.expect, Action::Deny);
    assert_eq!(t.expect_message.as_deref(), Some("*dangerous*"));
    assert_eq!(t.pos.line, 55);
    let d = &set.tests[1];
    assert_eq!(
        (d.agent.as_str(), d.expect, d.expect_message.is_none()),
        ("test", Action::Watch, true)
    );
    assert_eq!(d.params, json!({}));
}

#[test]
fn yaml_v3_conversions() {
    let set = load_str(
        "x.yaml",
        "version: 1\ndefault_action:\npolicies:\n  - name: 42\n    description: true\n    priority: 7.0\n    enabled: ~\n    match: {tool: \"\"}\n    rules:\n      - action: deny\n        message: 1.50\n        when: {}\n",
    )
    .unwrap();
    assert!(
        set.default_action.is_none(),
        "empty default_action means deny"
    );
    assert_eq!(set.default_action(), Action::Deny);
    let p = &set.policies[0];
    assert_eq!(
        p.name.value, "42",
        "any scalar fills a string field, as written"
    );
    assert_eq!(p.description, "true");
    assert_eq!(p.priority, 7);
    assert!(p.enabled, "null enabled is the default, true");
    assert!(p.tools.is_empty(), "an empty tool matches every tool");
    assert_eq!(p.rules[0].message, "1.50");
    assert!(p.rules[0].when.is_empty());
}

#[test]
fn empty_and_comment_only_files_load_as_nothing() {
    for text in ["", "# only a comment\n", "policies: []\n", "policies:\n"] {
        let set = load_str("e.yaml", text).unwrap();
        assert!(
            set.policies.is_empty() && set.default_action.is_none(),
            "{text:?}"
        );
    }
}

#[test]
fn webhook_timeouts_default_and_cap() {
    let rule = |timeout: &str| {
        let text = format!(
            "policies:\n  - name: w\n    rules:\n      - action: webhook\n        webhook: {{url: \"https://x\"{timeout}}}\n"
        );
        load_str("w.yaml", &text).unwrap().policies[0].rules[0]
            .webhook
            .clone()
            .unwrap()
    };
    assert_eq!(rule("").timeout_ms, 5_000);
    assert_eq!(rule(", timeout: 2m").timeout_ms, 30_000);
    assert_eq!(rule(", timeout: 250ms").timeout_ms, 250);
    assert!(!rule("").fail_open);
}

#[test]
fn oversized_text_is_rejected() {
    let text = format!("# {}\n", "x".repeat(1 << 20));
    let err = load_str("big.yaml", &text).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("big.yaml:1:1: policy file is 1048579 bytes"),
        "{err}"
    );
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!("rampart-load-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn policy(name: &str, action: &str) -> String {
    format!("  - name: {name}\n    rules: [{{action: {action}}}]\n")
}

#[test]
fn a_directory_loads_yaml_and_yml_in_sorted_order_first_default_wins() {
    let dir = TempDir::new("dir");
    dir.write(
        "b.yml",
        &format!(
            "default_action: allow\nnotify: {{url: b}}\npolicies:\n{}",
            policy("from-b", "allow")
        ),
    );
    dir.write(
        "a.yaml",
        &format!(
            "default_action: ask\npolicies:\n{}",
            policy("from-a", "deny")
        ),
    );
    dir.write(
        "c.yaml",
        &format!(
            "notify: {{url: c}}\npolicies:\n{}",
            policy("from-c", "watch")
        ),
    );
    dir.write("notes.txt", "not a policy: [");
    let set = load_paths(std::slice::from_ref(&dir.0)).unwrap();
    let names: Vec<_> = set.policies.iter().map(|p| p.name.value.as_str()).collect();
    assert_eq!(names, ["from-a", "from-b", "from-c"]);
    assert_eq!(
        set.default_action(),
        Action::Ask,
        "the first file that sets it wins"
    );
    assert_eq!(
        set.notify.unwrap().url,
        "b",
        "the first file that sets notify wins"
    );
    assert_eq!(set.policies[1].source, "b.yml", "source is the basename");
    assert_eq!(set.files.len(), 3);
    assert!(set.policies[0].name.pos.file.ends_with("a.yaml"));
}

#[test]
fn one_bad_file_fails_the_whole_directory() {
    let dir = TempDir::new("bad");
    dir.write("a.yaml", &format!("policies:\n{}", policy("fine", "deny")));
    dir.write(
        "b.yaml",
        "policies:\n  - name: broken\n    rules: [{action: nope}]\n",
    );
    let err = load_paths(std::slice::from_ref(&dir.0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("b.yaml:3:22: policies[0].rules[0].action: unknown action \"nope\""),
        "{err}"
    );
}

#[test]
fn block_self_modification_may_repeat_in_standard_and_openclaw() {
    let dir = TempDir::new("openclaw");
    let shared = format!("policies:\n{}", policy("block-self-modification", "deny"));
    dir.write("standard.yaml", &shared);
    dir.write("openclaw.yaml", &shared);
    let set = load_paths(std::slice::from_ref(&dir.0)).unwrap();
    assert_eq!(set.policies.len(), 2, "both are kept");

    let other = TempDir::new("other");
    other.write("standard.yaml", &shared);
    other.write("mine.yaml", &shared);
    let err = load_paths(std::slice::from_ref(&other.0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("duplicate policy name \"block-self-modification\""),
        "{err}"
    );
}

#[test]
fn files_and_directories_combine_and_missing_paths_are_errors() {
    let dir = TempDir::new("combine");
    let file = dir.write(
        "main.yaml",
        &format!("policies:\n{}", policy("main", "deny")),
    );
    let sub = dir.0.join("more");
    std::fs::create_dir_all(&sub).unwrap();
    std::fs::write(
        sub.join("x.yaml"),
        format!("policies:\n{}", policy("more", "allow")),
    )
    .unwrap();
    let set = load_paths(&[file, sub]).unwrap();
    assert_eq!(set.policies.len(), 2);

    let missing = dir.0.join("nope.yaml");
    let err = load_paths(&[missing]).unwrap_err();
    assert!(
        err.pos.is_none() && err.message.contains("nope.yaml"),
        "{err}"
    );
    assert!(load_paths(&[]).is_err());
}

#[test]
fn oversized_files_are_rejected_before_reading() {
    let dir = TempDir::new("big");
    let path = dir.write("big.yaml", &"#".repeat((1 << 20) + 1));
    let err = load_paths(&[path]).unwrap_err().to_string();
    assert!(err.contains("1048577 bytes; the limit is 1048576"), "{err}");
}

#[test]
fn merge_over_replaces_same_named_policies_and_overlay_settings_win() {
    let base = load_str(
        "embedded:standard",
        &format!(
            "default_action: deny\nnotify: {{url: base}}\npolicies:\n{}{}",
            policy("keep", "deny"),
            policy("replace-me", "deny")
        ),
    )
    .unwrap();
    let overlay = load_str(
        "user.yaml",
        &format!(
            "default_action: ask\npolicies:\n{}{}",
            policy("replace-me", "allow"),
            policy("new", "watch")
        ),
    )
    .unwrap();
    let merged = merge_over(base.clone(), overlay);
    let names: Vec<_> = merged
        .policies
        .iter()
        .map(|p| (p.name.value.as_str(), p.source.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("keep", "embedded:standard"),
            ("replace-me", "user.yaml"),
            ("new", "user.yaml")
        ]
    );
    assert_eq!(merged.default_action(), Action::Ask);
    assert_eq!(
        merged.notify.unwrap().url,
        "base",
        "an overlay without notify keeps the base's"
    );
    let plain = load_str("user.yaml", "policies: []\n").unwrap();
    assert_eq!(merge_over(base, plain).default_action(), Action::Deny);
}

#[test]
fn test_suites_resolve_their_policy_path() {
    let dir = TempDir::new("suite");
    let suite = dir.write(
        "suite.yaml",
        "policy: policies/main.yaml\ntests:\n  - name: ls\n    tool: exec\n    params: {command: ls}\n    expect: allow\n",
    );
    let loaded = load_suite(&suite).unwrap();
    assert_eq!(
        loaded.policy.as_deref(),
        Some(dir.0.join("policies/main.yaml").as_path())
    );
    assert_eq!(loaded.tests.len(), 1);
    assert_eq!(loaded.tests[0].expect, Action::Allow);
    assert_eq!(loaded.file, suite.display().to_string());

    if let Some(home) = std::env::var_os("HOME") {
        let tilde = dir.write("tilde.yaml", "policy: ~/rampart.yaml\ntests: []\n");
        assert_eq!(
            load_suite(&tilde).unwrap().policy,
            Some(Path::new(&home).join("rampart.yaml"))
        );
    }
    let bad = dir.write(
        "bad.yaml",
        "policy: x.yaml\ntests:\n  - tool: exec\n    expect: require_approval\n",
    );
    let err = load_suite(&bad).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "bad.yaml:4:13: tests[0].expect: `require_approval` was removed in v0.9.9; use `ask`"
        ),
        "{err}"
    );
    let typo = dir.write("typo.yaml", "polcy: x.yaml\n");
    assert!(load_suite(&typo)
        .unwrap_err()
        .to_string()
        .contains("unknown key `polcy` (did you mean `policy`?)"));
}

#[test]
fn builtin_profiles_load_and_lint_without_errors() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    for name in ["standard", "paranoid", "yolo"] {
        let path = dir.join(format!("{name}.yaml"));
        let set = load_paths(std::slice::from_ref(&path)).unwrap();
        assert!(!set.policies.is_empty(), "{name}");
        let findings = rampart_compiler::lint::lint_path(&path).unwrap();
        let errors: Vec<_> = findings
            .iter()
            .filter(|f| f.severity == rampart_compiler::lint::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:#?}");
    }
}
