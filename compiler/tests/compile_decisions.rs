//! Whole-policy decisions: YAML -> load -> compile -> bundle -> evaluate, one table per concern.

use rampart_compiler::load::load_str;
use rampart_compiler::{compile, compile_str};
use rampart_runtime::bundle::OwnedBundle;
use rampart_runtime::counter::MemoryCounter;
use rampart_runtime::eval::{Action, Decision, EvalContext, Evaluator};
use rampart_runtime::json::call_from_json;
use rampart_runtime::shell::read_command;
use serde_json::{json, Value};

struct Engine {
    bundle: OwnedBundle,
}

impl Engine {
    fn new(yaml: &str) -> Engine {
        Engine::named("policy.yaml", yaml)
    }

    fn named(name: &str, yaml: &str) -> Engine {
        let compiled = compile_str(name, yaml).unwrap_or_else(|e| panic!("{e}"));
        Engine::of(&compiled.bytes)
    }

    fn of(bytes: &[u8]) -> Engine {
        Engine {
            bundle: OwnedBundle::open(bytes).expect("bundle opens"),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&Evaluator<'_>) -> R) -> R {
        f(&self.bundle.evaluator().expect("evaluator"))
    }

    fn decide_at(&self, call: Value, ctx: &EvalContext<'_>) -> Decision {
        let call = call_from_json(&call).expect("call json");
        self.with(|ev| ev.evaluate(&call, ctx))
    }

    fn decide(&self, call: Value) -> Decision {
        self.decide_at(call, &EvalContext::at(1_700_000_000))
    }

    fn exec(&self, cmd: &str) -> Decision {
        let d = self.decide(json!({"tool": "exec", "agent": "a", "params": {"command": cmd}}));
        // The preload's entry point must agree with the full one on plain exec calls.
        let readings = read_command(cmd);
        let pre = self.with(|ev| ev.evaluate_exec("a", "", &readings, 1_700_000_000));
        assert_eq!(pre, d, "evaluate_exec disagrees on {cmd:?}");
        d
    }
}

fn assert_decision(d: &Decision, action: Action, message: &str, matched: &[&str], what: &str) {
    assert_eq!(d.action, action, "{what}: {d:?}");
    assert_eq!(d.message, message, "{what}: {d:?}");
    assert_eq!(d.matched_policies, matched, "{what}: {d:?}");
}

const COMBO: &str = r#"
version: "1"
default_action: deny
policies:
  - name: watch-git
    rules:
      - action: watch
        when: {command_matches: ["git *"]}
        message: git watched
      - action: watch
        when: {command_matches: ["rm -rf /"]}
        message: rm watched
  - name: block-rm
    match: {tool: exec}
    rules:
      - action: deny
        when:
          command_matches: ["rm -rf /*", "rm -rf /"]
          command_not_matches: ["rm -rf /tmp/**"]
        message: destructive
  - name: ask-push
    match: {tool: [exec]}
    rules:
      - action: ask
        when: {command_matches: ["git push *"]}
        message: push needs approval
  - name: hook-deploy
    rules:
      - action: webhook
        when: {command_contains: ["deploy"]}
        message: webhook decides
        webhook: {url: "https://hooks.example.com/x"}
  - name: allow-unmatched
    priority: 10000
    rules:
      - action: allow
        when: {default: true}
        message: No matching rule
"#;

#[test]
fn combination_and_matched_policies() {
    let e = Engine::new(COMBO);
    let cases: &[(&str, Action, &str, &[&str])] = &[
        (
            "ls",
            Action::Allow,
            "No matching rule",
            &["allow-unmatched"],
        ),
        (
            "git status",
            Action::Watch,
            "git watched",
            &["watch-git", "allow-unmatched"],
        ),
        (
            "git push origin",
            Action::Ask,
            "push needs approval",
            &["watch-git", "ask-push", "allow-unmatched"],
        ),
        // The deny tail: every in-scope policy after the denying one, fired or not.
        (
            "rm -rf /etc",
            Action::Deny,
            "destructive",
            &["block-rm", "ask-push", "hook-deploy", "allow-unmatched"],
        ),
        // Exclusions are per reading: the /tmp part is excluded, the / part is not.
        (
            "rm -rf /tmp/x && rm -rf /",
            Action::Deny,
            "destructive",
            &["block-rm", "ask-push", "hook-deploy", "allow-unmatched"],
        ),
        (
            "rm -rf /tmp/x",
            Action::Allow,
            "No matching rule",
            &["allow-unmatched"],
        ),
        (
            "rm -rf /tmp/../etc",
            Action::Deny,
            "destructive",
            &["block-rm", "ask-push", "hook-deploy", "allow-unmatched"],
        ),
        // Deny tail after an earlier watch: the watch comes first.
        (
            "rm -rf /",
            Action::Deny,
            "destructive",
            &[
                "watch-git",
                "block-rm",
                "ask-push",
                "hook-deploy",
                "allow-unmatched",
            ],
        ),
        // A grant needs every component: `git *` does not cover `rm -rf /`.
        (
            "git status; rm -rf /",
            Action::Deny,
            "destructive",
            &["block-rm", "ask-push", "hook-deploy", "allow-unmatched"],
        ),
        (
            "git push origin deploy",
            Action::Webhook,
            "webhook decides",
            &["watch-git", "ask-push", "hook-deploy", "allow-unmatched"],
        ),
        (
            "bash -c 'rm -rf /'",
            Action::Deny,
            "destructive",
            &[
                "watch-git",
                "block-rm",
                "ask-push",
                "hook-deploy",
                "allow-unmatched",
            ],
        ),
    ];
    for (cmd, action, msg, matched) in cases {
        assert_decision(&e.exec(cmd), *action, msg, matched, cmd);
    }
    // Tool scope: read is not an exec tool, so block-rm and ask-push are out of scope; the
    // unscoped watch still reads `command` (every tool has one under that key).
    let d = e.decide(json!({"tool": "read", "params": {"command": "rm -rf /"}}));
    assert_decision(
        &d,
        Action::Watch,
        "rm watched",
        &["watch-git", "allow-unmatched"],
        "read scope",
    );
}

#[test]
fn default_actions_and_project_quirk() {
    let none_in_scope = Engine::new(
        "default_action: ask\npolicies:\n  - name: p\n    match: {tool: read}\n    rules: [{action: deny, when: {default: true}}]\n",
    );
    assert_decision(
        &none_in_scope.exec("ls"),
        Action::Ask,
        "no matching policy; using default action",
        &[],
        "no policy in scope",
    );
    let nothing_fired = |default: &str| {
        Engine::new(&format!(
            "default_action: {default}\npolicies:\n  - name: p\n    rules: [{{action: deny, when: {{command_matches: [\"rm *\"]}}}}]\n"
        ))
        .exec("ls")
    };
    assert_decision(
        &nothing_fired("deny"),
        Action::Deny,
        "project policy cannot weaken global default deny",
        &[],
        "deny default",
    );
    assert_decision(
        &nothing_fired("ask"),
        Action::Ask,
        "project policy cannot weaken global default ask",
        &[],
        "ask default",
    );
    assert_decision(
        &nothing_fired("watch"),
        Action::Watch,
        "no matching rule; using default action",
        &[],
        "watch default",
    );
    assert_decision(
        &nothing_fired("allow"),
        Action::Allow,
        "no matching rule; using default action",
        &[],
        "allow default",
    );
    // Absent default_action is deny.
    let e = Engine::new(
        "policies:\n  - name: p\n    match: {tool: read}\n    rules: [{action: allow}]\n",
    );
    assert_decision(
        &e.exec("ls"),
        Action::Deny,
        "no matching policy; using default action",
        &[],
        "implicit deny",
    );
}

#[test]
fn allow_messages_and_ranks() {
    let e = Engine::new(
        r#"
default_action: deny
policies:
  - name: a1
    rules: [{action: allow, when: {command_matches: ["ls*"]}}]
  - name: a2
    rules: [{action: allow, when: {command_matches: ["ls *"]}, message: second allow}]
  - name: w1
    priority: 200
    rules: [{action: watch, when: {command_matches: ["ls -la"]}, message: first watch}]
  - name: w2
    priority: 300
    rules: [{action: watch, when: {command_matches: ["ls -la"]}, message: later watch}]
"#,
    );
    assert_decision(
        &e.exec("ls x"),
        Action::Allow,
        "second allow",
        &["a1", "a2"],
        "first non-empty allow message",
    );
    assert_decision(
        &e.exec("ls"),
        Action::Allow,
        "",
        &["a1"],
        "allow without message",
    );
    assert_decision(
        &e.exec("ls -la"),
        Action::Watch,
        "first watch",
        &["a1", "a2", "w1", "w2"],
        "first watch wins",
    );
}

#[test]
fn first_matching_rule_per_policy_and_expiry() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: p
    rules:
      - action: deny
        when: {command_matches: ["curl *"]}
        expires_at: "2020-01-01T00:00:00Z"
        message: expired
      - action: ask
        when: {command_matches: ["curl *"]}
        message: live
      - action: deny
        when: {command_matches: ["curl *"]}
        message: shadowed
"#,
    );
    assert_decision(
        &e.exec("curl x"),
        Action::Ask,
        "live",
        &["p"],
        "expired skipped, first rule wins",
    );
}

