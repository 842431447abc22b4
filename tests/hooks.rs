//! `rampart hook` through the real binary, for every host: payloads written from each host's
//! documented schema, the exact JSON each host is answered with, the exit code, and the record
//! in the audit chain (verified afterwards). Then every way the hook must fail closed: broken
//! input, a missing parameter, an unknown tool, a policy that does not load, an audit trail that
//! cannot be written, a panic.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(crate) const POLICY: &str = r#"
default_action: allow
policies:
  - name: no-destruction
    match: {tool: [exec]}
    rules:
      - action: deny
        when: {command_matches: ["rm -rf *"]}
        message: no recursive removal
      - action: ask
        when: {command_matches: ["sudo *"]}
        message: sudo needs a person
  - name: keys-stay-private
    match: {tool: [read, write]}
    rules:
      - action: deny
        when: {path_matches: ["**/.ssh/**"]}
        message: keys stay private
  - name: no-evil-sites
    match: {tool: [fetch]}
    rules:
      - action: deny
        when: {domain_matches: ["evil.example"]}
        message: that site is off limits
  - name: no-destructive-mcp
    match: {tool: [mcp-destructive]}
    rules:
      - action: deny
        when: {default: true}
        message: destructive MCP tool
  - name: no-leaks
    rules:
      - action: deny
        when: {response_matches: ["AKIA[0-9A-Z]{16}"]}
        message: the output holds an AWS key
"#;

pub(crate) const KEY: &str = "AKIAABCDEFGHIJKLMNOP";

/// A scratch HOME (and working directory) with the test policy; a git work tree on `feature`.
struct Home {
    dir: PathBuf,
}

impl Home {
    fn new(name: &str) -> Home {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("hooks-{name}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join(".git/HEAD"), "ref: refs/heads/feature\n").unwrap();
        std::fs::write(dir.join("policy.yaml"), POLICY).unwrap();
        Home { dir }
    }

    /// `rampart --config policy.yaml hook <args>` with `payload` on stdin.
    fn hook(&self, args: &[&str], payload: &str) -> Output {
        self.run(self.command(args), payload)
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(crate::rampart_bin());
        command
            .arg("--config")
            .arg(self.dir.join("policy.yaml"))
            .arg("hook")
            .args(args)
            .current_dir(&self.dir)
            .env("HOME", &self.dir);
        for var in [
            "RAMPART_MODE",
            "RAMPART_SESSION",
            "RAMPART_RUN",
            "RAMPART_AGENT_DEPTH",
            "RAMPART_URL",
            "RAMPART_TOKEN",
            "RAMPART_CLAUDE_ALLOW",
            "RAMPART_HOOK_TEST_PANIC",
            "CLAUDE_CONVERSATION_ID",
        ] {
            command.env_remove(var);
        }
        command
    }

    fn run(&self, mut command: Command, payload: &str) -> Output {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let payload = payload.as_bytes().to_vec();
        let writer = std::thread::spawn(move || stdin.write_all(&payload));
        let output = child.wait_with_output().unwrap();
        let _ = writer.join().unwrap();
        output
    }

    fn audit(&self) -> PathBuf {
        self.dir.join(".rampart/audit")
    }

    /// Every record of the chain, oldest first.
    fn events(&self) -> Vec<Value> {
        let Ok(entries) = std::fs::read_dir(self.audit()) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().unwrap().to_string_lossy();
                name.ends_with(".jsonl") && name.starts_with("20")
            })
            .collect();
        files.sort();
        files
            .iter()
            .flat_map(|f| {
                let text = std::fs::read_to_string(f).unwrap();
                text.lines()
                    .filter(|l| !l.contains("chain_continue"))
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect::<Vec<Value>>()
            })
            .collect()
    }

    fn verify(&self) -> u64 {
        let opts = rampart_audit::verify::VerifyOptions::default();
        rampart_audit::verify::verify(&self.audit(), &opts)
            .unwrap_or_else(|e| panic!("the audit chain does not verify: {e}"))
            .events
    }

    fn session(&self) -> String {
        format!(
            "{}/feature",
            self.dir.file_name().unwrap().to_string_lossy()
        )
    }
}

/// The one JSON answer on stdout; exit code 0; stderr as expected.
fn answer(output: &Output) -> Value {
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(output.status.code(), Some(0), "stdout {stdout}");
    assert_eq!(stdout.lines().count(), 1, "one line of JSON: {stdout:?}");
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{stdout}: {e}"))
}

/// One fixture: a host's payload, the exact answer, and what the record says (`None`: no record).
struct Case {
    name: &'static str,
    args: Vec<&'static str>,
    payload: Value,
    answer: Value,
    record: Option<(&'static str, &'static str)>,
    /// What the host shows on stderr (Cline only).
    stderr: &'static str,
    /// How many records the call adds (one per call decided).
    records: usize,
}

fn case(
    name: &'static str,
    payload: Value,
    answer: Value,
    record: Option<(&'static str, &'static str)>,
) -> Case {
    Case {
        name,
        args: Vec::new(),
        payload,
        answer,
        records: usize::from(record.is_some()),
        record,
        stderr: "",
    }
}

/// Runs the fixtures of `format` in one HOME, then verifies the chain holds one record each.
fn run_cases(format: &str, cases: Vec<Case>) {
    let home = Home::new(format);
    let mut records = 0;
    for case in &cases {
        let mut args = vec!["--format", format];
        args.extend(&case.args);
        let output = home.hook(&args, &case.payload.to_string());
        assert_eq!(answer(&output), case.answer, "{format}: {}", case.name);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(stderr, case.stderr, "{format}: {}: stderr", case.name);
        let events = home.events();
        records += case.records;
        if let Some((tool, action)) = case.record {
            let last = events.last().unwrap();
            assert_eq!(last["tool"], tool, "{format}: {}: {last}", case.name);
            assert_eq!(
                last["decision"]["action"], action,
                "{format}: {}",
                case.name
            );
            assert_eq!(last["agent"], format, "{format}: {}", case.name);
        }
        assert_eq!(events.len(), records, "{format}: {}: records", case.name);
    }
    assert_eq!(home.verify(), records as u64);
}

