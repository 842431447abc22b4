//! Upstream's routes and JSON shapes (reference §3): decisions on /v1/tool and /v1/preflight in
//! each mode, auth, introspection, reload, audit routes, the event stream, metrics, the preload's
//! datagrams.

use super::*;
use serde_json::json;

fn with_policy(name: &str) -> Home {
    let home = Home::new(name);
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    home
}

#[test]
fn health_needs_no_token_and_the_api_does() {
    let home = with_policy("auth");
    let s = Server::start(&home, &[]);
    let mut c = s.conn();
    let h = c.get("/healthz", None).json();
    assert_eq!(
        (
            h["service"].as_str(),
            h["status"].as_str(),
            h["mode"].as_str()
        ),
        (Some("rampart"), Some("ok"), Some("enforce"))
    );
    assert!(h["uptime_seconds"].is_u64() && h["version"].as_str().unwrap().starts_with('v'));
    let r = c.request(
        "POST",
        "/v1/tool/exec",
        &[],
        exec("ls").to_string().as_bytes(),
    );
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("missing authorization token"))
    );
    let r = c.post("/v1/tool/exec", "nope", &exec("ls"));
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("invalid authorization token"))
    );
    let r = c.get("/v1/events/stream?token=nope", None);
    assert_eq!(r.status, 401);
    // `?token=` is accepted only on the event stream.
    let r = c.get(&format!("/v1/status?token={}", s.token), None);
    assert_eq!(r.status, 401);
    let r = c.get("/v1/nothing", Some(&s.token));
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (404, Some("not found"))
    );
    let r = c.get("/v1/tool/exec", Some(&s.token));
    assert_eq!(r.status, 405);
    assert_eq!(String::from_utf8_lossy(&r.body), "Method Not Allowed\n");
    // No /health on serve, as upstream.
    assert_eq!(c.get("/health", None).status, 404);
    // Without --metrics there is no /metrics.
    assert_eq!(c.get("/metrics", Some(&s.token)).status, 404);
}

#[test]
fn tool_answers_allow_deny_and_ask_with_upstreams_codes_and_shapes() {
    let home = with_policy("tool");
    let s = Server::start(&home, &[]);
    let mut c = s.conn();
    let r = c.post("/v1/tool/exec", &s.token, &exec("ls -la"));
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(
        (j["allowed"].as_bool(), j["decision"].as_str()),
        (Some(true), Some("allow"))
    );
    assert!(j["audit_id"].as_str().unwrap().len() == 26 && j["eval_duration_us"].is_u64());
    assert_eq!(j["suggestions"], json!([]));
    assert!(j.get("policy").is_none(), "{j}");
    let r = c.post("/v1/tool/exec", &s.token, &exec("rm -rf /tmp/x"));
    assert_eq!(r.status, 403);
    let j = r.json();
    assert_eq!(
        (
            j["allowed"].as_bool(),
            j["decision"].as_str(),
            j["message"].as_str(),
            j["policy"].as_str()
        ),
        (Some(false), Some("deny"), Some("no rm"), Some("test-deny"))
    );
    let r = c.post("/v1/tool/exec", &s.token, &exec("sudo reboot"));
    assert_eq!(r.status, 202);
    let j = r.json();
    assert_eq!(
        (j["decision"].as_str(), j["approval_status"].as_str()),
        (Some("ask"), Some("pending"))
    );
    assert_eq!(j["approval_id"].as_str().unwrap().len(), 26);
    assert!(j["expires_at"].as_str().unwrap().ends_with('Z'));
    // The same call again joins the pending approval instead of asking twice.
    let again = c
        .post("/v1/tool/exec", &s.token, &exec("sudo reboot"))
        .json();
    assert_eq!(again["approval_id"], j["approval_id"]);
    // Names: reserved classes in lowercase only; custom names keep their case.
    assert_eq!(c.post("/v1/tool/Exec", &s.token, &exec("ls")).status, 400);
    assert_eq!(
        c.post("/v1/tool/bad%20name", &s.token, &exec("ls")).status,
        400
    );
    assert_eq!(
        c.post("/v1/tool/MyTool", &s.token, &json!({"params": {}}))
            .status,
        200
    );
    // Every decision is recorded, with the call's request.
    let audit = home.audit();
    let denied = audit
        .iter()
        .find(|e| e["decision"]["action"] == "deny")
        .unwrap();
    assert_eq!(denied["request"]["command"], "rm -rf /tmp/x");
    assert_eq!(denied["agent"], "test-agent");
    home.verify();
}

