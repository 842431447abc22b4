//! GitHub Copilot: the CLI's `preToolUse`/`postToolUse` hooks and VS Code's agent hooks
//! (agent-protocols §7, upstream §6.2).
//!
//! Two input shapes arrive under one format: the CLI's (`toolName`, `toolArgs` as a JSON string,
//! `toolResult` after the run) and VS Code's (Claude Code's field names). Copilot asks natively.
//! The CLI reads `permissionDecision` at the top level and VS Code reads it in
//! `hookSpecificOutput`; upstream writes both, and so do we.

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{rampart, Answer, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "copilot";

const FILE: Main = Main::Path(&["path", "filePath", "file_path"]);

static TOOLS: &[ToolSpec] = &[
    req("bash", "exec", Main::Command(&["command"])),
    req("shell", "exec", Main::Command(&["command"])),
    req("powershell", "exec", Main::Command(&["command"])),
    req("run_in_terminal", "exec", Main::Command(&["command"])),
    req("runInTerminal", "exec", Main::Command(&["command"])),
    req("view", "read", FILE),
    req("read_file", "read", FILE),
    req("readFile", "read", FILE),
    opt("glob", "read", Main::None),
    opt("grep", "read", Main::None),
    opt("file_search", "read", Main::None),
    opt("grep_search", "read", Main::None),
    opt("semantic_search", "read", Main::None),
    opt("list_dir", "read", Main::None),
    req("create", "write", FILE),
    req("edit", "write", FILE),
    req("str_replace", "write", FILE),
    req("str_replace_editor", "write", FILE),
    req("create_file", "write", FILE),
    req("createFile", "write", FILE),
    req("replace_string_in_file", "write", FILE),
    req("insert_edit_into_file", "write", FILE),
    req("web_fetch", "fetch", Main::Url(&["url"])),
    opt("task", "agent", Main::Command(&["description", "prompt"])),
    opt(
        "runSubagent",
        "agent",
        Main::Command(&["description", "prompt"]),
    ),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let event = match payload::string(p, "hook_event_name").map_err(at(None))? {
        Some("PreToolUse" | "preToolUse") => HookEvent::Pre,
        Some("PostToolUse" | "postToolUse") => HookEvent::Post,
        Some(other) => return Err(Refusal::new(None, format!("unknown hook event {other:?}"))),
        None if p.contains_key("toolResult") => HookEvent::Post,
        None => HookEvent::Pre,
    };
    let field = |key: &str| payload::string(p, key).map_err(at(Some(event)));
    let name = payload::tool_name(p, &["toolName", "tool_name"], event)?;
    let input = arguments(p).map_err(at(Some(event)))?;
    let session_id = field("session_id")?;
    let identity = Identity {
        run_id: env.run(&[session_id]),
        tool_call_id: payload::tool_call_id(field("tool_use_id")?).map_err(at(Some(event)))?,
        approval_owner: String::new(),
    };
    let caller = Caller::new(AGENT, env, field("cwd")?, session_id);
    let mcp = name.strip_prefix("mcp_").map(|rest| {
        rest.trim_start_matches('_')
            .split_once('_')
            .map_or(rest, |(_, tool)| tool)
    });
    let calls = if name == "fetch_webpage" {
        let urls: Vec<&str> = input
            .get("urls")
            .and_then(Value::as_array)
            .map(|u| u.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        payload::fetch_calls(&caller, &urls, &input, event)?
    } else {
        vec![caller.tool_call(TOOLS, name, mcp, &input, event)?]
    };
    let output = ["tool_response", "toolResult"]
        .iter()
        .find_map(|k| p.get(*k).cloned());
    Ok(Hook {
        event,
        calls,
        identity,
        output,
        mcp: mcp.is_some(),
    })
}

/// The tool's arguments: VS Code's `tool_input` object, or the CLI's `toolArgs` (a JSON string).
fn arguments(p: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    match p.get("toolArgs") {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("\"toolArgs\" is not a JSON object".into()),
        },
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(Value::Null) | None => payload::object(p, "tool_input"),
        Some(_) => Err("\"toolArgs\" is not a JSON object".into()),
    }
}

pub(super) fn render(reply: &Reply) -> Answer {
    let decide = |decision: &str, reason: &str| {
        let reason = rampart(reason);
        Answer::json(&json!({
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
            "hookSpecificOutput": {
                "hookEventName": "PreToolUse",
                "permissionDecision": decision,
                "permissionDecisionReason": reason,
            },
        }))
    };
    match (reply.event, &reply.verdict) {
        (HookEvent::Pre, Verdict::Deny(reason)) => decide("deny", reason),
        (HookEvent::Pre, Verdict::Ask(reason)) => decide("ask", reason),
        (HookEvent::Post, Verdict::Deny(reason) | Verdict::Block(reason, _)) => {
            Answer::json(&json!({
                "decision": "block",
                "reason": rampart(reason),
                "hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "additionalContext": format!("Rampart withheld this tool's output: {reason}"),
                },
            }))
        }
        _ => Answer::json(&json!({})),
    }
}