#[test]
fn contains_case_and_grant_components() {
    let e = Engine::new(
        r#"
default_action: deny
policies:
  - name: deny-secret
    rules: [{action: deny, when: {command_contains: ["SECRET"]}, message: secret}]
  - name: allow-git
    rules: [{action: allow, when: {command_matches: ["git *"], command_contains: ["make"]}, message: ok}]
"#,
    );
    assert_eq!(
        e.exec("echo secret").action,
        Action::Deny,
        "restrictive contains folds case"
    );
    assert_eq!(e.exec("git status && git log").action, Action::Allow);
    assert_eq!(
        e.exec("git status && make all").action,
        Action::Allow,
        "contains covers a component"
    );
    assert_eq!(
        e.exec("git status && MAKE all").action,
        Action::Deny,
        "grant contains is case-sensitive"
    );
    assert_eq!(e.exec("git status && curl x").action, Action::Deny);
    assert_eq!(e.exec("git log $(whoami)").action, Action::Deny);
    assert_eq!(
        e.exec("GIT status").action,
        Action::Deny,
        "MatchGlob is case-sensitive"
    );
}

#[test]
fn composite_patterns_and_grant_exclusions() {
    let e = Engine::new(
        r#"
default_action: deny
policies:
  - name: allow-build
    rules:
      - action: allow
        when:
          command_matches: ["npm test && npm run build", "npm *"]
          command_not_matches: ["npm publish*"]
"#,
    );
    assert_eq!(e.exec("npm test && npm run build").action, Action::Allow);
    assert_eq!(e.exec("npm ci; npm test").action, Action::Allow);
    assert_eq!(
        e.exec("npm ci && npm publish").action,
        Action::Deny,
        "a component hits the exclusion"
    );
    assert_eq!(e.exec("npm publish --tag x").action, Action::Deny);
}

