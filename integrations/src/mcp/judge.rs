//! Judging MCP tool calls: `tools/call` to a rampart [`Call`], decided through the shared
//! [`Surface`]; which tools `tools/list` shows; what a tool's response may carry.
//!
//! The threat: a proxy that lists a tool it then refuses (the model keeps trying it), or worse,
//! hides a tool from the list while still letting its calls through (a filter that is only
//! cosmetic). So listing and calling share one judgement: a tool is hidden exactly when
//! [`Judge::hidden`] says so, and under `--filter-tools` a call of a hidden tool is denied with
//! the same reason before its arguments are looked at. A tool is hidden when the policy denies a
//! call of it with no arguments (the tool itself is denied, whatever it is asked to do), or when
//! its definition changed since it was pinned and `--pin enforce` holds it until a person
//! accepts the change.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use rampart_audit::{Event, EventDecision};
use rampart_runtime::eval::Action;
use rampart_runtime::json::call_from_json;
use rampart_runtime::settings::Mode;
use rampart_runtime::shell::Reader;
use rampart_runtime::Call;
use serde_json::{json, Map, Value};

use super::classify::{classify, params as call_params};
use super::message::Id;
use super::pins::{Change, PinMode, Pins};
use crate::surface::{Identity, Intent, Outcome, Phase, Request, Surface};

/// Keys of `tools/call` params in the spellings MCP defines.
const CALL_KEYS: [&str; 6] = [
    "name",
    "arguments",
    "_meta",
    "inputResponses",
    "requestState",
    "task",
];

/// Argument names rampart reads as a command, path, URL or place: only their lowercase
/// spelling counts, so any other spelling could be what a server reads while the policy sees
/// nothing.
const SECURITY_KEYS: [&str; 15] = [
    "command",
    "cmd",
    "input",
    "path",
    "file_path",
    "file",
    "filepath",
    "target",
    "url",
    "uri",
    "href",
    "workdir",
    "cwd",
    "domain",
    "scheme",
];

/// A `tools/call`'s name and arguments, read from its params.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Map<String, Value>,
}

impl ToolCall {
    /// Reads `params`, refusing what a server could read differently: a missing or empty name,
    /// arguments that are not an object, a protocol key or a security argument in another case.
    pub fn parse(params: Option<&Value>) -> Result<ToolCall, String> {
        let params = params
            .and_then(Value::as_object)
            .ok_or("tools/call params must be an object")?;
        for key in params.keys() {
            if let Some(k) = CALL_KEYS.iter().find(|k| k.eq_ignore_ascii_case(key)) {
                if k != key {
                    return Err(format!("tools/call param {key:?} is {k:?} in another case"));
                }
            }
        }
        let name = match params.get("name") {
            Some(Value::String(name)) if !name.trim().is_empty() => name.clone(),
            _ => return Err("tools/call needs a tool name".into()),
        };
        let arguments = match params.get("arguments") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(arguments)) => arguments.clone(),
            Some(_) => return Err("tools/call arguments must be an object".into()),
        };
        for key in arguments.keys() {
            let lower = key.to_ascii_lowercase();
            if SECURITY_KEYS.contains(&lower.as_str()) && lower != *key {
                return Err(format!(
                    "argument {key:?} is {lower:?} in another case: ambiguous tool input"
                ));
            }
        }
        Ok(ToolCall { name, arguments })
    }

    /// A fingerprint of exactly this call (name and arguments), for approvals bound to it.
    pub fn fingerprint(&self) -> String {
        format!(
            "{}\u{0}{}",
            self.name,
            Value::Object(self.arguments.clone())
        )
    }
}

/// Who is calling, for every call of one proxy.
#[derive(Clone, Debug)]
pub struct Caller {
    pub agent: String,
    pub session: String,
}

/// Judges the calls and listings of one MCP server.
pub struct Judge {
    surface: Surface,
    caller: Caller,
    filter_tools: bool,
    pin: PinMode,
    pins: Option<Pins>,
    /// Tools whose definitions differ from their pins, as last listed.
    changed: Mutex<BTreeSet<String>>,
}

impl Judge {
    pub fn new(
        surface: Surface,
        caller: Caller,
        filter_tools: bool,
        pin: PinMode,
        pins: Option<Pins>,
    ) -> Judge {
        Judge {
            surface,
            caller,
            filter_tools,
            pin,
            pins,
            changed: Mutex::new(BTreeSet::new()),
        }
    }

    pub fn surface(&self) -> &Surface {
        &self.surface
    }

