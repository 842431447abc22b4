//! Upstream's tool request (`POST /v1/tool/{name}`, `/v1/preflight/{name}`): the name checked, the
//! body turned into a [`Call`] (reference §3.4 "Request preparation").
//!
//! The threat: a request that says two things. A command in `command` and another in
//! `params.cmd`, a path at the top level and another in `input`: upstream's server refuses
//! distinct values for one field (400 "conflicting … aliases") before anything is decided, and
//! writes the one value into every map, so the policy judges what the tool will run. The shared
//! call decoding (`rampart_runtime::json::call_from_json`) then does what every surface does
//! (`command_b64`, leading comment lines, the agent tool, the fetch family's domain).

use rampart_runtime::Call;
use serde_json::{Map, Value};

use crate::engine::Identity;

/// Tool classes that must be spelled in lowercase.
pub const RESERVED: [&str; 11] = [
    "browser",
    "edit",
    "exec",
    "fetch",
    "http",
    "mcp",
    "mcp-dangerous",
    "mcp-destructive",
    "read",
    "web_fetch",
    "write",
];

/// Checks a tool name from the URL: 1–128 bytes of `[A-Za-z0-9_.:-]`, reserved classes in
/// lowercase. The error is the message of a 400.
pub fn tool_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > 128 {
        return Err("invalid tool name: must be 1-128 characters".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
    {
        return Err(
            "invalid tool name: only letters, digits, '_', '.', ':' and '-' are allowed".into(),
        );
    }
    let lower = name.to_ascii_lowercase();
    if lower != name && RESERVED.contains(&lower.as_str()) {
        return Err(format!(
            "invalid tool name: reserved tool class {name:?} must be lowercase ({lower:?})"
        ));
    }
    Ok(())
}

/// A prepared request.
#[derive(Clone, Debug)]
pub struct Prepared {
    pub call: Call,
    /// What the audit record holds as `request`.
    pub params: Map<String, Value>,
    pub identity: Identity,
    /// The tool's output to scan (`response`).
    pub response: Option<String>,
    pub enforce: bool,
    pub verification: bool,
    /// `approval_owner` as sent.
    pub approval_owner: Option<Map<String, Value>>,
    pub openclaw_hosted: bool,
    pub skip_pending_approval: bool,
    /// The exact call, for approvals (see `approvals`).
    pub fingerprint: String,
}

/// The alias families upstream reconciles: (canonical key, aliases).
fn families(tool: &str) -> Vec<(&'static str, Vec<&'static str>)> {
    let file_tools = ["read", "write", "edit", "mcp-destructive"];
    let fetch = ["fetch", "web_fetch", "http", "browser"];
    let mut command = vec!["command"];
    if tool == "exec" {
        command.extend(["cmd", "input"]);
    }
    let mut path = vec!["path", "file_path"];
    if file_tools.contains(&tool) {
        path.extend(["file", "filepath", "target"]);
    }
    let mut url = vec!["url"];
    if fetch.contains(&tool) {
        url.extend(["uri", "href"]);
    }
    vec![
        ("command", command),
        ("path", path),
        ("url", url),
        ("workdir", vec!["workdir"]),
        ("cwd", vec!["cwd"]),
        ("domain", vec!["domain"]),
        ("scheme", vec!["scheme"]),
    ]
}

/// Turns a request body into a call. `tool` was checked by [`tool_name`]. The error is the
/// message of a 400.
pub fn prepare(tool: &str, body: &Map<String, Value>) -> Result<Prepared, String> {
    let text = |key: &str| -> Result<String, String> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(format!("invalid request: {key:?} must be a string")),
        }
    };
    let flag = |key: &str| -> Result<bool, String> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(format!("invalid request: {key:?} must be a boolean")),
        }
    };
    let object = |key: &str| -> Result<Option<Map<String, Value>>, String> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(format!("invalid request: {key:?} must be an object")),
        }
    };
    let mut params = object("params")?.unwrap_or_default();
    params.remove("command_effective");
    let input = match object("input")? {
        Some(input) => Some(input),
        None => match params.get("arguments").or_else(|| params.get("tool_input")) {
            Some(Value::Object(m)) => Some(m.clone()),
            _ => None,
        },
    };
    let mut input = input.unwrap_or_else(|| params.clone());
    input.remove("command_effective");
    reconcile(tool, body, &mut params, &mut input)?;
    let workdir = params
        .get("workdir")
        .or_else(|| params.get("cwd"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let agent = text("agent")?;
    let session = text("session")?;
    let mut call_json = Map::new();
    call_json.insert("tool".into(), Value::String(tool.to_string()));
    call_json.insert("agent".into(), Value::String(agent.clone()));
    call_json.insert("session".into(), Value::String(session.clone()));
    if let Some(w) = &workdir {
        call_json.insert("workdir".into(), Value::String(w.clone()));
    }
    if let Some(depth) = body.get("agent_depth") {
        call_json.insert("agent_depth".into(), depth.clone());
    }
    call_json.insert("params".into(), Value::Object(params.clone()));
    call_json.insert("input".into(), Value::Object(input.clone()));
    let call = rampart_runtime::json::call_from_json(&Value::Object(call_json.clone()))
        .map_err(|e| format!("invalid tool input: {e}"))?;
    let identity = Identity {
        run_id: text("run_id")?,
        tool_call_id: text("tool_call_id")?,
        approval_owner: match body.get("approval_owner") {
            Some(Value::Object(m)) => m
                .get("host")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            _ => String::new(),
        },
    };
    let response = match body.get("response") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let fingerprint = crate::secrets::sha256_hex(
        &serde_json::json!({
            "call": call_json, "run_id": identity.run_id, "tool_call_id": identity.tool_call_id,
        })
        .to_string(),
    );
    Ok(Prepared {
        call,
        params,
        identity,
        response,
        enforce: flag("enforce")?,
        verification: flag("verification")?,
        approval_owner: object("approval_owner")?,
        openclaw_hosted: flag("openclaw_hosted")?,
        skip_pending_approval: flag("skip_pending_approval")?,
        fingerprint,
    })
}

/// Collects every spelling of each field (top level, params, input, nested `arguments` and
/// `tool_input`); distinct non-empty values are a 400, one value is written into both maps
/// under every alias already present and under the canonical key.
fn reconcile(
    tool: &str,
    body: &Map<String, Value>,
    params: &mut Map<String, Value>,
    input: &mut Map<String, Value>,
) -> Result<(), String> {
    for (canonical, aliases) in families(tool) {
        let mut found: Option<String> = None;
        let nested = |m: &Map<String, Value>, k: &str| -> Option<Value> {
            ["arguments", "tool_input"]
                .iter()
                .filter_map(|n| m.get(*n).and_then(Value::as_object))
                .find_map(|inner| inner.get(k).cloned())
        };
        for alias in &aliases {
            // The top-level `input` is the input object, not the exec alias.
            let top = if *alias == "input" {
                None
            } else {
                body.get(*alias).cloned()
            };
            let values = [
                top,
                params.get(*alias).cloned(),
                input.get(*alias).cloned(),
                nested(params, alias),
                nested(input, alias),
            ];
            for value in values.into_iter().flatten() {
                let Value::String(s) = value else {
                    if *alias == "input" {
                        continue;
                    }
                    return Err(format!("invalid tool input: {alias:?} must be a string"));
                };
                if s.trim().is_empty() {
                    continue;
                }
                match &found {
                    Some(f) if *f != s => {
                        return Err(format!(
                            "invalid tool input: conflicting {canonical} aliases"
                        ))
                    }
                    _ => found = Some(s),
                }
            }
        }
        let Some(value) = found else {
            continue;
        };
        for map in [&mut *params, &mut *input] {
            for alias in &aliases {
                if map.get(*alias).is_some_and(Value::is_string) {
                    map.insert((*alias).to_string(), Value::String(value.clone()));
                }
            }
            map.insert(canonical.to_string(), Value::String(value.clone()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn names() {
        for ok in ["exec", "my.Tool:v1-x_y", "Custom"] {
            assert!(tool_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "Exec", "READ", "a b", "x/y", &"x".repeat(129)] {
            assert!(tool_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aliases_are_reconciled_or_refused() {
        let p = prepare(
            "exec",
            &body(json!({"command": "ls", "params": {"cmd": "ls"}})),
        )
        .unwrap();
        assert_eq!(p.params.get("command"), Some(&json!("ls")));
        let e = prepare(
            "exec",
            &body(json!({"command": "ls", "params": {"cmd": "rm -rf /"}})),
        )
        .unwrap_err();
        assert!(e.contains("conflicting command aliases"), "{e}");
        let e = prepare(
            "read",
            &body(json!({"params": {"path": "/a"}, "input": {"file_path": "/b"}})),
        )
        .unwrap_err();
        assert!(e.contains("conflicting path aliases"), "{e}");
        let p = prepare(
            "mcp",
            &body(json!({"params": {"arguments": {"url": "http://x"}}})),
        )
        .unwrap();
        assert_eq!(
            p.call.input_value("url").map(|v| v.render()),
            Some("http://x")
        );
        assert!(prepare("exec", &body(json!({"agent": 3}))).is_err());
    }
}
