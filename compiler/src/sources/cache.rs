//! The cached bundle of a set of sources: opened when fresh, rebuilt under a lock when not.
//!
//! Files, in `~/.rampart/cache/`, per set of sources (the key is a digest of what identifies
//! them, [`Sources`]'s key text, not of their contents, so that a recompile replaces the file a
//! running preload maps):
//! - `<key>.bin`: the bundle, replaced by rename (never truncated in place: a mapped file that
//!   shrinks kills its readers with SIGBUS);
//! - `<key>.stamp`: what it was built from ([`Stamp`]);
//! - `<key>.lock`: held (`flock`) while rebuilding, so that two processes racing compile once
//!   and never interleave their writes.
//!
//! A fresh open reads the record, checks every source file's stat (and hashes the few that
//! changed too recently to trust their timestamps), lists the user directory, and maps the
//! bundle without validating its automata: the bundle was written by this build (the record
//! names the build) and its header's sha256 must be the one the record names. Anything that
//! does not check out (no record, a corrupt record or bundle, another build's record, a changed
//! source) is a rebuild, and a rebuild that fails is an error: never a stale or partial policy.

use std::fs::OpenOptions;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use rampart_runtime::bundle::{Bundle, MappedBundle};

use super::discover::{Primary, Sources};
use super::in_force::{Backing, PolicyInForce};
use super::merge::{hash, merge};
use super::stamp::{hex, now_ns, toolchain, Freshness, Stamp};
use crate::error::Error;
use crate::write::write_atomic;

/// The three files of one set of sources.
pub(super) struct CacheFiles {
    pub bundle: PathBuf,
    pub stamp: PathBuf,
    pub lock: PathBuf,
}

impl CacheFiles {
    fn of(dir: &Path, key_text: &str) -> CacheFiles {
        let key = hex(hash(key_text.as_bytes()).get(..10).unwrap_or_default());
        CacheFiles {
            bundle: dir.join(format!("{key}.bin")),
            stamp: dir.join(format!("{key}.stamp")),
            lock: dir.join(format!("{key}.lock")),
        }
    }
}

/// Opens the policy in force of `sources`: the embedded profile's own bundle when nothing on
/// disk adds to it, else the cached bundle when fresh, rebuilt when not.
pub(super) fn open(sources: &Sources) -> Result<PolicyInForce, Error> {
    if let Primary::Embedded(e) = &sources.primary {
        let listing = sources
            .user_dir
            .as_deref()
            .and_then(super::merge::policy_listing);
        if sources.project.is_none() && listing.is_none_or(|names| names.is_empty()) {
            return Ok(PolicyInForce::new(
                Backing::Embedded(e.bundle),
                sources.clone(),
                None,
                None,
            ));
        }
    }
    open_file(sources)
}

/// The cached bundle of `sources` as a file (the preload library maps it), rebuilt when stale.
/// Sources that are not cached are opened in memory.
pub(super) fn open_file(sources: &Sources) -> Result<PolicyInForce, Error> {
    let (Some(dir), Some(fallback)) = (&sources.cache_dir, sources.fallback) else {
        return in_memory(sources);
    };
    let key = sources.key_text();
    let files = CacheFiles::of(dir, &key);
    let toolchain = toolchain(&embedded_sha256(fallback.bundle)?);
    if let Some(fresh) = try_fresh(sources, &files, &key, &toolchain) {
        return Ok(fresh);
    }
    std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    let _lock = Lock::take(&files.lock)?;
    // Another process may have rebuilt while this one waited.
    if let Some(fresh) = try_fresh(sources, &files, &key, &toolchain) {
        return Ok(fresh);
    }
    rebuild(sources, &files, key, toolchain)
}

/// The cached bundle of `sources` as it stands, without rebuilding it: for `status` and
/// `doctor`, which report on the cache and must not change it. `None` when these sources are
/// not cached (the embedded profile alone, or no home directory).
pub(super) fn peek(sources: &Sources) -> Option<CacheState> {
    let (Some(dir), Some(fallback)) = (&sources.cache_dir, sources.fallback) else {
        return None;
    };
    let key = sources.key_text();
    let files = CacheFiles::of(dir, &key);
    let built = std::fs::metadata(&files.bundle)
        .and_then(|m| m.modified())
        .ok();
    let fresh = built.is_some()
        && embedded_sha256(fallback.bundle)
            .ok()
            .and_then(|sha| try_fresh(sources, &files, &key, &toolchain(&sha)))
            .is_some();
    Some(CacheState {
        file: files.bundle,
        built,
        fresh,
    })
}

/// What [`peek`] found.
#[derive(Clone, Debug)]
pub struct CacheState {
    /// Where the bundle of these sources is cached (`~/.rampart/cache/<key>.bin`).
    pub file: PathBuf,
    /// When it was last written; `None` when there is no bundle yet.
    pub built: Option<std::time::SystemTime>,
    /// Whether its record still describes the sources (the next open maps it as it is).
    pub fresh: bool,
}

