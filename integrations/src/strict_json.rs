//! JSON read strictly: one value, no key given twice, no key that differs from another only in
//! case, at any depth.
//!
//! The threat: two readers of one document that see two different calls. A parser that keeps the
//! last of two `command` keys, one that stops after the first value, or one that folds `Command`
//! and `command` together (Go's `encoding/json` matches keys case-insensitively) each lets a client
//! show a log or a peer one thing and the policy another. So what readers could disagree on is
//! refused instead of guessing which reading wins. The MCP proxy reads judged messages this way
//! and the server its request bodies; each words its own error around [`StrictJsonError`].

use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a document was refused.
#[derive(Debug)]
pub enum StrictJsonError {
    /// Not JSON, or a repeated or case-shadowed key.
    Invalid(serde_json::Error),
    /// A whole value followed by more than white space.
    Trailing(serde_json::Error),
}

/// Parses `bytes` completely into one value.
pub fn parse(bytes: &[u8]) -> Result<Value, StrictJsonError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = StrictValue
        .deserialize(&mut de)
        .map_err(StrictJsonError::Invalid)?;
    de.end().map_err(StrictJsonError::Trailing)?;
    Ok(value)
}

/// The keys of one object so far, to catch repeats and case-shadows in one lookup each (a body of
/// many keys costs n log n, not n squared).
#[derive(Default)]
pub(crate) struct Keys(BTreeSet<String>);

impl Keys {
    pub(crate) fn insert(&mut self, key: &str) -> Result<(), String> {
        let folded = key.to_lowercase();
        if self.0.contains(&folded) {
            return Err(format!(
                "the key {key:?} is repeated or shadows another in a different case"
            ));
        }
        self.0.insert(folded);
        Ok(())
    }
}

/// Builds a [`Value`] like serde_json's own, failing on a repeated or case-shadowed key.
#[derive(Clone, Copy)]
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
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

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut keys = Keys::default();
        while let Some(key) = map.next_key::<String>()? {
            keys.insert(&key).map_err(de::Error::custom)?;
            let value = map.next_value_seed(StrictValue)?;
            out.insert(key, value);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_case_shadowed_keys_are_refused_at_any_depth() {
        let ok = parse(br#"{"a":{"b":[{"c":1,"C2":2}]},"n":1.5}"#).unwrap();
        assert_eq!(ok["a"]["b"][0]["C2"], 2);
        assert_eq!(ok["n"], 1.5);
        for bad in [
            &br#"{"a":{"b":[{"c":1,"c":2}]}}"#[..],
            br#"{"params":{"arguments":{"command":"ls","Command":"rm -rf /"}}}"#,
            br#"{"a":1,"A":1}"#,
            br#"[{"x":1,"x":1}]"#,
        ] {
            let Err(StrictJsonError::Invalid(e)) = parse(bad) else {
                panic!("accepted {}", String::from_utf8_lossy(bad));
            };
            assert!(e.to_string().contains("repeated or shadows"), "{e}");
        }
        assert!(matches!(
            parse(br#"{"a":1} {"a":2}"#),
            Err(StrictJsonError::Trailing(_))
        ));
    }

    #[test]
    fn many_keys_stay_cheap() {
        let body = format!(
            "{{{}}}",
            (0..100_000)
                .map(|i| format!("\"k{i}\":{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        let started = std::time::Instant::now();
        assert!(parse(body.as_bytes()).is_ok());
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }
}
