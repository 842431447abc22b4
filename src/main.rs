//! The `rampart` command line: argument parsing and dispatch only.
//!
//! Policy logic lives in the crates: `rampart-compiler` turns YAML into a bundle, `rampart-runtime`
//! decides calls against it. Each command here resolves where its policy comes from ([`source`]),
//! calls into those crates and prints the result.

mod check;
mod cli;
mod commands;
mod corpus;
mod decide;
mod explain;
mod init;
mod lint;
mod preload_cmd;
mod source;
mod suite;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("rampart: {err}");
            ExitCode::from(1)
        }
    }
}