#[test]
fn exclusion_only_rules_never_fire() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: only-not
    rules:
      - {action: deny, when: {command_not_matches: ["ls*"]}, message: a}
      - {action: deny, when: {path_not_matches: ["/tmp/**"]}, message: b}
      - {action: deny, when: {session_not_matches: ["trusted"]}, message: c}
      - {action: deny, when: {response_matches: ["secret"]}, message: d}
"#,
    );
    assert_eq!(e.exec("curl x").action, Action::Allow);
    let d = e.decide(json!({"tool": "read", "params": {"path": "/etc/passwd"}}));
    assert_eq!(d.action, Action::Allow);
}

#[test]
fn env_assignments() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: env
    rules: [{action: deny, when: {command_env_assignments: ["LD_PRELOAD", "RAMPART_*"]}, message: env}]
"#,
    );
    for cmd in [
        "LD_PRELOAD=/x.so ls",
        "env LD_PRELOAD=x ls",
        "export RAMPART_MODE=disabled",
    ] {
        assert_eq!(e.exec(cmd).action, Action::Deny, "{cmd}");
    }
    for cmd in ["printf 'LD_PRELOAD=%s' x", "ls LD_PRELOAD", "FOO=1 ls"] {
        assert_eq!(e.exec(cmd).action, Action::Allow, "{cmd}");
    }
}

const PATHS: &str = r#"
default_action: allow
policies:
  - name: creds
    match: {tool: [read, write]}
    rules:
      - action: deny
        when:
          path_matches: ["**/.ssh/id_*", "/etc/**"]
          path_not_matches: ["**/*.pub"]
        message: credentials
  - name: src-only
    match: {tool: edit}
    rules:
      - action: allow
        when: {path_matches: ["/work/**"], path_not_matches: ["**/.env"]}
        message: source
      - action: deny
        when: {default: true}
        message: not source