#[test]
fn preflight_is_always_200_and_says_whether_it_enforced() {
    let home = with_policy("preflight");
    let s = Server::start(&home, &[]);
    let mut c = s.conn();
    for (command, decision) in [("rm -rf /x", "deny"), ("sudo ls", "ask"), ("ls", "allow")] {
        let r = c.post("/v1/preflight/exec", &s.token, &exec(command));
        assert_eq!(r.status, 200, "{command}");
        let j = r.json();
        assert_eq!(j["decision"], decision);
        assert_eq!(j["allowed"], decision == "allow");
        assert_eq!(
            (
                j["enforced"].as_bool(),
                j["enforcement_requested"].as_bool()
            ),
            (Some(false), Some(false))
        );
    }
    let mut body = exec("rm -rf /x");
    body["enforce"] = json!(true);
    let j = c.post("/v1/preflight/exec", &s.token, &body).json();
    assert_eq!(
        (j["enforced"].as_bool(), j["matched_policies"][0].as_str()),
        (Some(true), Some("test-deny"))
    );
    // Nothing matched: matched_policies is null, and no approval was queued by the ask.
    let j = c.post("/v1/preflight/exec", &s.token, &exec("ls")).json();
    assert!(j["matched_policies"].is_null(), "{j}");
    let pending = s.admin("GET", "/v1/approvals", None).json();
    assert_eq!(pending["approvals"], json!([]));
    // Previews are recorded too.
    assert_eq!(home.audit().len(), 5);
}

#[test]
fn monitor_and_disabled_modes_answer_as_upstream() {
    let home = with_policy("modes");
    let s = Server::start(&home, &["--mode", "monitor"]);
    let mut c = s.conn();
    let r = c.post("/v1/tool/exec", &s.token, &exec("rm -rf /x"));
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(
        (
            j["allowed"].as_bool(),
            j["decision"].as_str(),
            j["enforced"].as_bool()
        ),
        (Some(true), Some("allow"), Some(false))
    );
    assert_eq!(
        (j["policy_decision"].as_str(), j["policy_message"].as_str()),
        (Some("deny"), Some("no rm"))
    );
    assert_eq!(
        j["message"],
        "monitor mode observed deny; action allowed: no rm"
    );
    let mut body = exec("rm -rf /x");
    body["enforce"] = json!(true);
    let j = c.post("/v1/preflight/exec", &s.token, &body).json();
    assert_eq!(
        (
            j["allowed"].as_bool(),
            j["policy_decision"].as_str(),
            j["enforced"].as_bool()
        ),
        (Some(true), Some("deny"), Some(false))
    );
    // The record says what the policy said.
    assert!(home
        .audit()
        .iter()
        .all(|e| e["decision"]["action"] == "deny"));
    drop(s);
    let s = Server::start(&home, &["--mode", "disabled"]);
    let j = s
        .conn()
        .post("/v1/tool/exec", &s.token, &exec("rm -rf /x"))
        .json();
    assert_eq!(
        (j["allowed"].as_bool(), j["message"].as_str()),
        (Some(true), Some("policy evaluation disabled"))
    );
}

