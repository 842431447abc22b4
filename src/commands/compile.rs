//! `rampart compile`: policy files and directories into one `policy.bin`.

use rampart_compiler::compile::CompileStats;
use rampart_compiler::load::load_paths;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    pub paths: Vec<PathBuf>,
    #[arg(short, long, value_name = "OUT", default_value = "policy.bin")]
    pub output: PathBuf,
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    to_file(&args.paths, &args.output)
}

/// Compiles `paths` to `output`. The existing output is only replaced once the new bundle is
/// complete (see `rampart_compiler::write`).
pub fn to_file(paths: &[PathBuf], output: &Path) -> Result<ExitCode, String> {
    let started = Instant::now();
    let set = load_paths(paths).map_err(|e| e.to_string())?;
    let compiled = rampart_compiler::compile(&set).map_err(|e| e.to_string())?;
    rampart_compiler::write::write_atomic(output, &compiled.bytes)
        .map_err(|e| format!("{}: {e}", output.display()))?;
    println!(
        "{}: {}",
        output.display(),
        summary(&compiled.stats, started.elapsed().as_secs_f64())
    );
    Ok(ExitCode::SUCCESS)
}

/// One line of counts, as `compile` and `policy check` print them.
pub fn summary(stats: &CompileStats, seconds: f64) -> String {
    format!(
        "{} policies, {} rules, {} patterns, {} automata, {} bytes, {:.0} ms",
        stats.policies,
        stats.rules,
        stats.patterns,
        stats.automata,
        stats.bytes,
        seconds * 1e3
    )
}