"#;

const JOINED: &str = r#"
default_action: allow
policies:
  - name: relative
    rules:
      - action: deny
        when: {path_matches: ["secrets/**", "."]}
        message: relative
  - name: climbing
    rules:
      - action: deny
        when: {path_matches: ["../**/token"]}
        message: climbing
"#;

/// Relative patterns joined with the workdir (reference §2.7; the golden cases hold upstream's
/// examples): upstream's length limits on the joined text, the workdir itself, the root, and
/// the two deliberate differences of docs/differences.md.
#[test]
fn relative_patterns_and_the_workdir() {
    let e = Engine::new(JOINED);
    let read = |path: &str, workdir: &str| {
        let call = json!({"tool": "read", "params": {"path": path}, "workdir": workdir});
        e.decide(call).message
    };
    let allowed = "no matching rule; using default action";
    // `.` joined is the workdir itself, and nothing below it.
    assert_eq!(read("/proj", "/proj"), "relative");
    assert_eq!(read("/proj/x", "/proj"), allowed);
    // Under the root every absolute path is below the workdir.
    assert_eq!(read("/secrets/a", "/"), "relative");
    // `../**/token` climbs one level: anything below /srv ending in /token, not /srv/token's
    // siblings elsewhere.
    assert_eq!(read("/srv/a/b/token", "/srv/app"), "climbing");
    assert_eq!(read("/etc/token", "/srv/app"), allowed);
    // Upstream's limit: a joined pattern with `**` longer than 256 bytes matches nothing.
    let dir = |len: usize| format!("/{}", "w".repeat(len - 1));
    let fits = dir(256 - "/secrets/**".len());
    assert_eq!(read(&format!("{fits}/secrets/a"), &fits), "relative");
    let too_long = dir(256 - "/secrets/**".len() + 1);
    assert_eq!(read(&format!("{too_long}/secrets/a"), &too_long), allowed);
    // Differences: the workdir is literal, not a glob (upstream would match /tmp/x/secrets/a and
    // miss the file under /tmp/[x]), and a relative workdir joins nothing.
    assert_eq!(read("/tmp/[x]/secrets/a", "/tmp/[x]"), "relative");
    assert_eq!(read("/tmp/x/secrets/a", "/tmp/[x]"), allowed);
    assert_eq!(read("/a/b/token", "w"), allowed);
}

#[test]
fn paths_and_candidates() {
    let e = Engine::new(PATHS);
    let read = |path: &str, workdir: Option<&str>| {
        let mut call = json!({"tool": "read", "params": {"file_path": path}});
        if let Some(w) = workdir {
            call["workdir"] = json!(w);
        }
        e.decide(call).action
    };
    assert_eq!(read("/home/u/.ssh/id_rsa", None), Action::Deny);
    assert_eq!(read("~/.ssh/id_rsa", None), Action::Deny);
    assert_eq!(read(".ssh/id_ed25519", None), Action::Deny);
    assert_eq!(read("/home/u/.ssh/id_rsa.pub", None), Action::Allow);
    assert_eq!(read("/etc/../etc/shadow", None), Action::Deny);
    assert_eq!(read("notes.txt", Some("/etc")), Action::Deny);
    assert_eq!(read("C:\\Users\\u\\.ssh\\id_rsa", None), Action::Deny);
    assert_eq!(
        read("/etc", None),
        Action::Allow,
        "/etc/** does not match /etc"
    );
    let edit = |path: &str, workdir: Option<&str>| {
        let mut call = json!({"tool": "edit", "params": {"path": path}});
        if let Some(w) = workdir {
            call["cwd"] = json!(w);
        }
        e.decide(call).action
    };
    assert_eq!(edit("/work/src/main.rs", None), Action::Allow);
    assert_eq!(edit("/work/src/.env", None), Action::Deny);
    assert_eq!(edit("/work/../etc/passwd", None), Action::Deny);
    // The relative candidate `src/x.rs` is not under /work/**: grants need every candidate.
    assert_eq!(edit("src/x.rs", Some("/work")), Action::Deny);
    // No path at all: a path rule does not match.
    assert_eq!(
        e.decide(json!({"tool": "edit", "params": {}})).message,
        "not source"
    );
}

