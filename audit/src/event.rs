//! The event: upstream's `rampart.audit.v1` record, and its exact encoding.
//!
//! The field order, the fields omitted when empty and the value formats are part of the hash, so
//! [`Event::encode`] writes them in Go's struct order with [`crate::encode`], never through a
//! generic serializer. Reading goes through serde (every field optional, unknown fields ignored),
//! so a reader accepts any line upstream or we wrote; a verifier never re-encodes what it read (see
//! [`crate::chain`]).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::encode;
use crate::time::Timestamp;

/// The schema every record we write carries.
pub const SCHEMA_VERSION: &str = "rampart.audit.v1";

/// Where an event was recorded (filled automatically).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Host {
    pub hostname: String,
    /// Go's `GOOS` name (`linux`, `darwin`).
    pub os: String,
    /// Go's `GOARCH` name (`amd64`, `arm64`).
    pub arch: String,
}

impl Host {
    /// This machine, computed once per process.
    pub fn this() -> Host {
        static HOST: OnceLock<Host> = OnceLock::new();
        HOST.get_or_init(|| Host {
            hostname: hostname(),
            os: go_os(std::env::consts::OS).to_owned(),
            arch: go_arch(std::env::consts::ARCH).to_owned(),
        })
        .clone()
    }
}

fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is writable for its whole length; gethostname NUL-terminates within it
    // (or truncates, which the search for NUL below handles).
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(buf.get(..len).unwrap_or_default()).into_owned()
}

fn go_os(os: &str) -> &str {
    match os {
        "macos" => "darwin",
        other => other,
    }
}

fn go_arch(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}

/// The decision part of an event.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EventDecision {
    /// allow, deny, ask, watch (upstream also records webhook outcomes by their action).
    pub action: String,
    pub matched_policies: Vec<String>,
    pub evaluation_time_us: i64,
    pub message: String,
    pub suggestions: Vec<String>,
}

impl EventDecision {
    /// From the evaluator's decision and how long it took.
    pub fn from_decision(
        decision: &rampart_runtime::eval::Decision,
        evaluation_time_us: i64,
    ) -> EventDecision {
        EventDecision {
            action: decision.action.as_str().to_owned(),
            matched_policies: decision.matched_policies.clone(),
            evaluation_time_us,
            message: decision.message.clone(),
            suggestions: Vec::new(),
        }
    }
}

/// What a tool call returned, when the surface saw it.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct EventResponse {
    /// Omitted when 0, as Go's omitempty omits it.
    pub exit_code: i64,
    pub duration_ms: i64,
    pub flags: Vec<String>,
}

/// A field replaced to keep a record under the size limit (§5.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct CompactedField {
    pub original_json_bytes: i64,
    pub sha256: String,
    pub disposition: String,
}

/// One audit record.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Event {
    pub schema_version: String,
    /// A ULID; the writer assigns one when this is empty.
    pub id: String,
    #[serde(deserialize_with = "timestamp")]
    pub timestamp: Timestamp,
    pub agent: String,
    pub session: String,
    pub host: Host,
    pub run_id: String,
    pub tool_call_id: String,
    pub approval_owner: String,
    pub tool: String,
    pub request: Map<String, Value>,
    pub decision: EventDecision,
    pub response: Option<EventResponse>,
    pub compacted_fields: BTreeMap<String, CompactedField>,
    /// Set by the writer.
    pub prev_hash: String,
    /// Set by the writer.
    pub hash: String,
}

fn timestamp<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    Timestamp::parse_rfc3339(&text)
        .ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
}

impl Event {
    /// A new event for `tool` with the call's parameters, stamped now on this host. Redaction
    /// happens in the writer, before hashing, whatever the caller passes.
    pub fn new(tool: &str, request: Map<String, Value>) -> Event {
        Event {
            schema_version: SCHEMA_VERSION.to_owned(),
            timestamp: Timestamp::now(),
            host: Host::this(),
            tool: tool.to_owned(),
            request,
            ..Event::default()
        }
    }

    pub fn agent(mut self, agent: &str) -> Event {
        self.agent = agent.to_owned();
        self
    }

    pub fn session(mut self, session: &str) -> Event {
        self.session = session.to_owned();
        self
    }

    pub fn run_id(mut self, run_id: &str) -> Event {
        self.run_id = run_id.to_owned();
        self
    }

    pub fn tool_call_id(mut self, id: &str) -> Event {
        self.tool_call_id = id.to_owned();
        self
    }

    pub fn decision(mut self, decision: EventDecision) -> Event {
        self.decision = decision;
        self
    }

    pub fn response(mut self, response: EventResponse) -> Event {
        self.response = Some(response);
        self
    }

    pub fn at(mut self, timestamp: Timestamp) -> Event {
        self.timestamp = timestamp;
        self
    }

    /// Parses one stored line (an event, not a continuation header).
    pub fn parse(line: &[u8]) -> Result<Event, serde_json::Error> {
        serde_json::from_slice(line)
    }

