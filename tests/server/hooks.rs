//! `POST /v1/hooks/{host}` answers what `rampart hook --format {host}` prints: for every host, the
//! same payloads go through a hook process and through a running server (each with its own HOME
//! and the same policy), and the JSON, the exit code the server reports, and the records in each
//! chain must agree. An `ask` of a host that cannot ask its user waits in the server's own queue
//! and is answered the moment a person approves or denies it.

use serde_json::{json, Value};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::{path_of, Home, Server};
use crate::hooks::{
    antigravity, claude, cline, codex, copilot_cli, cursor, gemini, harmless, HOSTS, KEY, POLICY,
};

fn with_policy(name: &str) -> Home {
    let home = Home::new(name);
    std::fs::write(home.root.join("policy.yaml"), POLICY).unwrap();
    home
}

fn config(home: &Home) -> String {
    path_of(&home.root.join("policy.yaml")).to_string()
}

/// `rampart --config policy.yaml hook --format {format}` with `payload` on stdin.
fn hook_process(home: &Home, format: &str, payload: &[u8], env: &[(&str, &str)]) -> Output {
    let config = config(home);
    let mut command: Command = home.rampart(&["--config", &config, "hook", "--format", format]);
    for var in ["RAMPART_SESSION", "RAMPART_RUN", "RAMPART_CLAUDE_ALLOW"] {
        command.env_remove(var);
    }
    command.envs(env.iter().copied());
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let bytes = payload.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&bytes));
    let out = child.wait_with_output().unwrap();
    let _ = writer.join();
    out
}

fn serve(home: &Home) -> Server {
    let config = config(home);
    Server::start(home, &["--config", &config])
}

/// The hook's answer through the server: the status, the body, the exit code it reports.
fn hook_http(server: &Server, format: &str, payload: &[u8]) -> (u16, String, String) {
    let r = server.conn().request(
        "POST",
        &format!("/v1/hooks/{format}"),
        &[("Authorization", &format!("Bearer {}", server.token))],
        payload,
    );
    let exit = r.header("X-Rampart-Hook-Exit").unwrap_or("").to_string();
    (r.status, String::from_utf8(r.body).unwrap(), exit)
}

/// The payloads every host is asked: allowed, denied, broken, empty (and the host's post-event
/// with a leaked key, where it has one).
fn payloads(format: &str) -> Vec<(&'static str, Vec<u8>)> {
    let rm = json!({"command": "rm -rf /nonexistent-rampart-test"});
    let deny = match format {
        "claude-code" => claude("PreToolUse", "Bash", rm),
        "codex" => codex("PreToolUse", "Bash", rm),
        "gemini" => gemini("BeforeTool", "run_shell_command", rm),
        "cursor" => cursor("beforeShellExecution", rm),
        "cline" => cline("PreToolUse", "execute_command", rm),
        "copilot" => copilot_cli("bash", rm),
        "antigravity" => antigravity("run_command", json!({"CommandLine": rm["command"]})),
        other => panic!("no host {other}"),
    };
    let mut out = vec![
        ("allow", harmless(format).to_string().into_bytes()),
        ("deny", deny.to_string().into_bytes()),
        ("broken", b"{broken".to_vec()),
        ("empty", Vec::new()),
        ("not an object", b"[1,2]".to_vec()),
    ];
    let post = match format {
        "claude-code" => {
            let mut p = claude("PostToolUse", "Bash", json!({"command": "cat creds"}));
            p["tool_response"] = json!({"stdout": KEY, "stderr": "", "interrupted": false});
            Some(p)
        }
        "codex" => {
            let mut p = codex("PostToolUse", "Bash", json!({"command": ["cat", "creds"]}));
            p["tool_response"] = json!({"stdout": KEY, "exit_code": 0});
            Some(p)
        }
        "gemini" => {
            let mut p = gemini("AfterTool", "read_file", json!({"file_path": "creds.txt"}));
            p["tool_response"] = json!({"llmContent": KEY});
            Some(p)
        }
        _ => None,
    };
    if let Some(p) = post {
        out.push(("post with a key", p.to_string().into_bytes()));
    }
    if matches!(format, "claude-code" | "copilot" | "antigravity" | "cline") {
        let sudo = json!({"command": "sudo ls"});
        let ask = match format {
            "claude-code" => claude("PreToolUse", "Bash", sudo),
            "copilot" => copilot_cli("bash", sudo),
            "cline" => cline("PreToolUse", "execute_command", sudo),
            _ => antigravity("run_command", json!({"CommandLine": "sudo ls"})),
        };
        out.push(("ask (native or denied)", ask.to_string().into_bytes()));
    }
    out
}

/// `(tool, action, agent)` of every decision record.
fn decisions(home: &Home) -> Vec<(Value, Value, Value)> {
    home.audit()
        .iter()
        .filter(|e| e.get("decision").is_some())
        .map(|e| {
            (
                e["tool"].clone(),
                e["decision"]["action"].clone(),
                e["agent"].clone(),
            )
        })
        .collect()
}

