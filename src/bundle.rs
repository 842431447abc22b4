//! A policy source made ready to decide with: its checked policy set, its bundle in memory, its
//! bundle on disk for the preload library.

use crate::profiles;
use crate::source::{rampart_home, PolicySource};
use rampart_compiler::load::{load_paths, load_str, merge_over};
use rampart_compiler::model::PolicySet;
use rampart_runtime::bundle::{Bundle, OwnedBundle};
use std::path::PathBuf;

/// A bundle this process can decide with: embedded in the executable, or compiled just now.
pub enum Loaded {
    Embedded(&'static [u8]),
    Compiled(OwnedBundle),
}

impl Loaded {
    pub fn bytes(&self) -> &[u8] {
        match self {
            Loaded::Embedded(bytes) => bytes,
            Loaded::Compiled(owned) => owned.bytes(),
        }
    }

    /// Opens the bundle without the full validation (sha256 and every DFA, ~10 ms for the
    /// standard profile, which a one-call `rampart check` paid in every process): both kinds are
    /// bytes this build's compiler wrote. Files from disk go through `MappedBundle::open`, which
    /// validates.
    pub fn open(&self) -> Result<Bundle<'_>, String> {
        let bundle = match self {
            // SAFETY: build.rs compiled these bytes into the executable with this build's
            // compiler; nobody could have modified them since.
            Loaded::Embedded(bytes) => unsafe { Bundle::open_unchecked(bytes) },
            Loaded::Compiled(owned) => owned.bundle(),
        };
        bundle.map_err(|e| format!("policy bundle: {e}"))
    }
}

/// The checked policy set (loads YAML; the embedded profile is parsed from its text).
pub fn policy_set(source: &PolicySource) -> Result<PolicySet, String> {
    let embedded = || {
        let standard = profiles::standard();
        load_str("embedded:standard", standard.yaml).map_err(|e| e.to_string())
    };
    match source {
        PolicySource::Paths(paths) => load_paths(paths).map_err(|e| e.to_string()),
        PolicySource::OverEmbedded(dir) => {
            let user = load_paths(std::slice::from_ref(dir)).map_err(|e| e.to_string())?;
            Ok(merge_over(embedded()?, user))
        }
        PolicySource::Embedded => embedded(),
    }
}

/// The bundle of `source`: precompiled for the embedded profile, compiled in memory otherwise.
pub fn load(source: &PolicySource) -> Result<Loaded, String> {
    if let PolicySource::Embedded = source {
        return Ok(Loaded::Embedded(profiles::standard().bundle));
    }
    let compiled = rampart_compiler::compile(&policy_set(source)?).map_err(|e| e.to_string())?;
    // SAFETY: the compiler of this very process wrote these bytes just now; checking the
    // checksum and every DFA again would only repeat its work.
    let owned = unsafe { OwnedBundle::open_unchecked(&compiled.bytes) }
        .map_err(|e| format!("policy bundle: {e}"))?;
    Ok(Loaded::Compiled(owned))
}

/// The bundle of `source` as a file the preload library can map: `~/.rampart/policy.bin`,
/// rewritten (atomically) only when its contents differ, so running processes keep a consistent
/// mapping.
pub fn file(source: &PolicySource) -> Result<PathBuf, String> {
    let home = rampart_home().ok_or("HOME is not set; pass --policy")?;
    let path = home.join("policy.bin");
    let loaded = load(source)?;
    let fresh = loaded.bytes();
    if std::fs::read(&path).ok().as_deref() != Some(fresh) {
        std::fs::create_dir_all(&home).map_err(|e| format!("{}: {e}", home.display()))?;
        rampart_compiler::write::write_atomic(&path, fresh)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(path)
}