#[test]
fn urls_domains_sessions_depth_params() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: exfil
    match: {tool: [fetch]}
    rules:
      - {action: deny, when: {domain_matches: ["evil.com", "*.ngrok.io"]}, message: exfil}
      - {action: watch, when: {url_matches: ["http://**"]}, message: plain http}
  - name: sessions
    match: {tool: exec}
    rules:
      - {action: ask, when: {session_matches: ["ci-*"], session_not_matches: ["ci-trusted"]}, message: ci}
  - name: depth
    match: {tool: exec}
    rules:
      - {action: deny, when: {agent_depth: {gte: 2, lte: 3}}, message: deep}
  - name: params
    match: {tool: "mcp*"}
    rules:
      - {action: deny, when: {tool_param_matches: {query: "*drop table*"}}, message: sql}
"#,
    );
    let fetch = |url: &str| e.decide(json!({"tool": "fetch", "params": {"url": url}}));
    assert_eq!(fetch("https://user@EVIL.com.:443/x").message, "exfil");
    assert_eq!(fetch("https://a.b.ngrok.io/x").message, "exfil");
    assert_eq!(fetch("https://ngrok.io/x").action, Action::Allow);
    assert_eq!(fetch("http://example.com/x").message, "plain http");
    assert_eq!(fetch("https://example.com/x").action, Action::Allow);
    let session = |s: &str| {
        e.decide(json!({"tool": "exec", "session": s, "params": {"command": "ls"}}))
            .action
    };
    assert_eq!(session("ci-42"), Action::Ask);
    assert_eq!(session("ci-trusted"), Action::Allow);
    assert_eq!(session("dev"), Action::Allow);
    let depth = |n: i64| {
        e.decide(json!({"tool": "exec", "agent_depth": n, "params": {"command": "ls"}}))
            .action
    };
    assert_eq!(
        (depth(1), depth(2), depth(3), depth(4)),
        (Action::Allow, Action::Deny, Action::Deny, Action::Allow)
    );
    let mcp = |q: Value| {
        e.decide(json!({"tool": "mcp-db", "input": {"query": q}}))
            .action
    };
    assert_eq!(
        mcp(json!("SELECT 1; DROP TABLE users")),
        Action::Deny,
        "params fold case"
    );
    assert_eq!(mcp(json!("select 1")), Action::Allow);
    // tool_param_matches reads Input only.
    let d = e.decide(json!({"tool": "mcp-db", "params": {"query": "drop table x"}}));
    assert_eq!(d.action, Action::Allow);
}

#[test]
fn call_count_and_counter_failures() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: rate
    rules:
      - action: ask
        when: {call_count: {gte: 3, window: 1h}}
        message: too many
"#,
    );
    let call = json!({"tool": "fetch", "params": {"url": "https://x.com"}});
    let counter = MemoryCounter::default();
    let now = 1_700_000_000;
    let ctx = EvalContext {
        now_unix: now,
        counter: Some(&counter),
        resolver: None,
    };
    assert_eq!(e.decide_at(call.clone(), &ctx).action, Action::Allow);
    for t in [now - 7200, now - 10, now - 5, now] {
        counter.record("fetch", t).unwrap();
    }
    assert_eq!(e.decide_at(call.clone(), &ctx).message, "too many");
    // No counter (explain, previews): call_count never matches.
    assert_eq!(e.decide(call.clone()).action, Action::Allow);
    struct Broken;
    impl rampart_runtime::counter::CallCounter for Broken {
        fn count(
            &self,
            _: &str,
            _: u64,
            _: i64,
        ) -> Result<u64, rampart_runtime::counter::CounterError> {
            Err(rampart_runtime::counter::CounterError)
        }
    }
    let ctx = EvalContext {
        now_unix: now,
        counter: Some(&Broken),
        resolver: None,
    };
    assert_eq!(
        e.decide_at(call, &ctx).action,
        Action::Deny,
        "a broken counter fails closed"
    );
}

