//! The preload library's `ask`: an exec the local policy asks about waits in the server's queue
//! until a person answers (issue 17 §6), through the real binary, library and server.

use super::*;
use serde_json::json;

const ASK: &str = r#"
default_action: allow
policies:
  - name: ask-marker
    match: {tool: [exec]}
    rules:
      - action: ask
        when: {command_contains: ["ask-me"]}
        message: a person decides
"#;

fn pending(s: &Server) -> String {
    let started = Instant::now();
    loop {
        let list = s.admin("GET", "/v1/approvals", None).json();
        if let Some(id) = list["approvals"][0]["id"].as_str() {
            return id.to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no approval was queued"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_exec_the_policy_asks_about_waits_for_a_person() {
    let home = Home::new("preload-ask");
    std::fs::write(home.work().join("rampart.yaml"), ASK).unwrap();
    let s = Server::start(&home, &[]);
    let url = format!("http://127.0.0.1:{}", s.port);
    for (approve, name) in [(true, "ask-me-approved"), (false, "ask-me-denied")] {
        let marker = home.work().join(name);
        let script = format!("/usr/bin/touch {}", marker.display());
        let mut child = home
            .rampart(&["preload", "--", "/bin/sh", "-c", &script])
            .env("RAMPART_URL", &url)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let id = pending(&s);
        let approval = s.admin("GET", &format!("/v1/approvals/{id}"), None).json();
        assert!(
            approval["command"].as_str().unwrap().contains(name),
            "{approval}"
        );
        std::thread::sleep(Duration::from_millis(200));
        assert!(
            child.try_wait().unwrap().is_none(),
            "the exec waits for the answer"
        );
        let r = s.admin(
            "POST",
            &format!("/v1/approvals/{id}/resolve"),
            Some(&json!({"approved": approve})),
        );
        assert_eq!(r.status, 200);
        let answered = Instant::now();
        let status = child.wait().unwrap();
        assert!(
            answered.elapsed() < Duration::from_secs(2),
            "the library was not woken at once"
        );
        assert_eq!(marker.exists(), approve, "{name}: {status:?}");
        assert_eq!(status.success(), approve);
    }
    // The library's records reach the chain through the server's socket or the spool.
    drop(s);
    let out = home.rampart(&["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn with_no_server_the_ask_is_denied_at_once() {
    let home = Home::new("preload-noserver");
    std::fs::write(home.work().join("rampart.yaml"), ASK).unwrap();
    let marker = home.work().join("ask-me");
    let started = Instant::now();
    let out = home
        .rampart(&[
            "preload",
            "--",
            "/bin/sh",
            "-c",
            &format!("/usr/bin/touch {}", marker.display()),
        ])
        .env("RAMPART_URL", format!("http://127.0.0.1:{}", free_port()))
        .output()
        .unwrap();
    assert!(!out.status.success() && !marker.exists(), "{out:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
}
