//! Tokens: per-agent tokens with scopes, expiry and revocation (taking effect without a restart),
//! the agent a token names overriding the request's, and secret files with loose permissions
//! refused with the command that fixes them.

use super::*;
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

fn create(home: &Home, args: &[&str]) -> String {
    let mut all = vec!["token", "create"];
    all.extend_from_slice(args);
    let out = home.rampart(&all).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn agent_tokens_have_scopes_expiry_and_revocation() {
    let home = Home::new("tokens");
    std::fs::write(home.work().join("rampart.yaml"), POLICY).unwrap();
    let s = Server::start(&home, &[]);
    let token = create(&home, &["--agent", "codex"]);
    assert!(token.starts_with("rampart_"));
    let mut c = s.conn();
    let r = c.post("/v1/tool/exec", &token, &exec("ls"));
    assert_eq!(r.status, 200);
    // The token's agent is recorded, whatever the request says.
    assert_eq!(home.audit().last().unwrap()["agent"], "codex");
    let r = c.get("/v1/approvals", Some(&token));
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (403, Some("this endpoint requires admin scope"))
    );
    let stored = std::fs::read_to_string(home.home().join(".rampart/tokens.json")).unwrap();
    assert!(!stored.contains(&token), "only hashes are stored");
    // Revoked: refused at once (the file is watched).
    let out = home.rampart(&["token", "revoke", &token]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let started = Instant::now();
    loop {
        let r = s.conn().post("/v1/tool/exec", &token, &exec("ls"));
        if r.status == 401 {
            assert_eq!(r.json()["error"], "authorization token has been revoked");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "revocation not seen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // Expired.
    let short = create(&home, &["--agent", "gemini", "--expires", "1s"]);
    std::thread::sleep(Duration::from_millis(1600));
    let r = s.conn().post("/v1/tool/exec", &short, &exec("ls"));
    assert_eq!(
        (r.status, r.json()["error"].as_str()),
        (401, Some("authorization token has expired"))
    );
    // An admin-scoped agent token reaches admin routes; an eval-only one cannot verify.
    let admin = create(&home, &["--agent", "ops", "--scope", "eval,admin"]);
    assert_eq!(s.conn().get("/v1/status", Some(&admin)).status, 200);
    let eval = create(&home, &["--agent", "x"]);
    let r = s.conn().post(
        "/v1/preflight/exec",
        &eval,
        &json!({"params": {"command": "ls"}, "verification": true}),
    );
    assert_eq!(r.status, 403);
    let list = home.rampart(&["token", "list"]).output().unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(
        list.contains("revoked") && list.contains("expired") && list.contains("active"),
        "{list}"
    );
}

#[test]
fn rotation_takes_effect_and_loose_token_files_are_refused() {
    let home = Home::new("rotate");
    let s = Server::start(&home, &[]);
    let old = s.token.clone();
    let mode = std::fs::metadata(home.home().join(".rampart/token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    assert_eq!(s.token.len(), 64);
    let out = home.rampart(&["token", "rotate"]).output().unwrap();
    let new = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_ne!(new, old);
    let started = Instant::now();
    while s.conn().get("/v1/status", Some(&new)).status != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "rotation not seen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(s.conn().get("/v1/status", Some(&old)).status, 401);
    drop(s);
    let file = home.home().join(".rampart/token");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Server::try_start(&home, &[]).err().unwrap();
    assert!(err.contains("chmod 600"), "{err}");
    // RAMPART_TOKEN wins over the file.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = home
        .rampart(&["token", "show"])
        .env("RAMPART_TOKEN", "from-env")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "from-env");
}
