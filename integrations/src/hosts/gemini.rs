//! Gemini CLI: `BeforeTool` and `AfterTool` hooks (agent-protocols §4, upstream §6.2).
//!
//! Gemini has no ask: an `ask` goes to the server's approval queue, or is denied. An `AfterTool`
//! deny replaces the tool's result with the reason, so a withheld output needs no redaction.
//! `web_fetch` takes its URLs inside a prompt: every URL in it is decided as a fetch of its own,
//! so a harmless first URL cannot carry a forbidden second one.

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{rampart, Answer, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "gemini";

static TOOLS: &[ToolSpec] = &[
    req("run_shell_command", "exec", Main::Command(&["command"])),
    req(
        "read_file",
        "read",
        Main::Path(&["file_path", "absolute_path", "path"]),
    ),
    opt("read_many_files", "read", Main::None),
    req("list_directory", "read", Main::Path(&["dir_path", "path"])),
    req("glob", "read", Main::Param(&["pattern"])),
    req("search_file_content", "read", Main::Param(&["pattern"])),
    req("grep", "read", Main::Param(&["pattern"])),
    req(
        "write_file",
        "write",
        Main::Path(&["file_path", "absolute_path"]),
    ),
    req(
        "replace",
        "write",
        Main::Path(&["file_path", "absolute_path"]),
    ),
    req("google_web_search", "fetch", Main::Param(&["query"])),
    req("save_memory", "memory", Main::Param(&["fact"])),
    opt("write_todos", "process", Main::None),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let event = payload::event(
        p,
        &[
            ("BeforeTool", HookEvent::Pre),
            ("AfterTool", HookEvent::Post),
        ],
    )?;
    let field = |key: &str| payload::string(p, key).map_err(at(Some(event)));
    let name = payload::tool_name(p, &["tool_name"], event)?;
    let input = payload::object(p, "tool_input").map_err(at(Some(event)))?;
    let mcp_context = payload::object(p, "mcp_context").map_err(at(Some(event)))?;
    let session_id = field("session_id")?;
    let identity = Identity {
        run_id: env.run(&[session_id]),
        ..Identity::default()
    };
    let caller = Caller::new(AGENT, env, field("cwd")?, session_id);
    let mcp = payload::string(&mcp_context, "tool_name")
        .map_err(at(Some(event)))?
        .or_else(|| name.strip_prefix("mcp_"));
    let calls = if name == "web_fetch" {
        fetches(&caller, &input, event)?
    } else {
        vec![caller.tool_call(TOOLS, name, mcp, &input, event)?]
    };
    Ok(Hook {
        event,
        calls,
        identity,
        output: p.get("tool_response").cloned(),
        mcp: mcp.is_some(),
    })
}

/// One fetch per URL of a `web_fetch` prompt (or its `url`).
fn fetches(
    caller: &Caller<'_>,
    input: &Map<String, Value>,
    event: HookEvent,
) -> Result<Vec<super::HookCall>, Refusal> {
    let text = payload::first_string(input, &["url", "prompt"])
        .map_err(|e| Refusal::new(Some(event), e))?
        .unwrap_or_default();
    let urls: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '(' | ')'))
        .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
        .collect();
    payload::fetch_calls(caller, &urls, input, event)
}

pub(super) fn render(reply: &Reply) -> Answer {
    match &reply.verdict {
        Verdict::Deny(reason) | Verdict::Ask(reason) | Verdict::Block(reason, _) => {
            Answer::json(&json!({"decision": "deny", "reason": rampart(reason)}))
        }
        _ => Answer::json(&json!({})),
    }
}
