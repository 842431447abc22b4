//! The CLI's way to decide calls: an opened bundle, its evaluator, and the JSON shapes of a decision.

use crate::bundle::Loaded;
use rampart_runtime::bundle::Bundle;
use rampart_runtime::eval::{Decision, EvalContext, Evaluator};
use rampart_runtime::explain::Explanation;
use rampart_runtime::json::call_from_json;
use rampart_runtime::paths::FsResolver;
use serde_json::{json, Value};

pub struct Decider<'a> {
    bundle: Bundle<'a>,
    evaluator: Evaluator<'a>,
}

impl<'a> Decider<'a> {
    pub fn new(loaded: &'a Loaded) -> Result<Decider<'a>, String> {
        let bundle = loaded.bundle().map_err(|e| e.to_string())?;
        let evaluator = Evaluator::new(&bundle).map_err(|e| format!("policy bundle: {e}"))?;
        Ok(Decider { bundle, evaluator })
    }

    pub fn evaluator(&self) -> &Evaluator<'a> {
        &self.evaluator
    }

    /// Decides a call given as upstream's JSON shape (`{"tool","params","agent","session",...}`).
    /// A `response` field (a string) decides the call's response phase instead.
    pub fn decide_json(&self, call: &Value) -> Result<Decision, String> {
        decide_value(&self.evaluator, call, &context())
    }

    /// Every policy, rule and reading behind the decision of `call`.
    pub fn explain_json(&self, call: &Value) -> Result<Explanation, String> {
        let call = call_from_json(call).map_err(|e| e.to_string())?;
        self.evaluator
            .explain(&self.bundle, &call, &context())
            .map_err(|e| format!("policy bundle: {e}"))
    }
}

/// Decides `call` (JSON) with `evaluator`: its response when it carries one, else the call.
pub fn decide_value(
    evaluator: &Evaluator<'_>,
    call: &Value,
    ctx: &EvalContext<'_>,
) -> Result<Decision, String> {
    let response = match call.get("response") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => Some(text.as_str()),
        Some(_) => return Err("\"response\" must be a string".into()),
    };
    let parsed = call_from_json(call).map_err(|e| e.to_string())?;
    Ok(match response {
        Some(text) => evaluator.evaluate_response(&parsed, text, ctx.now_unix),
        None => evaluator.evaluate(&parsed, ctx),
    })
}

/// Previews never count calls (upstream's plain evaluation), and resolve symlinks on this machine.
pub fn context() -> EvalContext<'static> {
    EvalContext {
        resolver: Some(&FsResolver),
        ..EvalContext::now()
    }
}

/// The call a single CLI argument stands for: a command for exec, a path for file tools, a URL for the
/// fetch family, otherwise a command.
pub fn call_for_argument(
    tool: &str,
    arg: &str,
    agent: &str,
    session: &str,
    workdir: Option<&str>,
) -> Value {
    let key = match tool {
        "read" | "write" | "edit" | "mcp-destructive" => "path",
        "fetch" | "http" | "web_fetch" | "browser" | "web_search" => "url",
        _ => "command",
    };
    let mut call = json!({"tool": tool, "agent": agent, "session": session, "params": {key: arg}});
    if let (Some(dir), Some(obj)) = (workdir, call.as_object_mut()) {
        obj.insert("workdir".into(), json!(dir));
    }
    call
}

/// A decision as `rampart check` and `rampart test --json` print it (upstream's preflight fields).
pub fn decision_json(d: &Decision) -> Value {
    let matched = if d.matched_policies.is_empty() {
        Value::Null
    } else {
        json!(d.matched_policies)
    };
    let mut out = json!({
        "allowed": d.allowed(),
        "decision": d.action.as_str(),
        "message": d.message,
        "matched_policies": matched,
    });
    if let (Some(first), Some(obj)) = (d.matched_policies.first(), out.as_object_mut()) {
        obj.insert("policy".into(), json!(first));
    }
    out
}
