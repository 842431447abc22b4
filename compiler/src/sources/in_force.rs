//! The bundle in force, ready to decide with, and what it was built from.

use std::path::{Path, PathBuf};

use rampart_runtime::bundle::{Bundle, MappedBundle, OwnedBundle, SectionKind};
use rampart_runtime::eval::Evaluator;
use rampart_runtime::program::Metadata;

use super::stamp::{FileStamp, Stamp};
use super::Sources;
use crate::error::Error;

/// A bundle this process can decide with, the sources it was made from and, when it was read
/// from the cache or compiled here, the record of every file it was built from.
pub struct PolicyInForce {
    backing: Backing,
    sources: Sources,
    stamp: Option<Stamp>,
    file: Option<PathBuf>,
}

pub(super) enum Backing {
    /// An embedded profile's bundle, compiled into the executable.
    Embedded(&'static [u8]),
    /// The cached bundle, mapped.
    Mapped(MappedBundle),
    /// Compiled in this process.
    Owned(OwnedBundle),
}

impl Sources {
    /// The policy in force of these sources: the embedded profile's bundle when nothing on disk
    /// adds to it, else the cached bundle when fresh, else compiled (and cached) now. An error
    /// (a source that does not load or compile, a cache that cannot be written) means there is
    /// no policy to decide with: the caller fails closed.
    pub fn open(&self) -> Result<PolicyInForce, Error> {
        super::cache::open(self)
    }

    /// The policy in force as a file the preload library can map (`~/.rampart/cache/<key>.bin`),
    /// rebuilt first when stale.
    pub fn bundle_file(&self) -> Result<PathBuf, Error> {
        let in_force = super::cache::open_file(self)?;
        in_force.file.ok_or_else(|| {
            Error::new("no home directory: the policy cannot be cached for the preload library")
        })
    }

    /// The cached bundle of these sources as it stands, without rebuilding it (`None` when they
    /// are not cached: the embedded profile alone, or no home directory).
    pub fn cache_state(&self) -> Option<super::CacheState> {
        super::cache::peek(self)
    }

    /// Reads and merges the sources into one checked policy set (YAML; no cache).
    pub fn load(&self) -> Result<crate::model::PolicySet, Error> {
        super::merge::merge(self).map(|m| m.set)
    }
}

impl PolicyInForce {
    pub(super) fn new(
        backing: Backing,
        sources: Sources,
        stamp: Option<Stamp>,
        file: Option<PathBuf>,
    ) -> PolicyInForce {
        PolicyInForce {
            backing,
            sources,
            stamp,
            file,
        }
    }

    /// The sources the bundle was made from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// Every file the bundle was built from, with its size and sha256 (empty for an embedded
    /// profile alone).
    pub fn files(&self) -> &[FileStamp] {
        self.stamp.as_ref().map_or(&[], |s| s.files.as_slice())
    }

    /// The cached bundle's file, when it came from the cache.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// The bundle's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Embedded(bytes) => bytes,
            Backing::Mapped(mapped) => mapped.bytes(),
            Backing::Owned(owned) => owned.bytes(),
        }
    }

    /// The bundle, opened without the full validation (sha256 and every DFA, ~10 ms for the
    /// standard profile): every backing holds bytes this build's compiler wrote.
    pub fn bundle(&self) -> Result<Bundle<'_>, Error> {
        let bundle = match &self.backing {
            // SAFETY: rampart-policies' build script compiled these bytes into the executable
            // with this build's compiler; nobody could have modified them since.
            Backing::Embedded(bytes) => unsafe { Bundle::open_unchecked(bytes) },
            Backing::Mapped(mapped) => mapped.bundle(),
            Backing::Owned(owned) => owned.bundle(),
        };
        bundle.map_err(|e| Error::new(format!("policy bundle: {e}")))
    }

    /// An evaluator over the bundle.
    pub fn evaluator(&self) -> Result<Evaluator<'_>, Error> {
        Evaluator::new(&self.bundle()?).map_err(|e| Error::new(format!("policy bundle: {e}")))
    }

    /// The bundle's metadata: names, sources, notify, each rule's webhook, ask options and
    /// single-use flag (decoded on each call: only surfaces that act on a decision need it).
    pub fn metadata(&self) -> Result<Metadata, Error> {
        let bundle = self.bundle()?;
        let bytes = bundle
            .section(SectionKind::Metadata)
            .ok_or_else(|| Error::new("policy bundle has no metadata section"))?;
        postcard::from_bytes(bytes)
            .map_err(|_| Error::new("policy bundle metadata section does not decode"))
    }

    /// Checks the bundle completely (sha256 and every automaton): `rampart policy check` does,
    /// since deciding processes trust the cache without it.
    pub fn validate(&self) -> Result<(), Error> {
        Bundle::open(self.bytes())
            .map(|_| ())
            .map_err(|e| Error::new(format!("policy bundle: {e}")))
    }
}
