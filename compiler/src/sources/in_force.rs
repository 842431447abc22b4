//! The bundle in force, ready to decide with.

use std::path::{Path, PathBuf};

use rampart_runtime::bundle::{Bundle, OwnedBundle};
use rampart_runtime::eval::Evaluator;

use super::discover::Kind;
use super::Sources;
use crate::error::Error;

/// A bundle this process can decide with, and the sources it was made from.
pub struct PolicyInForce {
    backing: Backing,
    sources: Sources,
}

enum Backing {
    /// An embedded profile's bundle, compiled into the executable.
    Embedded(&'static [u8]),
    /// Compiled in this process.
    Compiled(OwnedBundle),
}

impl Sources {
    /// The bundle of these sources: the embedded profile's own, or compiled from them.
    pub fn open(&self) -> Result<PolicyInForce, Error> {
        let backing = match &self.kind {
            Kind::Embedded(embedded) => Backing::Embedded(embedded.bundle),
            _ => {
                let compiled = crate::compile(&self.load()?)?;
                // SAFETY: the compiler of this very process wrote these bytes just now; checking
                // the checksum and every DFA again would only repeat its work.
                let owned = unsafe { OwnedBundle::open_unchecked(&compiled.bytes) }
                    .map_err(|e| Error::new(format!("policy bundle: {e}")))?;
                Backing::Compiled(owned)
            }
        };
        Ok(PolicyInForce {
            backing,
            sources: self.clone(),
        })
    }

    /// The bundle of these sources as a file the preload library can map,
    /// `<rampart_home>/policy.bin`, rewritten (atomically) only when its contents differ, so
    /// running processes keep a consistent mapping.
    pub fn bundle_file(&self, rampart_home: &Path) -> Result<PathBuf, Error> {
        let path = rampart_home.join("policy.bin");
        let in_force = self.open()?;
        let fresh = in_force.bytes();
        if std::fs::read(&path).ok().as_deref() != Some(fresh) {
            let io = |e: std::io::Error, p: &Path| Error::new(format!("{}: {e}", p.display()));
            std::fs::create_dir_all(rampart_home).map_err(|e| io(e, rampart_home))?;
            crate::write::write_atomic(&path, fresh).map_err(|e| io(e, &path))?;
        }
        Ok(path)
    }
}

impl PolicyInForce {
    /// The sources the bundle was made from.
    pub fn sources(&self) -> &Sources {
        &self.sources
    }

    /// The bundle's bytes.
    pub fn bytes(&self) -> &[u8] {
        match &self.backing {
            Backing::Embedded(bytes) => bytes,
            Backing::Compiled(owned) => owned.bytes(),
        }
    }

    /// The bundle, opened without the full validation (sha256 and every DFA, ~10 ms for the
    /// standard profile): both kinds are bytes this build's compiler wrote.
    pub fn bundle(&self) -> Result<Bundle<'_>, Error> {
        let bundle = match &self.backing {
            // SAFETY: build.rs of rampart-policies compiled these bytes into the executable with
            // this build's compiler; nobody could have modified them since.
            Backing::Embedded(bytes) => unsafe { Bundle::open_unchecked(bytes) },
            Backing::Compiled(owned) => owned.bundle(),
        };
        bundle.map_err(|e| Error::new(format!("policy bundle: {e}")))
    }

    /// An evaluator over the bundle.
    pub fn evaluator(&self) -> Result<Evaluator<'_>, Error> {
        Evaluator::new(&self.bundle()?).map_err(|e| Error::new(format!("policy bundle: {e}")))
    }
}
