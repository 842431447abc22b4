//! `rampart init`: writes a built-in profile to `./rampart.yaml`, as upstream does, for the user to
//! read and edit; with `--project`, a starter project policy to `<git root>/.rampart/policy.yaml`.
//!
//! It only ever writes its one file: an existing one is kept unless `--force` is given, and no
//! other file (another profile, `~/.rampart/policies/`) is touched, since a user's edits there
//! are not init's to throw away.

use crate::profiles::{profile, profiles};
use clap::builder::PossibleValuesParser;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The project policy `--project` writes: rules for one repository, checked by its own tests.
const PROJECT_POLICY: &str = include_str!("../../policies/templates/project.yaml");

#[derive(clap::Args)]
pub struct Args {
    #[arg(long, default_value = "standard", value_parser = PossibleValuesParser::new(profiles().map(|p| p.name)))]
    pub profile: String,
    /// Write a project policy to <git root>/.rampart/policy.yaml instead (it adds rules for this
    /// repository on top of the user's policy and cannot weaken it).
    #[arg(long, conflicts_with = "profile")]
    pub project: bool,
    /// Overwrite an existing file.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &Args) -> Result<ExitCode, String> {
    let (target, text) = if args.project {
        let cwd = std::env::current_dir().map_err(|e| format!("current directory: {e}"))?;
        let root = git_root(&cwd).ok_or_else(|| {
            format!(
                "{} is not inside a git repository; a project policy lives at <git root>/.rampart/policy.yaml",
                cwd.display()
            )
        })?;
        (root.join(".rampart").join("policy.yaml"), PROJECT_POLICY)
    } else {
        let name = args.profile.as_str();
        let profile = profile(name).ok_or_else(|| format!("unknown profile {name:?}"))?;
        (PathBuf::from("rampart.yaml"), profile.yaml)
    };
    if target.exists() && !args.force {
        return Err(format!(
            "{} already exists; not overwriting it (use --force to replace it)",
            target.display()
        ));
    }
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    rampart_compiler::write::write_atomic(&target, text.as_bytes())
        .map_err(|e| format!("{}: {e}", target.display()))?;
    println!("wrote {}", target.display());
    Ok(ExitCode::SUCCESS)
}

/// The nearest directory from `dir` up that holds `.git` (a directory, or the file of a worktree
/// or submodule).
fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}
