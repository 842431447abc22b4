//! Reading and merging the sources into one checked policy set (reference §2.9).
//!
//! Every file is read once, here: its bytes are hashed for the cache's record and loaded from
//! the same buffer, so the record describes exactly what was compiled.
//!
//! The rules, in order:
//! - the primary (`--config`, `./rampart.yaml`) comes first: its `default_action` and `notify`
//!   win, and its policy names win over the user directory's (a clashing user policy is dropped);
//! - the user directory's files load in sorted order; a name defined in two of them is an error
//!   (upstream's exception: `block-self-modification` in standard.yaml and openclaw.yaml);
//! - over an embedded profile, a user policy with the same name replaces the embedded one;
//! - the project policy comes last: its policies are marked as project policies (deny messages
//!   prefixed, and they cannot weaken the default: the evaluator's step 9), a name that clashes
//!   with a global policy is skipped, `action: webhook` is a load error, and its
//!   `default_action` and `notify` are ignored (a project cannot change the user's default).

use std::collections::HashSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::discover::{Primary, Sources};
use super::stamp::FileStamp;
use crate::compile::PROJECT_SOURCE;
use crate::error::Error;
use crate::load::{basename, load_paths, load_str, load_text, merge_file, merge_over};
use crate::model::{Action, PolicySet};

/// A merged policy set and every file it was read from.
pub(super) struct Merged {
    pub set: PolicySet,
    pub files: Vec<FileStamp>,
    /// The user directory's policy files (names), sorted; `None` when it does not exist.
    pub listing: Option<Vec<String>>,
}

/// Reads and merges `sources`.
pub(super) fn merge(sources: &Sources) -> Result<Merged, Error> {
    let mut files = Vec::new();
    let primary = match &sources.primary {
        Primary::Path(p) => Some(read_tree(p, &mut files)?),
        Primary::Paths(ps) if sources.exact => Some(load_paths(ps)?),
        Primary::Paths(ps) => {
            let mut set = PolicySet::default();
            for p in ps {
                merge_file(&mut set, read_tree(p, &mut files)?)?;
            }
            Some(set)
        }
        Primary::Embedded(e) => Some(load_str(&e.source_name(), e.yaml)?),
        Primary::None => None,
    };
    let listing = sources.user_dir.as_deref().and_then(policy_listing);
    let mut user = PolicySet::default();
    if let (Some(dir), Some(names)) = (&sources.user_dir, &listing) {
        for name in names {
            merge_file(&mut user, read_one(&dir.join(name), None, &mut files)?)?;
        }
    }
    let mut set = match (primary, &sources.primary) {
        (Some(embedded), Primary::Embedded(_)) => merge_over(embedded, user),
        (Some(primary), _) => under(primary, user),
        (None, _) => user,
    };
    if let Some(path) = &sources.project {
        let project = read_one(path, Some(PROJECT_SOURCE), &mut files)?;
        add_project(&mut set, project)?;
    }
    Ok(Merged {
        set,
        files,
        listing,
    })
}

/// The policy files of `dir` (`*.yaml`, `*.yml`), sorted; `None` when it cannot be read.
pub(super) fn policy_listing(dir: &Path) -> Option<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml") || n.ends_with(".yml"))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    Some(names)
}

/// `user` under `primary`: the primary's names, default and notify win.
fn under(mut primary: PolicySet, user: PolicySet) -> PolicySet {
    let taken: HashSet<String> = primary
        .policies
        .iter()
        .map(|p| p.name.value.clone())
        .collect();
    primary.default_action = primary.default_action.or(user.default_action);
    primary.notify = primary.notify.or(user.notify);
    primary.policies.extend(
        user.policies
            .into_iter()
            .filter(|p| !taken.contains(&p.name.value)),
    );
    primary.tests.extend(user.tests);
    primary.files.extend(user.files);
    primary
}

fn add_project(set: &mut PolicySet, project: PolicySet) -> Result<(), Error> {
    for p in &project.policies {
        if let Some(rule) = p.rules.iter().find(|r| r.action.value == Action::Webhook) {
            return Err(Error::at(
                rule.action.pos.clone(),
                "project policies may not use action webhook (a repository must not make rampart call out)",
            ));
        }
    }
    let taken: HashSet<String> = set.policies.iter().map(|p| p.name.value.clone()).collect();
    set.policies.extend(
        project
            .policies
            .into_iter()
            .filter(|p| !taken.contains(&p.name.value)),
    );
    set.files.extend(project.files);
    Ok(())
}

/// A file, or a directory's policy files in sorted order, merged.
fn read_tree(path: &Path, files: &mut Vec<FileStamp>) -> Result<PolicySet, Error> {
    if !path.is_dir() {
        return read_one(path, None, files);
    }
    let names = policy_listing(path)
        .ok_or_else(|| Error::new(format!("{}: cannot read the directory", path.display())))?;
    let mut set = PolicySet::default();
    for name in names {
        merge_file(&mut set, read_one(&path.join(name), None, files)?)?;
    }
    Ok(set)
}

/// Reads, records and loads one file. `source` overrides the policies' source (the basename).
fn read_one(
    path: &Path,
    source: Option<&str>,
    files: &mut Vec<FileStamp>,
) -> Result<PolicySet, Error> {
    let (stamp, text) = read_recorded(path)?;
    files.push(stamp);
    let label = path.display().to_string();
    let source = source.map_or_else(|| basename(path), str::to_string);
    load_text(&label, &source, &text)
}

/// The file's identity and contents, the identity taken before the read so that a change
/// during it shows as a stale record later, never as a fresh one.
pub(super) fn read_recorded(path: &Path) -> Result<(FileStamp, String), Error> {
    let io = |e: std::io::Error| Error::new(format!("{}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(io)?;
    let text = crate::load::read_policy_file(path)?;
    let stamp = FileStamp::of(path, &meta, hash(text.as_bytes()));
    Ok((stamp, text))
}

pub(super) fn hash(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// `path` made absolute against the current directory (records name files absolutely).
pub(super) fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl FileStamp {
    pub(super) fn of(path: &Path, meta: &std::fs::Metadata, sha256: [u8; 32]) -> FileStamp {
        FileStamp {
            path: absolute(path).display().to_string(),
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            sha256,
        }
    }
}
