//! The MCP revisions the proxy speaks, and the messages it writes itself.
//!
//! Two eras are in use (see `agent-protocols.md` §9): the handshake era (2025-06-18,
//! 2025-11-25: `initialize` first, capabilities once per connection, servers may send requests
//! such as `elicitation/create`) and 2026-07-28 (no handshake: every request carries its
//! protocol version and the client's capabilities in `_meta`; results carry `resultType`; a
//! server that needs input answers `input_required` and the client retries with a new id).
//! The proxy answers each peer in the era that peer speaks: what it writes must be a message the
//! client's own SDK accepts, or a denial becomes a broken connection.

use serde_json::{json, Map, Value};

use super::message::Id;

/// `_meta` key of a 2026-07-28 request's protocol version.
pub const META_PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
/// `_meta` key of a 2026-07-28 request's client capabilities.
pub const META_CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
/// The first revision without the handshake.
pub const MODERN: &str = "2026-07-28";
/// The first revision whose elicitation requests name their `mode`.
const ELICITATION_MODES: &str = "2025-11-25";

/// JSON-RPC's "invalid request": upstream's code for every refusal, denials included.
pub const INVALID_REQUEST: i64 = -32600;
/// JSON-RPC's "parse error".
pub const PARSE_ERROR: i64 = -32700;
/// JSON-RPC's "internal error": upstream's code for a blocked or malformed response.
pub const INTERNAL_ERROR: i64 = -32603;

/// Every message the proxy writes starts its text with this, as upstream's do.
pub const PREFIX: &str = "Rampart: ";

/// How a denial is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorStyle {
    /// A tool result with `isError: true`: the model reads the reason and adapts.
    Result,
    /// Upstream's JSON-RPC error (-32600 for a denied call, -32603 for a blocked response).
    Upstream,
}

/// What a request says about the client that sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Peer {
    /// The revision the request was made under, when it says (2026-07-28 requests do).
    pub version: Option<String>,
    /// Whether the client can ask its user (`elicitation` among its capabilities).
    pub elicitation: bool,
}

impl Peer {
    /// Whether the client speaks 2026-07-28 or later.
    pub fn modern(&self) -> bool {
        self.version.as_deref().is_some_and(|v| v >= MODERN)
    }

    /// What a 2026-07-28 request's `_meta` says; `None` for a handshake-era request.
    pub fn of_request(params: Option<&Value>) -> Option<Peer> {
        let meta = params?.get("_meta")?;
        let version = meta.get(META_PROTOCOL_VERSION)?.as_str()?;
        Some(Peer {
            version: Some(version.to_string()),
            elicitation: meta
                .get(META_CLIENT_CAPABILITIES)
                .and_then(|c| c.get("elicitation"))
                .is_some_and(|e| !e.is_null()),
        })
    }

    /// What an `initialize` request's params say.
    pub fn of_initialize(params: Option<&Value>) -> Peer {
        Peer {
            version: params
                .and_then(|p| p.get("protocolVersion"))
                .and_then(Value::as_str)
                .map(String::from),
            elicitation: params
                .and_then(|p| p.get("capabilities"))
                .and_then(|c| c.get("elicitation"))
                .is_some_and(|e| !e.is_null()),
        }
    }
}

/// A JSON-RPC error reply to `id` (null when the request's id could not be read).
pub fn error(id: Option<&Id>, code: i64, message: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "id": id.map_or(Value::Null, Id::json),
        "error": {"code": code, "message": format!("{PREFIX}{message}")},
    })
}

/// A tool result that reports `text` as an error to the model.
pub fn error_result(id: &Id, text: &str, peer: &Peer) -> Value {
    let mut result = json!({
        "content": [{"type": "text", "text": format!("{PREFIX}{text}")}],
        "isError": true,
    });
    if peer.modern() {
        if let Some(obj) = result.as_object_mut() {
            obj.insert("resultType".into(), json!("complete"));
        }
    }
    json!({"jsonrpc": "2.0", "id": id.json(), "result": result})
}

/// The answer to a denied `tools/call`.
pub fn denial(id: &Id, message: &str, style: ErrorStyle, peer: &Peer) -> Value {
    match style {
        ErrorStyle::Result => error_result(id, message, peer),
        ErrorStyle::Upstream => error(Some(id), INVALID_REQUEST, message),
    }
}

/// The answer that replaces a response the policy blocked (or could not read).
pub fn blocked_response(id: &Id, message: &str, style: ErrorStyle, peer: &Peer) -> Value {
    match style {
        ErrorStyle::Result => error_result(id, message, peer),
        ErrorStyle::Upstream => error(Some(id), INTERNAL_ERROR, message),
    }
}

