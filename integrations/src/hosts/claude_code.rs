//! Claude Code: `PreToolUse` (native ask), `PostToolUse` (response scanning) and
//! `PostToolUseFailure` (guidance) hooks (agent-protocols §2, upstream §6.1).
//!
//! Nothing goes to stderr: Claude Code reads stderr as a hook error. An allowed call is answered
//! with an explicit `allow` as upstream does, or with `{}` (Claude Code's own permission rules and
//! prompts stay in charge) when set up so ([`ClaudeAllow::Host`]).

use serde_json::{json, Map, Value};

use super::payload::{self, Caller};
use super::tools::{opt, req, Main, ToolSpec};
use super::{post_block, rampart, Answer, ClaudeAllow, Hook, HookEvent, Refusal, Reply, Verdict};
use crate::identity::HookEnv;
use crate::surface::Identity;

const AGENT: &str = "claude-code";

/// Claude Code's tools (upstream's `mapClaudeCodeTool`).
static TOOLS: &[ToolSpec] = &[
    req("Bash", "exec", Main::Command(&["command"])),
    req("PowerShell", "exec", Main::Command(&["command"])),
    req("Monitor", "exec", Main::Command(&["command"])),
    req(
        "code_execution",
        "exec",
        Main::Command(&["code", "command"]),
    ),
    req("Read", "read", Main::Path(&["file_path"])),
    req("ReadFile", "read", Main::Path(&["file_path", "path"])),
    req("Glob", "read", Main::Param(&["pattern"])),
    req("Grep", "read", Main::Param(&["pattern"])),
    opt("LSP", "read", Main::Path(&["file_path", "path"])),
    opt("ToolSearch", "read", Main::None),
    opt("ListMcpResourcesTool", "read", Main::None),
    req("ReadMcpResourceTool", "read", Main::Param(&["uri"])),
    opt("WaitForMcpServers", "read", Main::None),
    opt("Skill", "read", Main::None),
    opt("TaskGet", "read", Main::None),
    opt("TaskList", "read", Main::None),
    opt("TaskOutput", "read", Main::None),
    opt("BashOutput", "read", Main::None),
    opt("CronList", "read", Main::None),
    req("Write", "write", Main::Path(&["file_path"])),
    req("WriteFile", "write", Main::Path(&["file_path", "path"])),
    req("Edit", "write", Main::Path(&["file_path"])),
    req("MultiEdit", "write", Main::Path(&["file_path"])),
    req("EditFile", "write", Main::Path(&["file_path", "path"])),
    req(
        "NotebookEdit",
        "write",
        Main::Path(&["notebook_path", "file_path"]),
    ),
    opt("EnterWorktree", "write", Main::Path(&["path"])),
    req("WebFetch", "fetch", Main::Url(&["url"])),
    req("WebSearch", "fetch", Main::Param(&["query"])),
    req("Fetch", "fetch", Main::Url(&["url"])),
    req("web_search", "fetch", Main::Param(&["query"])),
    req("web_fetch", "fetch", Main::Url(&["url"])),
    opt("memory", "memory", Main::None),
    opt("Task", "agent", Main::Command(&["description", "prompt"])),
    opt("Agent", "agent", Main::Command(&["description", "prompt"])),
    opt(
        "Workflow",
        "agent",
        Main::Command(&["description", "prompt"]),
    ),
    opt(
        "RemoteTrigger",
        "agent",
        Main::Command(&["description", "prompt"]),
    ),
    opt("CronCreate", "process", Main::None),
    opt("CronDelete", "process", Main::None),
    opt("CronUpdate", "process", Main::None),
    opt("ScheduleWakeup", "process", Main::None),
    opt("TaskCreate", "process", Main::None),
    opt("TaskStop", "process", Main::None),
    opt("TaskUpdate", "process", Main::None),
    opt("TodoWrite", "process", Main::None),
    opt("KillShell", "process", Main::None),
    opt("KillBash", "process", Main::None),
    opt("Artifact", "message", Main::None),
    opt("PushNotification", "message", Main::None),
    opt("SendMessage", "message", Main::None),
    opt("AskUserQuestion", "interact", Main::None),
    opt("EnterPlanMode", "interact", Main::None),
    opt("ExitPlanMode", "interact", Main::None),
];

pub(super) fn read(p: &Map<String, Value>, env: &HookEnv) -> Result<Hook, Refusal> {
    let at = |event: Option<HookEvent>| move |reason: String| Refusal::new(event, reason);
    let event = payload::event(
        p,
        &[
            ("PreToolUse", HookEvent::Pre),
            ("PostToolUse", HookEvent::Post),
            ("PostToolUseFailure", HookEvent::PostFailure),
        ],
    )?;
    let field = |key: &str| payload::string(p, key).map_err(at(Some(event)));
    let name = payload::tool_name(p, &["tool_name"], event)?;
    let input = payload::object(p, "tool_input").map_err(at(Some(event)))?;
    let session_id = field("session_id")?;
    let identity = Identity {
        run_id: env.run(&[session_id, env.claude_conversation.as_deref()]),
        tool_call_id: payload::tool_call_id(field("tool_use_id")?).map_err(at(Some(event)))?,
        approval_owner: String::new(),
    };
    let caller = Caller::new(AGENT, env, field("cwd")?, session_id);
    let mcp = payload::native_mcp_tool(name);
    let call = match monitor_url(name, &input) {
        Some(url) => {
            let mut params = input.clone();
            params.insert("url".into(), Value::String(url));
            caller
                .call("fetch", params, &input)
                .map_err(at(Some(event)))?
        }
        None => caller.tool_call(TOOLS, name, mcp, &input, event)?,
    };
    Ok(Hook {
        event,
        calls: vec![call],
        identity,
        output: p.get("tool_response").cloned(),
        mcp: mcp.is_some(),
    })
}

/// A `Monitor` of a WebSocket (`{"ws": {"url": ...}}`) is a fetch of that URL (upstream).
fn monitor_url(name: &str, input: &Map<String, Value>) -> Option<String> {
    if name != "Monitor" {
        return None;
    }
    let url = input.get("ws")?.get("url")?.as_str()?;
    Some(url.to_string())
}

pub(super) fn render(reply: &Reply, allow: ClaudeAllow) -> Answer {
    let pre = |decision: &str, reason: Option<&str>| {
        let mut out = json!({"hookEventName": "PreToolUse", "permissionDecision": decision});
        if let (Some(reason), Some(obj)) = (reason, out.as_object_mut()) {
            obj.insert("permissionDecisionReason".into(), json!(rampart(reason)));
        }
        Answer::json(&json!({ "hookSpecificOutput": out }))
    };
    match (reply.event, &reply.verdict) {
        (HookEvent::Pre, Verdict::Allow) if allow == ClaudeAllow::Explicit => pre("allow", None),
        (HookEvent::Pre, Verdict::Deny(reason)) => pre("deny", Some(reason)),
        (HookEvent::Pre, Verdict::Ask(reason)) => pre("ask", Some(reason)),
        (HookEvent::Post, Verdict::Deny(reason)) => post_block(reason, None, false),
        (HookEvent::Post, Verdict::Block(reason, output)) => {
            post_block(reason, output.as_ref(), reply.mcp)
        }
        (HookEvent::PostFailure, Verdict::Guidance(text)) => Answer::json(&json!({
            "hookSpecificOutput": {
                "hookEventName": "PostToolUseFailure",
                "additionalContext": text,
            }
        })),
        _ => Answer::json(&json!({})),
    }
}
