//! A policy source made ready to decide with: its checked policy set, its bundle in memory, its
//! bundle on disk for the preload library.

use crate::source::PolicySource;
use rampart_compiler::model::PolicySet;
pub use rampart_compiler::sources::PolicyInForce as Loaded;
use std::path::PathBuf;

/// The checked policy set (loads YAML; the embedded profile is parsed from its text).
pub fn policy_set(source: &PolicySource) -> Result<PolicySet, String> {
    source.load().map_err(|e| e.to_string())
}

/// The bundle of `source`: precompiled for the embedded profile, compiled otherwise.
pub fn load(source: &PolicySource) -> Result<Loaded, String> {
    source.open().map_err(|e| e.to_string())
}

/// The bundle of `source` as a file the preload library can map (`~/.rampart/cache/<key>.bin`).
pub fn file(source: &PolicySource) -> Result<PathBuf, String> {
    source.bundle_file().map_err(|e| e.to_string())
}