fn claude_pre(decision: &str, reason: Option<&str>) -> Value {
    let mut out = json!({"hookEventName": "PreToolUse", "permissionDecision": decision});
    if let Some(reason) = reason {
        out["permissionDecisionReason"] = json!(format!("Rampart: {reason}"));
    }
    json!({ "hookSpecificOutput": out })
}

pub(crate) fn claude(event: &str, tool: &str, input: Value) -> Value {
    json!({
        "session_id": "sess-1", "transcript_path": "/tmp/t.jsonl", "cwd": null,
        "permission_mode": "default", "hook_event_name": event, "tool_name": tool,
        "tool_input": input, "tool_use_id": "toolu_01ABC",
    })
}

#[test]
fn claude_code() {
    let bash_out = json!({"stdout": format!("aws key {KEY}"), "stderr": "", "interrupted": false});
    let mut post = claude("PostToolUse", "Bash", json!({"command": "cat creds"}));
    post["tool_response"] = bash_out;
    let mut host_allow = case(
        "allow, host prompts in charge",
        claude("PreToolUse", "Bash", json!({"command": "ls"})),
        json!({}),
        Some(("exec", "allow")),
    );
    host_allow.args = vec!["--claude-allow", "host"];
    run_cases(
        "claude-code",
        vec![
            case(
                "deny",
                claude(
                    "PreToolUse",
                    "Bash",
                    json!({"command": "rm -rf /", "description": "x"}),
                ),
                claude_pre("deny", Some("no recursive removal")),
                Some(("exec", "deny")),
            ),
            case(
                "ask",
                claude("PreToolUse", "Bash", json!({"command": "sudo reboot"})),
                claude_pre("ask", Some("sudo needs a person")),
                Some(("exec", "ask")),
            ),
            case(
                "allow",
                claude("PreToolUse", "Bash", json!({"command": "git status"})),
                claude_pre("allow", None),
                Some(("exec", "allow")),
            ),
            host_allow,
            case(
                "a read of a key",
                claude(
                    "PreToolUse",
                    "Read",
                    json!({"file_path": "/home/u/.ssh/id_rsa"}),
                ),
                claude_pre("deny", Some("keys stay private")),
                Some(("read", "deny")),
            ),
            case(
                "response blocked, redacted in its shape",
                post,
                json!({
                    "decision": "block",
                    "reason": "Rampart: the output holds an AWS key",
                    "hookSpecificOutput": {
                        "hookEventName": "PostToolUse",
                        "updatedToolOutput": {
                            "stdout": "[REDACTED: sensitive content removed by Rampart]",
                            "stderr": "", "interrupted": false,
                        },
                    },
                }),
                Some(("exec", "deny")),
            ),
            case(
                "a clean response",
                {
                    let mut p = claude("PostToolUse", "Bash", json!({"command": "ls"}));
                    p["tool_response"] = json!("a.txt\nb.txt\n");
                    p
                },
                json!({}),
                Some(("exec", "allow")),
            ),
            case(
                "guidance after a failure rampart caused",
                claude("PostToolUseFailure", "Bash", json!({"command": "rm -rf /"})),
                json!({"hookSpecificOutput": {
                    "hookEventName": "PostToolUseFailure",
                    "additionalContext": "⛔ Blocked [no-destruction]: no recursive removal\nThis call \
                        was blocked by the user's rampart policy. Do not attempt workarounds (another \
                        tool, another spelling of the command, a script that does the same); tell \
                        the user what you needed and why.",
                }}),
                None,
            ),
            case(
                "parse failure: tool_input is not an object",
                claude("PreToolUse", "Bash", json!("rm -rf /")),
                claude_pre(
                    "deny",
                    Some("\"tool_input\" must be an object; failing closed"),
                ),
                Some(("unknown", "deny")),
            ),
            case(
                "missing parameter",
                claude("PreToolUse", "Bash", json!({"cmd_typo": "rm -rf /"})),
                claude_pre(
                    "deny",
                    Some("Bash needs a non-empty \"command\"; failing closed"),
                ),
                Some(("exec", "deny")),
            ),
            case(
                "unknown tool",
                claude("PreToolUse", "Frobnicate", json!({})),
                claude_pre("deny", Some("unknown tool \"Frobnicate\"; failing closed")),
                Some(("Frobnicate", "deny")),
            ),
            case(
                "MCP tool, destructive by its name",
                claude(
                    "PreToolUse",
                    "mcp__github__delete_repo",
                    json!({"repo": "a/b"}),
                ),
                claude_pre("deny", Some("destructive MCP tool")),
                Some(("mcp-destructive", "deny")),
            ),
            case(
                "MCP tool classified as a read",
                claude(
                    "PreToolUse",
                    "mcp__fs__read_file",
                    json!({"path": "/home/u/.ssh/id_ed25519"}),
                ),
                claude_pre("deny", Some("keys stay private")),
                Some(("read", "deny")),
            ),
        ],
    );
}

#[test]
fn claude_code_records_identity() {
    let home = Home::new("identity");
    let payload = claude(
        "PreToolUse",
        "Task",
        json!({"description": "refactor", "prompt": "go"}),
    );
    let mut command = home.command(&[]);
    command.env("RAMPART_AGENT_DEPTH", "1");
    answer(&home.run(command, &payload.to_string()));
    let events = home.events();
    let event = events.last().unwrap();
    assert_eq!(event["tool"], "agent");
    assert_eq!(event["session"], home.session());
    assert_eq!(event["run_id"], "sess-1");
    assert_eq!(event["tool_call_id"], "toolu_01ABC");
    assert_eq!(event["request"]["command"], "refactor");
    // RAMPART_SESSION and RAMPART_RUN win; a depth that is not a number refuses the call.
    let mut command = home.command(&[]);
    command
        .env("RAMPART_SESSION", "pinned")
        .env("RAMPART_RUN", "run-9")
        .env("RAMPART_AGENT_DEPTH", "deep");
    let out = answer(&home.run(
        command,
        &claude("PreToolUse", "Bash", json!({"command": "ls"})).to_string(),
    ));
    assert_eq!(
        out,
        claude_pre(
            "deny",
            Some("RAMPART_AGENT_DEPTH=\"deep\" is not a whole number; failing closed")
        )
    );
    let mut command = home.command(&[]);
    command
        .env("RAMPART_SESSION", "pinned")
        .env("RAMPART_RUN", "run-9");
    answer(&home.run(
        command,
        &claude("PreToolUse", "Bash", json!({"command": "ls"})).to_string(),
    ));
    let events = home.events();
    let event = events.last().unwrap();
    assert_eq!(
        (event["session"].as_str(), event["run_id"].as_str()),
        (Some("pinned"), Some("run-9"))
    );
    home.verify();
}

