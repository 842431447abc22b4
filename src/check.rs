//! `rampart check`: JSON calls on stdin, one per line; one JSON decision per line on stdout.
//!
//! Made for scripts and benchmarks: the bundle is opened once and every line is decided against it.
//! A line that is not a valid call gets a fail-closed `deny` with the reason, and reading goes on.

use crate::decide::Decider;
use crate::source::PolicySource;
use serde_json::{json, Value};
use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

pub fn run(source: &PolicySource) -> Result<ExitCode, String> {
    let loaded = source.bundle()?;
    let decider = Decider::new(&loaded)?;
    let stdin = std::io::stdin();
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (index, line) in stdin.lock().lines().enumerate() {
        let line = line.map_err(|e| format!("reading stdin: {e}"))?;
        if line.trim().is_empty() {
            continue;
        }
        let reply = decide_line(&decider, &line)
            .unwrap_or_else(|err| fail_closed(&format!("line {}: {err}", index + 1)));
        serde_json::to_writer(&mut out, &reply).map_err(|e| e.to_string())?;
        out.write_all(b"\n").map_err(|e| e.to_string())?;
    }
    out.flush().map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}

fn decide_line(decider: &Decider, line: &str) -> Result<Value, String> {
    let call: Value = serde_json::from_str(line).map_err(|e| format!("invalid JSON: {e}"))?;
    let decision = decider.decide_json(&call)?;
    Ok(crate::decide::decision_json(&decision))
}

fn fail_closed(reason: &str) -> Value {
    json!({
        "decision": "deny",
        "allowed": false,
        "message": format!("invalid call ({reason}); failing closed"),
        "matched_policies": Value::Null,
        "error": reason,
    })
}
