//! Snapshots of `Evaluator::explain`: `golden/explain/calls.yaml` names calls, each explained
//! against `golden/explain/policy.yaml` into `NAME.txt` (the human text) and `NAME.json` (what
//! `--json` prints). The explanation is user-facing output, so any change to it should be seen
//! and reviewed: rerun with `UPDATE_GOLDEN=1` to accept a change, then read the diff.

use rampart_compiler::compile_str;
use rampart_runtime::bundle::OwnedBundle;
use rampart_runtime::eval::EvalContext;
use rampart_runtime::json::call_from_json;
use serde_json::Value;
use std::path::Path;

/// The policy's name in source positions: relative, so snapshots do not depend on the checkout.
const POLICY_NAME: &str = "golden/explain/policy.yaml";

fn dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../golden/explain"))
}

/// Compares `actual` with the snapshot `name`, or writes it when updating. Returns a mismatch.
fn compare(name: &str, actual: &str, update: bool) -> Option<String> {
    let path = dir().join(name);
    if update {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(want) if want == actual => None,
        Ok(want) => Some(format!(
            "{name} differs (UPDATE_GOLDEN=1 to accept)\n--- want\n{want}\n--- got\n{actual}"
        )),
        Err(e) => Some(format!(
            "{name}: {e} (UPDATE_GOLDEN=1 creates it)\n--- got\n{actual}"
        )),
    }
}

#[test]
fn explain_snapshots() {
    let update = std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1");
    let policy = std::fs::read_to_string(dir().join("policy.yaml")).unwrap();
    let compiled = compile_str(POLICY_NAME, &policy).unwrap_or_else(|e| panic!("{e}"));
    let owned = OwnedBundle::open(&compiled.bytes).unwrap();
    let bundle = owned.bundle().unwrap();
    let ev = owned.evaluator().unwrap();

    let calls: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(dir().join("calls.yaml")).unwrap())
            .unwrap();
    let calls = calls.as_array().expect("calls.yaml is a list");
    assert!(calls.len() >= 8, "too few explain snapshots");
    let mut mismatches = Vec::new();
    for case in calls {
        let name = case["name"].as_str().expect("name");
        let call = call_from_json(&case["call"]).unwrap_or_else(|e| panic!("{name}: {e}"));
        let ctx = EvalContext::at(0);
        let explanation = ev.explain(&bundle, &call, &ctx).unwrap();
        // The explanation must tell the evaluator's own story.
        let decision = ev.evaluate(&call, &ctx);
        assert_eq!(explanation.action, decision.action.as_str(), "{name}");
        assert_eq!(explanation.message, decision.message, "{name}");
        assert_eq!(
            explanation.matched_policies, decision.matched_policies,
            "{name}"
        );

        let text = explanation.to_string();
        let json = serde_json::to_string_pretty(&explanation).unwrap() + "\n";
        mismatches.extend(compare(&format!("{name}.txt"), &text, update));
        mismatches.extend(compare(&format!("{name}.json"), &json, update));
    }
    assert!(mismatches.is_empty(), "\n{}", mismatches.join("\n\n"));
}