/// The cached bundle, if its record still describes the sources.
fn try_fresh(
    sources: &Sources,
    files: &CacheFiles,
    key: &str,
    toolchain: &str,
) -> Option<PolicyInForce> {
    let stamp = Stamp::decode(&std::fs::read(&files.stamp).ok()?)?;
    if stamp.freshness(key, toolchain, sources.user_dir.as_deref()) == Freshness::Stale {
        return None;
    }
    // SAFETY: this build wrote the file (the record names the build), atomically and never in
    // place; the header's sha256 must be the record's, so a bundle and a record from two
    // rebuilds are never paired.
    let mapped = unsafe { MappedBundle::open_unchecked(&files.bundle) }.ok()?;
    let sha = mapped.bundle().ok()?.header().payload_sha256;
    if sha != stamp.bundle_sha256 {
        return None;
    }
    Some(PolicyInForce::new(
        Backing::Mapped(mapped),
        sources.clone(),
        Some(stamp),
        Some(files.bundle.clone()),
    ))
}

/// Compiles the sources and replaces the cached bundle and its record (the caller holds the lock).
fn rebuild(
    sources: &Sources,
    files: &CacheFiles,
    key: String,
    toolchain: String,
) -> Result<PolicyInForce, Error> {
    let made_ns = now_ns();
    let merged = merge(sources)?;
    let bytes = match (&sources.primary, merged.files.is_empty()) {
        // Nothing on disk: the embedded profile's own bundle.
        (Primary::Embedded(e), true) => e.bundle.to_vec(),
        _ => crate::compile(&merged.set)?.bytes,
    };
    // SAFETY: bytes this process compiled just now, or the embedded profile's.
    let sha = unsafe { Bundle::open_unchecked(&bytes) }
        .map_err(|e| Error::new(format!("policy bundle: {e}")))?
        .header()
        .payload_sha256;
    let stamp = Stamp {
        key,
        toolchain,
        bundle_sha256: sha,
        made_ns,
        files: merged.files,
        listing: merged.listing,
    };
    write_atomic(&files.bundle, &bytes).map_err(|e| io_error(&files.bundle, &e))?;
    write_atomic(&files.stamp, &stamp.encode()).map_err(|e| io_error(&files.stamp, &e))?;
    // SAFETY: written just now by this process, from bytes it compiled.
    let mapped = unsafe { MappedBundle::open_unchecked(&files.bundle) }
        .map_err(|e| Error::new(format!("{}: {e}", files.bundle.display())))?;
    Ok(PolicyInForce::new(
        Backing::Mapped(mapped),
        sources.clone(),
        Some(stamp),
        Some(files.bundle.clone()),
    ))
}

/// Sources that are not cached (given exactly, or no home directory): the embedded bundle as
/// it is, anything else compiled in this process.
fn in_memory(sources: &Sources) -> Result<PolicyInForce, Error> {
    if let (Primary::Embedded(e), true) = (&sources.primary, sources.exact) {
        return Ok(PolicyInForce::new(
            Backing::Embedded(e.bundle),
            sources.clone(),
            None,
            None,
        ));
    }
    let merged = merge(sources)?;
    let compiled = crate::compile(&merged.set)?;
    // SAFETY: the compiler of this very process wrote these bytes just now.
    let owned = unsafe { rampart_runtime::bundle::OwnedBundle::open_unchecked(&compiled.bytes) }
        .map_err(|e| Error::new(format!("policy bundle: {e}")))?;
    let stamp = Stamp {
        files: merged.files,
        listing: merged.listing,
        ..Stamp::default()
    };
    Ok(PolicyInForce::new(
        Backing::Owned(owned),
        sources.clone(),
        Some(stamp),
        None,
    ))
}

fn embedded_sha256(bundle: &'static [u8]) -> Result<[u8; 32], Error> {
    // SAFETY: compiled into the executable by this build (rampart-policies' build script).
    let parsed = unsafe { Bundle::open_unchecked(bundle) }
        .map_err(|e| Error::new(format!("embedded policy bundle: {e}")))?;
    Ok(parsed.header().payload_sha256)
}

pub(super) fn io_error(path: &Path, e: &std::io::Error) -> Error {
    Error::new(format!("{}: {e}", path.display()))
}

/// An exclusive `flock` on a lock file, released when dropped (or when the process dies).
pub(super) struct Lock {
    _file: std::fs::File,
}

impl Lock {
    /// Waits for the lock on `path` (created if missing).
    pub(super) fn take(path: &Path) -> Result<Lock, Error> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| io_error(path, &e))?;
        loop {
            // SAFETY: flock on a descriptor this function owns.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(Lock { _file: file });
            }
            let e = std::io::Error::last_os_error();
            if e.kind() != std::io::ErrorKind::Interrupted {
                return Err(io_error(path, &e));
            }
        }
    }
}
