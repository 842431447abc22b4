//! Reading a host's payload leniently and its fields strictly.
//!
//! Hosts add fields all the time, and `tool_response` may be any JSON value, so nothing here
//! refuses what it does not know. What a decision rests on is read strictly: a field that is
//! present with the wrong type is an error, never "absent" (a `command` sent as a list must not
//! become "no command, nothing to deny").

use std::path::PathBuf;

use rampart_runtime::json::call_from_json;
use serde_json::{json, Map, Value};

use super::tools::{self, Main, ToolSpec};
use super::{HookCall, HookEvent, Refusal, MAX_INPUT};
use crate::identity::HookEnv;
use crate::mcp::classify;

/// The payload on a hook's stdin: `None` for a clean end of input (nothing but white space).
pub(crate) fn parse(input: &[u8]) -> Result<Option<Map<String, Value>>, String> {
    if input.len() > MAX_INPUT {
        return Err(format!("the hook input exceeds {MAX_INPUT} bytes"));
    }
    if input.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    match serde_json::from_slice::<Value>(input) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err("the hook input is not a JSON object".into()),
        Err(e) => Err(format!("the hook input is not valid JSON ({e})")),
    }
}

/// The string field `key`: `None` when absent or null, an error when of another type.
pub(crate) fn string<'p>(
    obj: &'p Map<String, Value>,
    key: &str,
) -> Result<Option<&'p str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("\"{key}\" must be a string")),
    }
}

/// The object field `key` (an absent or null one is empty).
pub(crate) fn object(obj: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map.clone()),
        Some(_) => Err(format!("\"{key}\" must be an object")),
    }
}

/// The first of `keys` that is a string.
pub(crate) fn first_string<'p>(
    obj: &'p Map<String, Value>,
    keys: &[&str],
) -> Result<Option<&'p str>, String> {
    for key in keys {
        if let Some(s) = string(obj, key)? {
            return Ok(Some(s));
        }
    }
    Ok(None)
}

/// The event `hook_event_name` names, one of `events`; a missing or unknown name refuses the
/// payload.
pub(crate) fn event(
    p: &Map<String, Value>,
    events: &[(&str, HookEvent)],
) -> Result<HookEvent, Refusal> {
    match string(p, "hook_event_name").map_err(|e| Refusal::new(None, e))? {
        Some(name) => events
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, event)| *event)
            .ok_or_else(|| Refusal::new(None, format!("unknown hook event {name:?}"))),
        None => Err(Refusal::new(None, "the payload has no hook_event_name")),
    }
}

/// The tool's name: the first of `keys` holding a string, which must not be empty.
pub(crate) fn tool_name<'p>(
    p: &'p Map<String, Value>,
    keys: &[&str],
    event: HookEvent,
) -> Result<&'p str, Refusal> {
    let missing = || {
        let key = keys.first().copied().unwrap_or("tool_name");
        Refusal::new(Some(event), format!("the payload has no {key}"))
    };
    first_string(p, keys)
        .map_err(|e| Refusal::new(Some(event), e))?
        .filter(|n| !n.is_empty())
        .ok_or_else(missing)
}

/// The MCP tool of a host's native name `mcp__<server>__<tool>`.
pub(crate) fn native_mcp_tool(name: &str) -> Option<&str> {
    let rest = name.strip_prefix("mcp__")?;
    Some(rest.split_once("__").map_or(rest, |(_, tool)| tool))
}

/// Upstream accepts only `[A-Za-z0-9_-]` in a tool call id (it names files of session state).
pub(crate) fn tool_call_id(id: Option<&str>) -> Result<String, String> {
    let id = id.unwrap_or_default();
    if id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        Ok(id.to_string())
    } else {
        Err(format!(
            "tool call id {id:?} has characters other than A-Z a-z 0-9 _ -"
        ))
    }
}

/// Who is calling, as far as one host tool call goes.
#[derive(Clone, Debug)]
pub(crate) struct Caller<'a> {
    agent: &'static str,
    env: &'a HookEnv,
    /// The host's working directory for the call.
    cwd: Option<&'a str>,
    session: String,
}

