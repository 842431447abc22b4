//! `verify --against FILE`: does the log still begin with what a kept checkpoint signed?
//!
//! This is the check that catches a whole-log rewrite. The chain of a rewritten log verifies (the
//! rewriter recomputed every hash), but its first N records no longer have the root the person's
//! copy of the checkpoint pins, and the rewriter cannot sign a new checkpoint that the person's
//! copy accepts without the key, which a key swap shows. When the prefix matches, an RFC 6962
//! consistency proof from the checkpoint's tree to the current one is built and checked, which is
//! exactly what a witness holding only the two roots would verify.

use std::fmt;
use std::path::Path;

use crate::checkpoint::{Checkpoint, NoteError, VerifierKey};
use crate::merkle;
use crate::verify::{self, Report, VerifyError, VerifyOptions};

/// The log extends the checkpoint.
#[derive(Clone, Debug)]
pub struct Extends {
    pub checkpoint: Checkpoint,
    pub log_size: u64,
    /// Hashes in the consistency proof that was built and verified.
    pub proof_len: usize,
    /// Whether the checkpoint names this directory's log (a copied log has another origin).
    pub same_origin: bool,
    pub report: Report,
}

/// Why the log does not extend the checkpoint.
#[derive(Clone, Debug)]
pub enum Diverged {
    /// The checkpoint is not a valid note signed by the log's key.
    Note(NoteError),
    /// The log itself does not verify.
    Chain(VerifyError),
    /// The log has fewer events than the checkpoint covers.
    Shorter { checkpoint: u64, log: u64 },
    /// The first `size` events hash to another root.
    Rewritten {
        size: u64,
        /// The files holding those events.
        files: Vec<String>,
    },
    /// The prefix matches but the proof does not verify (a bug, or a changed tree rule).
    BadProof,
}

impl fmt::Display for Diverged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Diverged::Note(e) => write!(f, "audit: the checkpoint is {e}"),
            Diverged::Chain(e) => write!(f, "{e}"),
            Diverged::Shorter { checkpoint, log } => write!(
                f,
                "audit: LOG REWRITTEN: the checkpoint covers {checkpoint} events but the log has only {log}: events were removed"
            ),
            Diverged::Rewritten { size, files } => write!(
                f,
                "audit: LOG REWRITTEN: its first {size} events no longer match the checkpoint's root; the rewritten events are among those in {}",
                files.join(", ")
            ),
            Diverged::BadProof => write!(f, "audit: the consistency proof does not verify"),
        }
    }
}

/// Checks that the log in `dir` extends the checkpoint in `note`, signed by `key`.
pub fn against(dir: &Path, note: &str, key: &VerifierKey) -> Result<Extends, Diverged> {
    let checkpoint = Checkpoint::open(note, key).map_err(Diverged::Note)?;
    let opts = VerifyOptions {
        key: Some(key.clone()),
        keep_leaves: true,
        ..VerifyOptions::default()
    };
    let report = verify::verify(dir, &opts).map_err(Diverged::Chain)?;
    let m = checkpoint.size;
    let n = report.events;
    if m > n {
        return Err(Diverged::Shorter {
            checkpoint: m,
            log: n,
        });
    }
    let prefix = report
        .leaves
        .get(..usize::try_from(m).unwrap_or(usize::MAX))
        .unwrap_or_default();
    if merkle::root(prefix) != checkpoint.root {
        let files = report
            .file_spans
            .iter()
            .filter(|(_, first, _)| *first < m)
            .map(|(name, _, _)| name.clone())
            .collect();
        return Err(Diverged::Rewritten { size: m, files });
    }
    let proof = merkle::consistency_proof(prefix.len(), &report.leaves);
    let now = merkle::root(&report.leaves);
    if !merkle::verify_consistency(m, n, &checkpoint.root, &now, &proof) {
        return Err(Diverged::BadProof);
    }
    let same_origin = checkpoint.origin == crate::checkpoint::origin(&key.name, dir);
    Ok(Extends {
        checkpoint,
        log_size: n,
        proof_len: proof.len(),
        same_origin,
        report,
    })
}
