//! What a JSON-RPC line is, read the way the strictest and the laxest peer would both read it.
//!
//! The threat: a message that the proxy reads one way and the server another. JSON objects may
//! repeat a key (most parsers keep the last value, some the first), and Go's `encoding/json`
//! matches keys case-insensitively, so `{"method":"tools/list","Method":"tools/call"}` or a lone
//! `"Arguments"` can be a harmless listing to one reader and a tool call to another. The proxy
//! therefore refuses what peers could disagree on instead of guessing which reading wins: a
//! repeated or case-shadowed key, or a key that is a protocol key in another case.
//!
//! Two readings, for two costs: [`peek`] reads only the top level (the id and the method; every
//! other value is checked for syntax and skipped without being built), which is all an unjudged
//! message needs; [`strict`] builds the whole value and refuses repeated or case-shadowed keys at
//! every depth, for the messages the proxy judges or rewrites.

use std::fmt;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::strict_json::{self, Keys, StrictJsonError};

/// The top-level keys of JSON-RPC. Any of them in another case is refused.
const PROTOCOL_KEYS: [&str; 6] = ["jsonrpc", "id", "method", "params", "result", "error"];

/// A message's id as the peers compare it: its JSON text (`7`, `"abc"`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(pub String);

impl Id {
    /// The id of `value`, when it is one JSON-RPC allows (a string or a number).
    pub fn of(value: &Value) -> Option<Id> {
        match value {
            Value::String(_) | Value::Number(_) => Some(Id(value.to_string())),
            _ => None,
        }
    }

    /// The id as JSON, to answer with.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.0).unwrap_or(Value::Null)
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a line holds, from its top level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A request: it has a method and an id.
    Request { id: Id, method: String },
    /// A notification: a method and no id.
    Notification { method: String },
    /// A response: an id (or null, for an error about an unreadable request) and no method.
    Response { id: Option<Id> },
    /// A top-level array: a batch, which no current MCP revision allows.
    Batch,
    /// Not a message peers would read alike; says why.
    Invalid(String),
}

/// Reads the top level of `line`.
pub fn peek(line: &[u8]) -> Kind {
    let mut de = serde_json::Deserializer::from_slice(line);
    let top = match de.deserialize_any(TopVisitor) {
        Ok(top) => top,
        Err(e) => return Kind::Invalid(format!("not JSON: {e}")),
    };
    if let Err(e) = de.end() {
        return Kind::Invalid(format!("not one JSON value: {e}"));
    }
    match top {
        Top::Array => Kind::Batch,
        Top::Other => Kind::Invalid("not a JSON object".into()),
        Top::Object(top) => top.kind(),
    }
}

enum Top {
    Object(TopObject),
    Array,
    Other,
}

#[derive(Default)]
struct TopObject {
    id: Option<Value>,
    method: Option<Value>,
    result_or_error: bool,
    problem: Option<String>,
}

impl TopObject {
    fn kind(self) -> Kind {
        if let Some(problem) = self.problem {
            return Kind::Invalid(problem);
        }
        let id = match &self.id {
            None | Some(Value::Null) => None,
            Some(value) => match Id::of(value) {
                Some(id) => Some(id),
                None => return Kind::Invalid("an id must be a string or a number".into()),
            },
        };
        match (self.method, id) {
            (Some(Value::String(method)), _) if self.result_or_error => Kind::Invalid(format!(
                "{method}: a message cannot be a request and a response"
            )),
            (Some(Value::String(method)), Some(id)) => Kind::Request { id, method },
            (Some(Value::String(method)), None) if self.id.is_none() => {
                Kind::Notification { method }
            }
            (Some(Value::String(_)), None) => Kind::Invalid("a request id cannot be null".into()),
            (Some(_), _) => Kind::Invalid("a method must be a string".into()),
            (None, id) if self.result_or_error => Kind::Response { id },
            (None, _) => Kind::Invalid("neither a request nor a response".into()),
        }
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON-RPC message")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let mut top = TopObject::default();
        let mut keys = Keys::default();
        while let Some(key) = map.next_key::<String>()? {
            if let Err(problem) = keys.insert(&key) {
                top.problem.get_or_insert(problem);
            }
            match key.as_str() {
                "id" => top.id = Some(map.next_value()?),
                "method" => top.method = Some(map.next_value()?),
                "result" | "error" => {
                    top.result_or_error = true;
                    map.next_value::<IgnoredAny>()?;
                }
                other => {
                    let shadow = PROTOCOL_KEYS
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(other) && *k != other);
                    if shadow {
                        top.problem
                            .get_or_insert(format!("{other:?} is a protocol key in another case"));
                    }
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Top::Object(top))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::Array)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_str<E>(self, _: &str) -> Result<Top, E> {
        Ok(Top::Other)
    }
    fn visit_unit<E>(self) -> Result<Top, E> {
        Ok(Top::Other)
    }
}

/// Parses `line` completely, refusing a repeated or case-shadowed key at any depth.
pub fn strict(line: &[u8]) -> Result<Value, String> {
    strict_json::parse(line).map_err(|e| match e {
        StrictJsonError::Invalid(e) => format!("not acceptable JSON: {e}"),
        StrictJsonError::Trailing(e) => format!("not one JSON value: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> Id {
        Id(text.into())
    }

    #[test]
    fn kinds() {
        let cases: [(&str, Kind); 7] = [
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"x":[1,{"y":2}]}}"#,
                Kind::Request {
                    id: id("1"),
                    method: "tools/call".into(),
                },
            ),
            (
                r#"{"jsonrpc":"2.0","id":"a","method":"ping"}"#,
                Kind::Request {
                    id: id("\"a\""),
                    method: "ping".into(),
                },
            ),
            (
                r#"{"jsonrpc":"2.0","method":"notifications/progress","params":{}}"#,
                Kind::Notification {
                    method: "notifications/progress".into(),
                },
            ),
            (
                r#"{"jsonrpc":"2.0","id":3,"result":{}}"#,
                Kind::Response { id: Some(id("3")) },
            ),
            (
                r#"{"jsonrpc":"2.0","id":null,"error":{"code":1}}"#,
                Kind::Response { id: None },
            ),
            (r#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, Kind::Batch),
            (
                r#"{"jsonrpc":"2.0","id":1,"method":"ping"}  "#,
                Kind::Request {
                    id: id("1"),
                    method: "ping".into(),
                },
            ),
        ];
        for (line, want) in cases {
            assert_eq!(peek(line.as_bytes()), want, "{line}");
        }
    }

    #[test]
    fn what_peers_could_read_differently_is_invalid() {
        for line in [
            r#"{"id":1,"method":"tools/list","method":"tools/call"}"#,
            r#"{"id":1,"method":"tools/list","Method":"tools/call"}"#,
            r#"{"id":1,"METHOD":"tools/call","result":{}}"#,
            r#"{"id":1,"id":2,"result":{}}"#,
            r#"{"id":[1],"method":"x"}"#,
            r#"{"id":null,"method":"x"}"#,
            r#"{"id":1,"method":"x","result":{}}"#,
            r#"{"id":1,"method":7}"#,
            r#"{"id":1,"method":"x"} {"id":2}"#,
            r#"{"id":1,"method":"x""#,
            "7",
            "",
        ] {
            assert!(matches!(peek(line.as_bytes()), Kind::Invalid(_)), "{line}");
        }
    }
}
