//! The shared decide-and-record path as the long-lived surfaces (server, MCP proxy, wrapper) use
//! it: one `Surface::service` shared by threads, each with its own shell reader; the policy
//! reopened when its file changes; records through group commit; the modes and the fail-closed
//! answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rampart_compiler::sources::Discovery;
use rampart_integrations::surface::{
    AuditTarget, Identity, Intent, Phase, Request, Surface, SurfaceConfig,
};
use rampart_runtime::eval::Action;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{Map, Value};

const DENY_RM: &str = r#"
default_action: allow
policies:
  - name: no-rm
    rules:
      - action: deny
        when: {command_matches: ["rm *"]}
        message: no removal
"#;

const DENY_LS_TOO: &str = r#"
default_action: allow
policies:
  - name: no-rm
    rules:
      - action: deny
        when: {command_matches: ["rm *", "ls *"]}
        message: no removal, no listing
"#;

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("surface-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("policy.yaml"), DENY_RM).unwrap();
    dir
}

fn config(dir: &Path, mode: Mode) -> SurfaceConfig {
    SurfaceConfig {
        mode,
        discovery: Discovery {
            config: Some(dir.join("policy.yaml")),
            cwd: dir.to_path_buf(),
            home: Some(dir.to_path_buf()),
            project_policy: false,
            fallback: rampart_policies::standard(),
            profile_files: Vec::new(),
        },
        audit: AuditTarget {
            dir: None,
            home: Some(dir.to_path_buf()),
        },
    }
}

fn exec(command: &str) -> (Call, Map<String, Value>) {
    let call = Call::new("exec", "mcp-client", &[("command", command)]);
    let mut params = Map::new();
    params.insert("command".into(), Value::String(command.into()));
    (call, params)
}

fn decide(
    surface: &Surface,
    reader: &mut Reader,
    command: &str,
    intent: Intent,
) -> (Action, String) {
    let (call, params) = exec(command);
    let outcome = surface.decide(
        reader,
        &Request {
            call: &call,
            identity: &Identity::default(),
            phase: Phase::Request,
            intent,
            wait_for_sync: true,
            params: &params,
        },
    );
    (outcome.decision.action, outcome.decision.message)
}

fn verify(dir: &Path) -> u64 {
    let opts = rampart_audit::verify::VerifyOptions::default();
    rampart_audit::verify::verify(&dir.join(".rampart/audit"), &opts)
        .unwrap()
        .events
}

#[test]
fn threads_share_one_service_and_every_decision_is_recorded() {
    let dir = scratch("threads");
    let surface = Surface::service(config(&dir, Mode::Enforce));
    std::thread::scope(|s| {
        for t in 0..4 {
            let surface = &surface;
            s.spawn(move || {
                let mut reader = Reader::new();
                for i in 0..25 {
                    let command = if (t + i) % 2 == 0 {
                        "rm -rf /tmp/x"
                    } else {
                        "ls -la"
                    };
                    let (action, _) = decide(surface, &mut reader, command, Intent::Enforce);
                    let expected = if command.starts_with("rm") {
                        Action::Deny
                    } else {
                        Action::Allow
                    };
                    assert_eq!(action, expected, "{command}");
                }
            });
        }
    });
    assert_eq!(verify(&dir), 100);
}