#[test]
fn durable_allows_and_deny_still_wins() {
    let base = r#"
default_action: allow
policies:
  - name: ask-npm
    rules: [{action: ask, when: {command_matches: ["npm *"]}, message: ask npm}]
  - name: deny-rm
    rules: [{action: deny, when: {command_matches: ["rm *"]}, message: no rm}]
"#;
    let overrides = r#"
policies:
  - name: user-allow
    priority: 500
    rules: [{action: allow, when: {command_matches: ["npm install", "rm x"]}, message: durable}]
"#;
    let mut set = load_str("standard.yaml", base).unwrap();
    let extra = load_str("user-overrides.yaml", overrides).unwrap();
    set.policies.extend(extra.policies);
    let e = Engine::of(&compile(&set).unwrap().bytes);
    assert_decision(
        &e.exec("npm install"),
        Action::Allow,
        "durable",
        &["ask-npm", "user-allow"],
        "durable beats ask",
    );
    assert_eq!(e.exec("npm test").action, Action::Ask);
    assert_eq!(e.exec("rm x").action, Action::Deny, "deny beats durable");
}

#[test]
fn fail_closed_inputs() {
    let e = Engine::new("default_action: allow\npolicies: []\n");
    let d = e.decide(json!({"tool": "exec", "params": {"command": "ls", "cmd": "rm -rf /"}}));
    assert_decision(
        &d,
        Action::Deny,
        "ambiguous tool input (conflicting command aliases); failing closed",
        &[],
        "aliases",
    );
    let d = e.decide(json!({"tool": "exec", "params": {"command": ["rm"]}}));
    assert_eq!(d.action, Action::Deny, "non-string command");
    let d = e.decide(json!({"tool": "exec", "params": {"command": "x".repeat(8193)}}));
    assert_decision(
        &d,
        Action::Deny,
        "command exceeds the 8192-byte policy matching limit; failing closed",
        &[],
        "size",
    );
    let d =
        e.decide(json!({"tool": "exec", "agent": "a".repeat(9000), "params": {"command": "ls"}}));
    assert_eq!(d.action, Action::Deny);
}

#[test]
fn response_phase() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: leaks
    rules:
      - action: deny
        when:
          command_matches: ["cat *"]
          response_matches: ["AKIA[0-9A-Z]{16}", "BEGIN [A-Z]+ PRIVATE KEY"]
          response_not_matches: ["EXAMPLEKEY"]
        message: credential leak
  - name: flag
    rules:
      - {action: ask, when: {response_matches: ["password"]}, message: asked}
      - {action: watch, when: {response_matches: ["token"]}, message: token seen}
"#,
    );
    let call = call_from_json(&json!({"tool": "exec", "params": {"command": "cat x"}})).unwrap();
    let resp = |text: &str| e.with(|ev| ev.evaluate_response(&call, text, 0));
    assert_decision(
        &resp("key AKIAABCDEFGHIJKLMNOP"),
        Action::Deny,
        "credential leak",
        &["leaks"],
        "regex",
    );
    assert_eq!(resp("-----BEGIN RSA PRIVATE KEY-----").action, Action::Deny);
    assert_eq!(
        resp("AKIAABCDEFGHIJKLMNOP EXAMPLEKEY").action,
        Action::Allow,
        "exclusion"
    );
    assert_eq!(
        resp("password=1").action,
        Action::Deny,
        "ask in the response phase denies"
    );
    assert_decision(
        &resp("a token"),
        Action::Watch,
        "token seen",
        &["flag"],
        "watch",
    );
    assert_decision(
        &resp("nothing"),
        Action::Allow,
        "no matching response rule; response allowed",
        &[],
        "none",
    );
    assert_eq!(
        resp(&"x".repeat((1 << 20) + 1)).action,
        Action::Deny,
        "oversized response"
    );
    // An agent past the input limit is refused here too: unrefused, it would put no policy in
    // scope and the leak would pass unscanned.
    let long = json!({"tool": "exec", "agent": "a".repeat(8193), "params": {"command": "cat x"}});
    let long = call_from_json(&long).unwrap();
    let d = e.with(|ev| ev.evaluate_response(&long, "key AKIAABCDEFGHIJKLMNOP", 0));
    assert_eq!(d.action, Action::Deny);
    assert!(d.message.contains("agent"), "{}", d.message);
    // At request time the command alone fires the rule with response conditions.
    assert_eq!(e.exec("cat x").message, "credential leak");
}

