//! Finding the sources of the policy in force (reference §2.9).

use std::path::{Path, PathBuf};

use super::Embedded;
use crate::error::Error;
use crate::load::{load_paths, load_str, merge_over};
use crate::model::PolicySet;

/// Where a surface looks for its policy.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// `--config PATH`: a file or a directory that replaces `./rampart.yaml`.
    pub config: Option<PathBuf>,
    /// The working directory: `./rampart.yaml` is looked up here.
    pub cwd: PathBuf,
    /// The user's home directory (`~/.rampart/policies/`); `None` when unknown.
    pub home: Option<PathBuf>,
    /// The profile used when the user has no policy of their own (upstream's
    /// `embedded:standard`).
    pub fallback: Embedded,
}

impl Discovery {
    /// Discovery for this process: `config` as given, the current directory and `$HOME`.
    pub fn from_env(config: Option<PathBuf>, fallback: Embedded) -> Discovery {
        Discovery {
            config,
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            home: user_home(),
            fallback,
        }
    }

    /// The sources in force: `--config`, then `./rampart.yaml`, then `~/.rampart/policies/`, then
    /// the embedded profile.
    pub fn sources(&self) -> Sources {
        if let Some(path) = &self.config {
            return Sources::exact(vec![path.clone()]);
        }
        let local = self.cwd.join("rampart.yaml");
        if local.is_file() {
            return Sources::exact(vec![local]);
        }
        let dir = self.home.as_ref().map(|h| h.join(".rampart/policies"));
        if let Some(dir) = dir.filter(|d| has_yaml(d)) {
            // A directory holding a whole profile is that profile, not additions to the default.
            if dir.join(self.fallback.file_name()).is_file() {
                return Sources::exact(vec![dir]);
            }
            return Sources {
                kind: Kind::OverEmbedded(self.fallback, dir),
            };
        }
        Sources::embedded(self.fallback)
    }
}

/// The policy sources a command works on.
#[derive(Clone, Debug)]
pub struct Sources {
    pub(super) kind: Kind,
}

#[derive(Clone, Debug)]
pub(super) enum Kind {
    /// Files and directories given or discovered on disk.
    Paths(Vec<PathBuf>),
    /// `~/.rampart/policies/` without a profile file of its own: user policies over the embedded
    /// profile.
    OverEmbedded(Embedded, PathBuf),
    /// An embedded profile, precompiled.
    Embedded(Embedded),
}

impl Sources {
    /// Exactly these files and directories, nothing discovered (`rampart compile`, a test
    /// suite's `policy:`).
    pub fn exact(paths: Vec<PathBuf>) -> Sources {
        Sources {
            kind: Kind::Paths(paths),
        }
    }

    /// Exactly an embedded profile.
    pub fn embedded(profile: Embedded) -> Sources {
        Sources {
            kind: Kind::Embedded(profile),
        }
    }

    /// The sources, as one line for people (`rampart policy check`).
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Paths(paths) => paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            Kind::OverEmbedded(embedded, dir) => {
                format!("{} + {}", embedded.source_name(), dir.display())
            }
            Kind::Embedded(embedded) => embedded.source_name(),
        }
    }

    /// Reads and merges the sources into one checked policy set.
    pub fn load(&self) -> Result<PolicySet, Error> {
        let embedded = |e: &Embedded| load_str(&e.source_name(), e.yaml);
        match &self.kind {
            Kind::Paths(paths) => load_paths(paths),
            Kind::OverEmbedded(e, dir) => {
                let user = load_paths(std::slice::from_ref(dir))?;
                Ok(merge_over(embedded(e)?, user))
            }
            Kind::Embedded(e) => embedded(e),
        }
    }
}

/// `$HOME`, when set and not empty.
pub fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let p = e.path();
            p.is_file() && matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml"))
        })
    })
}
