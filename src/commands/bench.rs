//! `rampart bench`: how a policy scores on labelled corpora (coverage, not speed; speed is
//! benches/).
//!
//! With no `--corpus`, the two corpora of issue 19, embedded in the executable: `attacks` (calls
//! an attacker or a misled agent makes, written from ATT&CK, GTFOBins and LOLBAS) and `benign`
//! (everyday developer calls, mentions of dangerous commands included). Each is reported per class
//! (and per dialect, and with `--by-technique` per catalogue entry) with three numbers: strict
//! (decided exactly as labelled), stopped (calls labelled deny or ask that were denied or asked)
//! and blocked (calls labelled allow or watch that were denied or asked).

use crate::bundle;
use crate::corpus::{load_corpus, load_embedded, run_corpus, CorpusReport, EMBEDDED};
use crate::decide::Decider;
use crate::source::PolicySource;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The corpora run when none is named.
const DEFAULT_CORPORA: [&str; 2] = ["attacks", "benign"];

#[derive(clap::Args)]
pub struct Args {
    /// A corpus embedded in rampart (attacks, benign, threats) or a directory of corpus files;
    /// repeat for several. Default: attacks and benign.
    #[arg(long, value_name = "NAME_OR_DIR")]
    pub corpus: Vec<String>,
    /// Only cases of this class.
    #[arg(long)]
    pub category: Option<String>,
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
    let loaded = bundle::load(&PolicySource::discover(config))?;
    let decider = Decider::new(&loaded)?;
    let names: Vec<String> = if args.corpus.is_empty() {
        DEFAULT_CORPORA.iter().map(|s| s.to_string()).collect()
    } else {
        args.corpus.clone()
    };
    let mut reports = Vec::with_capacity(names.len());
    for name in &names {
        let cases = if EMBEDDED.iter().any(|(n, _)| n == name) && !Path::new(name).is_dir() {
            load_embedded(name)?
        } else {
            load_corpus(Path::new(name))?
        };
        let mut report = run_corpus(decider.evaluator(), &cases);
        if let Some(class) = &args.category {
            report = report.only_class(class);
        }
        reports.push((name.as_str(), report));
    }
    if args.json {
        let out: serde_json::Map<String, serde_json::Value> = reports
            .iter()
            .map(|(name, r)| (name.to_string(), json!(r)))
            .collect();
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