#[test]
fn explain_agrees_with_evaluate() {
    let e = Engine::new(COMBO);
    let p = Engine::new(PATHS);
    let calls = [
        json!({"tool": "exec", "params": {"command": "rm -rf /"}}),
        json!({"tool": "exec", "params": {"command": "git push origin deploy"}}),
        json!({"tool": "exec", "params": {"command": "rm -rf /tmp/x && rm -rf /"}}),
        json!({"tool": "exec", "params": {"command": "ls"}}),
        json!({"tool": "read", "params": {"command": "rm -rf /"}}),
        json!({"tool": "exec", "params": {"command": "ls", "cmd": "rm"}}),
    ];
    for engine in [&e, &p] {
        let bundle = engine.bundle.bundle().unwrap();
        let ev = engine.bundle.evaluator().unwrap();
        let path_calls = [
            json!({"tool": "read", "params": {"path": "/etc/../etc/shadow"}}),
            json!({"tool": "edit", "params": {"path": "src/x.rs"}, "cwd": "/work"}),
            json!({"tool": "read", "params": {"path": "/home/u/.ssh/id_rsa.pub"}}),
        ];
        for c in calls.iter().chain(&path_calls) {
            let call = call_from_json(c).unwrap();
            let ctx = EvalContext::at(0);
            let d = ev.evaluate(&call, &ctx);
            let x = ev.explain(&bundle, &call, &ctx).unwrap();
            assert_eq!(
                (x.action.as_str(), x.message.as_str()),
                (d.action.as_str(), d.message.as_str()),
                "{c}"
            );
            assert_eq!(x.matched_policies, d.matched_policies);
            // Every fired policy in the trace is one evaluate reported.
            for t in &x.policies {
                if t.rules.iter().any(|r| r.matched) {
                    assert!(d.matched_policies.contains(&t.policy), "{c}: {}", t.policy);
                }
            }
            assert!(x.to_string().starts_with("decision: "));
        }
    }
    let bundle = e.bundle.bundle().unwrap();
    let ev = e.bundle.evaluator().unwrap();
    let call = call_from_json(
        &json!({"tool": "exec", "params": {"command": "rm -rf /tmp/x && rm -rf /"}}),
    )
    .unwrap();
    let text = ev
        .explain(&bundle, &call, &EvalContext::at(0))
        .unwrap()
        .to_string();
    assert!(
        text.contains("\"rm -rf /\" matches \"rm -rf /\" @ policy.yaml:"),
        "{text}"
    );
    assert!(text.contains("is excluded by \"rm -rf /tmp/**\""), "{text}");
}

/// A tool's listed scope skips searching the agent and the session only where no policy in it
/// looks at them: `*` globs and no rule with a session condition.
#[test]
fn scopes_that_read_no_session_skip_the_search_and_others_do_not() {
    let e = Engine::new(
        r#"
default_action: allow
policies:
  - name: files
    match: {tool: [read]}
    rules:
      - {action: deny, when: {path_matches: ["**/.ssh/id_*"]}, message: key}
  - name: sessions
    match: {tool: exec}
    rules:
      - {action: deny, when: {session_matches: ["ci-*"], command_matches: ["deploy *"]}, message: ci}
  - name: agents
    match: {tool: fetch, agent: "codex"}
    rules:
      - {action: deny, when: {domain_matches: ["evil.com"]}, message: codex}
"#,
    );
    let anyone = |tool: &str| e.with(|ev| ev.program().tool_scope(tool).map(|s| s.anyone));
    assert_eq!(anyone("read"), Some(true));
    assert_eq!(anyone("exec"), Some(false), "a rule reads the session");
    assert_eq!(anyone("fetch"), Some(false), "a policy names its agent");
    let call = |tool: &str, agent: &str, session: &str, params: Value| {
        e.decide(json!({"tool": tool, "agent": agent, "session": session, "params": params}))
    };
    let key = json!({"file_path": "/home/u/.ssh/id_rsa"});
    assert_eq!(call("read", "a", "s", key.clone()).action, Action::Deny);
    let deploy = json!({"command": "deploy prod"});
    assert_eq!(
        call("exec", "a", "ci-7", deploy.clone()).action,
        Action::Deny
    );
    assert_eq!(call("exec", "a", "dev", deploy).action, Action::Allow);
    let evil = json!({"url": "https://evil.com/x"});
    assert_eq!(
        call("fetch", "codex", "s", evil.clone()).action,
        Action::Deny
    );
    assert_eq!(call("fetch", "claude", "s", evil).action, Action::Allow);
    // An agent past the input limit is refused, not waved through a scope that admits anyone.
    let long = "x".repeat(8193);
    let d = call("read", &long, "s", key);
    assert_eq!(d.action, Action::Deny, "{}", d.message);
}
