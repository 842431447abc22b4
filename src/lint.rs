//! `rampart policy lint`: findings with positions; exit 1 when any is an error.

use rampart_compiler::lint::{lint_path, Severity};
use std::path::Path;
use std::process::ExitCode;

pub fn run(path: &Path) -> Result<ExitCode, String> {
    let findings = lint_path(path).map_err(|e| e.to_string())?;
    let count = |s: Severity| findings.iter().filter(|f| f.severity == s).count();
    for f in &findings {
        let label = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        };
        println!("{}: {label}: {}", f.pos, f.message);
    }
    let errors = count(Severity::Error);
    println!(
        "{}: {errors} errors, {} warnings, {} infos",
        path.display(),
        count(Severity::Warning),
        count(Severity::Info)
    );
    Ok(if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
