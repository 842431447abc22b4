//! Approvals: the waiters woken the moment a person answers, one approval per action (exact
//! replay), persist, signed links, expiry, a restart, bulk resolution, the CLI.

use super::*;
use serde_json::json;

fn server(name: &str, args: &[&str]) -> (Home, Server) {
    let home = Home::new(name);
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    let s = Server::start(&home, args);
    (home, s)
}

fn ask(s: &Server, command: &str) -> String {
    let r = s.conn().post("/v1/tool/exec", &s.token, &exec(command));
    assert_eq!(r.status, 202, "{:?}", r.json());
    r.json()["approval_id"].as_str().unwrap().to_string()
}

fn resolve(s: &Server, id: &str, body: Value) -> Resp {
    s.admin("POST", &format!("/v1/approvals/{id}/resolve"), Some(&body))
}

#[test]
fn a_waiter_is_woken_when_a_person_answers_not_at_its_next_poll() {
    let (home, s) = server("wake", &[]);
    let id = ask(&s, "sudo ls");
    // A long poll, a /v1/tool?wait and an http hook's kind of wait, all at once.
    let port = s.port;
    let token = s.token.clone();
    let poll = {
        let (id, token) = (id.clone(), token.clone());
        std::thread::spawn(move || {
            let r = Conn::open(port)
                .unwrap()
                .get(&format!("/v1/approvals/{id}?wait=30s"), Some(&token));
            (r.json(), Instant::now())
        })
    };
    let tool = std::thread::spawn(move || {
        let r = Conn::open(port)
            .unwrap()
            .post("/v1/tool/exec?wait=30s", &token, &exec("sudo ls"));
        (r.status, r.json(), Instant::now())
    });
    std::thread::sleep(Duration::from_millis(300));
    let approved_at = Instant::now();
    let r = resolve(&s, &id, json!({"approved": true, "resolved_by": "test"}));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.json(),
        json!({"id": id, "status": "approved", "approved": true, "persisted": false})
    );
    let (status, woke) = poll.join().unwrap();
    assert_eq!(status["status"], "approved");
    assert_eq!(status["resolved_by"], "test");
    let (code, reply, answered) = tool.join().unwrap();
    assert_eq!(code, 200, "{reply}");
    assert_eq!(
        (reply["message"].as_str(), reply["approval_scope"].as_str()),
        (Some("approved once via Rampart approval"), Some("once"))
    );
    for at in [woke, answered] {
        let late = at.saturating_duration_since(approved_at);
        assert!(
            late < Duration::from_millis(250),
            "woken {late:?} after the approval"
        );
    }
    // Once: the approval was used by the waiting call; the next identical call asks again.
    assert_eq!(
        s.conn()
            .post("/v1/tool/exec", &s.token, &exec("sudo ls"))
            .status,
        202
    );
    // Resolved twice: 410; unknown: 404.
    assert_eq!(resolve(&s, &id, json!({"approved": false})).status, 410);
    assert_eq!(
        resolve(&s, "01NOPE", json!({"approved": false})).status,
        404
    );
    // The resolution is in the chain.
    let audit = home.audit();
    assert!(audit
        .iter()
        .any(|e| e["request"]["rampart_event"] == "approval_resolved"
            && e["request"]["approval_id"] == id.as_str()));
    home.verify();
}

#[test]
fn an_approved_call_is_replayed_once_by_its_exact_twin() {
    let (_home, s) = server("replay", &[]);
    let id = ask(&s, "sudo ls");
    assert_eq!(resolve(&s, &id, json!({"approved": true})).status, 200);
    // A different call is not covered.
    assert_eq!(
        s.conn()
            .post("/v1/tool/exec", &s.token, &exec("sudo ls -la"))
            .status,
        202
    );
    let r = s.conn().post("/v1/tool/exec", &s.token, &exec("sudo ls"));
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["approval_id"].as_str(), Some(id.as_str()));
    assert_eq!(
        s.conn()
            .post("/v1/tool/exec", &s.token, &exec("sudo ls"))
            .status,
        202
    );
}

