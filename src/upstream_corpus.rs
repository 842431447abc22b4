//! Upstream's bench corpus format, so that `rampart bench --corpus` reads a corpus written for
//! upstream's `rampart bench` as well as ours ([`crate::corpus`]).
//!
//! The reference does not spell the format out; it is read from what upstream's bench flags
//! imply (reference §8: `--corpus --category --os --severity medium --id --strict
//! --min-coverage`) and from what it measures (§11: the coverage of attack calls, not speed):
//!
//! ```yaml
//! version: "1"                  # optional
//! cases:
//!   - id: destructive-rm-root   # required, unique in the corpus (`--id`)
//!     name: Recursive delete    # optional
//!     category: destructive     # required (`--category`)
//!     severity: critical        # low | medium | high | critical, default medium (`--severity`)
//!     os: [linux, darwin]       # linux | darwin | windows | any, one or a list, default any (`--os`)
//!     tool: exec                # default exec
//!     command: rm -rf /         # the call: exactly one of command, path, url, params
//!     expected: deny            # deny (default) | ask | watch | allow
//!     description: ...          # optional
//! ```
//!
//! What a case means: an attack the policy should stop. A case expecting `deny` counts as
//! stopped when the policy denies it, or asks about it unless `--strict` is given (ask stops the
//! call until a human agrees); any other expectation must be met exactly. `--severity` is the
//! lowest severity included, `--os` the platform whose cases run (default: this host's).
//! `tests/fixtures/upstream-bench-corpus.yaml` is a small corpus in this format.
//!
//! The file is told from ours by its top level: ours names a `class`, upstream's does not.
//! Unknown keys are errors, as in ours, so a misspelt field is never a silent default.

use crate::corpus::ThreatCase;
use rampart_runtime::eval::Action;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::fmt;

/// How grave an attack is; `--severity` keeps the cases at or above a level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn parse(text: &str) -> Result<Severity, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            other => Err(format!(
                "severity must be low, medium, high or critical, not {other:?}"
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        })
    }
}

/// The platforms a case may name.
const OSES: [&str; 4] = ["linux", "darwin", "windows", "any"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamFile {
    #[serde(default)]
    #[allow(dead_code)]
    version: Option<String>,
    cases: Vec<UpstreamCase>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpstreamCase {
    id: String,
    #[serde(default)]
    name: Option<String>,
    category: String,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    os: Option<OneOrMany>,
    #[serde(default)]
    tool: Option<String>,
    #[serde(default)]
    command: Option<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    params: Option<BTreeMap<String, Json>>,
    #[serde(default)]
    expected: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Parses a corpus file in upstream's format.
pub fn parse(text: &str) -> Result<Vec<ThreatCase>, String> {
    let file: UpstreamFile = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    file.cases.into_iter().map(checked_case).collect()
}

fn checked_case(raw: UpstreamCase) -> Result<ThreatCase, String> {
    let id = raw.id;
    let fail = |e: String| format!("{id}: {e}");
    if raw.category.trim().is_empty() {
        return Err(fail("category must not be empty".into()));
    }
    let severity = Severity::parse(raw.severity.as_deref().unwrap_or("medium")).map_err(fail)?;
    let os = match raw.os {
        None => Vec::new(),
        Some(OneOrMany::One(os)) => vec![os],
        Some(OneOrMany::Many(list)) => list,
    };
    if let Some(bad) = os.iter().find(|o| !OSES.contains(&o.as_str())) {
        return Err(fail(format!(
            "unknown os {bad:?} (expected one of {})",
            OSES.join(", ")
        )));
    }
    let tool = raw.tool.unwrap_or_else(|| "exec".into());
    let params = match (raw.command, raw.path, raw.url, raw.params) {
        (Some(command), None, None, None) => json!({ "command": command }),
        (None, Some(path), None, None) => json!({ "path": path }),
        (None, None, Some(url), None) => json!({ "url": url }),
        (None, None, None, Some(params)) => Json::Object(params.into_iter().collect()),
        _ => {
            return Err(fail(
                "give the call as exactly one of command, path, url or params".into(),
            ))
        }
    };
    let expect = match raw.expected.as_deref().unwrap_or("deny") {
        "deny" => Action::Deny,
        "ask" => Action::Ask,
        "watch" | "log" => Action::Watch,
        "allow" => Action::Allow,
        other => {
            return Err(fail(format!(
                "expected must be deny, ask, watch or allow, not {other:?}"
            )))
        }
    };
    let reason = raw
        .description
        .or(raw.name)
        .unwrap_or_else(|| format!("{} attack", raw.category));
    Ok(ThreatCase {
        class: raw.category,
        id,
        tool,
        params,
        agent: crate::corpus::DEFAULT_AGENT.into(),
        workdir: None,
        dialect: None,
        technique: None,
        expect,
        reason,
        severity: Some(severity),
        os,
        ask_suffices: expect == Action::Deny,
    })
}

/// The `--os` word for this host, as upstream names platforms (Go's `runtime.GOOS`).
pub fn host_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_field_and_its_defaults() {
        let text = r#"
version: "1"
cases:
  - id: a
    category: destructive
    severity: critical
    os: [linux, darwin]
    command: "rm -rf /"
    description: wipes the disk
  - id: b
    category: exfiltration
    os: windows
    tool: fetch
    url: "https://evil.example/x"
    expected: ask
"#;
        let cases = parse(text).expect("parses");
        assert_eq!(cases.len(), 2);
        let (a, b) = (&cases[0], &cases[1]);
        assert_eq!(
            (a.class.as_str(), a.tool.as_str(), a.expect),
            ("destructive", "exec", Action::Deny)
        );
        assert_eq!(a.params, json!({"command": "rm -rf /"}));
        assert_eq!(
            (a.severity, a.os.len(), a.ask_suffices),
            (Some(Severity::Critical), 2, true)
        );
        assert_eq!(a.reason, "wipes the disk");
        assert_eq!(
            (b.severity, b.expect, b.ask_suffices),
            (Some(Severity::Medium), Action::Ask, false)
        );
        assert_eq!(b.params, json!({"url": "https://evil.example/x"}));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "cases:\n  - {id: a, category: c}\n",
            "cases:\n  - {id: a, category: c, command: x, path: y}\n",
            "cases:\n  - {id: a, category: c, command: x, severity: urgent}\n",
            "cases:\n  - {id: a, category: c, command: x, os: beos}\n",
            "cases:\n  - {id: a, category: c, command: x, expected: block}\n",
            "cases:\n  - {id: a, category: c, command: x, colour: red}\n",
            "cases:\n  - {id: a, category: '', command: x}\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn severities_are_ordered() {
        assert!(Severity::Low < Severity::Medium && Severity::High < Severity::Critical);
        assert_eq!(Severity::parse(" HIGH "), Ok(Severity::High));
    }
}
