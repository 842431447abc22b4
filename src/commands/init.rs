//! `rampart init`: writes a built-in profile to `~/.rampart/policies/` for editing, and compiles the
//! directory to `~/.rampart/policy.bin` (the bundle the preload library maps by default).

use crate::profiles::{profile, profiles};
use crate::source::rampart_home;
use clap::builder::PossibleValuesParser;
use std::path::Path;
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "standard", value_parser = PossibleValuesParser::new(profiles().map(|p| p.name)))]
    pub profile: String,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let name = args.profile.as_str();
    let force = args.force;
    let profile = profile(name).ok_or_else(|| format!("unknown profile {name:?}"))?;
    let home = rampart_home().ok_or("HOME is not set; cannot find ~/.rampart")?;
    let dir = home.join("policies");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;

    let target = dir.join(profile.file_name());
    let others: Vec<_> = profiles()
        .into_iter()
        .filter(|p| p.name != name)
        .map(|p| dir.join(p.file_name()))
        .filter(|p| p.exists())
        .collect();
    if !force {
        // Two profiles in one directory would merge into something neither of them means.
        if let Some(existing) = std::iter::once(&target)
            .filter(|p| p.exists())
            .chain(&others)
            .next()
        {
            return Err(format!(
                "{} already exists; not overwriting it (use --force to replace it)",
                existing.display()
            ));
        }
    }
    for other in &others {
        std::fs::remove_file(other).map_err(|e| format!("{}: {e}", other.display()))?;
    }
    write_file(&target, profile.yaml)?;
    println!("wrote {}", target.display());
    super::compile::to_file(&[dir], &home.join("policy.bin"))
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}
