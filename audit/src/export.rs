//! Copies of each record for a SIEM: RFC 5424 syslog to the local socket, and CEF lines (upstream's
//! server `--syslog` and `--cef`), in the writer so every surface offers them.
//!
//! Why in the writer and after the write: the chain is the record of truth, and an export that
//! cannot be delivered (no syslog daemon, a full disk for `cef.log`) must never turn a decision
//! into a deny or block it; so exports run after the append succeeded, and a failure is a notice,
//! not an error. Exports see the redacted, compacted event, exactly what was hashed.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use crate::error::AuditError;
use crate::event::Event;
use crate::secure::{self, Access};

/// Where exports go.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exports {
    /// The local syslog socket (`/dev/log`), when set.
    pub syslog: Option<PathBuf>,
    /// CEF lines to `cef.log` in the audit directory.
    pub cef: bool,
}

/// The open export sinks.
pub struct Exporter {
    syslog: Option<(UnixDatagram, PathBuf)>,
    cef: Option<(File, PathBuf)>,
}

impl Exporter {
    pub fn open(audit_dir: &Path, exports: &Exports) -> Result<Exporter, AuditError> {
        let syslog = match &exports.syslog {
            Some(path) => Some((
                UnixDatagram::unbound().map_err(AuditError::at("open a socket for", path))?,
                path.clone(),
            )),
            None => None,
        };
        let cef = if exports.cef {
            let path = audit_dir.join(crate::layout::CEF_LOG);
            let file = secure::open(&path, Access::Append)?.ok_or_else(|| AuditError::Io {
                op: "open",
                path: path.clone(),
                kind: std::io::ErrorKind::NotFound,
                message: "vanished".into(),
            })?;
            Some((file, path))
        } else {
            None
        };
        Ok(Exporter { syslog, cef })
    }

    /// Sends one event to every sink; the failures, if any.
    pub fn send(&mut self, event: &Event) -> Vec<AuditError> {
        let mut errors = Vec::new();
        if let Some((socket, path)) = &self.syslog {
            if let Err(e) = socket.send_to(syslog_message(event).as_bytes(), path.as_path()) {
                errors.push(AuditError::io("send to", path, &e));
            }
        }
        if let Some((file, path)) = &mut self.cef {
            let mut line = cef_line(event);
            line.push('\n');
            if let Err(e) = file.write_all(line.as_bytes()) {
                errors.push(AuditError::io("append to", path, &e));
            }
        }
        errors
    }
}

/// Syslog severity: deny is a warning, ask a notice, the rest informational.
fn syslog_severity(action: &str) -> u8 {
    match action {
        "deny" => 4,
        "ask" => 5,
        _ => 6,
    }
}

/// An RFC 5424 message (facility authpriv): the structured data carries the fields a SIEM filters
/// on, the message is the whole event as stored.
pub fn syslog_message(event: &Event) -> String {
    const AUTHPRIV: u8 = 10;
    let pri = u16::from(AUTHPRIV) * 8 + u16::from(syslog_severity(&event.decision.action));
    let host = if event.host.hostname.is_empty() {
        "-"
    } else {
        event.host.hostname.as_str()
    };
    let sd = format!(
        "[rampart@32473 id=\"{}\" action=\"{}\" tool=\"{}\" agent=\"{}\" session=\"{}\"]",
        sd_escape(&event.id),
        sd_escape(&event.decision.action),
        sd_escape(&event.tool),
        sd_escape(&event.agent),
        sd_escape(&event.session)
    );
    format!(
        "<{pri}>1 {} {} rampart {} audit {sd} {}",
        event.timestamp.rfc3339_nano(),
        header_token(host),
        std::process::id(),
        String::from_utf8_lossy(&event.encode())
    )
}

/// RFC 5424 PARAM-VALUE escaping: `"`, `\` and `]`.
fn sd_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A header field: printable ASCII without spaces, at most 255 bytes.
fn header_token(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_graphic())
        .take(255)
        .collect()
}

/// CEF severity (0-10).
fn cef_severity(action: &str) -> u8 {
    match action {
        "deny" => 8,
        "ask" => 6,
        "watch" => 4,
        _ => 2,
    }
}

/// An ArcSight CEF line.
pub fn cef_line(event: &Event) -> String {
    let d = &event.decision;
    let subject = event
        .request
        .get("command")
        .or_else(|| event.request.get("path"))
        .or_else(|| event.request.get("url"))
        .map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .unwrap_or_default();
    let mut ext = vec![
        ("rt", event.timestamp.unix_ms().to_string()),
        ("externalId", event.id.clone()),
        ("suser", event.agent.clone()),
        ("cs1Label", "session".into()),
        ("cs1", event.session.clone()),
        ("act", d.action.clone()),
        ("cs2Label", "tool".into()),
        ("cs2", event.tool.clone()),
        ("dhost", event.host.hostname.clone()),
    ];
    if !subject.is_empty() {
        ext.push(("request", subject));
    }
    if !d.matched_policies.is_empty() {
        ext.push(("cs3Label", "matched_policies".into()));
        ext.push(("cs3", d.matched_policies.join(",")));
    }
    if !d.message.is_empty() {
        ext.push(("msg", d.message.clone()));
    }
    let ext: Vec<String> = ext
        .into_iter()
        .map(|(k, v)| format!("{k}={}", cef_ext_escape(&v)))
        .collect();
    format!(
        "CEF:0|Rampart|rampart|{}|{}|{} {}|{}|{}",
        env!("CARGO_PKG_VERSION"),
        cef_header_escape(&d.action),
        cef_header_escape(&event.tool),
        cef_header_escape(&d.action),
        cef_severity(&d.action),
        ext.join(" ")
    )
}

fn cef_header_escape(s: &str) -> String {
    s.replace('\\', r"\\").replace('|', r"\|")
}

fn cef_ext_escape(s: &str) -> String {
    s.replace('\\', r"\\")
        .replace('=', r"\=")
        .replace('\n', r"\n")
        .replace('\r', r"\r")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventDecision;
    use serde_json::{Map, Value};

    fn event() -> Event {
        let mut req = Map::new();
        req.insert("command".into(), Value::from("a=b | c"));
        let mut e = Event::new("exec", req)
            .agent("claude-code")
            .decision(EventDecision {
                action: "deny".into(),
                message: "no\nway".into(),
                ..EventDecision::default()
            });
        e.id = "01J".into();
        e
    }

    #[test]
    fn cef_escapes_its_delimiters() {
        let line = cef_line(&event());
        assert!(line.starts_with("CEF:0|Rampart|rampart|"), "{line}");
        assert!(line.contains("|deny|exec deny|8|"), "{line}");
        assert!(line.contains(r"request=a\=b | c"), "{line}");
        assert!(line.contains(r"msg=no\nway"), "{line}");
    }

    #[test]
    fn syslog_carries_priority_structured_data_and_the_record() {
        let msg = syslog_message(&event());
        assert!(msg.starts_with("<84>1 "), "{msg}");
        assert!(msg.contains(
            r#"[rampart@32473 id="01J" action="deny" tool="exec" agent="claude-code" session=""]"#
        ));
        assert!(msg.ends_with(r#""hash":""}"#), "{msg}");
    }
}
