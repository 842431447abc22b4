//! Evaluating one call on the standard profile (budget: p50 <= 1 us, p99 <= 5 us).
//!
//! Groups: by tool (every corpus call of that tool), by outcome (an early deny; allows that must
//! try every restrictive rule first; 500+ byte compound commands; a credential read), the preload's
//! hot path (argv readings + `evaluate_exec`), and the whole corpus. divan times each group; the
//! percentile pass after it times every call on its own for p50/p99.
//!
//! `cargo bench --bench evaluate [-- FILTER]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/fixture.rs"]
mod fixture;
#[path = "support/percentiles.rs"]
mod percentiles;

use divan::counter::ItemsCount;
use divan::Bencher;
use fixture::{calls_of, corpus, evaluator, exec_call, NOW};
use percentiles::{per_item, Summary};
use rampart_runtime::call::Call;
use rampart_runtime::eval::{Action, EvalContext};
use rampart_runtime::shell::read_argv;

const TOOLS: [&str; 5] = ["exec", "read", "write", "edit", "fetch"];

fn decide(call: &Call) -> Action {
    evaluator().evaluate(call, &EvalContext::at(NOW)).action
}

/// The calls of one outcome class, checked to really have that outcome.
fn outcome(name: &str) -> Vec<Call> {
    let (commands, expect): (&[&str], Action) = match name {
        "early_deny" => (&["rm -rf /"], Action::Deny),
        "allow_all_rules" => (
            &[
                "git status",
                "cargo build --release",
                "npm test",
                "ls -la src/",
            ],
            Action::Allow,
        ),
        "credential_read" => return vec![read_call("/home/dev/.ssh/id_rsa")],
        _ => {
            let long = fixture::commands(500..=usize::MAX);
            let calls = long.iter().map(|c| exec_call(c)).collect();
            return calls;
        }
    };
    let calls: Vec<Call> = commands.iter().map(|c| exec_call(c)).collect();
    for call in &calls {
        assert_eq!(decide(call), expect, "{name}: {call:?}");
    }
    calls
}

fn read_call(path: &str) -> Call {
    let json =
        serde_json::json!({"tool": "read", "params": {"file_path": path}, "agent": "claude-code"});
    let call = rampart_runtime::json::call_from_json(&json).expect("read call");
    assert_eq!(
        decide(&call),
        Action::Deny,
        "credential read must be denied"
    );
    call
}

const OUTCOMES: [&str; 4] = [
    "early_deny",
    "allow_all_rules",
    "long_compound",
    "credential_read",
];

fn bench_calls(bencher: Bencher, calls: &[&Call]) {
    bencher
        .counter(ItemsCount::new(calls.len()))
        .bench(|| calls.iter().map(|c| decide(c) as u8).sum::<u8>());
}

#[divan::bench(args = TOOLS)]
fn by_tool(bencher: Bencher, tool: &str) {
    bench_calls(bencher, &calls_of(tool));
}

#[divan::bench(args = OUTCOMES)]
fn by_outcome(bencher: Bencher, name: &str) {
    let calls = outcome(name);
    bench_calls(bencher, &calls.iter().collect::<Vec<_>>());
}

#[divan::bench]
fn whole_corpus(bencher: Bencher) {
    let calls: Vec<&Call> = corpus().iter().map(|c| &c.call).collect();
    bench_calls(bencher, &calls);
}

/// The exec the preload benchmarks decide: a typical agent commit.
const PRELOAD_ARGV: [&str; 4] = [
    "git",
    "commit",
    "-m",
    "fix: handle empty input in the tokenizer",
];

/// What the preload does per intercepted exec once the bundle is mapped (a new reader each
/// time, as every decision there has).
#[divan::bench]
fn preload_hot_path(bencher: Bencher) {
    let argv = PRELOAD_ARGV;
    bencher.bench_local(|| {
        evaluator()
            .evaluate_exec("claude-code", "repo/main", &read_argv(&argv), NOW)
            .action as u8
    });
}

fn main() {
    // Build the fixture before divan starts timing.
    let _ = evaluator();
    divan::main();
    if !percentiles::benchmarking() {
        return;
    }
    let mut out = Vec::new();
    let mut add = |name: String, calls: Vec<&Call>, rounds: usize| {
        if percentiles::selected(&name) {
            let samples = per_item(&calls, rounds, |c| decide(c));
            out.push(Summary::from_samples(&name, samples));
        }
    };
    for tool in TOOLS {
        let calls = calls_of(tool);
        add(
            format!("by_tool/{tool} ({} calls)", calls.len()),
            calls,
            200,
        );
    }
    for name in OUTCOMES {
        let calls = outcome(name);
        let refs: Vec<&Call> = calls.iter().collect();
        add(
            format!("by_outcome/{name} ({} calls)", refs.len()),
            refs,
            5_000 / calls.len(),
        );
    }
    let all: Vec<&Call> = corpus().iter().map(|c| &c.call).collect();
    add(format!("whole_corpus ({} calls)", all.len()), all, 100);
    if percentiles::selected("preload_hot_path") {
        let samples = per_item(&[PRELOAD_ARGV; 1], 20_000, |argv| {
            evaluator()
                .evaluate_exec("claude-code", "repo/main", &read_argv(argv), NOW)
                .action as u8
        });
        out.push(Summary::from_samples(
            "preload_hot_path (git commit -m ..)",
            samples,
        ));
    }
    percentiles::report(&out);
}
