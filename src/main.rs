//! The `rampart` binary: the command line of [`rampart`], parsed and run; or, started under a
//! shell's name by `rampart wrap`, that shell's shim.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = rampart::commands::wrap::shim() {
        return code;
    }
    rampart::run(rampart::Cli::parse())
}
