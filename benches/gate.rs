//! The gate binary: fixed workloads for `benches/gates.sh` to count under callgrind.
//!
//! Instruction counts, unlike times, repeat exactly for the same binary and input, so a CI gate on
//! them cannot flake on a noisy machine. Every workload does the same set-up whatever its count
//! (parse the whole corpus, read and open the bundle), so gates.sh takes the difference between a
//! run with N operations and a run with 0: process start-up and set-up cancel out, leaving N times
//! the cost of one operation.
//!
//! ```text
//! gate compile (FILE.yaml | --upstream-sized) OUT.bin   compile; print bytes and milliseconds
//! gate eval BUNDLE CORPUS N [--repeat R]                evaluate the first N corpus calls R times
//! gate shell CORPUS N [--plain-bytes] [--cold]          shell readings of N exec commands in turn
//!                                                       (--plain-bytes: those made of word bytes,
//!                                                       spaces, quotes and operators only; --cold:
//!                                                       each with new buffers, as a process that
//!                                                       decides once does)
//! gate open BUNDLE N [--validated]                      open the bundle N times (+ Evaluator::new)
//! ```
//!
//! `--repeat 2` exists for the gate's self-test (`GATE_SELFTEST=1 benches/gates.sh`): it doubles
//! the work per call, and the gate must go red.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/upstream_sized.rs"]
mod upstream_sized;

use rampart_runtime::bundle::{AlignedBuf, Bundle, OwnedBundle};
use rampart_runtime::call::Call;
use rampart_runtime::eval::{EvalContext, Evaluator};
use rampart_runtime::json::call_from_json;
use rampart_runtime::shell::{read_command, Reader};
use std::hint::black_box;
use std::process::ExitCode;
use std::time::Instant;

const NOW: i64 = 1_800_000_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["compile", policy, out] => compile(policy, out),
        ["eval", bundle, corpus, n] => eval(bundle, corpus, n, "1"),
        ["eval", bundle, corpus, n, "--repeat", r] => eval(bundle, corpus, n, r),
        ["shell", corpus, n, options @ ..] => shell(corpus, n, options),
        ["open", bundle, n] => open(bundle, n, false),
        ["open", bundle, n, "--validated"] => open(bundle, n, true),
        _ => Err("usage: see the module documentation of benches/gate.rs".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gate: {e}");
            ExitCode::from(2)
        }
    }
}

fn count(text: &str) -> Result<usize, String> {
    text.parse().map_err(|_| format!("not a count: {text}"))
}

fn read(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{path}: {e}"))
}

fn compile(policy: &str, out: &str) -> Result<(), String> {
    let (name, yaml) = if policy == "--upstream-sized" {
        (
            "upstream-sized.yaml".to_string(),
            upstream_sized::policy_yaml(),
        )
    } else {
        let text = std::fs::read_to_string(policy).map_err(|e| format!("{policy}: {e}"))?;
        (policy.to_string(), text)
    };
    let start = Instant::now();
    let bytes = rampart_compiler::compile_str(&name, &yaml)
        .map_err(|e| e.to_string())?
        .bytes;
    let millis = start.elapsed().as_millis();
    std::fs::write(out, &bytes).map_err(|e| format!("{out}: {e}"))?;
    println!("bytes={} millis={millis}", bytes.len());
    Ok(())
}

fn corpus(path: &str) -> Result<Vec<(Call, Option<String>)>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let json: serde_json::Value =
                serde_json::from_str(line).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
            let command = json["params"]["command"].as_str().map(str::to_string);
            let call = call_from_json(&json).map_err(|e| format!("{path}:{}: {e}", i + 1))?;
            Ok((call, command))
        })
        .collect()
}

fn eval(bundle: &str, corpus_path: &str, n: &str, repeat: &str) -> Result<(), String> {
    let (n, repeat) = (count(n)?, count(repeat)?);
    let calls = corpus(corpus_path)?;
    let bundle = OwnedBundle::open(&read(bundle)?).map_err(|e| e.to_string())?;
    let evaluator = bundle.evaluator().map_err(|e| e.to_string())?;
    let ctx = EvalContext::at(NOW);
    let mut denies = 0usize;
    for (call, _) in calls.iter().cycle().take(n) {
        for _ in 0..repeat {
            let decision = evaluator.evaluate(black_box(call), &ctx);
            denies += usize::from(!decision.allowed());
        }
    }
    println!("calls={n} repeat={repeat} not_allowed={denies}");
    Ok(())
}

/// Reads `n` commands of the corpus in turn. With `plain_bytes`, only the commands most agent
/// commands look like (words, spaces, quotes, `&&`, `|`, `;`, `>`: no `$`, backtick, bracket or
/// backslash); the mean over those follows the fast path that sets the readings' p50, which the
/// mean over every command, dominated by the slow 40%, barely shows.
fn shell(corpus_path: &str, n: &str, options: &[&str]) -> Result<(), String> {
    let n = count(n)?;
    let (mut plain_bytes, mut cold) = (false, false);
    for option in options {
        match *option {
            "--plain-bytes" => plain_bytes = true,
            "--cold" => cold = true,
            other => return Err(format!("unknown shell option {other}")),
        }
    }
    let word_or_operator =
        |c: u8| c.is_ascii_alphanumeric() || b" _@%+=:,./*?~'\"&|;>-".contains(&c);
    let commands: Vec<String> = corpus(corpus_path)?
        .into_iter()
        .filter_map(|c| c.1)
        .filter(|cmd| !plain_bytes || cmd.bytes().all(word_or_operator))
        .collect();
    println!("selected={}", commands.len());
    // One reader for every command, as a process deciding many calls keeps; `cold`: a new one
    // for each, as a process deciding once makes.
    let mut reader = Reader::new();
    let mut readings = 0usize;
    for cmd in commands.iter().cycle().take(n) {
        readings += if cold {
            read_command(black_box(cmd)).restrictive.len()
        } else {
            reader.read_command(black_box(cmd)).restrictive.len()
        };
    }
    println!("commands={n} readings={readings}");
    Ok(())
}

fn open(bundle: &str, n: &str, validated: bool) -> Result<(), String> {
    let n = count(n)?;
    let buf = AlignedBuf::from_bytes(&read(bundle)?);
    let bytes = buf.as_bytes();
    let mut fields = 0usize;
    for _ in 0..n {
        let bundle = if validated {
            Bundle::open(black_box(bytes))
        } else {
            // SAFETY: gates.sh passes the bundle `gate compile` just wrote; a corrupt file here is
            // a broken gate run, never user input.
            unsafe { Bundle::open_unchecked(black_box(bytes)) }
        };
        let bundle = bundle.map_err(|e| e.to_string())?;
        let evaluator = Evaluator::new(&bundle).map_err(|e| e.to_string())?;
        fields += evaluator.program().field_count();
    }
    println!("opens={n} validated={validated} fields={fields}");
    Ok(())
}
