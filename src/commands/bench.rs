//! `rampart bench`: how a policy scores on a labelled threat corpus, as upstream's bench measures
//! it (coverage, not speed; speed is benches/).

use crate::bundle;
use crate::corpus::{load_corpus, run_corpus};
use crate::decide::Decider;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    /// The corpus directory.
    #[arg(long, default_value = "golden/threats")]
    pub corpus: PathBuf,
    /// Only cases of this class.
    #[arg(long)]
    pub category: Option<String>,
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
    let cases = load_corpus(&args.corpus)?;
    let loaded = bundle::load(&crate::source::discover(config))?;
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
