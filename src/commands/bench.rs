//! `rampart bench`: how a policy scores on a labelled threat corpus, as upstream's bench measures
//! it (coverage, not speed; speed is benches/).
//!
//! The corpus is ours (`golden/threats` by default, built into the binary, so the command works
//! outside a checkout) or any corpus file or directory on disk, in our format or upstream's
//! ([`crate::upstream_corpus`]). Upstream's flags select what runs: `--id`, `--category`,
//! `--severity` (the lowest included; only cases that have a severity), `--os` (upstream's cases
//! by platform, default this host; ours by shell dialect, only when given), and `--strict` (an
//! ask no longer stops an attack expected to be denied). `--policy` names the policy to bench.

use crate::bundle;
use crate::corpus::{load_corpus, load_embedded, run_corpus, Severity, ThreatCase};
use crate::decide::Decider;
use crate::upstream_corpus::host_os;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The `--corpus` prefix of the corpora built into the binary.
const EMBEDDED: &str = "embedded:";

#[derive(clap::Args)]
pub struct Args {
    /// A corpus file or directory, or a built-in corpus: embedded:threats, embedded:attacks,
    /// embedded:benign.
    #[arg(long, default_value = "embedded:threats")]
    pub corpus: String,
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
    /// Exit 1 when the share of cases decided as labelled is below this percentage.
    #[arg(long, value_name = "PERCENT")]
    pub min_coverage: Option<f64>,
    #[arg(long)]
    pub json: bool,
    /// List every case that was not decided as labelled.
    #[arg(short, long)]
    pub verbose: bool,
}

pub fn run(args: &Args, config: Option<PathBuf>) -> Result<ExitCode, String> {
    let cases = select(load(&args.corpus)?, args)?;
    let source = crate::source::discover(args.policy.clone().or(config));
    let loaded = bundle::load(&source)?;
    let decider = Decider::new(&loaded)?;
    let mut report = run_corpus(decider.evaluator(), &cases);
    if let Some(class) = &args.category {
        report = report.only_class(class);
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        println!("{}", report.table);
        let blocked = report.false_blocks().count();
        if blocked > 0 {
            println!("{blocked} cases labelled allow or watch were blocked");
        }
        if args.verbose {
            for miss in report.mismatches() {
                println!("{miss}");
            }
        }
    }
    let below = args.min_coverage.is_some_and(|min| report.coverage() < min);
    Ok(if below {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn load(corpus: &str) -> Result<Vec<ThreatCase>, String> {
    match corpus.strip_prefix(EMBEDDED) {
        Some(name) => load_embedded(name),
        None => load_corpus(Path::new(corpus)),
    }
}

/// The cases upstream's selection flags keep; `--id` naming no case is an error.
fn select(cases: Vec<ThreatCase>, args: &Args) -> Result<Vec<ThreatCase>, String> {
    if let Some(os) = args.os.as_deref() {
        if !["linux", "darwin", "windows"].contains(&os) {
            return Err(format!("--os must be linux, darwin or windows, not {os:?}"));
        }
    }
    let total = cases.len();
    let selected: Vec<ThreatCase> = cases
        .into_iter()
        .filter(|c| args.id.as_ref().is_none_or(|id| &c.id == id))
        .filter(|c| c.severity.is_none_or(|s| s >= args.severity))
        .filter(|c| for_os(c, args.os.as_deref()))
        .map(|mut c| {
            c.ask_suffices &= !args.strict;
            c
        })
        .collect();
    if let (Some(id), true) = (&args.id, selected.is_empty()) {
        return Err(format!(
            "--id {id:?} matches none of the {total} cases of the corpus (after --os and --severity)"
        ));
    }
    Ok(selected)
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
