//! The `rampart` binary: the command line of [`rampart`], parsed and run.
#![forbid(unsafe_code)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    rampart::run(rampart::Cli::parse())
}
