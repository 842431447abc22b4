//! Editing a policy file in place of its author: removing one rule or one policy, under the
//! file's lock, with an atomic rename, checked by loading the result.
//!
//! Why text surgery rather than loading and re-serialising: the files belong to people (the
//! project policy, a hand-edited `custom.yaml`); their comments, order and quoting must survive a
//! claimed single-use rule. Why checked: a cut that leaves YAML meaning anything other than "the
//! same file without that rule" must not be written, so the result is loaded and compared with
//! the original before it replaces it.

use std::path::{Path, PathBuf};

use super::cache::{io_error, Lock};
use crate::error::Error;
use crate::load::{basename, load_text, read_policy_file};
use crate::model::{PolicySet, SourcePos};
use crate::write::write_atomic;

/// The lock that serialises every edit of `path` (`.<name>.lock` beside it: not a policy file).
pub fn lock_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.lock"))
}

/// Runs `edit` on the text of `path` under its lock; writes what it returns (atomically), if
/// anything. A missing file is edited as empty text.
pub fn edit_file<T>(
    path: &Path,
    edit: impl FnOnce(&str) -> Result<(Option<String>, T), Error>,
) -> Result<T, Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error(dir, &e))?;
    }
    let _lock = Lock::take(&lock_path(path))?;
    let text = if path.exists() {
        read_policy_file(path)?
    } else {
        String::new()
    };
    let (new, out) = edit(&text)?;
    if let Some(new) = new {
        write_atomic(path, new.as_bytes()).map_err(|e| io_error(path, &e))?;
    }
    Ok(out)
}

/// Loads `text` as the file `path` holds.
pub fn load_file_text(path: &Path, text: &str) -> Result<PolicySet, Error> {
    load_text(&path.display().to_string(), &basename(path), text)
}

/// `text` without the list item (a policy or a rule) whose mapping starts at `pos`, checked:
/// the result must load, and `check` must accept the loaded result.
pub fn cut_item(
    path: &Path,
    text: &str,
    pos: &SourcePos,
    check: impl FnOnce(&PolicySet) -> bool,
) -> Result<String, Error> {
    let refuse = |why: &str| Error::at(pos.clone(), format!("cannot remove this item: {why}"));
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let at = (pos.line as usize)
        .checked_sub(1)
        .ok_or_else(|| refuse("no line"))?;
    let line = lines
        .get(at)
        .ok_or_else(|| refuse("past the end of the file"))?;
    let start = (pos.column as usize).saturating_sub(1);
    let prefix = line
        .get(..start)
        .ok_or_else(|| refuse("column out of range"))?;
    let dash = prefix
        .trim_end()
        .strip_suffix('-')
        .filter(|before| before.trim().is_empty())
        .map(str::len)
        .ok_or_else(|| refuse("it is not a block list item (`- ` before it)"))?;
    let end = lines
        .iter()
        .enumerate()
        .skip(at + 1)
        .find(|(_, l)| {
            let body = l.trim_start();
            !body.is_empty() && l.len() - body.len() <= dash
        })
        .map_or(lines.len(), |(i, _)| i);
    let mut out: String = lines.iter().take(at).copied().collect();
    out.extend(lines.iter().skip(end).copied());
    let loaded = load_file_text(path, &out)?;
    if !check(&loaded) {
        return Err(refuse("the file would change in other ways"));
    }
    Ok(out)
}
