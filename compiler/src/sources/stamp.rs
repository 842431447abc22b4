//! The record a cached bundle keeps of what it was built from, and the check that it still
//! describes the sources.
//!
//! Why a record beside the bundle rather than a rebuild per process: compiling the standard
//! profile takes hundreds of milliseconds and a hook has half a millisecond. Why not only
//! timestamps: a file rewritten within one tick of the filesystem's clock keeps its mtime, so
//! each file's size, inode, mtime, ctime *and* sha256 are kept. A file whose stat matches and
//! whose ctime lies well before the record was made is unchanged (git's "racily clean" rule);
//! one changed too close to the record, or whose stat differs, is read and hashed, and only a
//! different hash makes the record stale.
//!
//! The record is its own small file (`<key>.stamp`) naming the sha256 of the bundle it goes
//! with (`<key>.bin`, whose header carries the same sha256): the two are replaced one after the
//! other under a lock, and a reader that meets a new bundle with an old record (or the reverse)
//! sees the mismatch and takes the lock, never a mixed pair.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::merge::{hash, policy_listing};

/// The first bytes of a record file (and its version).
const MAGIC: &[u8; 16] = b"rampart-stamp\x00\x00\x01";
/// A file changed less than this before the record was made may change again unnoticed by
/// its timestamps (coarse filesystem clocks: up to 2 s on some), so it is hashed on each check.
const RACY_NS: i128 = 2_000_000_000;

/// What a cached bundle was built from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// The sources' identity ([`super::Sources`]'s key text).
    pub key: String,
    /// The build that compiled it ([`toolchain`]): another rampart recompiles.
    pub toolchain: String,
    /// The sha256 in the header of the bundle this record goes with.
    pub bundle_sha256: [u8; 32],
    /// Wall-clock nanoseconds since the epoch, taken before any source was read.
    pub made_ns: i128,
    /// Every file read, in order.
    pub files: Vec<FileStamp>,
    /// The user directory's policy files when the bundle was built (`None`: no directory).
    pub listing: Option<Vec<String>>,
}

/// One source file as it was read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    /// Absolute path.
    pub path: String,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    /// (seconds, nanoseconds).
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
    pub sha256: [u8; 32],
}

impl FileStamp {
    /// The sha256 as hex.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

/// How a record compares with the sources now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Freshness {
    Fresh,
    /// Fresh, but some file was verified by its hash (racy or touched): writing a new record
    /// would spare later checks the read.
    FreshByHash,
    Stale,
}

impl Stamp {
    /// Encodes the record file.
    pub(super) fn encode(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        // postcard cannot fail on these types; an empty record would only read as stale.
        out.extend(postcard::to_allocvec(self).unwrap_or_default());
        out
    }

    /// Decodes a record file; `None` for anything else (a stale record).
    pub(super) fn decode(bytes: &[u8]) -> Option<Stamp> {
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        postcard::from_bytes(body).ok()
    }

    /// Whether the record still describes `key`'s sources, built by `toolchain`.
    pub(super) fn freshness(
        &self,
        key: &str,
        toolchain: &str,
        user_dir: Option<&Path>,
    ) -> Freshness {
        if self.key != key || self.toolchain != toolchain {
            return Freshness::Stale;
        }
        if user_dir.and_then(policy_listing) != self.listing {
            return Freshness::Stale;
        }
        let mut by_hash = false;
        for file in &self.files {
            match file.check(self.made_ns) {
                Freshness::Fresh => {}
                Freshness::FreshByHash => by_hash = true,
                Freshness::Stale => return Freshness::Stale,
            }
        }
        if by_hash {
            Freshness::FreshByHash
        } else {
            Freshness::Fresh
        }
    }
}

impl FileStamp {
    fn check(&self, made_ns: i128) -> Freshness {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return Freshness::Stale;
        };
        let same = meta.dev() == self.dev
            && meta.ino() == self.ino
            && meta.size() == self.size
            && (meta.mtime(), meta.mtime_nsec()) == self.mtime
            && (meta.ctime(), meta.ctime_nsec()) == self.ctime;
        let ctime_ns = i128::from(self.ctime.0) * 1_000_000_000 + i128::from(self.ctime.1);
        if same && ctime_ns + RACY_NS < made_ns {
            return Freshness::Fresh;
        }
        match std::fs::read(&self.path) {
            Ok(bytes) if hash(&bytes) == self.sha256 => Freshness::FreshByHash,
            _ => Freshness::Stale,
        }
    }
}

/// Nanoseconds since the epoch now (0 before 1970).
pub(super) fn now_ns() -> i128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
}

/// What identifies this build's compiler: its version, the bundle format, and the embedded
/// profile's bundle digest (which changes whenever the compiler's output for it does).
pub(super) fn toolchain(embedded_sha256: &[u8; 32]) -> String {
    format!(
        "rampart-compiler {} format {} embedded {}",
        env!("CARGO_PKG_VERSION"),
        rampart_runtime::bundle::FORMAT_VERSION,
        hex(embedded_sha256)
    )
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