#[test]
fn an_edited_policy_is_reopened_and_a_broken_one_denies() {
    let dir = scratch("reload");
    let surface = Surface::service(config(&dir, Mode::Enforce));
    let mut reader = Reader::new();
    assert_eq!(
        decide(&surface, &mut reader, "ls /", Intent::Enforce).0,
        Action::Allow
    );
    std::fs::write(dir.join("policy.yaml"), DENY_LS_TOO).unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let (action, message) = decide(&surface, &mut reader, "ls /", Intent::Enforce);
    assert_eq!(
        (action, message.as_str()),
        (Action::Deny, "no removal, no listing")
    );
    std::fs::write(dir.join("policy.yaml"), "policies: [ {name: x\n").unwrap();
    std::thread::sleep(Duration::from_millis(600));
    let (action, message) = decide(&surface, &mut reader, "echo hi", Intent::Enforce);
    assert_eq!(action, Action::Deny);
    assert!(message.starts_with("no usable policy: "), "{message}");
    assert!(message.ends_with("; failing closed"), "{message}");
    // Fixed again, and a reload request takes effect at once.
    std::fs::write(dir.join("policy.yaml"), DENY_RM).unwrap();
    surface.reload().unwrap();
    assert_eq!(
        decide(&surface, &mut reader, "ls /", Intent::Enforce).0,
        Action::Allow
    );
    assert_eq!(verify(&dir), 4);
}

#[test]
fn monitor_allows_and_records_the_policys_decision() {
    let dir = scratch("monitor");
    let surface = Surface::service(config(&dir, Mode::Monitor));
    let (action, message) = decide(&surface, &mut Reader::new(), "rm -rf /", Intent::Enforce);
    assert_eq!(action, Action::Allow);
    assert_eq!(
        message,
        "monitor mode observed deny; action allowed: no removal"
    );
    let log = std::fs::read_dir(dir.join(".rampart/audit"))
        .unwrap()
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("20"))
        .unwrap();
    let text = std::fs::read_to_string(log.path()).unwrap();
    let event: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(event["decision"]["action"], "deny");
    assert_eq!(event["decision"]["message"], "no removal");
}

#[test]
fn an_audit_trail_that_cannot_be_opened_denies_enforced_calls_only() {
    let dir = scratch("no-audit");
    // The audit directory is a file: the service cannot open its writer.
    std::fs::create_dir_all(dir.join(".rampart")).unwrap();
    std::fs::write(dir.join(".rampart/audit"), "not a directory").unwrap();
    let surface = Surface::service(config(&dir, Mode::Enforce));
    let mut reader = Reader::new();
    let (action, message) = decide(&surface, &mut reader, "ls", Intent::Enforce);
    assert_eq!(action, Action::Deny);
    assert!(
        message.starts_with("audit storage is unavailable; refusing tool call: "),
        "{message}"
    );
    // A preview is answered with the policy's decision all the same.
    assert_eq!(
        decide(&surface, &mut reader, "ls", Intent::Preview).0,
        Action::Allow
    );
    // And the response phase of a call reads the response rules only.
    let (call, _) = exec("cat x");
    let decision = surface
        .evaluate(&mut reader, &call, Phase::Response { output: "anything" })
        .unwrap();
    assert_eq!(decision.action, Action::Allow);
}

#[test]
fn a_single_use_rule_permits_one_call_of_a_long_lived_surface() {
    let dir = scratch("once");
    std::fs::write(
        dir.join("policy.yaml"),
        "default_action: deny\npolicies:\n  - name: nothing\n    rules: []\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.join(".rampart/policies")).unwrap();
    std::fs::write(
        dir.join(".rampart/policies/custom.yaml"),
        "policies:\n  - name: one-push\n    rules:\n      - action: allow\n        once: true\n        when: {command_matches: [\"git push\"]}\n",
    )
    .unwrap();
    let surface = Surface::service(config(&dir, Mode::Enforce));
    let mut reader = Reader::new();
    // A preview neither claims nor is spent.
    assert_eq!(
        decide(&surface, &mut reader, "git push", Intent::Preview).0,
        Action::Allow
    );
    assert_eq!(
        decide(&surface, &mut reader, "git push", Intent::Enforce).0,
        Action::Allow
    );
    // Spent: the claim removed the rule from its file, and the surface decides with the policy
    // now in force.
    assert_eq!(
        decide(&surface, &mut reader, "git push", Intent::Enforce).0,
        Action::Deny
    );
    let custom = std::fs::read_to_string(dir.join(".rampart/policies/custom.yaml")).unwrap();
    assert!(!custom.contains("git push"), "{custom}");
}
