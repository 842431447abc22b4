//! Request bodies as JSON, strictly: one UTF-8 JSON value, no key given twice.
//!
//! The threat: two readers of one body that see two different calls. A parser that keeps the
//! last of two `command` keys, one that stops after the first document, or one that folds
//! `Command` and `command` together, each lets a client show a log one thing and the policy
//! another. Upstream refuses trailing data, duplicate keys and case-shadowed keys (keys equal but
//! for ASCII case, which a case-insensitive reader downstream would merge); so does this, at
//! every depth, with a 400 that says what was wrong.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Parses a request body. The error is the message of a 400.
pub fn parse(body: &[u8]) -> Result<Value, String> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(format!(
            "invalid request body: not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = Strict
        .deserialize(&mut de)
        .map_err(|e| format!("invalid request body: {e}"))?;
    de.end().map_err(|_| {
        "invalid request body: request body must contain a single JSON value".to_string()
    })?;
    Ok(value)
}

/// Parses a body that must be a JSON object; an empty body is an empty object.
pub fn object(body: &[u8]) -> Result<Map<String, Value>, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    match parse(body)? {
        Value::Object(map) => Ok(map),
        _ => Err("invalid request body: expected a JSON object".into()),
    }
}

struct Strict;

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(v) = seq.next_element_seed(Strict)? {
            items.push(v);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut folded: Vec<String> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            let lower = key.to_ascii_lowercase();
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            if folded.contains(&lower) {
                return Err(de::Error::custom(format!(
                    "key {key:?} differs from another key only in case"
                )));
            }
            folded.push(lower);
            let value = map.next_value_seed(Strict)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_value_no_duplicates_utf8() {
        assert!(parse(br#"{"a":{"b":[1,{"c":2}]}}"#).is_ok());
        assert!(parse(br#" {"a":1} "#).is_ok());
        for bad in [
            &br#"{"a":1}{"a":2}"#[..],
            br#"{"a":1} x"#,
            br#"{"a":1,"a":2}"#,
            br#"{"p":{"command":"ls","Command":"rm"}}"#,
            br#"[{"x":1,"x":1}]"#,
            b"{\"a\":\"\xff\"}",
            b"",
        ] {
            assert!(parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(object(b"  ").unwrap(), Map::new());
        assert!(object(b"[1]").is_err());
    }
}
