//! `rampart setup`, `status`, `doctor` and `uninstall` through the real binary, with a temporary
//! HOME holding host settings full of things that are not rampart's.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use rampart_audit::{Event, EventDecision, Writer, WriterOptions};
use rampart_integrations::setup::document::Document;
use serde_json::{json, Value};

/// A home directory with a `bin/` that is all of PATH besides the system's.
struct Home {
    root: PathBuf,
}

impl Home {
    fn new(label: &str) -> Home {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("setup-{label}"));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("bin")).unwrap();
        Home { root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
    }

    /// The file as JSON (comments and trailing commas allowed).
    fn json(&self, rel: &str) -> Value {
        let doc = Document::parse(self.read(rel)).unwrap();
        doc.value(doc.root())
    }

    fn stable(&self) -> String {
        self.path(".rampart/bin/rampart").display().to_string()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(crate::rampart_bin());
        command
            .args(args)
            .current_dir(&self.root)
            .env("HOME", &self.root)
            .env(
                "PATH",
                format!("{}:/usr/bin:/bin", self.path("bin").display()),
            )
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CODEX_HOME")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    /// Runs and expects success; the stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "rampart {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn ok_json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).unwrap()
    }

    /// An executable script on PATH.
    fn program(&self, name: &str, body: &str) {
        let path = self.path(&format!("bin/{name}"));
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn backups(&self, dir: &str) -> usize {
        std::fs::read_dir(self.path(dir))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains(".rampart-backup-")
            })
            .count()
    }
}

impl Drop for Home {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const CLAUDE: &str = r#"{
    "zzz_first": true,
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [
                    {"type": "command", "command": "~/.claude/lint.sh", "timeout": 5}
                ]
            }
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]
    },
    "model": "claude-opus-4",
    "env": {"GREETING": "h\u00e9llo wörld"},
    "numbers": [1, 2.50, -0e0, 1E400]
}"#;

const GEMINI: &str = r#"// Gemini CLI settings
{
  "theme": "GitHub", // the dark one
  /* hooks added by hand */
  "hooks": {
    "BeforeTool": [
      {"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "audit.sh", "timeout": 1000}]},
    ],
  },
  "mcpServers": {},
}
"#;

const CODEX: &str = r#"{
  "hooks": {
    "PreToolUse": [
      {"matcher": "shell", "hooks": [{"type": "command", "command": "python3 ~/.codex/policy.py"}]}
    ]
  }
}
"#;

const CURSOR: &str = r#"{
	"version": 1,
	"hooks": {
		"beforeShellExecution": [{"command": "./audit.sh"}],
		"preToolUse": [{"command": "~/guard.sh", "matcher": "Shell"}]
	}
}
"#;

/// The last group of an event's array.
fn last_group<'v>(settings: &'v Value, event: &str) -> &'v Value {
    settings["hooks"][event].as_array().unwrap().last().unwrap()
}

#[test]
fn setup_and_remove_round_trip_each_hosts_settings_byte_for_byte() {
    let home = Home::new("round-trip");
    let cases = [
        ("claude-code", ".claude/settings.json", CLAUDE),
        ("gemini", ".gemini/settings.json", GEMINI),
        ("codex", ".codex/hooks.json", CODEX),
        ("cursor", ".cursor/hooks.json", CURSOR),
    ];
    for (host, file, text) in cases {
        home.write(file, text);
        let dir = Path::new(file).parent().unwrap().to_str().unwrap();
        let out = home.ok(&["setup", host]);
        assert!(out.contains("set up"), "{out}");
        let installed = home.read(file);
        assert_ne!(installed, text);
        assert_eq!(home.backups(dir), 1, "{host}: one backup of the original");
        assert!(home.ok(&["setup", host]).contains("nothing changed"));
        assert_eq!(
            home.read(file),
            installed,
            "{host}: a second run changes nothing"
        );
        assert_eq!(home.backups(dir), 1);
        home.ok(&["setup", host, "--remove"]);
        assert_eq!(
            home.read(file),
            text,
            "{host}: --remove gives back the original bytes"
        );
    }
}

