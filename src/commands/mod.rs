//! The commands: the top-level parser, and one module per command, each with its own arguments.

pub mod allow;
pub mod audit;
pub mod bench;
pub mod check;
pub mod compile;
pub mod doctor;
pub mod hook;
pub mod init;
pub mod log;
pub mod policy;
pub mod preload;
pub mod rules;
pub mod setup;
pub mod status;
pub mod test;
pub mod uninstall;
pub mod version;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// `rampart [--config PATH] <command>`.
#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "A firewall for AI coding agents: compiled policies, decided in-process."
)]
pub struct Cli {
    /// Policy file or directory in place of ./rampart.yaml (or the embedded standard profile);
    /// ~/.rampart/policies/*.yaml and the project policy are merged with it.
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Compile policy files or directories into one policy.bin bundle.
    Compile(compile::Args),
    /// Check, lint and explain policies.
    #[command(subcommand)]
    Policy(policy::Command),
    /// Run a test suite (upstream's format) or a policy's inline tests.
    Test(test::Args),
    /// Decide JSON calls read line by line from stdin; one JSON decision per line on stdout.
    Check(check::Args),
    /// Write a built-in profile to ./rampart.yaml, or a project policy with --project.
    Init(init::Args),
    /// Policy coverage of a labelled threat corpus (the built-in golden/threats by default).
    Bench(bench::Args),
    /// Allow a command, path or URL pattern from now on (writes ~/.rampart/policies/custom.yaml).
    Allow(allow::Args),
    /// Block a command, path or URL pattern from now on (writes ~/.rampart/policies/custom.yaml).
    Block(allow::Args),
    /// List or remove the rules `rampart allow` and `rampart block` wrote.
    Rules(rules::Args),
    /// Run a command with librampart.so preloaded, so every exec in its process tree is decided.
    Preload(preload::Args),
    /// The agent hook: a host's tool-call payload on stdin, the host's answer on stdout.
    Hook(hook::Args),
    /// Put rampart's hooks into an agent host's settings (or list the hosts and their state).
    Setup(setup::Args),
    /// What protects this machine: hosts set up, the policy in force, the server, today's
    /// decisions.
    Status(status::Args),
    /// Check everything that can fail, with the command that fixes each problem.
    Doctor(doctor::Args),
    /// Remove every integration and service rampart installed (policies and logs stay).
    Uninstall(uninstall::Args),
    /// Print the version of rampart and of the bundle format it reads.
    Version(version::Args),
    /// The audit trail: verify, tail, search, stats, replay, checkpoint.
    Audit(audit::AuditArgs),
    /// Recent decisions from the audit trail.
    Log(log::LogArgs),
}

/// Runs a parsed command line: its exit code, or 1 with the error on stderr.
pub fn run(cli: Cli) -> ExitCode {
    let config = cli.config;
    let result = match cli.command {
        Command::Compile(args) => compile::run(&args),
        Command::Policy(command) => policy::run(command, config),
        Command::Test(args) => test::run(&args, config),
        Command::Check(args) => check::run(&args, config),
        Command::Init(args) => init::run(&args),
        Command::Bench(args) => bench::run(&args, config),
        Command::Preload(args) => preload::run(args, config),
        Command::Hook(args) => hook::run(&args, config),
        Command::Allow(args) => allow::run(&args, rampart_runtime::eval::Action::Allow, config),
        Command::Block(args) => allow::run(&args, rampart_runtime::eval::Action::Deny, config),
        Command::Rules(args) => rules::run(&args, config),
        Command::Setup(args) => setup::run(&args),
        Command::Status(args) => status::run(&args, config),
        Command::Doctor(args) => doctor::run(&args, config),
        Command::Uninstall(args) => uninstall::run(&args),
        Command::Version(args) => version::run(&args),
        Command::Audit(args) => audit::run(args),
        Command::Log(args) => log::run(args),
    };
    result.unwrap_or_else(|err| {
        eprintln!("rampart: {err}");
        ExitCode::from(1)
    })
}
