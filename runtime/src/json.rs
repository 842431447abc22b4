//! A tool call from JSON (`{"tool","params","input","agent","session","agent_depth","workdir"}`).
//!
//! Every surface but the preload receives calls as JSON: the CLI (`check`, `policy explain`,
//! `test`), the agent hooks, the server and the MCP proxy. Decoding includes upstream's request
//! preparation ([`prepare`]), so that they all judge the call the server would. The decoding lives on the runtime's
//! `std` side, behind the `json` feature, so that following a decision never leads into the
//! compiler; the `no_std` core, which the preload links, has no JSON parser at all.
//! Non-string values keep Go's `fmt.Sprint` rendering, which is what tool_param_matches compares
//! against.

mod base64;
mod prepare;

use crate::call::{Call, Value};
use serde_json::Value as Json;

pub use prepare::{prepare, MAX_COMMAND_B64};

/// Why a JSON call was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallJsonError(pub String);

impl std::fmt::Display for CallJsonError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CallJsonError {}

/// Builds a [`Call`] from a JSON object and prepares it as upstream's server does ([`prepare`]:
/// `command_b64` decoded, leading comment lines stripped, the `agent` tool's description as its
/// command, the fetch family's domain from its URL). `tool` is required; `workdir` may also be
/// spelled `cwd`.
pub fn call_from_json(json: &Json) -> Result<Call, CallJsonError> {
    let obj = json
        .as_object()
        .ok_or_else(|| CallJsonError("a tool call must be a JSON object".into()))?;
    let text = |key: &str| -> Result<Option<String>, CallJsonError> {
        match obj.get(key) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(CallJsonError(format!("\"{key}\" must be a string"))),
        }
    };
    let tool = text("tool")?
        .filter(|t| !t.is_empty())
        .ok_or_else(|| CallJsonError("a tool call needs a \"tool\"".into()))?;
    let agent_depth = match obj.get("agent_depth") {
        None | Some(Json::Null) => 0,
        Some(v) => v
            .as_i64()
            .ok_or_else(|| CallJsonError("\"agent_depth\" must be an integer".into()))?,
    };
    let workdir = match text("workdir")? {
        Some(w) => Some(w),
        None => text("cwd")?,
    };
    let mut call = Call {
        tool,
        agent: text("agent")?.unwrap_or_default(),
        session: text("session")?.unwrap_or_default(),
        agent_depth,
        workdir,
        params: entries(obj.get("params"), "params")?,
        input: entries(obj.get("input"), "input")?,
    };
    prepare(&mut call)?;
    Ok(call)
}

fn entries(v: Option<&Json>, key: &str) -> Result<Vec<(String, Value)>, CallJsonError> {
    match v {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Object(map)) => Ok(map.iter().map(|(k, v)| (k.clone(), value(v))).collect()),
        Some(_) => Err(CallJsonError(format!("\"{key}\" must be an object"))),
    }
}

/// A JSON value as a call parameter.
pub fn value(v: &Json) -> Value {
    match v {
        Json::String(s) => Value::Str(s.clone()),
        other => Value::Other(go_sprint(other)),
    }
}

/// Go's `fmt.Sprint` of a value decoded by encoding/json (numbers are float64, maps are sorted).
pub fn go_sprint(v: &Json) -> String {
    match v {
        Json::Null => "<nil>".into(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match n.as_f64() {
            Some(f) => go_float(f),
            None => n.to_string(),
        },
        Json::String(s) => s.clone(),
        Json::Array(items) => {
            let parts: Vec<String> = items.iter().map(go_sprint).collect();
            format!("[{}]", parts.join(" "))
        }
        Json::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys
                .iter()
                .map(|k| format!("{k}:{}", map.get(*k).map_or_else(String::new, go_sprint)))
                .collect();
            format!("map[{}]", parts.join(" "))
        }
    }
}

/// Go's `%v` of a float64: shortest representation, exponent form from 1e21 up.
fn go_float(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e21 {
        format!("{}", f as i64)
    } else if f.abs() >= 1e21 || (f != 0.0 && f.abs() < 1e-4) {
        let s = format!("{f:e}");
        // Rust prints 1e21, Go prints 1e+21.
        match s.split_once('e') {
            Some((m, e)) => match e.strip_prefix('-') {
                Some(negative) => format!("{m}e-{negative:0>2}"),
                None => format!("{m}e+{e:0>2}"),
            },
            None => s,
        }
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn converts_every_field() {
        let c = call_from_json(&json!({
            "tool": "exec", "agent": "claude-code", "session": "s1", "agent_depth": 2,
            "cwd": "/w", "params": {"command": "ls"}, "input": {"flag": true, "n": 3, "m": {"b": 1, "a": [1, "x"]}}
        }))
        .unwrap();
        assert_eq!(
            (c.tool.as_str(), c.agent.as_str(), c.session.as_str()),
            ("exec", "claude-code", "s1")
        );
        assert_eq!((c.agent_depth, c.workdir.as_deref()), (2, Some("/w")));
        assert_eq!(c.params, [("command".to_string(), Value::Str("ls".into()))]);
        assert_eq!(c.input_value("flag"), Some(&Value::Other("true".into())));
        assert_eq!(c.input_value("n"), Some(&Value::Other("3".into())));
        assert_eq!(
            c.input_value("m"),
            Some(&Value::Other("map[a:[1 x] b:1]".into()))
        );
    }

    #[test]
    fn go_number_rendering() {
        for (v, want) in [
            (json!(1.5), "1.5"),
            (json!(1e21), "1e+21"),
            (json!(-2), "-2"),
            (json!(null), "<nil>"),
        ] {
            assert_eq!(go_sprint(&v), want);
        }
    }

    #[test]
    fn bad_shapes_are_clear_errors() {
        assert!(call_from_json(&json!([1])).is_err());
        assert!(call_from_json(&json!({"params": {}})).is_err());
        assert!(call_from_json(&json!({"tool": "exec", "params": "ls"})).is_err());
        assert!(call_from_json(&json!({"tool": 3})).is_err());
    }
}