#[test]
fn each_host_gets_its_exact_hooks_and_keeps_everything_else() {
    let home = Home::new("snippets");
    home.write(".claude/settings.json", CLAUDE);
    home.write(".gemini/settings.json", GEMINI);
    home.write(".codex/hooks.json", CODEX);
    home.write(".cursor/hooks.json", CURSOR);
    for host in [
        "claude-code",
        "gemini",
        "codex",
        "cursor",
        "copilot",
        "antigravity",
    ] {
        home.ok(&["setup", host]);
    }
    let stable = home.stable();
    assert_eq!(
        std::fs::read_link(&stable).unwrap(),
        std::fs::canonicalize(crate::rampart_bin()).unwrap()
    );

    let claude = home.json(".claude/settings.json");
    let ours = json!({"matcher": "*", "hooks": [{"type": "command", "command": format!("{stable} hook"), "onFailure": "block"}]});
    for event in ["PreToolUse", "PostToolUse", "PostToolUseFailure"] {
        assert_eq!(last_group(&claude, event), &ours, "{event}");
    }
    assert_eq!(claude["hooks"]["PreToolUse"][0]["matcher"], "Bash");
    assert_eq!(
        claude["hooks"]["Stop"][0]["hooks"][0]["command"],
        "notify-send done"
    );
    assert_eq!(claude["env"]["GREETING"], "héllo wörld");
    let text = home.read(".claude/settings.json");
    assert!(
        text.starts_with("{\n    \"zzz_first\": true,\n    \"hooks\": {"),
        "key order and indentation kept"
    );
    assert!(
        text.contains("\"numbers\": [1, 2.50, -0e0, 1E400]"),
        "numbers untouched"
    );

    let gemini = home.json(".gemini/settings.json");
    let ours = json!({"matcher": ".*", "hooks": [{"type": "command", "command": format!("{stable} hook --format gemini"), "name": "rampart", "timeout": 600000}]});
    assert_eq!(last_group(&gemini, "BeforeTool"), &ours);
    assert_eq!(last_group(&gemini, "AfterTool"), &ours);
    let text = home.read(".gemini/settings.json");
    for comment in [
        "// Gemini CLI settings",
        "// the dark one",
        "/* hooks added by hand */",
    ] {
        assert!(text.contains(comment), "comment {comment:?} kept");
    }

    let codex = home.json(".codex/hooks.json");
    let ours =
        json!({"hooks": [{"type": "command", "command": format!("{stable} hook --format codex")}]});
    assert_eq!(last_group(&codex, "PreToolUse"), &ours);
    assert_eq!(last_group(&codex, "PostToolUse"), &ours);

    let cursor = home.json(".cursor/hooks.json");
    let ours = json!({"command": format!("{stable} hook --format cursor"), "failClosed": true});
    assert_eq!(cursor["version"], 1);
    assert_eq!(
        cursor["hooks"]["preToolUse"],
        json!([{"command": "~/guard.sh", "matcher": "Shell"}, ours])
    );
    assert_eq!(cursor["hooks"]["postToolUse"], json!([ours]));
    assert_eq!(
        cursor["hooks"]["beforeShellExecution"],
        json!([{"command": "./audit.sh"}])
    );

    let copilot = home.json(".copilot/hooks/rampart.json");
    let ours = json!({"type": "command", "bash": format!("{stable} hook --format copilot")});
    assert_eq!(
        copilot,
        json!({"version": 1, "hooks": {"preToolUse": [ours], "postToolUse": [ours]}})
    );

    let antigravity = home.json(".gemini/antigravity/settings.json");
    assert_eq!(
        last_group(&antigravity, "BeforeTool")["hooks"][0]["command"],
        format!("{stable} hook --format antigravity")
    );

    // Files setup created go away again; the ones it edited go back to what they were.
    for host in ["copilot", "antigravity", "cursor"] {
        home.ok(&["setup", host, "--remove"]);
    }
    assert!(!home.path(".copilot/hooks/rampart.json").exists());
    assert!(!home.path(".gemini/antigravity/settings.json").exists());
    assert_eq!(home.read(".cursor/hooks.json"), CURSOR);
}

