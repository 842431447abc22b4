//! Finding the sources of the policy in force (reference §2.9).
//!
//! Upstream's order: `--config PATH`, else `./rampart.yaml`, else the embedded standard profile;
//! plus every `*.yaml` of `~/.rampart/policies/` (where `rampart allow` writes `custom.yaml`);
//! plus the project policy `<git root>/.rampart/policy.yaml` unless `RAMPART_NO_PROJECT_POLICY`
//! is set. Discovery only looks (a few `stat`s); reading and merging is [`super::merge`].

use std::path::{Path, PathBuf};

use super::Embedded;

/// The variable that turns project policies off (any non-empty value).
pub const ENV_NO_PROJECT_POLICY: &str = "RAMPART_NO_PROJECT_POLICY";
/// The project policy, relative to the git root.
pub const PROJECT_POLICY: &str = ".rampart/policy.yaml";
/// The user's policy directory, relative to the home directory.
pub const USER_POLICIES: &str = ".rampart/policies";

/// Where a surface looks for its policy.
#[derive(Clone, Debug)]
pub struct Discovery {
    /// `--config PATH`: a file or a directory that replaces `./rampart.yaml`.
    pub config: Option<PathBuf>,
    /// The working directory: `./rampart.yaml` is looked up here, the git root above it.
    pub cwd: PathBuf,
    /// The user's home directory (`~/.rampart/policies/`, the cache); `None` when unknown.
    pub home: Option<PathBuf>,
    /// Whether the project policy applies (false when `RAMPART_NO_PROJECT_POLICY` is set).
    pub project_policy: bool,
    /// The profile used when there is no `--config` and no `./rampart.yaml` (upstream's
    /// `embedded:standard`).
    pub fallback: Embedded,
    /// File names in `~/.rampart/policies/` that hold a whole built-in profile
    /// (`standard.yaml`, `paranoid.yaml`, ...): one of them there replaces the fallback.
    pub profile_files: Vec<String>,
}

impl Discovery {
    /// Discovery for this process: `config` as given, the current directory, `$HOME` and
    /// `RAMPART_NO_PROJECT_POLICY`. `profiles` are the built-in profiles (the first file named
    /// like one of them in `~/.rampart/policies/` replaces `fallback`).
    pub fn from_env(
        config: Option<PathBuf>,
        fallback: Embedded,
        profiles: &[Embedded],
    ) -> Discovery {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let no_project = std::env::var_os(ENV_NO_PROJECT_POLICY).is_some_and(|v| !v.is_empty());
        Discovery {
            config,
            cwd,
            home: user_home(),
            project_policy: !no_project,
            fallback,
            profile_files: profiles.iter().map(Embedded::file_name).collect(),
        }
    }

    /// The sources in force.
    pub fn sources(&self) -> Sources {
        let user_dir = self.home.as_ref().map(|h| h.join(USER_POLICIES));
        let primary = match &self.config {
            // As given, so that messages name it as the user wrote it (the key is absolute).
            Some(path) => Primary::Path(path.clone()),
            None => {
                let local = self.cwd.join("rampart.yaml");
                let whole_profile =
                    |dir: &Path| self.profile_files.iter().any(|f| dir.join(f).is_file());
                if local.is_file() {
                    Primary::Path(local)
                } else if user_dir.as_deref().is_some_and(whole_profile) {
                    Primary::None
                } else {
                    Primary::Embedded(self.fallback)
                }
            }
        };
        let project = if self.project_policy {
            git_root(&self.cwd)
                .map(|root| root.join(PROJECT_POLICY))
                .filter(|p| p.is_file())
        } else {
            None
        };
        Sources {
            primary,
            user_dir,
            project,
            cache_dir: self.home.as_ref().map(|h| h.join(".rampart/cache")),
            exact: false,
            fallback: Some(self.fallback),
        }
    }
}

/// What the policy in force is made of.
#[derive(Clone, Debug)]
pub struct Sources {
    pub(super) primary: Primary,
    /// `~/.rampart/policies/` (whether it exists or not: files may appear in it).
    pub(super) user_dir: Option<PathBuf>,
    /// `<git root>/.rampart/policy.yaml`, when it exists and project policies apply.
    pub(super) project: Option<PathBuf>,
    /// `~/.rampart/cache/`, where compiled bundles are kept; `None`: compile in memory.
    pub(super) cache_dir: Option<PathBuf>,
    /// Given exactly (`rampart compile`, a test suite's `policy:`): no user directory, no
    /// project policy, no cache.
    pub(super) exact: bool,
    /// The embedded fallback profile (its digest identifies the build's compiler).
    pub(super) fallback: Option<Embedded>,
}

/// The first source: the one whose `default_action` and `notify` win and whose policy names
/// beat the user directory's.
#[derive(Clone, Debug)]
pub(super) enum Primary {
    /// `--config` or `./rampart.yaml`: a file or a directory.
    Path(PathBuf),
    /// Several files or directories given exactly.
    Paths(Vec<PathBuf>),
    /// An embedded profile; policies of the user directory with the same name replace its own.
    Embedded(Embedded),
    /// Nothing but the user directory (it holds a whole profile of its own).
    None,
}

impl Sources {
    /// Exactly these files and directories, nothing discovered and nothing cached
    /// (`rampart compile`, a test suite's `policy:`).
    pub fn exact(paths: Vec<PathBuf>) -> Sources {
        Sources {
            primary: Primary::Paths(paths),
            user_dir: None,
            project: None,
            cache_dir: None,
            exact: true,
            fallback: None,
        }
    }

    /// Exactly an embedded profile.
    pub fn embedded(profile: Embedded) -> Sources {
        Sources {
            primary: Primary::Embedded(profile),
            user_dir: None,
            project: None,
            cache_dir: None,
            exact: true,
            fallback: Some(profile),
        }
    }

    /// The user's policy directory, if these sources include it.
    pub fn user_dir(&self) -> Option<&Path> {
        self.user_dir.as_deref()
    }

    /// The project policy file in force, if any.
    pub fn project(&self) -> Option<&Path> {
        self.project.as_deref()
    }

    /// The sources, as one line for people (`rampart policy check`).
    pub fn describe(&self) -> String {
        let mut parts = match &self.primary {
            Primary::Path(p) => vec![p.display().to_string()],
            Primary::Paths(ps) => ps.iter().map(|p| p.display().to_string()).collect(),
            Primary::Embedded(e) => vec![e.source_name()],
            Primary::None => Vec::new(),
        };
        if let Some(dir) = &self.user_dir {
            parts.push(format!("{}/*.yaml", dir.display()));
        }
        if let Some(project) = &self.project {
            parts.push(format!("{} (project)", project.display()));
        }
        parts.join(" + ")
    }

    /// What identifies these sources (not their contents): the key of their cached bundle.
    pub(super) fn key_text(&self) -> String {
        let primary = match &self.primary {
            Primary::Path(p) => absolute(p).display().to_string(),
            Primary::Paths(ps) => ps
                .iter()
                .map(|p| absolute(p).display().to_string())
                .collect::<Vec<_>>()
                .join("|"),
            Primary::Embedded(e) => e.source_name(),
            Primary::None => String::new(),
        };
        let show = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
        format!(
            "primary={primary}\nuser_dir={:?}\nproject={:?}\n",
            show(&self.user_dir),
            show(&self.project)
        )
    }
}

/// `$HOME`, when set and not empty.
pub fn user_home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The nearest directory at or above `dir` that holds `.git` (a directory, or the file of a
/// worktree or submodule).
pub fn git_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}
