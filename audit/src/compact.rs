//! Records over the size limit are compacted, not dropped and not split (§5.3).
//!
//! The threat: a tool call with a multi-megabyte argument (a whole file written, a huge command)
//! would make a record that readers choke on, or an attacker could pad a call until the audit
//! write fails and, in monitor mode, goes unrecorded. Upstream's answer, kept here: replace the
//! largest parts step by step until the record fits, and keep for each replaced part its size and
//! SHA-256, so the record still proves what the call was. The hash covers the compacted record.

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::encode;
use crate::event::{CompactedField, Event};

/// Upstream's `MaxRecordBytes`.
pub const MAX_RECORD_BYTES: usize = 2 << 20;

/// How long a truncated message or identifier is kept.
const MESSAGE_KEEP: usize = 4096;
const IDENTIFIER_KEEP: usize = 256;
const TRUNCATED: &str = "… [truncated]";

/// The bytes a sealed line of `event` takes (hash and newline included).
fn sealed_len(event: &Event) -> usize {
    event.encode_until_hash().len() + "\"sha256:\"}\n".len() + 64
}

/// Compacts `event` in upstream's order until its line fits in `max` bytes. Returns whether
/// anything was changed.
pub fn compact(event: &mut Event, max: usize) -> bool {
    let steps: [fn(&mut Event); 7] = [
        request,
        suggestions,
        message,
        approval_owner,
        response,
        matched_policies,
        identifiers,
    ];
    let mut changed = false;
    for step in steps {
        if sealed_len(event) <= max {
            break;
        }
        step(event);
        changed = true;
    }
    changed
}

fn record(event: &mut Event, field: &str, encoded: &[u8], disposition: &str) {
    event.compacted_fields.insert(
        field.to_owned(),
        CompactedField {
            original_json_bytes: i64::try_from(encoded.len()).unwrap_or(i64::MAX),
            sha256: hex_sha256(encoded),
            disposition: disposition.to_owned(),
        },
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest: [u8; 32] = Sha256::digest(bytes).into();
    crate::chain::format_hash(&digest)
        .trim_start_matches(crate::chain::HASH_PREFIX)
        .to_owned()
}

fn request(event: &mut Event) {
    let mut encoded = Vec::new();
    encode::object(&mut encoded, &event.request);
    let mut inner = Map::new();
    inner.insert("original_json_bytes".into(), Value::from(encoded.len()));
    inner.insert("sha256".into(), Value::from(hex_sha256(&encoded)));
    let mut replaced = Map::new();
    replaced.insert("_rampart_compacted".into(), Value::Object(inner));
    event.request = replaced;
    record(event, "request", &encoded, "replaced");
}

fn suggestions(event: &mut Event) {
    if event.decision.suggestions.is_empty() {
        return;
    }
    let mut encoded = Vec::new();
    encode::strings(&mut encoded, &event.decision.suggestions);
    event.decision.suggestions.clear();
    record(event, "decision.suggestions", &encoded, "dropped");
}

fn message(event: &mut Event) {
    if event.decision.message.len() <= MESSAGE_KEEP {
        return;
    }
    let mut encoded = Vec::new();
    encode::string(&mut encoded, &event.decision.message);
    truncate(&mut event.decision.message, MESSAGE_KEEP);
    event.decision.message.push_str(TRUNCATED);
    record(event, "decision.message", &encoded, "truncated");
}

fn approval_owner(event: &mut Event) {
    if event.approval_owner.is_empty() {
        return;
    }
    let mut encoded = Vec::new();
    encode::string(&mut encoded, &event.approval_owner);
    event.approval_owner = "[compacted]".to_owned();
    record(event, "approval_owner", &encoded, "replaced");
}

fn response(event: &mut Event) {
    if let Some(response) = event.response.take() {
        let mut encoded = Vec::new();
        encode::int(&mut encoded, response.duration_ms);
        record(event, "response", &encoded, "dropped");
    }
}

fn matched_policies(event: &mut Event) {
    if event.decision.matched_policies.is_empty() {
        return;
    }
    let mut encoded = Vec::new();
    encode::strings(&mut encoded, &event.decision.matched_policies);
    event.decision.matched_policies.clear();
    record(event, "decision.matched_policies", &encoded, "dropped");
}

fn identifiers(event: &mut Event) {
    type Field = fn(&mut Event) -> &mut String;
    let fields: [(&str, Field); 6] = [
        ("agent", |e| &mut e.agent),
        ("session", |e| &mut e.session),
        ("run_id", |e| &mut e.run_id),
        ("tool_call_id", |e| &mut e.tool_call_id),
        ("tool", |e| &mut e.tool),
        ("host.hostname", |e| &mut e.host.hostname),
    ];
    for (name, field) in fields {
        let value = field(event);
        if value.len() > IDENTIFIER_KEEP {
            let mut encoded = Vec::new();
            encode::string(&mut encoded, value);
            truncate(value, IDENTIFIER_KEEP);
            record(event, name, &encoded, "truncated");
        }
    }
}

/// Cuts `s` to at most `max` bytes at a character boundary.
fn truncate(s: &mut String, max: usize) {
    let mut cut = max.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_request_is_replaced_by_its_size_and_digest() {
        let mut req = Map::new();
        req.insert("content".into(), Value::from("x".repeat(3 << 20)));
        let mut event = Event::new("write", req).agent("a");
        event.decision.message = "m".into();
        assert!(compact(&mut event, MAX_RECORD_BYTES));
        assert!(sealed_len(&event) <= MAX_RECORD_BYTES);
        let c = event.compacted_fields.get("request");
        assert_eq!(c.map(|c| c.original_json_bytes), Some((3 << 20) + 14));
        assert_eq!(c.map(|c| c.disposition.as_str()), Some("replaced"));
        assert!(event.request.contains_key("_rampart_compacted"));
        assert_eq!(event.decision.message, "m");
    }

    #[test]
    fn a_huge_message_and_agent_are_truncated_after_the_request() {
        let mut event = Event::new("exec", Map::new());
        event.decision.message = "é".repeat(2 << 20);
        event.agent = "a".repeat(3 << 20);
        assert!(compact(&mut event, MAX_RECORD_BYTES));
        assert!(event.decision.message.ends_with(TRUNCATED));
        assert!(event.agent.len() <= IDENTIFIER_KEEP);
        assert!(sealed_len(&event) <= MAX_RECORD_BYTES);
        let small = Event::new("exec", Map::new());
        let mut copy = small.clone();
        assert!(!compact(&mut copy, MAX_RECORD_BYTES));
        assert_eq!(copy, small);
    }
}