#[test]
fn a_new_cursor_file_is_created_with_its_version_and_deleted_on_remove() {
    let home = Home::new("cursor-new");
    home.ok(&["setup", "cursor"]);
    let cursor = home.json(".cursor/hooks.json");
    assert_eq!(cursor["version"], 1);
    assert_eq!(cursor["hooks"]["preToolUse"][0]["failClosed"], true);
    let mode = std::fs::metadata(home.path(".cursor/hooks.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "a new settings file is private");
    home.ok(&["setup", "cursor", "--remove"]);
    assert!(!home.path(".cursor/hooks.json").exists());
}

#[test]
fn claude_config_dir_is_respected_and_upstreams_hook_replaced() {
    let home = Home::new("claude-dir");
    let upstream = r#"{"hooks":{"PreToolUse":[{"matcher":"Bash","hooks":[{"type":"command","command":"rampart hook"}]}],"PostToolUse":[{"matcher":"*","hooks":[{"type":"command","command":"rampart hook"}]}]}}"#;
    home.write("claude-config/settings.json", upstream);
    let out = home
        .command(&["setup", "claude-code"])
        .env("CLAUDE_CONFIG_DIR", home.path("claude-config"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!home.path(".claude/settings.json").exists());
    let settings = home.json("claude-config/settings.json");
    let all = settings.to_string();
    assert!(
        !all.contains("\"rampart hook\""),
        "upstream's bare command is replaced: {all}"
    );
    for event in ["PreToolUse", "PostToolUse", "PostToolUseFailure"] {
        assert_eq!(
            settings["hooks"][event].as_array().unwrap().len(),
            1,
            "{event}: one rampart hook"
        );
    }
}

#[test]
fn setup_lists_the_hosts_it_finds_and_their_state() {
    let home = Home::new("list");
    home.program("claude", "exit 0");
    std::fs::create_dir_all(home.path(".cursor")).unwrap();
    home.write(
        ".codex/hooks.json",
        r#"{"hooks": {"PreToolUse": [{"hooks": [{"type": "command", "command": "/opt/old/rampart hook --format codex"}]}]}}"#,
    );
    home.ok(&["setup", "gemini"]);
    let list = home.ok_json(&["setup", "--json"]);
    let host = |name: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|h| h["host"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(host("claude-code")["detected"], true);
    assert_eq!(host("claude-code")["state"], "not installed");
    assert_eq!(host("cursor")["detected"], true);
    assert_eq!(host("gemini")["state"], "installed");
    assert_eq!(host("gemini")["mode"], "enforce");
    let codex = host("codex");
    assert_eq!(codex["state"], "stale");
    let reasons = codex["reasons"].to_string();
    assert!(
        reasons.contains("runs /opt/old/rampart, not the stable path"),
        "{reasons}"
    );
    assert!(
        reasons.contains("no rampart hook on PostToolUse"),
        "{reasons}"
    );
    let text = home.ok(&["setup"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("claude-code") && l.contains("yes")),
        "{text}"
    );
    assert!(
        text.contains("stale (command, enforce): ")
            && text.contains("PreToolUse runs /opt/old/rampart"),
        "{text}"
    );

    // A hook without the fail-closed switch is stale too.
    home.write(
        ".claude/settings.json",
        &format!(r#"{{"hooks": {{"PreToolUse": [{{"matcher": "*", "hooks": [{{"type": "command", "command": "{} hook"}}]}}]}}}}"#, home.stable()),
    );
    let list = home.ok_json(&["setup", "--json"]);
    let claude = list
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "claude-code")
        .unwrap();
    assert!(
        claude["reasons"]
            .to_string()
            .contains("no fail-closed switch (\\\"onFailure\\\": \\\"block\\\")"),
        "{claude}"
    );
}

#[test]
fn setup_codex_removes_the_earlier_preload_wrapper() {
    let home = Home::new("codex-wrapper");
    home.program("codex", "exit 0");
    let wrapper = "#!/bin/sh\n# rampart-codex-wrapper: written by `rampart setup codex`; `rampart setup codex --remove` deletes it.\nexec rampart preload -- /usr/bin/codex \"$@\"\n";
    home.write(".local/bin/codex", wrapper);
    let out = home.ok(&["setup", "codex"]);
    assert!(
        out.contains("removed the earlier `rampart preload` wrapper"),
        "{out}"
    );
    assert!(!home.path(".local/bin/codex").exists());
    // Someone else's file of that name is left alone.
    home.write(".local/bin/codex", "#!/bin/sh\nexec /opt/codex \"$@\"\n");
    home.ok(&["setup", "codex"]);
    assert!(home.path(".local/bin/codex").exists());
}

#[test]
fn cline_gets_executable_scripts_and_a_foreign_hook_needs_force() {
    let home = Home::new("cline");
    home.ok(&["setup", "cline"]);
    let script = home.path("Documents/Cline/Hooks/PreToolUse");
    let text = home.read("Documents/Cline/Hooks/PreToolUse");
    assert!(
        text.contains(&format!("rampart={}\n", home.stable())),
        "{text}"
    );
    assert!(text.ends_with("exec \"$rampart\" hook --format cline\n"));
    assert_eq!(
        std::fs::metadata(&script).unwrap().permissions().mode() & 0o111,
        0o111
    );
    assert!(home.path("Documents/Cline/Hooks/PostToolUse").exists());
    home.ok(&["setup", "cline", "--remove"]);
    assert!(!script.exists());

    let theirs = "#!/bin/sh\necho '{\"cancel\":false}'\n";
    home.write("Documents/Cline/Hooks/PreToolUse", theirs);
    let out = home.run(&["setup", "cline"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pass --force"));
    assert_eq!(home.read("Documents/Cline/Hooks/PreToolUse"), theirs);
    home.ok(&["setup", "cline", "--force"]);
    assert!(home
        .read("Documents/Cline/Hooks/PreToolUse")
        .contains("rampart-hook"));
    home.ok(&["setup", "cline", "--remove"]);
    assert_eq!(
        home.read("Documents/Cline/Hooks/PreToolUse"),
        theirs,
        "put back"
    );
}

#[test]
fn settings_that_are_not_json_are_refused_untouched() {
    let home = Home::new("broken");
    let broken = "{\n  \"model\": \"opus\"\n  \"hooks\": {}\n}\n";
    home.write(".claude/settings.json", broken);
    let out = home.run(&["setup", "claude-code"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("settings.json:3:3: expected `,` or `}`"),
        "{err}"
    );
    assert_eq!(home.read(".claude/settings.json"), broken);
}

const CLAUDE_JSON: &str = r#"{
  "numStartups": 12,
  "mcpServers": {
    "fs": {
      "type": "stdio",
      "command": "npx",
      "args": [
        "-y",
        "@modelcontextprotocol/server-filesystem",
        "/home/me/src"
      ],
      "env": {"DEBUG": "1"}
    },
    "db": {"command": "/usr/local/bin/db-mcp"},
    "remote": {"type": "http", "url": "https://mcp.example.com/mcp"}
  },
  "projects": {
    "/home/me/src/app": {
      "allowedTools": [],
      "mcpServers": {"local": {"command": "python3", "args": ["-m", "app.mcp"]}}
    }
  }
}
"#;

#[test]
fn mcp_servers_are_wrapped_and_restored_exactly() {
    let home = Home::new("mcp");
    home.write(".claude.json", CLAUDE_JSON);
    home.write(
        ".cursor/mcp.json",
        r#"{"mcpServers": {"gh": {"command": "gh-mcp", "args": []}}}"#,
    );
    home.ok(&["setup", "claude-code", "--mcp"]);
    home.ok(&["setup", "cursor", "--mcp"]);
    let stable = home.stable();
    let claude = home.json(".claude.json");
    assert_eq!(claude["mcpServers"]["fs"]["command"], stable.as_str());
    assert_eq!(
        claude["mcpServers"]["fs"]["args"],
        json!([
            "mcp",
            "--",
            "npx",
            "-y",
            "@modelcontextprotocol/server-filesystem",
            "/home/me/src"
        ])
    );
    assert_eq!(claude["mcpServers"]["fs"]["env"], json!({"DEBUG": "1"}));
    assert_eq!(
        claude["mcpServers"]["db"]["args"],
        json!(["mcp", "--", "/usr/local/bin/db-mcp"])
    );
    assert_eq!(
        claude["mcpServers"]["remote"],
        json!({"type": "http", "url": "https://mcp.example.com/mcp"})
    );
    assert_eq!(
        claude["projects"]["/home/me/src/app"]["mcpServers"]["local"]["args"],
        json!(["mcp", "--", "python3", "-m", "app.mcp"])
    );
    assert_eq!(
        home.json(".cursor/mcp.json")["mcpServers"]["gh"]["args"],
        json!(["mcp", "--", "gh-mcp"])
    );
    let wrapped = home.read(".claude.json");
    home.ok(&["setup", "claude-code", "--mcp"]);
    assert_eq!(home.read(".claude.json"), wrapped, "idempotent");
    let list = home.ok_json(&["setup", "--json"]);
    let claude_state = list
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["host"] == "claude-code")
        .unwrap();
    assert_eq!(claude_state["mcp_wrapped"], 3);

    // --remove --mcp restores the servers only; the hooks stay.
    home.ok(&["setup", "claude-code", "--remove", "--mcp"]);
    assert_eq!(home.read(".claude.json"), CLAUDE_JSON);
    assert!(home.read(".claude/settings.json").contains("rampart hook"));
    home.ok(&["setup", "cursor", "--remove"]);
    assert_eq!(
        home.read(".cursor/mcp.json"),
        r#"{"mcpServers": {"gh": {"command": "gh-mcp", "args": []}}}"#
    );

    // Without the record, the wrapped arguments themselves say what to restore.
    home.ok(&["setup", "claude-code", "--mcp"]);
    std::fs::remove_file(home.path(".rampart/setup.json")).unwrap();
    home.ok(&["setup", "claude-code", "--remove"]);
    let restored = home.json(".claude.json");
    assert_eq!(restored["mcpServers"]["fs"]["command"], "npx");
    assert_eq!(
        restored["mcpServers"]["fs"]["args"],
        json!([
            "-y",
            "@modelcontextprotocol/server-filesystem",
            "/home/me/src"
        ])
    );
    assert_eq!(
        restored["projects"]["/home/me/src/app"]["mcpServers"]["local"]["command"],
        "python3"
    );
    assert!(!home.read(".claude/settings.json").contains("rampart"));
}

/// A stand-in for the rampart server on loopback: `/healthz`, and `/v1/status` for the token.
fn fake_server(token: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut head = String::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                head.push_str(&line);
            }
            let authorised = head.contains(&format!("Bearer {token}"));
            let (status, body) = if head.starts_with("GET /healthz") {
                ("200 OK", r#"{"status":"ok"}"#.to_string())
            } else if head.starts_with("GET /v1/status") && authorised {
                ("200 OK", json!({"mode": "monitor"}).to_string())
            } else {
                ("401 Unauthorized", "{}".to_string())
            };
            let mut stream = stream;
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

#[test]
fn http_hooks_need_a_running_server_and_carry_its_token() {
    let home = Home::new("http");
    home.write(".rampart/token", "tok-123\n");
    let closed = "http://127.0.0.1:9";
    let out = home.run(&["setup", "claude-code", "--http", "--serve-url", closed]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no rampart server answers"));
    assert!(!home.path(".claude/settings.json").exists());
    let out = home.run(&["setup", "gemini", "--http"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no http hooks"));

    let url = fake_server("tok-123");
    home.write(".claude/settings.json", "{}\n");
    std::fs::set_permissions(
        home.path(".claude/settings.json"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = home.ok(&["setup", "claude-code", "--http", "--serve-url", &url]);
    assert!(out.contains("made private (0600)"), "{out}");
    let mode = std::fs::metadata(home.path(".claude/settings.json"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the token is not left readable by other users"
    );
    let settings = home.json(".claude/settings.json");
    let ours = json!({"matcher": "*", "hooks": [{"type": "http", "url": format!("{url}/v1/hooks/claude-code"),
        "headers": {"Authorization": "Bearer tok-123"}, "onFailure": "block"}]});
    assert_eq!(last_group(&settings, "PreToolUse"), &ours);
    let status = home.ok_json(&["status", "--json", "--serve-url", &url]);
    assert_eq!(status["hosts"][0]["transport"], "http");
    assert_eq!(status["server"]["mode"], "monitor");

    // A rotated token makes the hooks stale; doctor --fix writes the new one.
    home.write(".rampart/token", "tok-456\n");
    let doctor = home.run(&["doctor", "--json"]);
    assert_eq!(doctor.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&doctor.stdout).unwrap();
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "claude-code")
        .unwrap();
    assert!(
        check["detail"].as_str().unwrap().contains("token"),
        "{check}"
    );
    assert_eq!(
        check["fix"],
        format!("rampart setup claude-code --http --serve-url {url}")
    );
}

fn audit_today(home: &Home, actions: &[&str]) {
    let mut opts = WriterOptions::hook(&home.root);
    opts.spool = None;
    let mut writer = Writer::open(opts).unwrap();
    for action in actions {
        let Value::Object(request) = json!({"command": "ls"}) else {
            unreachable!()
        };
        let event = Event::new("exec", request)
            .agent("claude-code")
            .session("s")
            .decision(EventDecision {
                action: action.to_string(),
                ..EventDecision::default()
            });
        writer.append(event).unwrap();
    }
}

#[test]
fn status_reports_hosts_policy_server_and_todays_decisions() {
    let home = Home::new("status");
    home.ok(&["setup", "claude-code"]);
    audit_today(&home, &["allow", "allow", "deny", "ask"]);
    let status = home.ok_json(&["status", "--json", "--serve-url", "http://127.0.0.1:9"]);
    assert_eq!(status["hosts"].as_array().unwrap().len(), 1);
    assert_eq!(status["hosts"][0]["host"], "claude-code");
    assert_eq!(status["hosts"][0]["state"], "installed");
    let sources = status["policy"]["sources"].as_str().unwrap();
    assert!(sources.starts_with("embedded:standard"), "{sources}");
    assert!(status["policy"]["rules"].as_u64().unwrap() > 10);
    assert_eq!(status["policy"]["bundle"], Value::Null);
    assert_eq!(
        status["server"],
        json!({"url": "http://127.0.0.1:9", "running": false, "mode": null})
    );
    assert_eq!(status["today"]["total"], 4);
    assert_eq!(
        status["today"]["by_action"],
        json!({"allow": 2, "ask": 1, "deny": 1})
    );

    // A bundle on disk is fresh until the sources change.
    home.write(".rampart/policies/extra.yaml", "policies:\n  - name: extra\n    rules:\n      - action: deny\n        when: {command_matches: [\"shutdown *\"]}\n");
    home.run(&["preload", "--", "true"]);
    assert_eq!(home.ok_json(&["status", "--json"])["policy"]["fresh"], true);
    home.write(".rampart/policies/extra.yaml", "policies:\n  - name: extra\n    rules:\n      - action: deny\n        when: {command_matches: [\"reboot *\"]}\n");
    let status = home.ok_json(&["status", "--json"]);
    assert_eq!(status["policy"]["fresh"], false);
    let text = home.ok(&["status"]);
    assert!(
        text.contains("today:   4 decisions: 2 allow, 1 ask, 1 deny"),
        "{text}"
    );
    assert!(text.contains("STALE"), "{text}");
}

fn doctor(home: &Home, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["doctor", "--json"];
    all.extend(args);
    let out = home.run(&all);
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn check<'v>(report: &'v Value, name: &str) -> &'v Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[test]
fn doctor_finds_a_broken_hook_and_fix_repairs_it() {
    let home = Home::new("doctor-fix");
    home.ok(&["setup", "claude-code"]);
    home.ok(&["setup", "gemini"]);
    let (code, report) = doctor(&home, &[]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["ok"], true);
    // The hooks' binary is judged by how it was linked (RAMPART_BIN may be the static build).
    let headers = Command::new("readelf")
        .arg("-lW")
        .arg(crate::rampart_bin())
        .output()
        .unwrap();
    let dynamic = String::from_utf8_lossy(&headers.stdout).contains("program interpreter");
    let linkage = check(&report, "hook binary");
    assert_eq!(
        linkage["status"],
        if dynamic { "warn" } else { "ok" },
        "{linkage}"
    );

    // The hook's binary path goes bad, Gemini's settings UI drops the hooks, the token is
    // readable by others.
    let settings = home
        .read(".claude/settings.json")
        .replace(&home.stable(), "/opt/gone/rampart");
    home.write(".claude/settings.json", &settings);
    home.write(".gemini/settings.json", "{\n  \"theme\": \"GitHub\"\n}\n");
    home.write(".rampart/token", "t\n");
    std::fs::set_permissions(
        home.path(".rampart/token"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let (code, report) = doctor(&home, &[]);
    assert_eq!(code, Some(1));
    let claude = check(&report, "claude-code");
    assert_eq!(claude["status"], "fail");
    let detail = claude["detail"].as_str().unwrap();
    assert!(
        detail.contains("runs /opt/gone/rampart, not the stable path"),
        "{detail}"
    );
    assert!(
        detail.contains("/opt/gone/rampart, which is missing or not executable"),
        "{detail}"
    );
    assert_eq!(claude["fix"], "rampart setup claude-code");
    let gemini = check(&report, "gemini");
    assert!(
        gemini["detail"]
            .as_str()
            .unwrap()
            .contains("its hooks are gone from"),
        "{gemini}"
    );
    assert_eq!(
        check(&report, "server token")["fix"],
        format!("chmod 600 {}", home.path(".rampart/token").display())
    );

    let (code, report) = doctor(&home, &["--fix"]);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!(report["fixed"].as_array().unwrap().len(), 3, "{report}");
    assert!(!home.read(".claude/settings.json").contains("/opt/gone"));
    assert!(home
        .read(".gemini/settings.json")
        .contains("hook --format gemini"));
    assert!(home
        .read(".gemini/settings.json")
        .starts_with("{\n  \"theme\": \"GitHub\","));
    let mode = std::fs::metadata(home.path(".rampart/token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // The stable link dangling is one fix away too.
    std::fs::remove_file(home.path(".rampart/bin/rampart")).unwrap();
    std::os::unix::fs::symlink("/opt/gone/rampart", home.path(".rampart/bin/rampart")).unwrap();
    let (code, report) = doctor(&home, &[]);
    assert_eq!(code, Some(1));
    assert!(check(&report, "stable binary")["detail"]
        .as_str()
        .unwrap()
        .contains("which is gone"));
    let text = String::from_utf8(home.run(&["doctor"]).stdout).unwrap();
    assert!(
        text.contains("    fix: rampart setup claude-code"),
        "{text}"
    );
    assert_eq!(doctor(&home, &["--fix"]).0, Some(0));
}

#[test]
fn doctor_reports_a_policy_that_does_not_compile_and_a_broken_chain() {
    let home = Home::new("doctor-policy");
    home.ok(&["setup", "codex"]);
    home.write(
        ".rampart/policies/custom.yaml",
        "policies:\n  - name: x\n    rules:\n      - action: maybe\n",
    );
    audit_today(&home, &["allow", "deny", "allow"]);
    let audit = std::fs::read_dir(home.path(".rampart/audit"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .unwrap();
    let log = std::fs::read_to_string(&audit)
        .unwrap()
        .replacen("\"deny\"", "\"allow\"", 1);
    std::fs::write(&audit, log).unwrap();
    let (code, report) = doctor(&home, &[]);
    assert_eq!(code, Some(1));
    let policy = check(&report, "policy");
    assert_eq!(policy["status"], "fail");
    assert!(
        policy["detail"].as_str().unwrap().contains("custom.yaml:4"),
        "{policy}"
    );
    assert_eq!(policy["fixable"], false);
    let chain = check(&report, "audit chain");
    assert_eq!(chain["status"], "fail");
    assert!(
        chain["detail"].as_str().unwrap().contains("CHAIN BROKEN"),
        "{chain}"
    );
    assert_eq!(check(&report, "codex")["status"], "ok");
}

#[test]
fn uninstall_removes_every_integration_and_keeps_policies_and_logs() {
    let home = Home::new("uninstall");
    home.program(
        "systemctl",
        &format!("echo \"$@\" >> {}", home.path("systemctl.log").display()),
    );
    home.write(".claude/settings.json", CLAUDE);
    home.write(".claude.json", CLAUDE_JSON);
    home.write(".gemini/settings.json", GEMINI);
    home.write(
        ".config/systemd/user/rampart-serve.service",
        "[Service]\nExecStart=rampart serve\n",
    );
    home.write(".rampart/policies/custom.yaml", "policies: []\n");
    home.ok(&["setup", "claude-code", "--mcp"]);
    for host in ["gemini", "cline", "copilot"] {
        home.ok(&["setup", host]);
    }
    audit_today(&home, &["allow"]);

    let refused = home.run(&["uninstall"]);
    assert_eq!(refused.status.code(), Some(1), "no terminal, no --yes");
    assert!(home.path(".rampart/bin/rampart").exists());

    let out = home.ok(&["uninstall", "--yes"]);
    assert_eq!(home.read(".claude/settings.json"), CLAUDE);
    assert_eq!(home.read(".claude.json"), CLAUDE_JSON);
    assert_eq!(home.read(".gemini/settings.json"), GEMINI);
    assert!(!home.path("Documents/Cline/Hooks/PreToolUse").exists());
    assert!(!home.path(".copilot/hooks/rampart.json").exists());
    assert!(std::fs::symlink_metadata(home.path(".rampart/bin/rampart")).is_err());
    assert!(!home
        .path(".config/systemd/user/rampart-serve.service")
        .exists());
    let calls = home.read("systemctl.log");
    assert!(
        calls.contains("--user disable --now rampart-serve.service"),
        "{calls}"
    );
    assert!(calls.contains("--user daemon-reload"), "{calls}");
    assert!(home.path(".rampart/policies/custom.yaml").exists());
    assert!(home.path(".rampart/audit").exists());
    assert!(out.contains("--purge"), "{out}");
    let listed = home.ok_json(&["setup", "--json"]);
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["state"] == "not installed"),
        "{listed}"
    );

    home.ok(&["uninstall", "--yes", "--purge"]);
    assert!(!home.path(".rampart").exists());
}
