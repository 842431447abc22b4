//! `rampart test`: upstream's test suites (a `policy:` and `tests:`), a policy's inline `tests:`, or a
//! single dry-run call.
//!
//! As upstream: a suite exits 1 when any case fails, and `--json` prints
//! `{"passed","failed","errors","total","tests":[{"name","passed",…}]}` where a case carries
//! `expected`, `got` and `message` only when it failed (and `error` when it could not be decided).
//! A single call prints its decision and, in text mode, exits 1 when it is denied, so that
//! `rampart test "rm -rf /" || echo blocked` works in scripts; `--json` prints the decision in
//! the shape of upstream's preflight answer (a dry run is a preview: nothing is recorded or
//! counted) and exits 0.
//!
//! What is a suite and what is a call: a `.yaml`/`.yml` target is a suite (or a policy with
//! inline tests) unless `--tool` is given, which makes it a path to decide (`rampart test --tool
//! read config.yaml`). A `.yaml` target that does not exist is an error, not a command.
//!
//! Which policy: `--config` when given, else a suite's own `policy:`, else the usual discovery. A
//! suite without tests, or a `--run` that selects none, is an error: a check that checks nothing
//! must not pass.

use crate::bundle;
use crate::decide::{call_for_argument, decision_json, Decider};
use crate::source::PolicySource;
use rampart_compiler::load::load_suite;
use rampart_compiler::model::TestCase;
use rampart_runtime::glob::match_glob;
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// A suite file, a policy file with inline tests, or a command/path/URL to dry-run.
    pub target: Option<String>,
    /// Tool for a single dry-run call (default exec); with it, a `.yaml` target is a path to
    /// decide, not a suite.
    #[arg(long)]
    pub tool: Option<String>,
    /// Only run tests whose name matches this glob (an error when none does).
    #[arg(long, value_name = "GLOB")]
    pub run: Option<String>,
    #[arg(long)]
    pub json: bool,
    /// Show every test, not only failures.
    #[arg(short, long)]
    pub verbose: bool,
    /// Accepted for compatibility; output is never coloured.
    #[arg(long, hide = true)]
    pub no_color: bool,
}

/// One case's outcome, with upstream's keys.
#[derive(Serialize)]
struct CaseResult {
    name: String,
    passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<String>,
    /// The `expect_message` glob, when the message is why the case failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    got: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let target = match &args.target {
        Some(t) => t.clone(),
        None => default_target()?,
    };
    let path = Path::new(&target);
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    if let Some(tool) = &args.tool {
        return dry_run(&crate::source::discover(config), tool, &target, args.json);
    }
    if !is_yaml {
        return dry_run(&crate::source::discover(config), "exec", &target, args.json);
    }
    if !path.is_file() {
        return Err(format!(
            "{target}: no such test suite (to decide a path, give --tool read)"
        ));
    }
    let (source, tests) = suite_and_policy(path, config)?;
    run_cases(&source, &tests, path, args)
}

fn default_target() -> Result<String, String> {
    ["rampart-tests.yaml", "rampart.yaml"]
        .into_iter()
        .find(|f| Path::new(f).is_file())
        .map(str::to_string)
        .ok_or_else(|| "no test suite given and no rampart-tests.yaml or rampart.yaml here".into())
}

/// A policy file (it has `policies:`) carries inline tests; anything else is read as a suite,
/// whose `policy:` gives way to `--config`.
fn suite_and_policy(
    path: &Path,
    config: Option<PathBuf>,
) -> Result<(PolicySource, Vec<TestCase>), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if text.lines().any(|l| l.starts_with("policies:")) {
        let source = PolicySource::exact(vec![path.to_path_buf()]);
        let tests = bundle::policy_set(&source)?.tests;
        return Ok((source, tests));
    }
    let suite = load_suite(path).map_err(|e| e.to_string())?;
    let source = match (config, suite.policy) {
        (Some(config), _) => crate::source::discover(Some(config)),
        (None, Some(policy)) => PolicySource::exact(vec![policy]),
        (None, None) => crate::source::discover(None),
    };
    Ok((source, suite.tests))
}

