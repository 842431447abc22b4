//! Cline: the `PreToolUse` and `PostToolUse` hook scripts (agent-protocols §6, upstream §6.2).
//!
//! Cline cannot ask and has no approval wait, so an `ask` cancels the call with "approval
//! required". Upstream also writes the deny text to stderr for Cline, which shows it; so do we.

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{Answer, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "cline";

static TOOLS: &[ToolSpec] = &[
    req("execute_command", "exec", Main::Command(&["command"])),
    req("read_file", "read", Main::Path(&["path"])),
    opt("search_files", "read", Main::Path(&["path"])),
    opt("list_files", "read", Main::Path(&["path"])),
    opt("list_code_definition_names", "read", Main::Path(&["path"])),
    opt("load_mcp_documentation", "read", Main::None),
    req("write_to_file", "write", Main::Path(&["path"])),
    req("replace_in_file", "write", Main::Path(&["path"])),
    req("web_fetch", "fetch", Main::Url(&["url"])),
    opt("browser_action", "browser", Main::Url(&["url"])),
    req("access_mcp_resource", "mcp", Main::Param(&["uri"])),
    opt("new_task", "agent", Main::Command(&["context"])),
    opt("ask_followup_question", "interact", Main::None),
    opt("attempt_completion", "interact", Main::None),
    opt("plan_mode_respond", "interact", Main::None),
    opt("act_mode_respond", "interact", Main::None),
    opt("focus_chain", "interact", Main::None),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let hook_name = payload::string(p, "hookName").map_err(at(None))?;
    let (event, key) = match hook_name {
        Some("PreToolUse") => (HookEvent::Pre, "preToolUse"),
        Some("PostToolUse") => (HookEvent::Post, "postToolUse"),
        Some(other) => return Err(Refusal::new(None, format!("unknown hook {other:?}"))),
        None if p.contains_key("postToolUse") => (HookEvent::Post, "postToolUse"),
        None if p.contains_key("preToolUse") => (HookEvent::Pre, "preToolUse"),
        None => return Err(Refusal::new(None, "the payload has no preToolUse")),
    };
    let body = payload::object(p, key).map_err(at(Some(event)))?;
    let name = payload::first_string(&body, &["toolName", "tool"])
        .map_err(at(Some(event)))?
        .filter(|n| !n.is_empty())
        .ok_or_else(|| Refusal::new(Some(event), format!("{key} has no toolName")))?;
    let params = payload::object(&body, "parameters").map_err(at(Some(event)))?;
    let task = payload::string(p, "taskId").map_err(at(Some(event)))?;
    let identity = Identity {
        run_id: env.run(&[task]),
        ..Identity::default()
    };
    let root = p
        .get("workspaceRoots")
        .and_then(|r| r.get(0))
        .and_then(Value::as_str);
    let caller = Caller::new(AGENT, env, root, task);
    let (input, mcp) = match name {
        "use_mcp_tool" => mcp_call(&body, &params).map_err(at(Some(event)))?,
        _ => (params, None),
    };
    let call = caller.tool_call(TOOLS, name, mcp.as_deref(), &input, event)?;
    Ok(Hook {
        event,
        calls: vec![call],
        identity,
        output: body.get("result").cloned(),
        mcp: mcp.is_some(),
    })
}

/// A `use_mcp_tool` call: its arguments (a JSON string in Cline's parameters) and the MCP tool's
/// name (`mcpTool` beside the parameters, or their `tool_name`).
fn mcp_call(
    body: &Map<String, Value>,
    params: &Map<String, Value>,
) -> Result<(Map<String, Value>, Option<String>), String> {
    let tool = payload::first_string(body, &["mcpTool"])?
        .or(payload::string(params, "tool_name")?)
        .ok_or("use_mcp_tool names no MCP tool")?;
    let arguments = match params.get("arguments") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map.clone(),
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => return Err("use_mcp_tool's arguments are not a JSON object".into()),
        },
        Some(_) => return Err("use_mcp_tool's arguments are not a JSON object".into()),
    };
    Ok((arguments, Some(tool.to_string())))
}

pub(super) fn render(reply: &Reply) -> Answer {
    let cancel = |reason: &str, context: Option<String>| {
        let text = format!("Blocked by Rampart: {reason}");
        let mut out = json!({"cancel": true, "errorMessage": text});
        if let (Some(context), Some(obj)) = (context, out.as_object_mut()) {
            obj.insert("contextModification".into(), Value::String(context));
        }
        Answer {
            stderr: format!("{text}\n"),
            ..Answer::json(&out)
        }
    };
    match &reply.verdict {
        Verdict::Deny(reason) | Verdict::Ask(reason) => cancel(reason, None),
        Verdict::Block(reason, _) => cancel(
            reason,
            Some(format!("Rampart withheld this tool's output: {reason}")),
        ),
        _ => Answer::json(&json!({"cancel": false})),
    }
}
