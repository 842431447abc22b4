//! Runs every `golden/decisions/*.yaml`: policies, calls, and the exact expected decisions.
//!
//! The expectations are derived from the upstream reference, not recorded from this engine, so a
//! failure means one of the two is wrong. A file holds either one `policy:` with its `calls:`, or
//! `groups:`, each a `{name, policy, calls}`, so every topic can use small focused policies (a
//! deny's `matched_policies` lists every remaining in-scope policy, which big shared policies
//! would make unreadable). Each case may also give:
//!
//! - `response:` evaluate the response phase (reference §2.10) instead of the request;
//! - `now:` the evaluation time in Unix seconds (for `expires_at`; a group may set a default).
//!
//! In a call, `{"$repeat": TEXT, "times": N}` stands for TEXT repeated N times (size limits).
//!
//! `known-failures.yaml` holds cases where the reference and the engine disagree and the engine
//! is believed wrong: they are run and listed, but do not fail the test.

use rampart_compiler::compile_str;
use rampart_runtime::bundle::OwnedBundle;
use rampart_runtime::eval::{Decision, EvalContext};
use rampart_runtime::json::call_from_json;
use serde_json::Value;

const KNOWN_FAILURES: &str = "known-failures.yaml";

/// One policy and the calls to decide against it.
struct Group<'d> {
    label: String,
    policy: &'d str,
    now: i64,
    calls: &'d [Value],
}

fn groups<'d>(file: &str, doc: &'d Value) -> Vec<Group<'d>> {
    let single = |label: String, g: &'d Value| Group {
        label,
        policy: g["policy"]
            .as_str()
            .unwrap_or_else(|| panic!("{file}: policy text")),
        now: g["now"].as_i64().unwrap_or(0),
        calls: g["calls"].as_array().map_or(&[][..], |a| a.as_slice()),
    };
    match doc["groups"].as_array() {
        Some(gs) => gs
            .iter()
            .map(|g| single(format!("{file} [{}]", g["name"].as_str().unwrap_or("?")), g))
            .collect(),
        None => vec![single(file.to_string(), doc)],
    }
}

/// Replaces every `{"$repeat": text, "times": n}` by the repeated text.
fn expand(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            if let (Some(text), Some(n)) = (map.get("$repeat"), map.get("times")) {
                let text = text.as_str().expect("$repeat text");
                return Value::String(text.repeat(n.as_u64().expect("times") as usize));
            }
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

/// Compares one decision with a case; `Err` describes the difference.
fn check(d: &Decision, case: &Value) -> Result<(), String> {
    let want_action = case["action"].as_str().expect("action");
    let want_message = case["message"].as_str().unwrap_or("");
    let want_matched: Vec<&str> = case["matched_policies"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if d.action.as_str() == want_action
        && d.message == want_message
        && d.matched_policies == want_matched
    {
        return Ok(());
    }
    Err(format!(
        "  want: {want_action} {want_message:?} {want_matched:?}\n  got:  {} {:?} {:?}",
        d.action, d.message, d.matched_policies
    ))
}

/// Runs every case of a file; returns (cases run, failure reports).
fn run_file(path: &std::path::Path) -> (usize, Vec<String>) {
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut ran = 0;
    let mut failures = Vec::new();
    for group in groups(&name, &doc) {
        let compiled = compile_str(&group.label, group.policy)
            .unwrap_or_else(|e| panic!("{}: {e}", group.label));
        let bundle = OwnedBundle::open(&compiled.bytes).unwrap();
        let ev = bundle.evaluator().unwrap();
        for case in group.calls {
            let call_json = expand(&case["call"]);
            let call = call_from_json(&call_json)
                .unwrap_or_else(|e| panic!("{}: {}: {e}", group.label, case["call"]));
            let now = case["now"].as_i64().unwrap_or(group.now);
            let d = match case["response"].as_str() {
                Some(response) => ev.evaluate_response(&call, response, now),
                None => ev.evaluate(&call, &EvalContext::at(now)),
            };
            if let Err(diff) = check(&d, case) {
                let what = case["name"]
                    .as_str()
                    .map_or_else(|| short(&case["call"]), str::to_string);
                failures.push(format!("{}: {what}\n{diff}", group.label));
            }
            ran += 1;
        }
    }
    (ran, failures)
}

/// A call's JSON, cut short enough for a report line.
fn short(call: &Value) -> String {
    let s = call.to_string();
    match s.char_indices().nth(200) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[test]
fn golden_decisions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../golden/decisions");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let (mut ran, mut failures) = (0, Vec::new());
    for file in &files {
        let (n, f) = run_file(file);
        if file.file_name().is_some_and(|n| n == KNOWN_FAILURES) {
            report_known(n, &f);
            continue;
        }
        ran += n;
        failures.extend(f);
    }
    eprintln!("golden decisions: {ran} cases, {} failed", failures.len());
    assert!(ran > 0, "no golden decision cases found");
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// Lists the known failures; the ones that now pass should move back to their topic file.
fn report_known(ran: usize, still_failing: &[String]) {
    eprintln!(
        "known failures: {ran} cases, {} still failing (not counted):",
        still_failing.len()
    );
    for f in still_failing {
        eprintln!("{f}");
    }
    if still_failing.len() < ran {
        eprintln!(
            "{} known-failure case(s) now pass: move them back to their topic file",
            ran - still_failing.len()
        );
    }
}