fn run_cases(
    source: &PolicySource,
    tests: &[TestCase],
    path: &Path,
    args: &Args,
) -> Result<ExitCode, String> {
    if tests.is_empty() {
        return Err(format!("{}: no tests", path.display()));
    }
    let selected: Vec<&TestCase> = tests
        .iter()
        .filter(|t| args.run.as_deref().is_none_or(|g| match_glob(g, &t.name)))
        .collect();
    if let (true, Some(glob)) = (selected.is_empty(), &args.run) {
        return Err(format!(
            "--run {glob:?} matches none of the {} tests in {}",
            tests.len(),
            path.display()
        ));
    }
    let loaded = bundle::load(source)?;
    let decider = Decider::new(&loaded)?;
    let results: Vec<CaseResult> = selected.iter().map(|t| run_case(&decider, t)).collect();
    let passed = results.iter().filter(|r| r.passed).count();
    let errors = results.iter().filter(|r| r.error.is_some()).count();
    let failed = results.len() - passed - errors;
    if args.json {
        let report = json!({"passed": passed, "failed": failed, "errors": errors,
            "total": results.len(), "tests": results});
        println!("{report:#}");
    } else {
        print_human(&results, args.verbose);
        println!("{passed} passed, {} failed", failed + errors);
    }
    Ok(if passed == results.len() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn run_case(decider: &Decider, case: &TestCase) -> CaseResult {
    let call =
        json!({"tool": case.tool, "agent": case.agent, "session": "", "params": case.params});
    let expected = case.expect.as_str().to_string();
    let d = match decider.decide_json(&call) {
        Ok(d) => d,
        Err(e) => {
            return CaseResult {
                name: case.name.clone(),
                passed: false,
                expected: Some(expected),
                expected_message: None,
                got: None,
                message: None,
                error: Some(e),
            }
        }
    };
    let got = d.action.as_str();
    let message_ok = case
        .expect_message
        .as_deref()
        .is_none_or(|g| match_glob(g, &d.message));
    let passed = got == expected && message_ok;
    CaseResult {
        name: case.name.clone(),
        passed,
        expected: (!passed).then_some(expected),
        expected_message: case.expect_message.clone().filter(|_| !message_ok),
        got: (!passed).then(|| got.to_string()),
        message: (!passed).then_some(d.message),
        error: None,
    }
}

fn print_human(results: &[CaseResult], verbose: bool) {
    for r in results {
        if r.passed {
            if verbose {
                println!("✓ {}", r.name);
            }
            continue;
        }
        if let Some(e) = &r.error {
            println!("✗ {}: error: {e}", r.name);
            continue;
        }
        let expected = r.expected.as_deref().unwrap_or("-");
        let got = r.got.as_deref().unwrap_or("-");
        let message = r.message.as_deref().unwrap_or("");
        match &r.expected_message {
            Some(glob) => println!(
                "✗ {}: expected {expected} with a message matching {glob:?}, got {got} ({message})",
                r.name
            ),
            None => println!("✗ {}: expected {expected}, got {got} ({message})", r.name),
        }
    }
}

/// `rampart test "git status"`: decide one call and show it. Text mode exits 1 on deny.
fn dry_run(source: &PolicySource, tool: &str, arg: &str, json: bool) -> Result<ExitCode, String> {
    let loaded = bundle::load(source)?;
    let decider = Decider::new(&loaded)?;
    let call = call_for_argument(tool, arg, "*", "*", None);
    let started = Instant::now();
    let d = decider.decide_json(&call)?;
    let micros = started.elapsed().as_micros();
    if json {
        let mut out = decision_json(&d);
        if let Some(obj) = out.as_object_mut() {
            obj.insert("eval_duration_us".into(), json!(micros));
            obj.insert("enforced".into(), json!(false));
            obj.insert("enforcement_requested".into(), json!(false));
        }
        println!("{out}");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}: {} ({})", d.action.as_str(), arg, d.message);
    if !d.matched_policies.is_empty() {
        println!("  matched: {}", d.matched_policies.join(", "));
    }
    println!("  eval: {micros}µs");
    Ok(if d.action == rampart_runtime::eval::Action::Deny {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
