//! The CLI's way to decide calls: an opened bundle, its evaluator, and the JSON shapes of a decision.

use crate::source::LoadedBundle;
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
    pub fn new(loaded: &'a LoadedBundle) -> Result<Decider<'a>, String> {
        let bundle = loaded.open()?;
        let evaluator = Evaluator::new(&bundle).map_err(|e| format!("policy bundle: {e}"))?;
        Ok(Decider { bundle, evaluator })
    }

    pub fn evaluator(&self) -> &Evaluator<'a> {
        &self.evaluator
    }

    /// Decides a call given as upstream's JSON shape (`{"tool","params","agent","session",...}`).
    pub fn decide_json(&self, call: &Value) -> Result<Decision, String> {
        let call = call_from_json(call).map_err(|e| e.to_string())?;
        Ok(self.evaluator.evaluate(&call, &context()))
    }

    /// Every policy, rule and reading behind the decision of `call`.
    pub fn explain_json(&self, call: &Value) -> Result<Explanation, String> {
        let call = call_from_json(call).map_err(|e| e.to_string())?;
        self.evaluator
            .explain(&self.bundle, &call, &context())
            .map_err(|e| format!("policy bundle: {e}"))
    }
}

/// Previews never count calls (upstream's plain evaluation), and resolve symlinks on this machine.
pub fn context() -> EvalContext<'static> {
    let mut ctx = EvalContext::at(now_unix());
    ctx.resolver = Some(&FsResolver);
    ctx
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
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
    if let Some(dir) = workdir {
        call["workdir"] = json!(dir);
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
    if let Some(first) = d.matched_policies.first() {
        out["policy"] = json!(first);
    }
    out
}
