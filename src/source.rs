//! Where a command's policy comes from: `rampart_compiler::sources` with this process's
//! `--config`, working directory and home, and the embedded standard profile as the fallback.

pub use rampart_compiler::sources::Sources as PolicySource;
use std::path::PathBuf;

/// The sources in force for this process.
pub fn discover(config: Option<PathBuf>) -> PolicySource {
    rampart_policies::discovery(config).sources()
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