pub(crate) fn codex(event: &str, tool: &str, input: Value) -> Value {
    json!({
        "session_id": "codex-sess", "turn_id": "t1", "agent_id": null, "agent_type": null,
        "transcript_path": null, "cwd": null, "hook_event_name": event, "model": "gpt-5",
        "permission_mode": "default", "tool_name": tool, "tool_input": input,
        "tool_use_id": "call_1",
    })
}

fn codex_deny(reason: &str) -> Value {
    json!({"hookSpecificOutput": {
        "hookEventName": "PreToolUse",
        "permissionDecision": "deny",
        "permissionDecisionReason": format!("Rampart: {reason}"),
    }})
}

const NO_SERVER: &str = "http://127.0.0.1:1";

#[test]
fn codex_hooks() {
    let patch = "*** Begin Patch\n*** Add File: notes.txt\n+hi\n*** Update File: /home/u/.ssh/config\n@@\n-a\n+b\n*** End Patch\n";
    let mut post = codex("PostToolUse", "Bash", json!({"command": ["cat", "creds"]}));
    post["tool_response"] = json!({"stdout": KEY, "exit_code": 0});
    let mut ask = case(
        "ask with no server is denied",
        codex("PreToolUse", "Bash", json!({"command": ["sudo", "reboot"]})),
        codex_deny(
            "approval required, but the approval queue is unavailable (no rampart server at \
             http://127.0.0.1:1 (Connection refused (os error 111))): sudo needs a person",
        ),
        Some(("exec", "ask")),
    );
    ask.args = vec!["--serve-url", NO_SERVER];
    run_cases(
        "codex",
        vec![
            case(
                "deny, argv joined",
                codex(
                    "PreToolUse",
                    "Bash",
                    json!({"command": ["bash", "-lc", "rm -rf /"]}),
                ),
                codex_deny("no recursive removal"),
                Some(("exec", "deny")),
            ),
            ask,
            case(
                "allow is {}",
                codex(
                    "PreToolUse",
                    "shell",
                    json!({"command": ["git", "status"], "workdir": "/w"}),
                ),
                json!({}),
                Some(("exec", "allow")),
            ),
            Case {
                records: 2,
                ..case(
                    "a patch: one write per target, deny winning",
                    codex("PreToolUse", "apply_patch", json!({"input": patch})),
                    codex_deny("keys stay private"),
                    Some(("write", "deny")),
                )
            },
            case(
                "response blocked",
                post,
                json!({
                    "decision": "block",
                    "reason": "Rampart: the output holds an AWS key",
                    "hookSpecificOutput": {
                        "hookEventName": "PostToolUse",
                        "updatedToolOutput": {
                            "stdout": "[REDACTED: sensitive content removed by Rampart]",
                            "exit_code": 0,
                        },
                    },
                }),
                Some(("exec", "deny")),
            ),
            case(
                "parse failure: no session_id",
                {
                    let mut p = codex("PreToolUse", "Bash", json!({"command": "ls"}));
                    p.as_object_mut().unwrap().remove("session_id");
                    p
                },
                codex_deny("the payload has no session_id; failing closed"),
                Some(("unknown", "deny")),
            ),
            case(
                "unknown tool",
                codex("PreToolUse", "teleport", json!({})),
                codex_deny("unknown tool \"teleport\"; failing closed"),
                Some(("teleport", "deny")),
            ),
            case(
                "MCP tool",
                codex(
                    "PreToolUse",
                    "mcp__db__drop_table",
                    json!({"table": "users"}),
                ),
                codex_deny("destructive MCP tool"),
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
    // The patch wrote two records, one per target; the forbidden one is the deny.
    let home = Home::new("codex-patch");
    let out = home.hook(
        &["--format", "codex"],
        &codex("PreToolUse", "apply_patch", json!({"input": patch})).to_string(),
    );
    assert_eq!(answer(&out), codex_deny("keys stay private"));
    let events = home.events();
    let targets: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["request"]["file_path"].as_str().unwrap(),
                e["decision"]["action"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        targets,
        [("notes.txt", "allow"), ("/home/u/.ssh/config", "deny")]
    );
    assert_eq!(home.verify(), 2);
}

/// A stand-in for the server's approval queue (upstream §3.6): every approval it creates is
/// resolved as `status` when polled. Records each request line and Authorization header.
fn approval_queue(status: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                let lower = header.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                if lower.starts_with("authorization:") {
                    log.lock().unwrap().push(header.trim().to_string());
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock().unwrap().push(line.trim().to_string());
            let reply = if line.starts_with("POST /v1/approvals ") {
                let request: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(request["tool"], "exec");
                assert_eq!(request["command"], "sudo reboot");
                assert_eq!(request["message"], "sudo needs a person");
                (
                    201,
                    json!({"id": "01APPROVAL", "status": "pending", "expires_at": "2030-01-01T00:00:00Z"}),
                )
            } else {
                (200, json!({"id": "01APPROVAL", "status": status}))
            };
            let body = reply.1.to_string();
            let mut stream = stream;
            write!(
                stream,
                "HTTP/1.1 {} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                reply.0,
                body.len()
            )
            .unwrap();
        }
    });
    (url, seen)
}

#[test]
fn codex_ask_goes_to_the_approval_queue() {
    for (status, expected) in [
        ("approved", json!({})),
        (
            "denied",
            codex_deny("denied in the approval queue (01APPROVAL): sudo needs a person"),
        ),
        (
            "expired",
            codex_deny("approval timed out: sudo needs a person"),
        ),
    ] {
        let (url, seen) = approval_queue(status);
        let home = Home::new(&format!("codex-queue-{status}"));
        let mut command = home.command(&["--format", "codex", "--serve-url", &url]);
        command.env("RAMPART_TOKEN", "tok-123");
        let payload = codex("PreToolUse", "Bash", json!({"command": "sudo reboot"}));
        assert_eq!(
            answer(&home.run(command, &payload.to_string())),
            expected,
            "{status}"
        );
        let seen = seen.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                "Authorization: Bearer tok-123",
                "POST /v1/approvals HTTP/1.1",
                "Authorization: Bearer tok-123",
                "GET /v1/approvals/01APPROVAL HTTP/1.1",
            ]
        );
        assert_eq!(home.events().last().unwrap()["decision"]["action"], "ask");
    }
}

