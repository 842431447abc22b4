//! `rampart mcp` between the `mcp` Python SDK's own client and published servers: a server built
//! with the SDK (`tests/mcp/sdk_server.py`, both protocol eras) and the reference filesystem server
//! from npm (`@modelcontextprotocol/server-filesystem`, installed by .ci/run into
//! `target/mcp-servers`, or where `RAMPART_TEST_MCP_FILESYSTEM` points).
//!
//! A missing tool skips its test with a line on stderr, except in CI (`RAMPART_CI=1` or `CI`),
//! where it fails: .ci/run installs both.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::mcp_proxy::{audit, installed, scratch};

fn mcp_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/mcp")
}

/// Whether the `mcp` Python package is importable (else the test is skipped, loudly).
fn sdk_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import mcp.client, mcp.server.mcpserver"])
        .output()
        .is_ok_and(|o| o.status.success());
    installed(
        ok,
        "the `mcp` Python package, 2 or later (pip install 'mcp>=2')",
    )
}

fn filesystem_server() -> Option<PathBuf> {
    let path = std::env::var_os("RAMPART_TEST_MCP_FILESYSTEM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/mcp-servers/node_modules/.bin/mcp-server-filesystem")
        });
    installed(
        path.exists(),
        "the npm package @modelcontextprotocol/server-filesystem (see .ci/run)",
    )
    .then_some(path)
}

/// Runs the SDK client in `mode` against `rampart mcp FLAGS -- SERVER...`, making `calls`.
fn drive(
    home: &Path,
    mode: &str,
    approve: bool,
    calls: &Value,
    flags: &[&str],
    server: &[&str],
) -> Value {
    let out = Command::new("python3")
        .arg(mcp_dir().join("client.py"))
        .arg(mode)
        .arg("--")
        .arg(crate::rampart_bin())
        .arg("mcp")
        .args(flags)
        .arg("--")
        .args(server)
        .current_dir(home)
        .env("HOME", home)
        .env("RAMPART_URL", "http://127.0.0.1:9")
        .env("CALLS", calls.to_string())
        .env("APPROVE", if approve { "yes" } else { "no" })
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

fn text(result: &Value) -> String {
    result["text"]
        .as_str()
        .or(result["exception"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn an_sdk_server_and_the_sdk_client_in_both_protocol_eras() {
    if !sdk_available() {
        return;
    }
    let calls = json!([
        ["lookup", {"key": "k"}],
        ["update_setting", {"name": "a", "value": "b"}],
        ["drop_table", {"table": "users"}],
        ["show_config", {}],
    ]);
    for mode in ["legacy", "2026-07-28"] {
        for approve in [true, false] {
            let home = scratch(&format!("sdk-{mode}-{approve}"));
            let log = home.join("server.log");
            let script = mcp_dir().join("sdk_server.py");
            let server = [
                "python3",
                script.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
            ];
            let out = drive(&home, mode, approve, &calls, &[], &server);
            let results = out["results"].as_array().unwrap();
            assert_eq!(text(&results[0]), "value of k", "{mode}: {out}");
            assert_eq!(
                out["asked"].as_array().unwrap().len(),
                1,
                "{mode}: the user is asked once: {out}"
            );
            if approve {
                assert_eq!(text(&results[1]), "updated a", "{mode}: {out}");
            } else {
                assert!(
                    text(&results[1]).contains("declined by the user"),
                    "{mode}: {out}"
                );
            }
            assert_eq!(results[2]["isError"], true, "{mode}: {out}");
            assert_eq!(text(&results[2]), "Rampart: Destructive MCP tool");
            assert!(
                text(&results[3]).contains("response was blocked")
                    && !text(&results[3]).contains("AKIA"),
                "{out}"
            );
            let received = std::fs::read_to_string(&log).unwrap();
            assert!(
                !received.contains("drop_table"),
                "{mode}: the denied call reached the server: {received}"
            );
            assert_eq!(
                received.contains("update_setting"),
                approve,
                "{mode}: {received}"
            );
            let records = audit(&home);
            assert!(records
                .iter()
                .any(|r| r["tool"] == "mcp-destructive" && r["decision"]["action"] == "deny"));
            let answered = records
                .iter()
                .filter(|r| r["request"]["approval"].is_string())
                .count();
            assert_eq!(answered, 1, "{mode}: the person's answer is recorded");
        }
    }
}

#[test]
fn the_reference_filesystem_server_behind_the_proxy() {
    let (true, Some(fs_server)) = (sdk_available(), filesystem_server()) else {
        return;
    };
    let home = scratch("filesystem");
    let root = home.join("project");
    std::fs::create_dir_all(root.join(".ssh")).unwrap();
    std::fs::write(root.join("notes.txt"), "hello from notes").unwrap();
    // Not a real key: harmless text shaped like one, which must never reach the client.
    let fake_key =
        "-----BEGIN OPENSSH PRIVATE KEY-----\nfake-key-marker\n-----END OPENSSH PRIVATE KEY-----\n";
    std::fs::write(root.join(".ssh/id_rsa"), fake_key).unwrap();
    // A user policy merged with the standard profile: no writes at all.
    let policies = home.join(".rampart/policies");
    std::fs::create_dir_all(&policies).unwrap();
    std::fs::write(policies.join("no-writes.yaml"), "version: \"1\"\npolicies:\n  - name: no-writes\n    match: {tool: write}\n    rules:\n      - action: deny\n        when: {default: true}\n        message: no writes here\n").unwrap();
    let p = |rel: &str| root.join(rel).to_string_lossy().into_owned();
    let calls = json!([
        ["read_file", {"path": p("notes.txt")}],
        ["read_file", {"path": p(".ssh/id_rsa")}],
        ["read_text_file", {"path": p(".ssh/id_rsa")}],
        ["list_directory", {"path": p(".")}],
        ["write_file", {"path": p("new.txt"), "content": "x"}],
    ]);
    let server = [fs_server.to_str().unwrap(), root.to_str().unwrap()];
    let out = drive(&home, "auto", false, &calls, &["--filter-tools"], &server);
    let results = out["results"].as_array().unwrap();
    assert_eq!(text(&results[0]), "hello from notes", "{out}");
    // The key: refused by its path as a read, and by its content through the other read tool.
    assert!(text(&results[1]).contains("Reading credentials"), "{out}");
    assert!(text(&results[2]).contains("response was blocked"), "{out}");
    assert!(text(&results[3]).contains("notes.txt"), "{out}");
    for result in results {
        assert!(
            !text(result).contains("fake-key-marker"),
            "the key reached the client: {out}"
        );
    }
    // Writes are denied by policy: hidden from the list, and their calls refused.
    let tools: Vec<&str> = out["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        !tools.contains(&"write_file") && !tools.contains(&"create_directory"),
        "{tools:?}"
    );
    assert!(
        tools.contains(&"read_file") && tools.contains(&"list_directory"),
        "{tools:?}"
    );
    assert!(text(&results[4]).contains("not available"), "{out}");
    assert!(!root.join("new.txt").exists());
    // The pins of this server were recorded.
    let pins = std::fs::read_dir(home.join(".rampart/mcp-pins"))
        .unwrap()
        .count();
    assert!(pins >= 1);
}
