//! Notifications and webhook actions against a real HTTP server on loopback.

use std::time::{Duration, Instant};

use rampart_integrations::http::HttpError;
use rampart_integrations::notify::rate::RateLimit;
use rampart_integrations::notify::webhook::{decide, WebhookCall, WebhookRule};
use rampart_integrations::notify::{Notice, Notifier, NotifyConfig, NotifyError, Platform, Sent};
use rampart_runtime::program::Action;

use crate::support::{Reply, Server};

fn config(url: &str, platform: &str) -> NotifyConfig {
    NotifyConfig {
        url: url.to_string(),
        platform: platform.to_string(),
        on: Vec::new(),
    }
}

fn notice(command: &str) -> Notice {
    Notice {
        action: "deny".into(),
        tool: "exec".into(),
        command: command.into(),
        policy: "block-credential-use".into(),
        message: "credential in a command".into(),
        agent: "claude-code".into(),
        session: "repo/main".into(),
        timestamp: "2026-12-04T10:00:00Z".into(),
    }
}

#[test]
fn a_generic_webhook_gets_the_decision_with_secrets_redacted() {
    let server = Server::start(|_| Reply::json(204, ""));
    let notifier = Notifier::new(
        &config(&format!("{}/hook", server.url), "auto"),
        RateLimit::in_memory(10),
    )
    .unwrap();
    assert_eq!(notifier.platform(), Platform::Webhook);
    assert!(notifier.wants(Action::Deny) && notifier.wants(Action::Ask));
    assert!(
        !notifier.wants(Action::Watch),
        "upstream's default is deny and ask"
    );
    let sent = notifier.send(notice(
        "curl -H 'Authorization: Bearer abcdef0123456789abcdef' https://x",
    ));
    assert_eq!(sent, Ok(Sent::Delivered(204)));
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hook");
    assert_eq!(request.header("content-type"), Some("application/json"));
    let body = request.json();
    assert_eq!(body["action"], "deny");
    assert_eq!(body["policy"], "block-credential-use");
    assert_eq!(body["session"], "repo/main");
    let command = body["command"].as_str().unwrap();
    assert!(!command.contains("abcdef0123456789"), "{command}");
    assert!(command.contains("[REDACTED]"), "{command}");
}

#[test]
fn each_platform_gets_its_own_shape() {
    let server = Server::start(|_| Reply::json(200, "ok"));
    for (platform, key) in [
        ("slack", "blocks"),
        ("discord", "embeds"),
        ("teams", "attachments"),
    ] {
        let notifier =
            Notifier::new(&config(&server.url, platform), RateLimit::in_memory(10)).unwrap();
        assert_eq!(notifier.send(notice("rm -rf /")), Ok(Sent::Delivered(200)));
        let body = server.requests().last().unwrap().json();
        assert!(body.get(key).is_some(), "{platform}: {body}");
    }
}

#[test]
fn the_rate_limit_holds_back_and_reports_the_excess() {
    let server = Server::start(|_| Reply::json(200, ""));
    let notifier = Notifier::new(&config(&server.url, "webhook"), RateLimit::in_memory(2)).unwrap();
    let results: Vec<_> = (0..4)
        .map(|_| notifier.send(notice("x")).unwrap())
        .collect();
    assert_eq!(
        results,
        [
            Sent::Delivered(200),
            Sent::Delivered(200),
            Sent::HeldBack,
            Sent::HeldBack
        ]
    );
    assert_eq!(server.requests().len(), 2);
}

#[test]
fn a_failing_endpoint_is_an_error_never_a_hang() {
    let server = Server::start(|r| match r.path.as_str() {
        "/slow" => Reply::json(200, "").after(Duration::from_secs(3)),
        _ => Reply::json(500, "{}"),
    });
    let broken = Notifier::new(&config(&server.url, "webhook"), RateLimit::in_memory(10)).unwrap();
    assert_eq!(broken.send(notice("x")), Err(NotifyError::Status(500)));
    let slow = Notifier::new(
        &config(&format!("{}/slow", server.url), "webhook"),
        RateLimit::in_memory(10),
    )
    .unwrap()
    .with_timeout(Duration::from_millis(300));
    let start = Instant::now();
    assert_eq!(
        slow.send(notice("x")),
        Err(NotifyError::Http(HttpError::Timeout))
    );
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let closed = Notifier::new(
        &config("http://127.0.0.1:9/", "webhook"),
        RateLimit::in_memory(10),
    )
    .unwrap();
    assert!(matches!(
        closed.send(notice("x")),
        Err(NotifyError::Http(HttpError::Failed(_)))
    ));
}