#[test]
fn deny_persist_signed_links_and_the_cli() {
    let (home, s) = server("persist", &[]);
    // Denied through the CLI, with a reason.
    let id = ask(&s, "sudo shutdown now");
    let url = format!("http://127.0.0.1:{}", s.port);
    let out = home
        .rampart(&["deny", &id, "--reason", "not today", "--api", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        s.admin("GET", &format!("/v1/approvals/{id}"), None).json()["status"],
        "denied"
    );
    // Listed by `rampart pending`, approved with --persist: the rule is durable.
    let id = ask(&s, "sudo systemctl restart nginx");
    let out = home.rampart(&["pending", "--api", &url]).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&id),
        "{out:?}"
    );
    let out = home
        .rampart(&["approve", &id, "--persist", "--api", &url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let file = home.home().join(".rampart/policies/auto-allowed.yaml");
    assert!(std::fs::read_to_string(&file)
        .unwrap()
        .contains("sudo systemctl restart nginx"));
    let listed = s.admin("GET", "/v1/rules/auto-allowed", None).json();
    assert_eq!(listed["count"], 1);
    for _ in 0..2 {
        let r = s.conn().post(
            "/v1/tool/exec",
            &s.token,
            &exec("sudo systemctl restart nginx"),
        );
        assert_eq!(
            r.status,
            200,
            "persisted: allowed every time: {:?}",
            r.json()
        );
    }
    let name = listed["rules"][0]["name"].as_str().unwrap().to_string();
    assert_eq!(
        s.admin("DELETE", &format!("/v1/rules/auto-allowed/{name}"), None)
            .status,
        200
    );
    // The rule is gone: the approval itself is still good for one replay within 60 s, then asked.
    assert_eq!(
        s.conn()
            .post(
                "/v1/tool/exec",
                &s.token,
                &exec("sudo systemctl restart nginx")
            )
            .status,
        200
    );
    assert_eq!(
        s.conn()
            .post(
                "/v1/tool/exec",
                &s.token,
                &exec("sudo systemctl restart nginx")
            )
            .status,
        202
    );
    // A signed link resolves without the token, but cannot persist; a forged one is refused.
    let id = ask(&s, "sudo whoami");
    let key = std::fs::read_to_string(home.home().join(".rampart/signing.key")).unwrap();
    let exp = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 60)
        .to_string();
    let sig = hmac_hex(&hex_bytes(key.trim()), format!("{id}:{exp}").as_bytes());
    let path = format!("/v1/approvals/{id}/resolve?sig={sig}&exp={exp}");
    let r = s.conn().request(
        "POST",
        &path,
        &[],
        json!({"approved": true, "persist": true})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(r.status, 403);
    let forged = format!(
        "/v1/approvals/{id}/resolve?sig={}&exp={exp}",
        "0".repeat(64)
    );
    let r = s.conn().request(
        "POST",
        &forged,
        &[],
        json!({"approved": true}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 401);
    let r = s.conn().request(
        "POST",
        &path,
        &[],
        json!({"approved": true}).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200);
    assert_eq!(
        s.admin("GET", &format!("/v1/approvals/{id}"), None).json()["resolved_by"],
        "signed-link"
    );
}

#[test]
fn approvals_expire_denied_and_recorded_and_survive_a_restart() {
    let home = Home::new("expiry");
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    let s = Server::start(&home, &["--approval-timeout", "1s"]);
    let id = ask(&s, "sudo ls");
    let status = s
        .admin("GET", &format!("/v1/approvals/{id}?wait=5s"), None)
        .json();
    assert_eq!(status["status"], "expired");
    let audit = home.audit();
    let expired = audit
        .iter()
        .find(|e| e["request"]["approval_id"] == id.as_str())
        .unwrap();
    assert_eq!(
        (
            expired["decision"]["action"].as_str(),
            expired["decision"]["message"].as_str()
        ),
        (Some("deny"), Some("approval timed out — command blocked"))
    );
    drop(s);
    // Pending approvals outlive the server.
    let s = Server::start(&home, &["--approval-timeout", "2m"]);
    let id = ask(&s, "sudo reboot");
    s.stop();
    assert!(
        std::fs::read_to_string(home.home().join(".rampart/pending-approvals.jsonl"))
            .unwrap()
            .contains(&id)
    );
    let s = Server::start(&home, &[]);
    let status = s.admin("GET", &format!("/v1/approvals/{id}"), None).json();
    assert_eq!(status["status"], "pending");
    assert_eq!(resolve(&s, &id, json!({"approved": false})).status, 200);
}

#[test]
fn hooks_create_approvals_and_runs_are_resolved_in_bulk() {
    let (_home, s) = server("bulk", &[]);
    let created = s.admin(
        "POST",
        "/v1/approvals",
        Some(&json!({"tool": "exec", "command": "make deploy", "agent": "codex", "message": "m"})),
    );
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["status"], "pending");
    let mut ids = Vec::new();
    for command in ["sudo a", "sudo b"] {
        let mut body = exec(command);
        body["run_id"] = json!("run-1");
        let r = s.conn().post("/v1/tool/exec", &s.token, &body);
        ids.push(r.json()["approval_id"].as_str().unwrap().to_string());
    }
    let list = s.admin("GET", "/v1/approvals", None).json();
    assert_eq!(list["approvals"].as_array().unwrap().len(), 3);
    assert_eq!(list["run_groups"][0]["count"], 2);
    assert_eq!(list["approvals"][0]["session"], "hook");
    let bulk = |ids: &[String], scope: &str| {
        s.admin("POST", "/v1/approvals/bulk-resolve", Some(&json!({"agent": "test-agent", "session": "s1", "run_id": "run-1", "action": "approve", "scope": scope, "ids": ids})))
    };
    assert_eq!(
        bulk(&[ids[0].clone(), "01STALE".into()], "pending").status,
        409
    );
    let r = bulk(&ids, "run");
    assert_eq!(r.status, 200, "{:?}", r.json());
    assert_eq!(
        (
            r.json()["resolved"].as_u64(),
            r.json()["future_calls_authorized"].as_bool()
        ),
        (Some(2), Some(true))
    );
    let mut body = exec("sudo c");
    body["run_id"] = json!("run-1");
    let r = s.conn().post("/v1/tool/exec", &s.token, &body).json();
    assert_eq!(
        (r["decision"].as_str(), r["message"].as_str()),
        (Some("allow"), Some("auto-approved by bulk-resolve"))
    );
}

fn hex_bytes(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    rampart_server::secrets::hex(&rampart_server::secrets::hmac_sha256(key, msg))
}