/// The form that asks the user to allow a call: one yes/no field.
pub fn approval_form(message: &str, peer: &Peer) -> Value {
    let mut params = json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {
                "approve": {
                    "type": "boolean",
                    "title": "Allow this tool call",
                    "description": "Rampart's policy asks a person to approve this call.",
                }
            },
            "required": ["approve"],
        },
    });
    let modes = peer
        .version
        .as_deref()
        .is_some_and(|v| v >= ELICITATION_MODES);
    if let (true, Some(obj)) = (modes, params.as_object_mut()) {
        obj.insert("mode".into(), json!("form"));
    }
    params
}

/// Whether an elicitation result approves: accepted, with `approve: true`.
pub fn approves(result: &Value) -> bool {
    result.get("action").and_then(Value::as_str) == Some("accept")
        && result
            .get("content")
            .and_then(|c| c.get("approve"))
            .and_then(Value::as_bool)
            == Some(true)
}

/// A request the proxy sends to the client (handshake era: `elicitation/create`).
pub fn request(id: &str, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A 2026-07-28 `input_required` result asking the client for `form` under `key`, to be
/// retried with `state`.
pub fn input_required(id: &Id, key: &str, form: Value, state: &str) -> Value {
    let mut requests = Map::new();
    requests.insert(
        key.to_string(),
        json!({"method": "elicitation/create", "params": form}),
    );
    json!({
        "jsonrpc": "2.0",
        "id": id.json(),
        "result": {
            "resultType": "input_required",
            "inputRequests": requests,
            "requestState": state,
        },
    })
}

/// The text a response carries, as the model would read it: every key and string of its
/// result (or error), depth first, one per line. Escapes are decoded, so a secret cannot hide
/// behind `\u0041KIA...`.
pub fn response_text(message: &Value) -> String {
    let mut out = String::new();
    let body = message.get("result").or_else(|| message.get("error"));
    if let Some(body) = body {
        collect_text(body, &mut out);
    }
    out
}

fn collect_text(value: &Value, out: &mut String) {
    match value {
        Value::String(s) => push_line(out, s),
        Value::Array(items) => items.iter().for_each(|v| collect_text(v, out)),
        Value::Object(map) => {
            for (k, v) in map {
                push_line(out, k);
                collect_text(v, out);
            }
        }
        Value::Number(n) => push_line(out, &n.to_string()),
        Value::Bool(_) | Value::Null => {}
    }
}

fn push_line(out: &mut String, s: &str) {
    if !out.is_empty() {
        out.push('\n');
    }
    out.push_str(s);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_by_era() {
        let modern = json!({"_meta": {META_PROTOCOL_VERSION: "2026-07-28",
            META_CLIENT_CAPABILITIES: {"elicitation": {}}}});
        let peer = Peer::of_request(Some(&modern)).unwrap();
        assert!(peer.modern() && peer.elicitation);
        assert_eq!(Peer::of_request(Some(&json!({"name": "x"}))), None);
        let init = json!({"protocolVersion": "2025-06-18", "capabilities": {"elicitation": {}}});
        let peer = Peer::of_initialize(Some(&init));
        assert!(!peer.modern() && peer.elicitation);
        assert!(approval_form("m", &peer).get("mode").is_none());
        let newer = Peer {
            version: Some("2025-11-25".into()),
            elicitation: true,
        };
        assert_eq!(approval_form("m", &newer)["mode"], "form");
    }

    #[test]
    fn denials_in_both_styles() {
        let id = Id("7".into());
        let legacy = Peer::default();
        let modern = Peer {
            version: Some(MODERN.into()),
            elicitation: false,
        };
        let r = denial(&id, "no", ErrorStyle::Result, &legacy);
        assert_eq!(r["id"], 7);
        assert_eq!(r["result"]["isError"], true);
        assert_eq!(r["result"]["content"][0]["text"], "Rampart: no");
        assert!(r["result"].get("resultType").is_none());
        let r = denial(&id, "no", ErrorStyle::Result, &modern);
        assert_eq!(r["result"]["resultType"], "complete");
        let r = denial(&id, "no", ErrorStyle::Upstream, &legacy);
        assert_eq!(
            r["error"],
            json!({"code": -32600, "message": "Rampart: no"})
        );
        let r = blocked_response(&id, "leak", ErrorStyle::Upstream, &legacy);
        assert_eq!(r["error"]["code"], -32603);
    }

    #[test]
    fn response_text_decodes_what_the_model_reads() {
        let msg: Value = serde_json::from_str(
            r#"{"id":1,"result":{"content":[{"type":"text","text":"key \u0041KIA"}],"structuredContent":{"AKIA2":3}}}"#,
        )
        .unwrap();
        let text = response_text(&msg);
        assert!(text.contains("key AKIA") && text.contains("AKIA2") && text.contains('3'));
        assert!(approves(
            &json!({"action": "accept", "content": {"approve": true}})
        ));
        assert!(!approves(
            &json!({"action": "accept", "content": {"approve": false}})
        ));
        assert!(!approves(&json!({"action": "decline"})));
    }
}
