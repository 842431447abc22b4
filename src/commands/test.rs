//! `rampart test`: upstream's test suites (a `policy:` and `tests:`), a policy's inline `tests:`, or a
//! single dry-run call.
//!
//! Exit codes follow upstream: a suite exits 1 when any case fails; a single call always exits 0.

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

#[derive(clap::Args)]
pub struct Args {
    /// A suite file, a policy file with inline tests, or a command/path/URL to dry-run.
    pub target: Option<String>,
    /// Tool for a single dry-run call.
    #[arg(long, default_value = "exec")]
    pub tool: String,
    /// Only run tests whose name matches this glob.
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

#[derive(Serialize)]
struct CaseResult {
    name: String,
    passed: bool,
    expected: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual: Option<String>,
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
    if !(is_yaml && path.is_file()) {
        return dry_run(
            &crate::source::discover(config),
            &args.tool,
            &target,
            args.json,
        );
    }
    let (source, tests) = suite_and_policy(path, config)?;
    run_cases(&source, &tests, args)
}

fn default_target() -> Result<String, String> {
    ["rampart-tests.yaml", "rampart.yaml"]
        .into_iter()
        .find(|f| Path::new(f).is_file())
        .map(str::to_string)
        .ok_or_else(|| "no test suite given and no rampart-tests.yaml or rampart.yaml here".into())
}

/// A policy file (it has `policies:`) carries inline tests; anything else is read as a suite.
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
    let source = match suite.policy {
        Some(policy) => PolicySource::exact(vec![policy]),
        None => crate::source::discover(config),
    };
    Ok((source, suite.tests))
}

fn run_cases(source: &PolicySource, tests: &[TestCase], args: &Args) -> Result<ExitCode, String> {
    let loaded = bundle::load(source)?;
    let decider = Decider::new(&loaded)?;
    let selected = tests
        .iter()
        .filter(|t| args.run.as_deref().is_none_or(|g| match_glob(g, &t.name)));
    let results: Vec<CaseResult> = selected.map(|t| run_case(&decider, t)).collect();
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
    match decider.decide_json(&call) {
        Ok(d) => {
            let actual = d.action.as_str().to_string();
            let message_ok = case
                .expect_message
                .as_deref()
                .is_none_or(|g| match_glob(g, &d.message));
            CaseResult {
                name: case.name.clone(),
                passed: actual == expected && message_ok,
                expected,
                actual: Some(actual),
                message: Some(d.message),
                error: None,
            }
        }
        Err(e) => CaseResult {
            name: case.name.clone(),
            passed: false,
            expected,
            actual: None,
            message: None,
            error: Some(e),
        },
    }
}

fn print_human(results: &[CaseResult], verbose: bool) {
    for r in results {
        if r.passed && verbose {
            println!("✓ {}", r.name);
        } else if let Some(e) = &r.error {
            println!("✗ {}: error: {e}", r.name);
        } else if !r.passed {
            println!(
                "✗ {}: expected {}, got {} ({})",
                r.name,
                r.expected,
                r.actual.as_deref().unwrap_or("-"),
                r.message.as_deref().unwrap_or("")
            );
        }
    }
}

/// `rampart test "git status"`: decide one call and show it; always exit 0.
fn dry_run(source: &PolicySource, tool: &str, arg: &str, json: bool) -> Result<ExitCode, String> {
    let loaded = bundle::load(source)?;
    let decider = Decider::new(&loaded)?;
    let call = call_for_argument(tool, arg, "*", "*", None);
    let d = decider.decide_json(&call)?;
    if json {
        println!("{}", decision_json(&d));
    } else {
        println!("{}: {} ({})", d.action.as_str(), arg, d.message);
        if !d.matched_policies.is_empty() {
            println!("  matched: {}", d.matched_policies.join(", "));
        }
    }
    Ok(ExitCode::SUCCESS)
}