    fn enforcing(&self) -> bool {
        self.surface.mode() == Mode::Enforce
    }

    /// Whether changed tools are held until a person accepts them.
    pub fn pins_enforced(&self) -> bool {
        self.pin == PinMode::Enforce
    }

    /// Whether `tools/list` results must be read (to filter or to pin).
    pub fn reads_listings(&self) -> bool {
        self.filter_tools || self.pin != PinMode::Off
    }

    /// The rampart call of tool `name` with `arguments` (upstream's mapping, reference §7), and
    /// the params it is recorded with.
    pub fn call_of(&self, tool: &ToolCall) -> Result<(Call, Map<String, Value>), String> {
        let params = call_params("tools/call", &tool.name, &tool.arguments);
        let json = json!({
            "tool": classify(&tool.name).tool(),
            "agent": self.caller.agent,
            "session": self.caller.session,
            "params": params,
            "input": tool.arguments,
        });
        let call = call_from_json(&json).map_err(|e| e.to_string())?;
        Ok((call, params))
    }

    /// Why tool `name` is hidden from `tools/list` (and, under `--filter-tools`, its calls
    /// denied), or `None` when it is shown. Nothing is hidden in monitor mode.
    pub fn hidden(&self, reader: &mut Reader, name: &str) -> Option<String> {
        if !self.enforcing() {
            return None;
        }
        if self.pin == PinMode::Enforce && self.waiting(name) {
            return Some(format!(
                "the tool {name:?} changed since it was pinned; a person must run `rampart mcp pins accept` to allow it"
            ));
        }
        if !self.filter_tools {
            return None;
        }
        let bare = ToolCall {
            name: name.to_string(),
            arguments: Map::new(),
        };
        let decision = self
            .call_of(&bare)
            .map_err(|e| format!("{e}; failing closed"))
            .and_then(|(call, _)| {
                self.surface
                    .evaluate(reader, &call, Phase::Request)
                    .map_err(|e| format!("{e}; failing closed"))
            });
        match decision {
            Ok(d) if matches!(d.action, Action::Deny) => {
                Some(format!("the tool {name:?} is not available: {}", d.message))
            }
            Ok(_) => None,
            Err(e) => Some(e),
        }
    }

    fn waiting(&self, name: &str) -> bool {
        let changed = self
            .changed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(name);
        changed && self.pins.as_ref().is_some_and(|p| p.waiting(name))
    }

    /// Decides a `tools/call` and records the decision. `recorded` are extra fields of the
    /// audit record (the request id, the call it retries).
    pub fn decide(
        &self,
        reader: &mut Reader,
        tool: &ToolCall,
        identity: &Identity,
        recorded: &[(&str, Value)],
    ) -> Outcome {
        let (call, params) = match self.call_of(tool) {
            Ok(made) => made,
            Err(e) => return self.refuse(&tool.name, identity, &e),
        };
        if self.filter_tools || self.pin == PinMode::Enforce {
            if let Some(why) = self.hidden(reader, &tool.name) {
                return self.surface.refuse(&call, identity, &why);
            }
        }
        let mut params = params;
        for (key, value) in recorded {
            params.insert((*key).to_string(), value.clone());
        }
        self.surface.decide(
            reader,
            &Request {
                call: &call,
                identity,
                phase: Phase::Request,
                intent: Intent::Enforce,
                wait_for_sync: true,
                params: &params,
            },
        )
    }

    /// Refuses a call that could not be read, and records the refusal.
    pub fn refuse(&self, name: &str, identity: &Identity, reason: &str) -> Outcome {
        let call = Call {
            tool: classify(name).tool().to_string(),
            agent: self.caller.agent.clone(),
            session: self.caller.session.clone(),
            ..Call::default()
        };
        self.surface.refuse(&call, identity, reason)
    }

    /// Decides what a tool returned (`text`, see [`super::protocol::response_text`]), and
    /// records the decision.
    pub fn scan(
        &self,
        reader: &mut Reader,
        tool: &ToolCall,
        identity: &Identity,
        text: &str,
    ) -> Outcome {
        let (call, params) = match self.call_of(tool) {
            Ok(made) => made,
            Err(e) => return self.refuse(&tool.name, identity, &e),
        };
        self.surface.decide(
            reader,
            &Request {
                call: &call,
                identity,
                phase: Phase::Response { output: text },
                intent: Intent::Enforce,
                wait_for_sync: true,
                params: &params,
            },
        )
    }

