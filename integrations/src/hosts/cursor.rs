//! Cursor: `preToolUse`, `beforeShellExecution`, `beforeMCPExecution`, `beforeReadFile` and their
//! after-events (agent-protocols §5, upstream §6.2).
//!
//! Cursor's schema has an `ask`, but does not enforce it for tools, so an `ask` goes to the
//! server's approval queue, or is denied. An allowed call is `{}`, leaving Cursor's own approval
//! settings in charge, as upstream. The message keys are the ones Cursor documents today
//! (`user_message`, `agent_message`; upstream v1.8 wrote the older camel-case spelling).

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{rampart, Answer, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "cursor";

const PATH: Main = Main::Path(&["file_path", "target_file", "path"]);

static TOOLS: &[ToolSpec] = &[
    req("Shell", "exec", Main::Command(&["command"])),
    req("run_terminal_cmd", "exec", Main::Command(&["command"])),
    req("Read", "read", PATH),
    req("read_file", "read", PATH),
    opt("Grep", "read", Main::None),
    opt("grep_search", "read", Main::None),
    opt("codebase_search", "read", Main::None),
    opt("file_search", "read", Main::None),
    opt("glob_file_search", "read", Main::None),
    opt("list_dir", "read", Main::None),
    opt("LS", "read", Main::None),
    req("Write", "write", PATH),
    req("Edit", "write", PATH),
    req("MultiEdit", "write", PATH),
    req("edit_file", "write", PATH),
    req("search_replace", "write", PATH),
    req("write", "write", PATH),
    req("delete_file", "write", PATH),
    req("Delete", "write", PATH),
    req(
        "web_search",
        "fetch",
        Main::Param(&["search_term", "query"]),
    ),
    req("WebSearch", "fetch", Main::Param(&["search_term", "query"])),
    req("WebFetch", "fetch", Main::Url(&["url"])),
    opt("Task", "agent", Main::Command(&["description", "prompt"])),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let (event, kind) = match payload::string(p, "hook_event_name").map_err(at(None))? {
        Some(name) => {
            kind(name).ok_or_else(|| Refusal::new(None, format!("unknown hook event {name:?}")))?
        }
        None => return Err(Refusal::new(None, "the payload has no hook_event_name")),
    };
    let field = |key: &str| payload::string(p, key).map_err(at(Some(event)));
    let conversation = field("conversation_id")?;
    let identity = Identity {
        run_id: env.run(&[conversation, field("generation_id")?]),
        tool_call_id: payload::tool_call_id(field("tool_use_id")?).map_err(at(Some(event)))?,
        approval_owner: String::new(),
    };
    let roots = p
        .get("workspace_roots")
        .and_then(|r| r.get(0))
        .and_then(Value::as_str);
    let caller = Caller::new(AGENT, env, field("cwd")?.or(roots), conversation);
    let (name, input, mcp) = match kind {
        Kind::Shell => ("Shell".to_string(), pick(p, &["command", "cwd"]), None),
        Kind::ReadFile => ("Read".to_string(), pick(p, &["file_path"]), None),
        Kind::Mcp | Kind::Tool => {
            let name = payload::tool_name(p, &["tool_name"], event)?;
            let input = tool_input(p).map_err(at(Some(event)))?;
            let mcp = mcp_tool(name, kind == Kind::Mcp);
            (name.to_string(), input, mcp)
        }
    };
    let call = caller.tool_call(TOOLS, &name, mcp.as_deref(), &input, event)?;
    let output = ["tool_output", "tool_response", "output", "result_json"]
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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tool,
    Shell,
    Mcp,
    ReadFile,
}

fn kind(event: &str) -> Option<(HookEvent, Kind)> {
    Some(match event {
        "preToolUse" => (HookEvent::Pre, Kind::Tool),
        "postToolUse" => (HookEvent::Post, Kind::Tool),
        "beforeShellExecution" => (HookEvent::Pre, Kind::Shell),
        "afterShellExecution" => (HookEvent::Post, Kind::Shell),
        "beforeMCPExecution" => (HookEvent::Pre, Kind::Mcp),
        "afterMCPExecution" => (HookEvent::Post, Kind::Mcp),
        "beforeReadFile" => (HookEvent::Pre, Kind::ReadFile),
        _ => return None,
    })
}

/// The fields of a shell or read-file payload that are the call's arguments.
fn pick(p: &Map<String, Value>, keys: &[&str]) -> Map<String, Value> {
    keys.iter()
        .filter_map(|k| Some((k.to_string(), p.get(*k)?.clone())))
        .collect()
}

/// `tool_input` as an object; Cursor sends MCP arguments as a JSON string.
fn tool_input(p: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    match p.get("tool_input") {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("\"tool_input\" is a string but not a JSON object".into()),
        },
        _ => payload::object(p, "tool_input"),
    }
}

/// The MCP tool's own name: the last part of `MCP:server:tool`, or the whole name of a
/// `beforeMCPExecution` call.
fn mcp_tool(name: &str, mcp_event: bool) -> Option<String> {
    match name.strip_prefix("MCP:") {
        Some(rest) => Some(rest.rsplit(':').next().unwrap_or(rest).to_string()),
        None => mcp_event.then(|| name.to_string()),
    }
}

pub(super) fn render(reply: &Reply) -> Answer {
    match &reply.verdict {
        Verdict::Deny(reason) | Verdict::Ask(reason) | Verdict::Block(reason, _) => {
            let text = rampart(reason);
            Answer::json(&json!({
                "permission": "deny",
                "user_message": text,
                "agent_message": text,
            }))
        }
        _ => Answer::json(&json!({})),
    }
}