#[test]
fn response_scanning_redacts_in_enforce_mode() {
    let home = Home::new("response");
    std::fs::write(
        home.work().join("rampart.yaml"),
        r#"
default_action: allow
policies:
  - name: no-keys
    rules:
      - action: deny
        when: {response_matches: ["AKIA[0-9A-Z]{16}"]}
        message: credential in output
"#,
    )
    .unwrap();
    let s = Server::start(&home, &[]);
    let mut body = exec("cat creds");
    body["response"] = json!("key=AKIAABCDEFGHIJKLMNOP");
    let r = s.conn().post("/v1/tool/exec", &s.token, &body);
    assert_eq!(r.status, 200);
    let j = r.json();
    assert_eq!(
        (j["allowed"].as_bool(), j["message"].as_str()),
        (Some(false), Some("credential in output"))
    );
    assert_eq!(
        j["response"],
        "[REDACTED: sensitive content removed by Rampart]"
    );
    body["response"] = json!("all fine");
    let j = s.conn().post("/v1/tool/exec", &s.token, &body).json();
    assert_eq!(
        (j["allowed"].as_bool(), j["response"].as_str()),
        (Some(true), Some("all fine"))
    );
    let audit = home.audit();
    let scanned = audit
        .iter()
        .find(|e| e["request"]["rampart_phase"] == "response")
        .unwrap();
    assert_eq!(
        scanned["request"]["request_audit_id"]
            .as_str()
            .unwrap()
            .len(),
        26
    );
    assert!(scanned["response"]["flags"]
        .to_string()
        .contains("response-redacted"));
}