#[test]
fn every_host_gets_from_the_server_what_the_hook_prints() {
    let process = with_policy("hooks-parity-process");
    let served = with_policy("hooks-parity-served");
    let server = serve(&served);
    for format in HOSTS {
        for (name, payload) in payloads(format) {
            let out = hook_process(&process, format, &payload, &[]);
            let (status, body, exit) = hook_http(&server, format, &payload);
            let stdout = String::from_utf8(out.stdout).unwrap();
            assert_eq!(status, 200, "{format}: {name}: {body}");
            assert_eq!(body, stdout, "{format}: {name}");
            assert_eq!(
                exit,
                out.status.code().unwrap().to_string(),
                "{format}: {name}: exit code"
            );
            if !stdout.is_empty() {
                let _: Value = serde_json::from_str(&stdout).unwrap();
            }
        }
    }
    let (by_process, by_server) = (decisions(&process), decisions(&served));
    assert!(by_process.len() >= HOSTS.len() * 4, "{by_process:?}");
    assert_eq!(by_server, by_process, "the same records in both chains");
    server.stop();
    process.verify();
    served.verify();
}

#[test]
fn hook_route_auth_unknown_hosts_and_oversized_input() {
    let home = with_policy("hooks-route");
    let server = serve(&home);
    let payload = harmless("codex").to_string();
    let r = server
        .conn()
        .request("POST", "/v1/hooks/codex", &[], payload.as_bytes());
    assert_eq!(r.status, 401, "no token");
    let (status, body, _) = hook_http(&server, "nonesuch", payload.as_bytes());
    assert_eq!(status, 404, "{body}");
    assert!(body.contains("claude-code"), "{body}");
    let r = server.admin("GET", "/v1/hooks/codex", None);
    assert_eq!(r.status, 405);
    // Larger than any API request, within a hook's limit: decided (the output scanned).
    let mut big = claude("PostToolUse", "Bash", json!({"command": "cat log"}));
    big["tool_response"] = json!({"stdout": format!("{}{KEY}", "x".repeat(2 << 20)),
                                  "stderr": "", "interrupted": false});
    let (status, body, _) = hook_http(&server, "claude-code", big.to_string().as_bytes());
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(answer["decision"], "block", "{answer}");
    // Over the hook's limit: the host's deny, not an error status the host would run past.
    let huge = vec![b' '; (4 << 20) + 10];
    let (status, body, _) = hook_http(&server, "codex", &huge);
    assert_eq!(status, 200);
    let answer: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        answer["hookSpecificOutput"]["permissionDecision"], "deny",
        "{answer}"
    );
    server.stop();
    home.verify();
}

/// Approves (or denies) every approval that shows up in `server`'s queue, `count` of them.
fn resolve_when_pending(port: u16, token: String, approve: bool, count: usize) {
    let started = Instant::now();
    let mut done = 0;
    while done < count && started.elapsed() < Duration::from_secs(30) {
        let mut c = super::Conn::open(port).unwrap();
        let list = c.get("/v1/approvals", Some(&token)).json();
        for a in list["approvals"].as_array().cloned().unwrap_or_default() {
            let id = a["id"].as_str().unwrap();
            let body = json!({"approved": approve, "resolved_by": "test"});
            let r = c.post(&format!("/v1/approvals/{id}/resolve"), &token, &body);
            assert_eq!(r.status, 200, "{:?}", r.json());
            done += 1;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_queued_ask_is_answered_alike_through_the_server_and_the_hook() {
    let process = with_policy("hooks-ask-process");
    let served = with_policy("hooks-ask-served");
    let server = serve(&served);
    let url = format!("http://127.0.0.1:{}", server.port);
    let payload = codex("PreToolUse", "Bash", json!({"command": "sudo ls"}))
        .to_string()
        .into_bytes();
    for approve in [true, false] {
        let (port, token) = (server.port, server.token.clone());
        let person = std::thread::spawn(move || resolve_when_pending(port, token, approve, 1));
        let started = Instant::now();
        let (status, body, _) = hook_http(&server, "codex", &payload);
        let waited = started.elapsed();
        person.join().unwrap();
        assert_eq!(status, 200);
        let (port, token) = (server.port, server.token.clone());
        let person = std::thread::spawn(move || resolve_when_pending(port, token, approve, 1));
        let out = hook_process(
            &process,
            "codex",
            &payload,
            &[("RAMPART_URL", &url), ("RAMPART_TOKEN", &server.token)],
        );
        person.join().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        // The approval ids differ; everything else is the same answer.
        let strip = |s: &str| {
            let v: Value = serde_json::from_str(s).unwrap();
            let text = v.to_string();
            match text.find("queue (") {
                Some(i) => format!("{}{}", &text[..i], &text[i + 33..]),
                None => text,
            }
        };
        assert_eq!(strip(&body), strip(&stdout), "approve={approve}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        if approve {
            assert_eq!(answer, json!({}));
        } else {
            assert_eq!(answer["hookSpecificOutput"]["permissionDecision"], "deny");
        }
        assert!(
            waited < Duration::from_secs(5),
            "answered when resolved: {waited:?}"
        );
    }
    server.stop();
    served.verify();
}
