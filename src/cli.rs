//! The commands and their flags (clap), and the dispatch to each command's module.

use crate::source::PolicySource;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "A firewall for AI coding agents: compiled policies, decided in-process."
)]
pub struct Cli {
    /// Policy file or directory (default: ./rampart.yaml, then ~/.rampart/policies/, then the
    /// embedded standard profile).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Compile policy files or directories into one policy.bin bundle.
    Compile {
        #[arg(required = true, value_name = "FILE_OR_DIR")]
        paths: Vec<PathBuf>,
        #[arg(short, long, value_name = "OUT", default_value = "policy.bin")]
        output: PathBuf,
    },
    /// Check, lint and explain policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Run a test suite (upstream's format) or a policy's inline tests.
    Test(suite::TestArgs),
    /// Decide JSON calls read line by line from stdin; one JSON decision per line on stdout.
    Check,
    /// Write a built-in profile to ~/.rampart/policies/ and compile it.
    Init {
        #[arg(long, default_value = "standard", value_parser = ["standard", "paranoid", "yolo"])]
        profile: String,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Policy coverage of a labelled threat corpus (golden/threats by default).
    Bench(BenchArgs),
    /// Run a command with librampart.so preloaded, so every exec in its process tree is decided.
    Preload(PreloadArgs),
    /// Install an integration for an agent.
    #[command(subcommand)]
    Setup(SetupCommand),
    /// The audit trail: verify, tail, search, stats, replay, checkpoint.
    Audit(crate::commands::audit::AuditArgs),
    /// Recent decisions.
    Log(crate::commands::log::LogArgs),
}

#[derive(Subcommand)]
pub enum PolicyCommand {
    /// Strict load and compile; one line with the counts.
    Check { path: Option<PathBuf> },
    /// Findings with positions: typos, shadowed and unreachable rules, catch-all denies.
    Lint { path: PathBuf },
    /// Show how a call is decided: every policy in scope, every rule tried, the winner.
    Explain(explain::ExplainArgs),
}

#[derive(Args)]
pub struct BenchArgs {
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

#[derive(Args)]
pub struct PreloadArgs {
    #[arg(long, default_value = "enforce", value_parser = ["enforce", "monitor", "disabled"])]
    pub mode: String,
    #[arg(long)]
    pub agent: Option<String>,
    #[arg(long)]
    pub session: Option<String>,
    #[arg(long)]
    pub debug: bool,
    /// A compiled bundle to use instead of compiling the discovered policy.
    #[arg(long, value_name = "POLICY_BIN")]
    pub policy: Option<PathBuf>,
    #[arg(last = true, required = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Subcommand)]
pub enum SetupCommand {
    /// Wrap Codex CLI so it runs under `rampart preload`.
    Codex {
        /// Remove a wrapper this command wrote.
        #[arg(long)]
        remove: bool,
    },
}

use crate::decide::Decider;
use crate::{check, corpus, explain, init, lint, preload_cmd, suite};

pub fn run(cli: Cli) -> Result<ExitCode, String> {
    let config = cli.config;
    match cli.command {
        Command::Compile { paths, output } => crate::source::compile_to_file(&paths, &output),
        Command::Policy(PolicyCommand::Check { path }) => {
            crate::source::check(&PolicySource::discover(path.or(config)))
        }
        Command::Policy(PolicyCommand::Lint { path }) => lint::run(&path),
        Command::Policy(PolicyCommand::Explain(args)) => {
            explain::run(&PolicySource::discover(config), &args)
        }
        Command::Test(args) => suite::run(config, &args),
        Command::Check => check::run(&PolicySource::discover(config)),
        Command::Init { profile, force } => init::run(&profile, force),
        Command::Bench(args) => bench(&PolicySource::discover(config), &args),
        Command::Preload(args) => preload(&PolicySource::discover(config), args),
        Command::Audit(args) => crate::commands::audit::run(args),
        Command::Log(args) => crate::commands::log::run(args),
        Command::Setup(SetupCommand::Codex { remove }) => {
            println!("{}", preload_cmd::setup_codex(remove)?);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `rampart bench`: corpus coverage, as upstream's bench measures it (not speed; see benches/).
fn bench(source: &PolicySource, args: &BenchArgs) -> Result<ExitCode, String> {
    let cases = corpus::load_corpus(&args.corpus)?;
    let loaded = source.bundle()?;
    let decider = Decider::new(&loaded)?;
    let mut report = corpus::run_corpus(decider.evaluator(), &cases);
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

/// `rampart preload`: make sure a bundle for the policy exists on disk, then exec under the library.
fn preload(source: &PolicySource, args: PreloadArgs) -> Result<ExitCode, String> {
    let policy = match args.policy {
        Some(path) => path,
        None => crate::source::bundle_file(source)?,
    };
    let opts = preload_cmd::PreloadOptions {
        mode: Some(args.mode),
        agent: args.agent,
        session: args.session,
        debug: args.debug,
        policy: Some(policy),
        library: None,
        command: args.command.into_iter().map(Into::into).collect(),
    };
    Err(preload_cmd::run_preload(opts).to_string())
}