    /// Reads a `tools/list` result's tools: pins them, records changes, and returns the names to
    /// hide with why. An error (the pins cannot be kept) is for the caller to fail closed on
    /// under `--pin enforce`.
    pub fn listing(&self, reader: &mut Reader, tools: &[Value]) -> Result<Vec<String>, String> {
        if let Some(pins) = &self.pins {
            let changes = pins.observe(tools)?;
            self.record_changes(&changes);
            let mut changed = self.changed.lock().unwrap_or_else(PoisonError::into_inner);
            for tool in tools.iter().filter_map(|t| t.get("name")?.as_str()) {
                changed.remove(tool);
            }
            changed.extend(changes.into_iter().map(|c| c.tool));
        }
        Ok(tools
            .iter()
            .filter_map(|t| t.get("name")?.as_str())
            .filter(|name| self.hidden(reader, name).is_some())
            .map(String::from)
            .collect())
    }

    /// Records each changed tool in the audit trail (tool `mcp-pin`, action `watch`, or `deny`
    /// when the change holds the tool).
    fn record_changes(&self, changes: &[Change]) {
        for change in changes {
            let held = self.pin == PinMode::Enforce && self.enforcing();
            let message = format!(
                "MCP tool {:?} changed since it was pinned ({}){}",
                change.tool,
                change.parts.join(", "),
                if held {
                    "; hidden and denied until `rampart mcp pins accept`"
                } else {
                    ""
                }
            );
            let mut request = Map::new();
            request.insert("mcp_method".into(), json!("tools/list"));
            request.insert("mcp_tool".into(), json!(change.tool));
            request.insert("changed".into(), json!(change.parts));
            if let Some(pins) = &self.pins {
                request.insert("pin_file".into(), json!(pins.path().display().to_string()));
            }
            let event = Event::new("mcp-pin", request)
                .agent(&self.caller.agent)
                .session(&self.caller.session)
                .decision(EventDecision {
                    action: if held { "deny" } else { "watch" }.into(),
                    message: message.clone(),
                    ..EventDecision::default()
                });
            if let Err(e) = self.surface.record(event) {
                eprintln!("rampart mcp: {message}; the audit record failed: {e}");
            }
            eprintln!("rampart mcp: {message}");
        }
    }

    /// Records a person's answer to an `ask` for a call (`approved` or not, and how).
    pub fn record_answer(&self, tool: &ToolCall, identity: &Identity, approved: bool, how: &str) {
        let Ok((call, mut params)) = self.call_of(tool) else {
            return;
        };
        params.insert("approval".into(), json!(how));
        let verdict = if approved { "approved" } else { "denied" };
        let mut event = Event::new(&call.tool, params)
            .agent(&call.agent)
            .session(&call.session)
            .tool_call_id(&identity.tool_call_id)
            .decision(EventDecision {
                action: if approved { "allow" } else { "deny" }.into(),
                message: format!("{verdict} by a person ({how})"),
                ..EventDecision::default()
            });
        event.run_id = identity.run_id.clone();
        if let Err(e) = self.surface.record(event) {
            eprintln!("rampart mcp: recording an approval answer failed: {e}");
        }
    }
}

/// The identity of call `id` (the call it retries, for a 2026-07-28 retry: one tool call id
/// ties the rounds together in the audit trail).
pub fn identity(id: &Id, root: Option<&Id>) -> Identity {
    Identity {
        tool_call_id: root.unwrap_or(id).0.clone(),
        ..Identity::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_are_read_strictly() {
        let ok =
            ToolCall::parse(Some(&json!({"name": "run", "arguments": {"cmd": "ls"}}))).unwrap();
        assert_eq!(ok.name, "run");
        assert_eq!(ok.arguments["cmd"], "ls");
        let bare = ToolCall::parse(Some(&json!({"name": "x", "arguments": null}))).unwrap();
        assert!(bare.arguments.is_empty());
        for bad in [
            json!({"name": ""}),
            json!({"arguments": {}}),
            json!({"name": 3}),
            json!({"name": "x", "arguments": [1]}),
            json!({"name": "x", "Arguments": {"command": "rm -rf /"}}),
            json!({"name": "x", "arguments": {"Command": "rm -rf /"}}),
            json!({"name": "x", "arguments": {"URL": "https://evil"}}),
            json!("x"),
        ] {
            assert!(ToolCall::parse(Some(&bad)).is_err(), "{bad}");
        }
        assert!(ToolCall::parse(None).is_err());
    }
}
