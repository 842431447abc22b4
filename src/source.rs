//! Where a command's policy comes from.
//!
//! Discovery follows upstream's order: `--config`, then `./rampart.yaml`, then
//! `~/.rampart/policies/`, then the embedded standard profile. Turning the source into something
//! to decide with is [`crate::bundle`]'s job.

use crate::profiles::profiles;
use std::path::{Path, PathBuf};

/// The policy a command works on.
#[derive(Clone, Debug)]
pub enum PolicySource {
    /// Files and directories given or discovered on disk.
    Paths(Vec<PathBuf>),
    /// `~/.rampart/policies/` without a profile file of its own: user policies over the embedded standard.
    OverEmbedded(PathBuf),
    /// The embedded standard profile, precompiled.
    Embedded,
}

impl PolicySource {
    pub fn discover(config: Option<PathBuf>) -> PolicySource {
        if let Some(path) = config {
            return PolicySource::Paths(vec![path]);
        }
        let local = PathBuf::from("rampart.yaml");
        if local.is_file() {
            return PolicySource::Paths(vec![local]);
        }
        if let Some(dir) = user_policy_dir().filter(|d| has_yaml(d)) {
            // A directory holding a whole profile is that profile, not additions to the default.
            if profiles().iter().any(|p| dir.join(p.file_name()).is_file()) {
                return PolicySource::Paths(vec![dir]);
            }
            return PolicySource::OverEmbedded(dir);
        }
        PolicySource::Embedded
    }

    pub fn describe(&self) -> String {
        match self {
            PolicySource::Paths(paths) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            PolicySource::OverEmbedded(dir) => format!("embedded:standard + {}", dir.display()),
            PolicySource::Embedded => "embedded:standard".to_string(),
        }
    }
}

/// `$HOME`, when set and not empty.
pub fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// `~/.rampart`.
pub fn rampart_home() -> Option<PathBuf> {
    user_home().map(|h| h.join(".rampart"))
}

fn user_policy_dir() -> Option<PathBuf> {
    rampart_home().map(|h| h.join("policies"))
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
        })
    })
}