#[test]
fn introspection_reload_and_test() {
    let home = with_policy("introspect");
    let s = Server::start(&home, &[]);
    let status = s.admin("GET", "/v1/status", None).json();
    assert_eq!(
        (
            status["mode"].as_str(),
            status["default_action"].as_str(),
            status["policy_count"].as_u64()
        ),
        (Some("enforce"), Some("allow"), Some(2))
    );
    let policies = s.admin("GET", "/v1/policies", None).json();
    assert_eq!(policies["count"], 2);
    assert_eq!(policies["policies"][0]["match_tools"], json!(["exec"]));
    assert_eq!(policies["policies"][0]["match_agent"], "*");
    let summary = s.admin("GET", "/v1/policy/summary", None).json();
    assert_eq!(
        summary["summary"],
        "2 active rules loaded; default action: allow"
    );
    let t = s
        .admin("POST", "/v1/test", Some(&json!({"command": "rm -rf /"})))
        .json();
    assert_eq!(
        (t["action"].as_str(), t["policy_scope"].as_str()),
        (Some("deny"), Some("global"))
    );
    let before = home.audit().len();
    assert_eq!(before, 0, "/v1/test records nothing");
    let r = s.admin("POST", "/v1/policy/reload", None);
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (
            r.json()["success"].as_bool(),
            r.json()["policies_loaded"].as_u64()
        ),
        (Some(true), Some(2))
    );
    assert_eq!(s.admin("POST", "/v1/policy/reload", None).status, 429);
    // A broken edit is refused; the policy in force stays and says why.
    std::fs::write(
        home.work().join("rampart.yaml"),
        "policies: [ {name: x, rules: [ {action: nope} ] } ]",
    )
    .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let r = s.admin("POST", "/v1/policy/reload", None);
    assert_eq!(
        (r.status, r.json()["success"].as_bool()),
        (500, Some(false))
    );
    let j = s
        .conn()
        .post("/v1/tool/exec", &s.token, &exec("rm -rf /x"))
        .json();
    assert_eq!(j["decision"], "deny", "the old policy still decides");
    assert!(s.admin("GET", "/v1/status", None).json()["reload_error"].is_string());
    // An edit that loads is picked up without asking (the sources are watched).
    std::fs::write(
        home.work().join("rampart.yaml"),
        POLICY.replace("no rm", "still no rm"),
    )
    .unwrap();
    let started = std::time::Instant::now();
    loop {
        let j = s
            .conn()
            .post("/v1/tool/exec", &s.token, &exec("rm -rf /x"))
            .json();
        if j["message"] == "still no rm" {
            break;
        }
        assert!(
            started.elapsed().as_secs() < 10,
            "the edit was not picked up: {j}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

#[test]
fn audit_routes_events_stream_and_metrics() {
    let home = with_policy("auditroutes");
    let s = Server::start(&home, &["--metrics"]);
    // The stream first, so that it sees the decisions.
    let mut stream = s.conn();
    write!(
        stream.stream,
        "GET /v1/events/stream?token={} HTTP/1.1\r\nHost: x\r\n\r\n",
        s.token
    )
    .unwrap();
    let mut lines = BufReader::new(stream.stream.try_clone().unwrap());
    let mut head = String::new();
    while !head.ends_with("\r\n\r\n") {
        lines.read_line(&mut head).unwrap();
    }
    assert!(
        head.starts_with("HTTP/1.1 200") && head.contains("text/event-stream"),
        "{head}"
    );
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), r#"data: {"type":"connected"}"#);
    let mut c = s.conn();
    c.post("/v1/tool/exec", &s.token, &exec("rm -rf /x"));
    c.post("/v1/tool/exec", &s.token, &exec("sudo ls"));
    let mut seen = Vec::new();
    while !(seen.iter().any(|l: &String| l.contains("\"approvals\""))
        && seen.iter().filter(|l| l.contains("\"audit\"")).count() >= 2)
    {
        let mut l = String::new();
        lines.read_line(&mut l).unwrap();
        if l.starts_with("data:") {
            seen.push(l);
        }
    }
    assert!(seen.iter().any(|l| l.contains("rm -rf /x")), "{seen:?}");
    let today = s.admin("GET", "/v1/audit/dates", None).json();
    let date = today["dates"][0].as_str().unwrap().to_string();
    assert_eq!(today["configured"], true);
    let events = s
        .admin(
            "GET",
            &format!("/v1/audit/events?date={date}&limit=1"),
            None,
        )
        .json();
    assert_eq!(
        (
            events["total_in_file"].as_u64(),
            events["next_offset"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        events["events"][0]["request"]["command"], "sudo ls",
        "newest first"
    );
    let filtered = s
        .admin(
            "GET",
            &format!("/v1/audit/events?date={date}&action=deny"),
            None,
        )
        .json();
    assert_eq!(filtered["total_in_file"], 1);
    let export = s.admin("GET", &format!("/v1/audit/export?date={date}"), None);
    assert_eq!(export.header("Content-Type"), Some("application/jsonl"));
    assert!(export
        .header("Content-Disposition")
        .unwrap()
        .contains("attachment"));
    assert_eq!(String::from_utf8_lossy(&export.body).lines().count(), 2);
    let stats = s
        .admin(
            "GET",
            &format!("/v1/audit/stats?from={date}&to={date}"),
            None,
        )
        .json();
    assert_eq!(
        (
            stats["total_events"].as_u64(),
            stats["by_action"]["deny"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert_eq!(
        s.admin("GET", "/v1/audit/stats?from=2020-01-01&to=2026-01-01", None)
            .status,
        400
    );
    assert_eq!(
        s.admin("GET", "/v1/audit/events?date=yesterday", None)
            .status,
        400
    );
    let metrics = s.admin("GET", "/metrics", None);
    let text = String::from_utf8_lossy(&metrics.body);
    assert!(
        text.contains("rampart_decisions_total{action=\"deny\",policy=\"test-deny\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("rampart_pending_approvals 1") && text.contains("rampart_policy_count 2"),
        "{text}"
    );
}

#[test]
fn preload_datagrams_are_recorded_in_the_chain() {
    let home = with_policy("datagram");
    let s = Server::start(&home, &[]);
    let sock = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let line = br#"{"ts":1700000000123,"pid":77,"agent":"preload","session":"p","tool":"exec","command":"ls -la","decision":"allow","allowed":true,"message":"ok","matched_policies":[],"hook":"execve","mode":"enforce"}"#;
    sock.send_to(line, home.home().join(".rampart/preload.sock"))
        .unwrap();
    let started = Instant::now();
    while home.audit().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(5), "no record");
        std::thread::sleep(Duration::from_millis(20));
    }
    let e = &home.audit()[0];
    assert_eq!(
        (e["request"]["command"].as_str(), e["agent"].as_str()),
        (Some("ls -la"), Some("preload"))
    );
    assert_eq!(e["request"]["_rampart_preload"]["hook"], "execve");
    home.verify();
    s.stop();
    assert!(
        !home.home().join(".rampart/preload.sock").exists(),
        "the socket goes with the server"
    );
}
