//! Google Antigravity (upstream §6.2): `{"decision": "allow" | "deny" | "force_ask"}`.
//!
//! Antigravity asks natively (`force_ask`). Its tools take PascalCase arguments
//! (`run_command {CommandLine, Cwd}`, `view_file {AbsolutePath}`, `write_to_file {TargetFile}`);
//! the payload is read leniently in Claude Code's field names or camel case, since neither
//! reference pins it down.

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{rampart, Answer, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "antigravity";

static TOOLS: &[ToolSpec] = &[
    req(
        "run_command",
        "exec",
        Main::Command(&["CommandLine", "command"]),
    ),
    req(
        "view_file",
        "read",
        Main::Path(&["AbsolutePath", "file_path", "path"]),
    ),
    opt(
        "view_file_outline",
        "read",
        Main::Path(&["AbsolutePath", "path"]),
    ),
    opt(
        "view_code_item",
        "read",
        Main::Path(&["File", "AbsolutePath", "path"]),
    ),
    opt("list_dir", "read", Main::Path(&["DirectoryPath", "path"])),
    opt(
        "find_by_name",
        "read",
        Main::Path(&["SearchDirectory", "path"]),
    ),
    opt("grep_search", "read", Main::Path(&["SearchPath", "path"])),
    opt("codebase_search", "read", Main::None),
    req(
        "write_to_file",
        "write",
        Main::Path(&["TargetFile", "file_path", "path"]),
    ),
    req(
        "replace_file_content",
        "write",
        Main::Path(&["TargetFile", "file_path", "path"]),
    ),
    req(
        "multi_replace_file_content",
        "write",
        Main::Path(&["TargetFile", "file_path", "path"]),
    ),
    req("read_url_content", "fetch", Main::Url(&["Url", "url"])),
    req("search_web", "fetch", Main::Param(&["query", "Query"])),
    opt("browser_subagent", "browser", Main::None),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let event =
        match payload::first_string(p, &["hook_event_name", "hookEventName"]).map_err(at(None))? {
            Some("PreToolUse" | "preToolUse" | "BeforeTool") => HookEvent::Pre,
            Some("PostToolUse" | "postToolUse" | "AfterTool") => HookEvent::Post,
            Some(other) => return Err(Refusal::new(None, format!("unknown hook event {other:?}"))),
            None if p.contains_key("tool_response") || p.contains_key("toolResponse") => {
                HookEvent::Post
            }
            None => HookEvent::Pre,
        };
    let text = |keys: &[&str]| payload::first_string(p, keys).map_err(at(Some(event)));
    let name = payload::tool_name(p, &["tool_name", "toolName"], event)?;
    let key = if p.contains_key("toolInput") {
        "toolInput"
    } else {
        "tool_input"
    };
    let input = payload::object(p, key).map_err(at(Some(event)))?;
    let session_id = text(&["session_id", "sessionId", "conversation_id"])?;
    let identity = Identity {
        run_id: env.run(&[session_id]),
        tool_call_id: payload::tool_call_id(text(&["tool_use_id", "toolUseId"])?)
            .map_err(at(Some(event)))?,
        approval_owner: String::new(),
    };
    let cwd = text(&["cwd"])?.or(payload::string(&input, "Cwd").map_err(at(Some(event)))?);
    let caller = Caller::new(AGENT, env, cwd, session_id);
    let mcp = name
        .strip_prefix("mcp_")
        .map(|rest| rest.trim_start_matches('_'));
    let call = caller.tool_call(TOOLS, name, mcp, &input, event)?;
    let output = ["tool_response", "toolResponse"]
        .iter()
        .find_map(|k| p.get(*k).cloned());
    Ok(Hook {
        event,
        calls: vec![call],
        identity,
        output,
        mcp: mcp.is_some(),
    })
}

pub(super) fn render(reply: &Reply) -> Answer {
    match &reply.verdict {
        Verdict::Deny(reason) | Verdict::Block(reason, _) => {
            Answer::json(&json!({"decision": "deny", "reason": rampart(reason)}))
        }
        Verdict::Ask(reason) => {
            Answer::json(&json!({"decision": "force_ask", "reason": rampart(reason)}))
        }
        Verdict::Allow => Answer::json(&json!({"decision": "allow"})),
        _ => Answer::json(&json!({})),
    }
}
