//! Shared inputs of the benchmarks: the standard profile compiled once, and the call corpus.
//!
//! Paths are resolved from the root package's manifest directory, so `cargo bench` works from any
//! working directory. Evaluation uses a fixed clock so rule expiry cannot change results.

#![allow(dead_code)] // each benchmark uses part of the fixture

use rampart_runtime::bundle::OwnedBundle;
use rampart_runtime::call::Call;
use rampart_runtime::eval::Evaluator;
use rampart_runtime::json::call_from_json;
use std::sync::OnceLock;

/// The fixed "now" of every evaluation (2027-01-15).
pub const NOW: i64 = 1_800_000_000;

pub fn repo_path(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The standard profile compiled from `policies/standard.yaml`, validated once.
pub fn standard_bundle() -> &'static OwnedBundle {
    static BUNDLE: OnceLock<OwnedBundle> = OnceLock::new();
    BUNDLE.get_or_init(|| {
        let path = repo_path("policies/standard.yaml");
        let yaml = std::fs::read_to_string(&path).expect("policies/standard.yaml is readable");
        let compiled =
            rampart_compiler::compile_str("standard.yaml", &yaml).expect("standard compiles");
        OwnedBundle::open(&compiled.bytes).expect("standard bundle opens")
    })
}

/// An evaluator over [`standard_bundle`].
pub fn evaluator() -> &'static Evaluator<'static> {
    static EVALUATOR: OnceLock<Evaluator<'static>> = OnceLock::new();
    EVALUATOR.get_or_init(|| {
        standard_bundle()
            .evaluator()
            .expect("standard bundle evaluates")
    })
}

/// One corpus line: the call and its command, if it is an exec.
pub struct CorpusCall {
    pub call: Call,
    pub command: Option<String>,
}

/// `benches/corpus/calls.jsonl`, in file order.
pub fn corpus() -> &'static [CorpusCall] {
    static CORPUS: OnceLock<Vec<CorpusCall>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let text = std::fs::read_to_string(repo_path("benches/corpus/calls.jsonl"))
            .expect("benches/corpus/calls.jsonl is readable");
        text.lines()
            .map(|line| {
                let json: serde_json::Value = serde_json::from_str(line).expect("corpus JSON");
                let command = (json["tool"] == "exec")
                    .then(|| json["params"]["command"].as_str().map(str::to_string))
                    .flatten();
                let call = call_from_json(&json).expect("corpus call");
                CorpusCall { call, command }
            })
            .collect()
    })
}

/// The corpus calls of one tool.
pub fn calls_of(tool: &str) -> Vec<&'static Call> {
    corpus()
        .iter()
        .filter(|c| c.call.tool == tool)
        .map(|c| &c.call)
        .collect()
}

/// The exec commands of the corpus whose length is in `range`.
pub fn commands(range: std::ops::RangeInclusive<usize>) -> Vec<&'static str> {
    corpus()
        .iter()
        .filter_map(|c| c.command.as_deref())
        .filter(|cmd| range.contains(&cmd.len()))
        .collect()
}

/// An exec call of `command` by claude-code, as the corpus spells them.
pub fn exec_call(command: &str) -> Call {
    let json = serde_json::json!({
        "tool": "exec",
        "params": {"command": command},
        "agent": "claude-code",
        "session": "repo/main",
    });
    call_from_json(&json).expect("exec call")
}
