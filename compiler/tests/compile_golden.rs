//! Runs every `golden/decisions/*.yaml`: a policy, calls, and the exact expected decisions.

use rampart_compiler::build::compile;
use rampart_compiler::call_json::call_from_json;
use rampart_compiler::load::load_str;
use rampart_runtime::bundle::{AlignedBuf, Bundle};
use rampart_runtime::eval::{EvalContext, Evaluator};
use serde_json::Value;

#[test]
fn golden_decisions() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../golden/decisions");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut ran = 0;
    for file in files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "yaml"))
    {
        let text = std::fs::read_to_string(file).unwrap();
        let doc: Value =
            serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let policy = doc["policy"].as_str().expect("policy text");
        let set = load_str(&file.display().to_string(), policy).unwrap_or_else(|e| panic!("{e}"));
        let (bytes, _) = compile(&set).unwrap_or_else(|e| panic!("{e}"));
        let buf = AlignedBuf::from_bytes(&bytes);
        let bundle = Bundle::open(buf.as_bytes()).unwrap();
        let ev = Evaluator::new(&bundle).unwrap();
        for case in doc["calls"].as_array().expect("calls") {
            let call = call_from_json(&case["call"]).unwrap();
            let d = ev.evaluate(&call, &EvalContext::at(0));
            let what = format!("{}: {}", file.display(), case["call"]);
            assert_eq!(
                d.action.as_str(),
                case["action"].as_str().unwrap(),
                "{what}"
            );
            assert_eq!(d.message, case["message"].as_str().unwrap_or(""), "{what}");
            let want: Vec<&str> = case["matched_policies"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            assert_eq!(d.matched_policies, want, "{what}");
            ran += 1;
        }
    }
    assert!(ran > 0, "no golden decision cases found");
}
