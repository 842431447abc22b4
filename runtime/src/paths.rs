//! Path candidates (reference §2.7): the forms of one path that path rules must consider.
//!
//! A path can name the same file in several spellings: `/etc/../etc/shadow`, `notes.txt` under
//! workdir `/etc`, or a symlink into `~/.ssh`. Restrictive rules match when ANY candidate matches,
//! granting rules need ALL candidates covered, so a grant can never be obtained by choosing the
//! harmless spelling. Candidates are: the cleaned path (joined onto the workdir when relative),
//! the symlink-resolved path if it differs, and the cleaned relative path as written when a
//! workdir was given. No `~` or `$HOME` expansion happens, as upstream.

use alloc::string::String;
use alloc::vec::Vec;

/// Resolves symlinks for a cleaned path. The evaluator has no filesystem in no_std; the std
/// implementation is [`FsResolver`].
pub trait PathResolver {
    /// The path with its deepest existing ancestor resolved, the missing tail re-appended; `None`
    /// when nothing could be resolved.
    fn resolve(&self, cleaned: &str) -> Option<String>;

    /// The program a command's head runs when it is a link to a file of another name (`./t` ->
    /// `/usr/bin/touch`): `head` as written (a path, or a bare name looked up in `$PATH`),
    /// relative paths against `workdir`. `None` when it is no such link.
    fn linked_program(&self, _head: &str, _workdir: Option<&str>) -> Option<String> {
        None
    }
}

/// Go's `path.Clean`: resolves `.`, `..` and repeated slashes lexically.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let body = parts.join("/");
    match (rooted, body.is_empty()) {
        (true, _) => alloc::format!("/{body}"),
        (false, true) => String::from("."),
        (false, false) => body,
    }
}

/// The candidates of `raw` (backslashes already allowed: they are turned into `/` here).
pub fn candidates(
    raw: &str,
    workdir: Option<&str>,
    resolver: Option<&dyn PathResolver>,
) -> Vec<String> {
    let path = raw.replace('\\', "/");
    let relative = !path.starts_with('/');
    let workdir = workdir
        .map(|w| w.replace('\\', "/"))
        .filter(|w| !w.is_empty());
    let joined = match (&workdir, relative) {
        (Some(w), true) => clean(&alloc::format!("{w}/{path}")),
        _ => clean(&path),
    };
    let mut out = Vec::with_capacity(3);
    if let Some(resolved) = resolver.and_then(|r| r.resolve(&joined)) {
        let resolved = clean(&resolved);
        out.push(joined);
        if !out.contains(&resolved) {
            out.push(resolved);
        }
    } else {
        out.push(joined);
    }
    if workdir.is_some() && relative {
        let rel = clean(&path);
        if !out.contains(&rel) {
            out.push(rel);
        }
    }
    out
}

/// Resolves symlinks with the real filesystem: the deepest existing ancestor goes through
/// `std::fs::canonicalize` and the missing tail is re-appended (so a symlinked parent of a file
/// that does not exist yet still counts). Relative paths resolve against the process cwd.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default)]
pub struct FsResolver;

#[cfg(feature = "std")]
impl PathResolver for FsResolver {
    fn linked_program(&self, head: &str, workdir: Option<&str>) -> Option<String> {
        use std::path::{Path, PathBuf};
        let path: PathBuf = if head.contains('/') {
            match workdir {
                Some(dir) if !head.starts_with('/') => Path::new(dir).join(head),
                _ => PathBuf::from(head),
            }
        } else {
            let paths = std::env::var_os("PATH")?;
            std::env::split_paths(&paths)
                .map(|d| d.join(head))
                .find(|p| p.is_file())?
        };
        if !std::fs::symlink_metadata(&path)
            .ok()?
            .file_type()
            .is_symlink()
        {
            return None;
        }
        let real = std::fs::canonicalize(&path).ok()?;
        let name = |p: &Path| p.file_name().map(|n| n.to_os_string());
        (name(&real) != name(Path::new(head))).then(|| real.to_str().map(String::from))?
    }

    fn resolve(&self, cleaned: &str) -> Option<String> {
        use std::path::Path;
        let mut existing = Path::new(cleaned);
        let mut tail: Vec<&std::ffi::OsStr> = Vec::new();
        loop {
            if let Ok(real) = std::fs::canonicalize(existing) {
                let mut full = real;
                full.extend(tail.iter().rev());
                return full.to_str().map(String::from);
            }
            tail.push(existing.file_name()?);
            existing = existing.parent()?;
            if existing.as_os_str().is_empty() {
                existing = Path::new(".");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        let cases = [
            ("", "."),
            ("/", "/"),
            ("//", "/"),
            ("/etc/../etc/shadow", "/etc/shadow"),
            ("/./tmp//x/", "/tmp/x"),
            ("/..", "/"),
            ("../a/../..", "../.."),
            ("a/./b", "a/b"),
            ("~/.ssh/id_rsa", "~/.ssh/id_rsa"),
        ];
        for (input, want) in cases {
            assert_eq!(clean(input), want, "{input}");
        }
    }

    struct Fake;
    impl PathResolver for Fake {
        fn resolve(&self, cleaned: &str) -> Option<String> {
            cleaned
                .strip_prefix("/home/u/link")
                .map(|rest| alloc::format!("/home/u/.ssh{rest}"))
        }
    }

    #[test]
    fn candidates_cover_every_spelling() {
        assert_eq!(
            candidates("notes.txt", Some("/etc"), None),
            ["/etc/notes.txt", "notes.txt"]
        );
        assert_eq!(
            candidates("C:\\Users\\u\\.ssh\\id_rsa", None, None),
            ["C:/Users/u/.ssh/id_rsa"]
        );
        assert_eq!(
            candidates("/home/u/link/id_rsa", None, Some(&Fake)),
            ["/home/u/link/id_rsa", "/home/u/.ssh/id_rsa"]
        );
        assert_eq!(candidates("/a/../b", Some("/w"), Some(&Fake)), ["/b"]);
    }
}