impl<'a> Caller<'a> {
    /// The caller `agent` working in `cwd` (the hook's own working directory when the host does
    /// not say); `host_session` is the host's own session id, the session when neither
    /// `RAMPART_SESSION` nor git gives one.
    pub(crate) fn new(
        agent: &'static str,
        env: &'a HookEnv,
        cwd: Option<&'a str>,
        host_session: Option<&str>,
    ) -> Caller<'a> {
        let dir = cwd
            .map(PathBuf::from)
            .or_else(|| std::env::current_dir().ok());
        let session = env.session(dir.as_deref(), host_session);
        Caller {
            agent,
            env,
            cwd,
            session,
        }
    }

    /// The call of rampart tool `tool` with `params` (what policies match) and `input` (the
    /// host's arguments, for `tool_param_matches`), through the shared JSON call decoding.
    pub(crate) fn call(
        &self,
        tool: &str,
        params: Map<String, Value>,
        input: &Map<String, Value>,
    ) -> Result<HookCall, String> {
        let starts_agent = tool == "agent";
        let depth = self.env.agent_depth(starts_agent)?;
        let json = json!({
            "tool": tool,
            "agent": self.agent,
            "session": self.session,
            "agent_depth": depth,
            "workdir": self.cwd,
            "params": params,
            "input": input,
        });
        let call = call_from_json(&json).map_err(|e| e.to_string())?;
        Ok(HookCall { call, params })
    }

    /// The call for the host tool `name` with `input`, per `table`. MCP tools (named as the host
    /// names them: `mcp` gives the MCP tool's own name when `name` is one) go through the MCP
    /// classifier. In a pre-event an unknown tool or a missing required parameter refuses the
    /// call; after the tool ran, the call is read as far as it can be (the output is scanned
    /// whatever the tool was).
    pub(crate) fn tool_call(
        &self,
        table: &'static [ToolSpec],
        name: &str,
        mcp: Option<&str>,
        input: &Map<String, Value>,
        event: HookEvent,
    ) -> Result<HookCall, Refusal> {
        let refusal = |tool: &str| {
            let tool = tool.to_string();
            move |reason: String| Refusal {
                event: Some(event),
                reason,
                tool: Some(tool),
            }
        };
        if let Some(mcp_tool) = mcp {
            let class = classify::classify_native(name).max(classify::classify(mcp_tool));
            let params = classify::params("tools/call", mcp_tool, input);
            return self
                .call(class.tool(), params, input)
                .map_err(refusal(class.tool()));
        }
        let lenient = event != HookEvent::Pre;
        let spec = match tools::find(table, name) {
            Some(spec) => *spec,
            None if lenient => tools::opt("", "unknown", Main::None),
            None => return Err(refusal(name)(format!("unknown tool {name:?}"))),
        };
        let params = match tools::params(&spec, input) {
            Ok(params) => params,
            Err(_) if lenient => input.clone(),
            Err(e) => return Err(refusal(spec.tool)(e)),
        };
        self.call(spec.tool, params, input)
            .map_err(refusal(spec.tool))
    }
}

/// One fetch call per URL (hosts that take several URLs in one call): each is decided on its
/// own, so a harmless first URL cannot carry a forbidden second one.
pub(crate) fn fetch_calls(
    caller: &Caller<'_>,
    urls: &[&str],
    input: &Map<String, Value>,
    event: HookEvent,
) -> Result<Vec<HookCall>, Refusal> {
    if urls.is_empty() && event == HookEvent::Pre {
        return Err(Refusal::new(Some(event), "the fetch names no URL"));
    }
    urls.iter()
        .map(|url| {
            let mut params = input.clone();
            params.insert("url".into(), Value::String((*url).into()));
            caller
                .call("fetch", params, input)
                .map_err(|e| Refusal::new(Some(event), e))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_forms() {
        assert_eq!(parse(b""), Ok(None));
        assert_eq!(parse(b" \n\t"), Ok(None));
        assert!(parse(b"{")
            .unwrap_err()
            .starts_with("the hook input is not valid JSON"));
        assert_eq!(
            parse(b"[1]"),
            Err("the hook input is not a JSON object".to_string())
        );
        let big = vec![b' '; MAX_INPUT + 1];
        assert!(parse(&big).unwrap_err().contains("exceeds"));
        assert!(parse(br#"{"a":1}"#).unwrap().is_some());
    }

    #[test]
    fn tool_call_ids() {
        assert_eq!(
            tool_call_id(Some("toolu_01-AbC")),
            Ok("toolu_01-AbC".into())
        );
        assert_eq!(tool_call_id(None), Ok(String::new()));
        assert!(tool_call_id(Some("../../etc")).is_err());
    }
}