pub(crate) fn gemini(event: &str, tool: &str, input: Value) -> Value {
    json!({
        "session_id": "g-1", "transcript_path": "/tmp/g.json", "cwd": null,
        "hook_event_name": event, "timestamp": "2026-12-04T10:00:00Z",
        "tool_name": tool, "tool_input": input,
    })
}

fn gemini_deny(reason: &str) -> Value {
    json!({"decision": "deny", "reason": format!("Rampart: {reason}")})
}

#[test]
fn gemini_hooks() {
    let mut after = gemini("AfterTool", "read_file", json!({"file_path": "creds.txt"}));
    after["tool_response"] =
        json!({"llmContent": KEY, "returnDisplay": "read 1 line", "error": null});
    let mut ask = case(
        "ask with no server is denied",
        gemini(
            "BeforeTool",
            "run_shell_command",
            json!({"command": "sudo reboot"}),
        ),
        gemini_deny(
            "approval required, but the approval queue is unavailable (no rampart server at \
             http://127.0.0.1:1 (Connection refused (os error 111))): sudo needs a person",
        ),
        Some(("exec", "ask")),
    );
    ask.args = vec!["--serve-url", NO_SERVER];
    let mut mcp = gemini(
        "BeforeTool",
        "mcp_github_delete_repo",
        json!({"repo": "a/b"}),
    );
    mcp["mcp_context"] = json!({"server_name": "github", "tool_name": "delete_repo"});
    run_cases(
        "gemini",
        vec![
            case(
                "deny",
                gemini(
                    "BeforeTool",
                    "run_shell_command",
                    json!({"command": "rm -rf ~"}),
                ),
                gemini_deny("no recursive removal"),
                Some(("exec", "deny")),
            ),
            ask,
            case(
                "allow is {}",
                gemini("BeforeTool", "read_file", json!({"file_path": "README.md"})),
                json!({}),
                Some(("read", "allow")),
            ),
            Case {
                records: 2,
                ..case(
                    "every URL of a web_fetch prompt is decided",
                    gemini(
                        "BeforeTool",
                        "web_fetch",
                        json!({"prompt": "compare https://docs.example/a and https://evil.example/x"}),
                    ),
                    gemini_deny("that site is off limits"),
                    Some(("fetch", "deny")),
                )
            },
            case(
                "response blocked",
                after,
                gemini_deny("the output holds an AWS key"),
                Some(("read", "deny")),
            ),
            case(
                "parse failure: unknown event",
                gemini("BeforeModel", "x", json!({})),
                gemini_deny("unknown hook event \"BeforeModel\"; failing closed"),
                Some(("unknown", "deny")),
            ),
            case(
                "unknown tool",
                gemini("BeforeTool", "summon", json!({})),
                gemini_deny("unknown tool \"summon\"; failing closed"),
                Some(("summon", "deny")),
            ),
            case(
                "MCP tool",
                mcp,
                gemini_deny("destructive MCP tool"),
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
}

pub(crate) fn cursor(event: &str, fields: Value) -> Value {
    let mut p = json!({
        "conversation_id": "conv-1", "generation_id": "gen-1", "model": "claude",
        "hook_event_name": event, "cursor_version": "1.7.0",
        "workspace_roots": ["/w"], "user_email": null,
    });
    for (k, v) in fields.as_object().unwrap() {
        p[k] = v.clone();
    }
    p
}

fn cursor_deny(reason: &str) -> Value {
    let text = format!("Rampart: {reason}");
    json!({"permission": "deny", "user_message": text, "agent_message": text})
}

#[test]
fn cursor_hooks() {
    let mut ask = case(
        "ask with no server is denied",
        cursor(
            "beforeShellExecution",
            json!({"command": "sudo reboot", "cwd": "/w"}),
        ),
        cursor_deny(
            "approval required, but the approval queue is unavailable (no rampart server at \
             http://127.0.0.1:1 (Connection refused (os error 111))): sudo needs a person",
        ),
        Some(("exec", "ask")),
    );
    ask.args = vec!["--serve-url", NO_SERVER];
    run_cases(
        "cursor",
        vec![
            case(
                "deny",
                cursor(
                    "beforeShellExecution",
                    json!({"command": "rm -rf /", "cwd": "/w"}),
                ),
                cursor_deny("no recursive removal"),
                Some(("exec", "deny")),
            ),
            ask,
            case(
                "allow is {}",
                cursor(
                    "preToolUse",
                    json!({"tool_name": "Read", "tool_input": {"file_path": "/w/a.rs"}}),
                ),
                json!({}),
                Some(("read", "allow")),
            ),
            case(
                "beforeReadFile of a key",
                cursor(
                    "beforeReadFile",
                    json!({"file_path": "/home/u/.ssh/id_rsa", "content": "x"}),
                ),
                cursor_deny("keys stay private"),
                Some(("read", "deny")),
            ),
            case(
                "response blocked",
                cursor(
                    "postToolUse",
                    json!({
                        "tool_name": "Shell", "tool_input": {"command": "env"},
                        "tool_output": format!("AWS={KEY}"),
                    }),
                ),
                cursor_deny("the output holds an AWS key"),
                Some(("exec", "deny")),
            ),
            case(
                "parse failure: unknown event",
                cursor("beforeTeleport", json!({})),
                cursor_deny("unknown hook event \"beforeTeleport\"; failing closed"),
                Some(("unknown", "deny")),
            ),
            case(
                "unknown tool",
                cursor(
                    "preToolUse",
                    json!({"tool_name": "Teleport", "tool_input": {}}),
                ),
                cursor_deny("unknown tool \"Teleport\"; failing closed"),
                Some(("Teleport", "deny")),
            ),
            case(
                "MCP tool, arguments as a JSON string",
                cursor(
                    "beforeMCPExecution",
                    json!({
                        "tool_name": "delete_file", "tool_input": "{\"path\": \"/w/x\"}",
                        "url": "http://localhost:3000/mcp",
                    }),
                ),
                cursor_deny("destructive MCP tool"),
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
}

pub(crate) fn cline(event: &str, tool: &str, parameters: Value) -> Value {
    let key = if event == "PreToolUse" {
        "preToolUse"
    } else {
        "postToolUse"
    };
    json!({
        "clineVersion": "3.40.0", "hookName": event, "timestamp": "1733300000000",
        "taskId": "task-7", "workspaceRoots": ["/w"], "userId": "u",
        key: {"toolName": tool, "parameters": parameters},
    })
}

fn cline_cancel(reason: &str) -> (Value, &'static str) {
    let text = format!("Blocked by Rampart: {reason}");
    let stderr: &'static str = Box::leak(format!("{text}\n").into_boxed_str());
    (json!({"cancel": true, "errorMessage": text}), stderr)
}

#[test]
fn cline_hooks() {
    let cancel = |name, payload, reason: &str, record| {
        let (answer, stderr) = cline_cancel(reason);
        Case {
            stderr,
            ..case(name, payload, answer, record)
        }
    };
    let mut post = cline("PostToolUse", "read_file", json!({"path": "creds"}));
    post["postToolUse"]["result"] = json!(format!("secret {KEY}"));
    let mut blocked = cancel(
        "response blocked",
        post,
        "the output holds an AWS key",
        Some(("read", "deny")),
    );
    blocked.answer["contextModification"] =
        json!("Rampart withheld this tool's output: the output holds an AWS key");
    let mut mcp = cline(
        "PreToolUse",
        "use_mcp_tool",
        json!({
            "server_name": "db", "tool_name": "drop_table", "arguments": "{\"table\":\"users\"}",
        }),
    );
    mcp["preToolUse"]["mcpServer"] = json!("db");
    run_cases(
        "cline",
        vec![
            cancel(
                "deny",
                cline(
                    "PreToolUse",
                    "execute_command",
                    json!({"command": "rm -rf /", "requires_approval": "false"}),
                ),
                "no recursive removal",
                Some(("exec", "deny")),
            ),
            cancel(
                "ask cancels: Cline cannot wait for a person",
                cline(
                    "PreToolUse",
                    "execute_command",
                    json!({"command": "sudo reboot"}),
                ),
                "approval required: sudo needs a person",
                Some(("exec", "ask")),
            ),
            case(
                "allow",
                cline("PreToolUse", "read_file", json!({"path": "src/main.rs"})),
                json!({"cancel": false}),
                Some(("read", "allow")),
            ),
            blocked,
            cancel(
                "parse failure: parameters is not an object",
                cline("PreToolUse", "read_file", json!("src/main.rs")),
                "\"parameters\" must be an object; failing closed",
                Some(("unknown", "deny")),
            ),
            cancel(
                "unknown tool",
                cline("PreToolUse", "teleport", json!({})),
                "unknown tool \"teleport\"; failing closed",
                Some(("teleport", "deny")),
            ),
            cancel(
                "MCP tool",
                mcp,
                "destructive MCP tool",
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
}

pub(crate) fn copilot_cli(tool: &str, args: Value) -> Value {
    json!({"timestamp": 1733300000000u64, "cwd": "/w", "toolName": tool, "toolArgs": args.to_string()})
}

fn copilot_decision(decision: &str, reason: &str) -> Value {
    let reason = format!("Rampart: {reason}");
    json!({
        "permissionDecision": decision, "permissionDecisionReason": reason,
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse", "permissionDecision": decision,
            "permissionDecisionReason": reason,
        },
    })
}

#[test]
fn copilot_hooks() {
    let mut post = copilot_cli("bash", json!({"command": "env"}));
    post["toolResult"] = json!({"resultType": "success", "textResultForLlm": KEY});
    run_cases(
        "copilot",
        vec![
            case(
                "deny",
                copilot_cli(
                    "bash",
                    json!({"command": "rm -rf /", "description": "clean"}),
                ),
                copilot_decision("deny", "no recursive removal"),
                Some(("exec", "deny")),
            ),
            case(
                "ask, natively",
                copilot_cli("bash", json!({"command": "sudo reboot"})),
                copilot_decision("ask", "sudo needs a person"),
                Some(("exec", "ask")),
            ),
            case(
                "allow is {}",
                copilot_cli("view", json!({"path": "/w/README.md"})),
                json!({}),
                Some(("read", "allow")),
            ),
            case(
                "VS Code's shape",
                json!({
                    "hook_event_name": "PreToolUse", "session_id": "vs-1", "cwd": "/w",
                    "tool_name": "readFile", "tool_input": {"filePath": "/home/u/.ssh/id_rsa"},
                }),
                copilot_decision("deny", "keys stay private"),
                Some(("read", "deny")),
            ),
            case(
                "response blocked",
                post,
                json!({
                    "decision": "block",
                    "reason": "Rampart: the output holds an AWS key",
                    "hookSpecificOutput": {
                        "hookEventName": "PostToolUse",
                        "additionalContext": "Rampart withheld this tool's output: the output holds an AWS key",
                    },
                }),
                Some(("exec", "deny")),
            ),
            case(
                "parse failure: toolArgs is not JSON",
                json!({"timestamp": 1, "cwd": "/w", "toolName": "bash", "toolArgs": "rm -rf /"}),
                copilot_decision("deny", "\"toolArgs\" is not a JSON object; failing closed"),
                Some(("unknown", "deny")),
            ),
            case(
                "unknown tool",
                copilot_cli("teleport", json!({})),
                copilot_decision("deny", "unknown tool \"teleport\"; failing closed"),
                Some(("teleport", "deny")),
            ),
            case(
                "MCP tool",
                json!({
                    "hook_event_name": "PreToolUse", "session_id": "vs-1", "cwd": "/w",
                    "tool_name": "mcp_github_delete_repo", "tool_input": {"repo": "a/b"},
                }),
                copilot_decision("deny", "destructive MCP tool"),
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
}

pub(crate) fn antigravity(tool: &str, input: Value) -> Value {
    json!({"hook_event_name": "PreToolUse", "session_id": "ag-1", "tool_name": tool, "tool_input": input})
}

#[test]
fn antigravity_hooks() {
    let decision =
        |d: &str, reason: &str| json!({"decision": d, "reason": format!("Rampart: {reason}")});
    let mut post = antigravity("view_file", json!({"AbsolutePath": "/w/creds"}));
    post["hook_event_name"] = json!("PostToolUse");
    post["tool_response"] = json!(KEY);
    run_cases(
        "antigravity",
        vec![
            case(
                "deny",
                antigravity(
                    "run_command",
                    json!({"CommandLine": "rm -rf /", "Cwd": "/w"}),
                ),
                decision("deny", "no recursive removal"),
                Some(("exec", "deny")),
            ),
            case(
                "ask is force_ask",
                antigravity(
                    "run_command",
                    json!({"CommandLine": "sudo reboot", "Cwd": "/w"}),
                ),
                decision("force_ask", "sudo needs a person"),
                Some(("exec", "ask")),
            ),
            case(
                "allow",
                antigravity(
                    "write_to_file",
                    json!({"TargetFile": "/w/a.txt", "CodeContent": "x"}),
                ),
                json!({"decision": "allow"}),
                Some(("write", "allow")),
            ),
            case(
                "response blocked",
                post,
                decision("deny", "the output holds an AWS key"),
                Some(("read", "deny")),
            ),
            case(
                "parse failure: tool_input is a list",
                antigravity("run_command", json!(["rm", "-rf", "/"])),
                decision("deny", "\"tool_input\" must be an object; failing closed"),
                Some(("unknown", "deny")),
            ),
            case(
                "unknown tool",
                antigravity("teleport", json!({})),
                decision("deny", "unknown tool \"teleport\"; failing closed"),
                Some(("teleport", "deny")),
            ),
            case(
                "MCP tool",
                antigravity("mcp_github_delete_repo", json!({"repo": "a/b"})),
                decision("deny", "destructive MCP tool"),
                Some(("mcp-destructive", "deny")),
            ),
        ],
    );
}

/// The deny each host gets for our own failures (a `reason` of ours).
fn host_deny(format: &str, reason: &str) -> Value {
    match format {
        "claude-code" => claude_pre("deny", Some(reason)),
        "codex" => codex_deny(reason),
        "gemini" => gemini_deny(reason),
        "cursor" => cursor_deny(reason),
        "cline" => cline_cancel(reason).0,
        "copilot" => copilot_decision("deny", reason),
        "antigravity" => json!({"decision": "deny", "reason": format!("Rampart: {reason}")}),
        other => panic!("no host {other}"),
    }
}

/// A payload of each host that asks for a harmless, allowed call.
pub(crate) fn harmless(format: &str) -> Value {
    match format {
        "claude-code" => claude("PreToolUse", "Bash", json!({"command": "ls"})),
        "codex" => codex("PreToolUse", "Bash", json!({"command": "ls"})),
        "gemini" => gemini("BeforeTool", "run_shell_command", json!({"command": "ls"})),
        "cursor" => cursor("beforeShellExecution", json!({"command": "ls"})),
        "cline" => cline("PreToolUse", "execute_command", json!({"command": "ls"})),
        "copilot" => copilot_cli("bash", json!({"command": "ls"})),
        "antigravity" => antigravity("run_command", json!({"CommandLine": "ls"})),
        other => panic!("no host {other}"),
    }
}

pub(crate) const HOSTS: [&str; 7] = [
    "claude-code",
    "codex",
    "gemini",
    "cursor",
    "cline",
    "copilot",
    "antigravity",
];

#[test]
fn broken_input_and_a_panic_are_each_hosts_deny() {
    let home = Home::new("fail-closed");
    for format in HOSTS {
        let out = home.hook(&["--format", format], "{broken");
        assert_eq!(
            answer(&out),
            host_deny(
                format,
                "the hook input is not valid JSON (key must be a string at line 1 column 2); failing closed"
            ),
            "{format}"
        );
        let mut command = home.command(&["--format", format]);
        command.env("RAMPART_HOOK_TEST_PANIC", "1");
        let out = home.run(command, &harmless(format).to_string());
        let reason = "rampart hook failed unexpectedly (a panic); failing closed";
        assert_eq!(answer(&out), host_deny(format, reason), "{format}");
        // Nothing but what the host shows: no panic message on stderr.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let expected = if format == "cline" {
            format!("Blocked by Rampart: {reason}\n")
        } else {
            String::new()
        };
        assert_eq!(stderr, expected, "{format}");
        // Without the switch the same payload is allowed.
        assert_ne!(
            answer(&home.hook(&["--format", format], &harmless(format).to_string())),
            host_deny(format, reason)
        );
    }
    home.verify();
}

#[test]
fn clean_eof_allows_and_oversized_input_is_denied() {
    let home = Home::new("eof");
    for input in ["", "  \n"] {
        let out = home.hook(&[], input);
        assert_eq!(
            (out.status.code(), out.stdout.len(), out.stderr.len()),
            (Some(0), 0, 0)
        );
    }
    assert!(
        home.events().is_empty(),
        "nothing was asked, nothing is recorded"
    );
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(4 << 20));
    let out = home.hook(&[], &big);
    assert_eq!(
        answer(&out),
        claude_pre(
            "deny",
            Some("the hook input exceeds 4194304 bytes; failing closed")
        )
    );
}

#[test]
fn a_policy_that_does_not_load_denies() {
    let home = Home::new("bad-policy");
    std::fs::write(
        home.dir.join("policy.yaml"),
        "policies:\n  - name: x\n    rules: [ {action: deny\n",
    )
    .unwrap();
    let out = answer(&home.hook(&[], &harmless("claude-code").to_string()));
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    assert!(
        reason.starts_with("Rampart: no usable policy: "),
        "{reason}"
    );
    assert!(
        reason.contains("policy.yaml:"),
        "the reason points at the file: {reason}"
    );
    assert!(reason.ends_with("; failing closed"), "{reason}");
    // Recorded too, as the deny it was.
    assert_eq!(home.events().last().unwrap()["decision"]["action"], "deny");
    home.verify();
}

#[test]
fn an_audit_trail_that_cannot_be_written_denies_in_enforce_mode() {
    let home = Home::new("bad-audit");
    // The audit directory is a file.
    let not_a_dir = home.dir.join("not-a-dir");
    std::fs::write(&not_a_dir, "x").unwrap();
    let dir = not_a_dir.to_str().unwrap();
    let out = answer(&home.hook(&["--audit-dir", dir], &harmless("claude-code").to_string()));
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.starts_with("Rampart: audit storage is unavailable; refusing tool call: "),
        "{reason}"
    );
    // Today's file is a symlink: the trail never follows links.
    let audit = home.dir.join("audit");
    std::fs::create_dir_all(&audit).unwrap();
    std::fs::set_permissions(&audit, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    let today = rampart_audit::Timestamp::now().date();
    std::os::unix::fs::symlink(
        home.dir.join("elsewhere"),
        audit.join(format!("{today}.jsonl")),
    )
    .unwrap();
    for format in HOSTS {
        let out = answer(&home.hook(
            &["--format", format, "--audit-dir", audit.to_str().unwrap()],
            &harmless(format).to_string(),
        ));
        let text = out.to_string();
        assert!(
            text.contains("audit storage is unavailable; refusing tool call"),
            "{format}: {text}"
        );
        assert!(text.contains("symlink"), "{format}: {text}");
    }
    assert!(!home.dir.join("elsewhere").exists());
    // In monitor mode the call goes through all the same.
    let out = answer(&home.hook(
        &["--mode", "monitor", "--audit-dir", audit.to_str().unwrap()],
        &harmless("claude-code").to_string(),
    ));
    assert_eq!(out, claude_pre("allow", None));
}

#[test]
fn monitor_and_audit_modes_allow_and_record_what_the_policy_said() {
    let home = Home::new("monitor");
    let payload = claude("PreToolUse", "Bash", json!({"command": "rm -rf /"}));
    for mode in ["monitor", "audit"] {
        let out = answer(&home.hook(&["--mode", mode], &payload.to_string()));
        assert_eq!(out, claude_pre("allow", None), "{mode}");
        let events = home.events();
        let event = events.last().unwrap();
        assert_eq!(event["decision"]["action"], "deny", "{mode}");
        assert_eq!(event["decision"]["message"], "no recursive removal");
    }
    let mut command = home.command(&[]);
    command.env("RAMPART_MODE", "monitor");
    assert_eq!(
        answer(&home.run(command, &payload.to_string())),
        claude_pre("allow", None)
    );
    // A mode word the hook does not know enforces.
    let mut command = home.command(&[]);
    command.env("RAMPART_MODE", "loud");
    let out = answer(&home.run(command, &payload.to_string()));
    assert_eq!(out, claude_pre("deny", Some("no recursive removal")));
    assert_eq!(home.verify(), 4);
}

/// A user who installed upstream's rampart has `"command": "rampart hook"` in
/// `~/.claude/settings.json`; with our binary in its place, that command answers every call.
#[test]
fn an_upstream_claude_settings_file_works_unchanged() {
    let home = Home::new("upstream-settings");
    let settings = json!({"hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "rampart hook"}]}],
        "PostToolUse": [{"matcher": ".*", "hooks": [{"type": "command", "command": "rampart hook"}]}],
    }});
    std::fs::create_dir_all(home.dir.join(".claude")).unwrap();
    std::fs::write(home.dir.join(".claude/settings.json"), settings.to_string()).unwrap();
    let text = std::fs::read_to_string(home.dir.join(".claude/settings.json")).unwrap();
    let settings: Value = serde_json::from_str(&text).unwrap();
    let command = settings["hooks"]["PreToolUse"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap();
    let bin = crate::rampart_bin().parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let run = |payload: &Value| {
        let mut sh = Command::new("sh");
        sh.args(["-c", command])
            .current_dir(&home.dir)
            .env("HOME", &home.dir)
            .env("PATH", &path)
            .env_remove("RAMPART_MODE");
        home.run(sh, &payload.to_string())
    };
    // The embedded standard profile decides: no policy of the user's own.
    let out = run(&claude(
        "PreToolUse",
        "Bash",
        json!({"command": "rm -rf /"}),
    ));
    assert_eq!(out.stderr.len(), 0);
    let out = answer(&out);
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    let out = answer(&run(&claude(
        "PreToolUse",
        "Bash",
        json!({"command": "git status"}),
    )));
    assert_eq!(out, claude_pre("allow", None));
    let mut post = claude("PostToolUse", "Bash", json!({"command": "git status"}));
    post["tool_response"] = json!({"stdout": "clean", "stderr": "", "interrupted": false});
    assert_eq!(answer(&run(&post)), json!({}));
    assert_eq!(home.verify(), 3);
}

/// A host that starts the hook with stdout closed must not get the answer written into the first
/// file the hook opens for writing (a file of the audit trail): the standard descriptors are
/// reopened on /dev/null first.
#[test]
fn a_closed_stdout_never_lands_in_an_audit_file() {
    use std::os::unix::process::CommandExt;
    let home = Home::new("closed-stdout");
    let mut command = Command::new(crate::rampart_bin());
    command
        .arg("hook")
        .current_dir(&home.dir)
        .env("HOME", &home.dir);
    // SAFETY: close(2) is async-signal-safe; the child has one thread between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::close(1);
            Ok(())
        });
    }
    let out = home.run(command, &harmless("claude-code").to_string());
    assert_eq!(out.status.code(), Some(0));
    for entry in std::fs::read_dir(home.audit()).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        assert!(
            !text.contains("hookSpecificOutput"),
            "{}: {text}",
            entry.path().display()
        );
    }
    assert_eq!(home.verify(), 1);
}

/// The cached bundle is what a hook decides with: a damaged one is rebuilt (never trusted, never
/// "no rules"), and a cache that cannot be used at all denies.
#[test]
fn a_damaged_or_unusable_policy_cache_never_allows() {
    let home = Home::new("cache");
    let rm = claude("PreToolUse", "Bash", json!({"command": "rm -rf /"}));
    let denied = claude_pre("deny", Some("no recursive removal"));
    assert_eq!(answer(&home.hook(&[], &rm.to_string())), denied);
    let cache = home.dir.join(".rampart/cache");
    let bundles: Vec<PathBuf> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    assert_eq!(bundles.len(), 1, "one cached bundle");
    // Truncated, then overwritten with garbage: each time rebuilt and decided the same.
    let bytes = std::fs::read(&bundles[0]).unwrap();
    std::fs::write(&bundles[0], &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(answer(&home.hook(&[], &rm.to_string())), denied);
    std::fs::write(&bundles[0], vec![0xA5; bytes.len()]).unwrap();
    assert_eq!(answer(&home.hook(&[], &rm.to_string())), denied);
    assert_eq!(
        std::fs::read(&bundles[0]).unwrap(),
        bytes,
        "rebuilt as it was"
    );
    // No place to keep a bundle: no policy to decide with, so even a harmless call is denied.
    std::fs::remove_dir_all(&cache).unwrap();
    std::fs::write(&cache, "not a directory").unwrap();
    let out = answer(&home.hook(&[], &harmless("claude-code").to_string()));
    let reason = out["hookSpecificOutput"]["permissionDecisionReason"]
        .as_str()
        .unwrap();
    assert!(
        reason.starts_with("Rampart: no usable policy: "),
        "{reason}"
    );
    assert_eq!(home.verify(), 4);
}

const COUNTED: &str = r#"
default_action: deny
policies:
  - name: fetch-rate
    match: {tool: [fetch]}
    rules:
      - action: deny
        when: {call_count: {gte: 3, window: 1h}}
        message: too many fetches
      - action: allow
        when: {default: true}
"#;

/// Hooks are one process per call: call counts persist across them (upstream's counts file), and
/// a single-use allow permits exactly one call.
#[test]
fn counts_and_single_use_rules_hold_across_hook_processes() {
    let home = Home::new("enforce");
    std::fs::write(home.dir.join("policy.yaml"), COUNTED).unwrap();
    let fetch = claude(
        "PreToolUse",
        "WebFetch",
        json!({"url": "https://docs.example/a", "prompt": "p"}),
    );
    for expected in ["allow", "allow", "deny", "deny"] {
        let out = answer(&home.hook(&[], &fetch.to_string()));
        assert_eq!(
            out["hookSpecificOutput"]["permissionDecision"], expected,
            "{out}"
        );
    }
    assert!(home.dir.join(".rampart/hook-call-counts.json").is_file());
    // Denied by the default action; a single-use allow permits it once.
    let push = claude(
        "PreToolUse",
        "Bash",
        json!({"command": "git push origin main"}),
    );
    let out = answer(&home.hook(&[], &push.to_string()));
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    let events = home.events();
    let suggested = events.last().unwrap()["decision"]["suggestions"].clone();
    assert!(
        suggested.as_array().is_some_and(|s| !s.is_empty()),
        "a default deny carries the command that would allow it: {suggested}"
    );
    let allow = Command::new(crate::rampart_bin())
        .args([
            "--config",
            "policy.yaml",
            "allow",
            "git push origin main",
            "--once",
            "-y",
        ])
        .current_dir(&home.dir)
        .env("HOME", &home.dir)
        .output()
        .unwrap();
    assert!(
        allow.status.success(),
        "{}",
        String::from_utf8_lossy(&allow.stderr)
    );
    let out = answer(&home.hook(&[], &push.to_string()));
    assert_eq!(out, claude_pre("allow", None));
    let out = answer(&home.hook(&[], &push.to_string()));
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    home.verify();
}

/// A webhook endpoint on loopback that sends every request body it receives to the channel.
fn notify_endpoint() -> (String, std::sync::mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/rampart-notify", listener.local_addr().unwrap());
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut header = String::new();
                reader.read_line(&mut header).unwrap();
                if header.trim().is_empty() {
                    break;
                }
                let lower = header.to_ascii_lowercase();
                if let Some(v) = lower.strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let _ = send.send(serde_json::from_slice(&body).unwrap());
            let mut stream = stream;
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (url, receive)
}

#[test]
fn a_policy_notify_block_posts_denials_after_the_answer() {
    let (url, received) = notify_endpoint();
    let home = Home::new("notify");
    let policy = format!("{POLICY}notify:\n  url: {url}\n  platform: webhook\n  on: [deny]\n");
    std::fs::write(home.dir.join("policy.yaml"), policy).unwrap();
    let wait = Duration::from_secs(10);

    let allowed = claude("PreToolUse", "Bash", json!({"command": "ls"}));
    assert_eq!(
        answer(&home.hook(&[], &allowed.to_string())),
        claude_pre("allow", None)
    );
    let asked = claude("PreToolUse", "Bash", json!({"command": "sudo reboot"}));
    let out = answer(&home.hook(&[], &asked.to_string()));
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "ask");

    let denied = claude("PreToolUse", "Bash", json!({"command": "rm -rf /tmp/x"}));
    let out = answer(&home.hook(&[], &denied.to_string()));
    assert_eq!(out["hookSpecificOutput"]["permissionDecision"], "deny");
    let body = received.recv_timeout(wait).expect("the denial was posted");
    let text = body.to_string();
    for part in ["deny", "exec", "rm -rf /tmp/x", "no recursive removal"] {
        assert!(text.contains(part), "{part} in {text}");
    }
    // Neither the allow nor the ask (not in `on`) was posted.
    assert!(received.recv_timeout(Duration::from_millis(500)).is_err());
    assert_eq!(home.verify(), 3);
}
