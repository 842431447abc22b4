//! Request bodies as JSON, strictly: one UTF-8 JSON value, no key given twice.
//!
//! The threat: two readers of one body that see two different calls (see
//! [`rampart_integrations::strict_json`]). Upstream refuses trailing data, duplicate keys and
//! case-shadowed keys; so does this, at every depth, with a 400 that says what was wrong.

use rampart_integrations::strict_json::{self, StrictJsonError};
use serde_json::{Map, Value};

/// Parses a request body. The error is the message of a 400.
pub fn parse(body: &[u8]) -> Result<Value, String> {
    if let Err(e) = std::str::from_utf8(body) {
        return Err(format!(
            "invalid request body: not valid UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        ));
    }
    strict_json::parse(body).map_err(|e| match e {
        StrictJsonError::Invalid(e) => format!("invalid request body: {e}"),
        StrictJsonError::Trailing(_) => {
            "invalid request body: request body must contain a single JSON value".to_string()
        }
    })
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