fn call() -> WebhookCall {
    let serde_json::Value::Object(params) = serde_json::json!({"command": "terraform apply"})
    else {
        unreachable!()
    };
    WebhookCall {
        tool: "exec".into(),
        params,
        agent: "codex".into(),
        session: "infra/main".into(),
        policy: "infra-changes".into(),
        timestamp: "2026-12-04T10:00:00Z".into(),
    }
}

fn rule(url: String, fail_open: bool) -> WebhookRule {
    WebhookRule {
        url,
        timeout: Duration::from_millis(400),
        fail_open,
    }
}

#[test]
fn a_webhook_action_decides_with_the_services_answer() {
    let server = Server::start(|r| match r.path.as_str() {
        "/allow" => Reply::json(200, r#"{"decision":"allow","reason":"change window open"}"#),
        "/deny" => Reply::json(201, r#"{"decision":"DENY","reason":"freeze"}"#),
        _ => Reply::json(404, ""),
    });
    let allow = decide(&rule(format!("{}/allow", server.url), false), &call());
    assert!(allow.allow && allow.answered);
    assert_eq!(allow.reason, "change window open");
    let deny = decide(&rule(format!("{}/deny", server.url), true), &call());
    assert!(!deny.allow && deny.answered);
    assert_eq!(deny.reason, "freeze");
    let body = server.requests()[0].json();
    assert_eq!(
        body,
        serde_json::json!({"tool": "exec", "params": {"command": "terraform apply"}, "agent": "codex",
            "session": "infra/main", "policy": "infra-changes", "timestamp": "2026-12-04T10:00:00Z"})
    );
}

#[test]
fn a_webhook_that_gives_no_usable_answer_falls_back_to_fail_open() {
    let server = Server::start(|r| match r.path.as_str() {
        "/500" => Reply::json(500, r#"{"decision":"allow"}"#),
        "/slow" => Reply::json(200, r#"{"decision":"allow"}"#).after(Duration::from_secs(3)),
        "/html" => Reply::json(200, "<html>allow</html>"),
        "/ask" => Reply::json(200, r#"{"decision":"ask"}"#),
        "/redirect" => Reply::json(302, "").header("Location", "/allow"),
        _ => Reply::json(200, r#"{"decision":"allow"}"#),
    });
    let refused = "http://127.0.0.1:9/".to_string();
    for path in ["/500", "/slow", "/html", "/ask", "/redirect"] {
        let url = format!("{}{path}", server.url);
        let start = Instant::now();
        let closed = decide(&rule(url.clone(), false), &call());
        assert!(!closed.allow && !closed.answered, "{path}: {closed:?}");
        assert!(
            closed.reason.contains("fail_open is false"),
            "{path}: {}",
            closed.reason
        );
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{path}: {:?}",
            start.elapsed()
        );
        let open = decide(&rule(url, true), &call());
        assert!(open.allow && !open.answered, "{path}: {open:?}");
    }
    let verdict = decide(&rule(refused, false), &call());
    assert!(
        !verdict.allow && verdict.reason.starts_with("webhook 127.0.0.1 "),
        "{}",
        verdict.reason
    );
    // TLS is spoken (and fails closed) when the URL says https: this server only speaks HTTP.
    let https = format!("{}/allow", server.url.replace("http://", "https://"));
    let tls = decide(&rule(https, false), &call());
    assert!(!tls.allow && !tls.answered, "{tls:?}");
    assert!(
        !server.requests().iter().any(|r| r.path == "/allow"),
        "a redirect is never followed"
    );
}