    /// The record as upstream's Go writer encodes it, `hash` included as it stands.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.encode_until_hash();
        encode::string(&mut out, &self.hash);
        out.push(b'}');
        out
    }

    /// The encoding up to and including `"hash":`, which the chain completes (see
    /// [`crate::chain::seal`]).
    pub fn encode_until_hash(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512 + self.request.len() * 32);
        let o = &mut out;
        key_first(o, "schema_version");
        encode::string(o, &self.schema_version);
        key(o, "id");
        encode::string(o, &self.id);
        key(o, "timestamp");
        encode::string(o, &self.timestamp.rfc3339_nano());
        key(o, "agent");
        encode::string(o, &self.agent);
        key(o, "session");
        encode::string(o, &self.session);
        key(o, "host");
        key_first(o, "hostname");
        encode::string(o, &self.host.hostname);
        key(o, "os");
        encode::string(o, &self.host.os);
        key(o, "arch");
        encode::string(o, &self.host.arch);
        o.push(b'}');
        optional_string(o, "run_id", &self.run_id);
        optional_string(o, "tool_call_id", &self.tool_call_id);
        optional_string(o, "approval_owner", &self.approval_owner);
        key(o, "tool");
        encode::string(o, &self.tool);
        key(o, "request");
        encode::object(o, &self.request);
        key(o, "decision");
        self.encode_decision(o);
        if let Some(response) = &self.response {
            key(o, "response");
            let mut first = true;
            if response.exit_code != 0 {
                key_first(o, "exit_code");
                encode::int(o, response.exit_code);
                first = false;
            }
            if first {
                key_first(o, "duration_ms");
            } else {
                key(o, "duration_ms");
            }
            encode::int(o, response.duration_ms);
            if !response.flags.is_empty() {
                key(o, "flags");
                encode::strings(o, &response.flags);
            }
            o.push(b'}');
        }
        if !self.compacted_fields.is_empty() {
            key(o, "compacted_fields");
            o.push(b'{');
            for (i, (name, field)) in self.compacted_fields.iter().enumerate() {
                if i > 0 {
                    o.push(b',');
                }
                encode::string(o, name);
                o.push(b':');
                key_first(o, "original_json_bytes");
                encode::int(o, field.original_json_bytes);
                key(o, "sha256");
                encode::string(o, &field.sha256);
                key(o, "disposition");
                encode::string(o, &field.disposition);
                o.push(b'}');
            }
            o.push(b'}');
        }
        key(o, "prev_hash");
        encode::string(o, &self.prev_hash);
        key(o, "hash");
        out
    }

    fn encode_decision(&self, o: &mut Vec<u8>) {
        let d = &self.decision;
        key_first(o, "action");
        encode::string(o, &d.action);
        if !d.matched_policies.is_empty() {
            key(o, "matched_policies");
            encode::strings(o, &d.matched_policies);
        }
        key(o, "evaluation_time_us");
        encode::int(o, d.evaluation_time_us);
        optional_string(o, "message", &d.message);
        if !d.suggestions.is_empty() {
            key(o, "suggestions");
            encode::strings(o, &d.suggestions);
        }
        o.push(b'}');
    }
}

/// `{"name":`
fn key_first(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b"{\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

/// `,"name":`
fn key(out: &mut Vec<u8>, name: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
}

fn optional_string(out: &mut Vec<u8>, name: &str, value: &str) {
    if !value.is_empty() {
        key(out, name);
        encode::string(out, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §5.1's real line, with its hashes elided as the reference prints them.
    const UPSTREAM: &str = r#"{"schema_version":"rampart.audit.v1","id":"01JTEST0000000000000000001","timestamp":"2026-01-02T03:04:05.000006Z","agent":"claude-code","session":"repo/main","host":{"hostname":"vm","os":"linux","arch":"amd64"},"tool":"exec","request":{"command":"echo \u003ca\u003e \u0026 b","token":"[REDACTED]"},"decision":{"action":"allow","matched_policies":["allow-unmatched"],"evaluation_time_us":12,"message":"ok"},"prev_hash":"sha256:f59d…5354","hash":"sha256:2861…a850"}"#;

    #[test]
    fn upstream_line_round_trips_byte_for_byte() {
        let event = Event::parse(UPSTREAM.as_bytes());
        let event = event.unwrap_or_default();
        assert_eq!(event.tool, "exec");
        assert_eq!(String::from_utf8_lossy(&event.encode()), UPSTREAM);
    }

    #[test]
    fn optional_parts_appear_in_struct_order() {
        let mut event = Event::new("exec", Map::new()).agent("a").session("s");
        event.schema_version = SCHEMA_VERSION.into();
        event.id = "X".into();
        event.timestamp = Timestamp { secs: 0, nanos: 0 };
        event.host = Host {
            hostname: "h".into(),
            os: "linux".into(),
            arch: "amd64".into(),
        };
        event.run_id = "r".into();
        event.approval_owner = "o".into();
        event.decision.action = "deny".into();
        event.decision.suggestions = vec!["x".into()];
        event.response = Some(EventResponse {
            exit_code: 0,
            duration_ms: 5,
            flags: vec!["f".into()],
        });
        event.compacted_fields.insert(
            "request".into(),
            CompactedField {
                original_json_bytes: 9,
                sha256: "ab".into(),
                disposition: "replaced".into(),
            },
        );
        let text = String::from_utf8(event.encode()).unwrap_or_default();
        assert_eq!(
            text,
            concat!(
                r#"{"schema_version":"rampart.audit.v1","id":"X","timestamp":"1970-01-01T00:00:00Z","#,
                r#""agent":"a","session":"s","host":{"hostname":"h","os":"linux","arch":"amd64"},"#,
                r#""run_id":"r","approval_owner":"o","tool":"exec","request":{},"#,
                r#""decision":{"action":"deny","evaluation_time_us":0,"suggestions":["x"]},"#,
                r#""response":{"duration_ms":5,"flags":["f"]},"#,
                r#""compacted_fields":{"request":{"original_json_bytes":9,"sha256":"ab","disposition":"replaced"}},"#,
                r#""prev_hash":"","hash":""}"#
            )
        );
    }
}
