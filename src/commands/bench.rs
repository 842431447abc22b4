//! `rampart bench`: how a policy scores on labelled corpora, as upstream's bench measures it
//! (coverage, not speed; speed is benches/).
//!
//! A corpus is ours (built into the binary, so the command works outside a checkout:
//! `embedded:threats`, the default, and the two corpora of issue 19, `embedded:attacks` and
//! `embedded:benign`) or any corpus file or directory on disk, in our format or upstream's
//! ([`crate::upstream_corpus`]); `--corpus` repeats. Each is reported per class and per dialect
//! (with `--by-technique`, per catalogue entry too) with three numbers: strict (decided exactly as
//! labelled), stopped (calls labelled deny or ask that were denied or asked) and blocked (calls
//! labelled allow or watch that were denied or asked). Upstream's flags select what runs: `--id`,
//! `--category`, `--severity` (the lowest included; only cases that have a severity), `--os`
//! (upstream's cases by platform, default this host; ours by shell dialect, only when given), and
//! `--strict` (an ask no longer stops an attack expected to be denied). `--policy` names the
//! policy to bench.

use crate::bundle;
use crate::corpus::{load_corpus, load_embedded, run_corpus, CorpusReport, Severity, ThreatCase};
use crate::decide::Decider;
use crate::upstream_corpus::host_os;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The `--corpus` prefix of the corpora built into the binary.
const EMBEDDED: &str = "embedded:";

#[derive(clap::Args)]
pub struct Args {
    /// A corpus file or directory, or a built-in corpus: embedded:threats, embedded:attacks,
    /// embedded:benign. Repeat for several.
    #[arg(long, default_value = "embedded:threats")]
    pub corpus: Vec<String>,
    /// The policy file or directory to bench (default: the policy in force, as --config finds it).
    #[arg(long, value_name = "PATH")]
    pub policy: Option<PathBuf>,
    /// Only cases of this class (upstream: category).
    #[arg(long)]
    pub category: Option<String>,
    /// Only the case with this id.
    #[arg(long)]
    pub id: Option<String>,
    /// Only cases for this platform: linux, darwin or windows (upstream's cases by `os`, default
    /// this host; ours by shell dialect, only when given).
    #[arg(long)]
    pub os: Option<String>,
    /// The lowest severity included (low, medium, high, critical); cases without one are always
    /// included.
    #[arg(long, default_value = "medium", value_parser = Severity::parse)]
    pub severity: Severity,
    /// An ask does not stop an attack expected to be denied (upstream's corpus format).
    #[arg(long)]
    pub strict: bool,
    /// Also report per technique (ATT&CK id, GTFOBins or LOLBAS entry).
    #[arg(long)]
    pub by_technique: bool,
    /// Exit 1 when the share of cases decided as labelled is below this percentage.
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
    /// Exit 1 when the share of deny/ask-labelled cases that were stopped is below this.
    #[arg(long, value_name = "PERCENT")]
    pub min_stopped: Option<f64>,
    /// Exit 1 when more than this many allow/watch-labelled cases were denied or asked.
    #[arg(long, value_name = "N")]
    pub max_blocked: Option<usize>,
    #[arg(long)]
    pub json: bool,
    /// List every case that was not decided as labelled.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    if let Some(os) = args.os.as_deref() {
        if !["linux", "darwin", "windows"].contains(&os) {
            return Err(format!("--os must be linux, darwin or windows, not {os:?}"));
        }
    }
    let mut corpora = Vec::with_capacity(args.corpus.len());
    for name in &args.corpus {
        corpora.push((name.as_str(), select(load(name)?, args)));
    }
    if let Some(id) = &args.id {
        if corpora.iter().all(|(_, cases)| cases.is_empty()) {
            return Err(format!(
                "--id {id:?} matches no case of the corpus (after --os and --severity)"
            ));
        }
    }
    let source = crate::source::discover(args.policy.clone().or(config));
    let loaded = bundle::load(&source)?;
    let decider = Decider::new(&loaded)?;
    let mut reports = Vec::with_capacity(corpora.len());
    for (name, cases) in &corpora {
        let mut report = run_corpus(decider.evaluator(), cases);
        if let Some(class) = &args.category {
            report = report.only_class(class);
        }
        reports.push((*name, report));
    }
    if args.json {
        // One corpus: its report; several: the reports by corpus name.
        let out = match reports.as_slice() {
            [(_, report)] => json!(report),
            _ => reports
                .iter()
                .map(|(name, r)| (name.to_string(), json!(r)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        for (name, report) in &reports {
            print_report(name, report, args);
        }
    }
    Ok(if failed(&reports, args) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn print_report(name: &str, report: &CorpusReport, args: &Args) {
    let t = &report.table.total;
    println!("== {name}: {} cases", t.total);
    if args.by_technique {
        println!("{}", report.table.with_techniques());
    } else {
        println!("{}", report.table);
    }
    println!(
        "{name}: strict {}/{} ({:.1}%), stopped {}/{} ({:.1}%), blocked {}/{}",
        t.as_labelled,
        t.total,
        t.percent(),
        t.stopped,
        t.to_stop,
        t.stopped_percent(),
        t.false_blocks,
        t.to_allow
    );
    if args.verbose {
        for miss in report.mismatches() {
            println!("{miss}");
        }
    }
    println!();
}

/// Whether any report is under a threshold the command was given.
fn failed(reports: &[(&str, CorpusReport)], args: &Args) -> bool {
    reports.iter().any(|(_, r)| {
        args.min_coverage.is_some_and(|min| r.coverage() < min)
            || args.min_stopped.is_some_and(|min| r.stopped() < min)
            || args
                .max_blocked
                .is_some_and(|max| r.table.total.false_blocks > max)
    })
}

fn load(corpus: &str) -> Result<Vec<ThreatCase>, String> {
    match corpus.strip_prefix(EMBEDDED) {
        Some(name) => load_embedded(name),
        None => load_corpus(Path::new(corpus)),
    }
}

/// The cases upstream's selection flags keep.
fn select(cases: Vec<ThreatCase>, args: &Args) -> Vec<ThreatCase> {
    cases
        .into_iter()
        .filter(|c| args.id.as_ref().is_none_or(|id| &c.id == id))
        .filter(|c| c.severity.is_none_or(|s| s >= args.severity))
        .filter(|c| for_os(c, args.os.as_deref()))
        .map(|mut c| {
            c.ask_suffices &= !args.strict;
            c
        })
        .collect()
}

/// Whether case `c` runs on platform `os`: upstream's cases by their `os` (default this host),
/// ours by their dialect, and only when `--os` is given.
fn for_os(c: &ThreatCase, os: Option<&str>) -> bool {
    if c.is_upstream() {
        let os = os.unwrap_or(host_os());
        return c.os.is_empty() || c.os.iter().any(|o| o == os || o == "any");
    }
    let Some(os) = os else {
        return true;
    };
    let dialects: &[&str] = match os {
        "windows" => &["cmd", "powershell"],
        "darwin" => &["posix", "macos"],
        _ => &["posix"],
    };
    c.dialect.as_deref().is_none_or(|d| dialects.contains(&d))
}
