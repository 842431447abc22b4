//! Path candidates (reference §2.7): the forms of one path that path rules must consider.
//!
//! A path can name the same file in several spellings: `/etc/../etc/shadow`, `notes.txt` under
//! workdir `/etc`, or a symlink into `~/.ssh`. Restrictive rules match when ANY candidate matches,
//! granting rules need ALL candidates covered, so a grant can never be obtained by choosing the
//! harmless spelling. Candidates are: the cleaned path (joined onto the workdir when relative),
//! the symlink-resolved path if it differs, and the cleaned relative path as written when a
//! workdir was given. No `~` or `$HOME` expansion happens, as upstream.
//!
//! # Relative patterns and the workdir
//!
//! Upstream also adjusts the *patterns*: a relative pattern (`secrets/**`, `*.txt`,
//! `../shared/**`) is joined with the workdir when the candidate is absolute, and a candidate
//! matches when the pattern as written or as joined matches it. Without this, a deny written with
//! a relative pattern is bypassed by the absolute spelling of the same file
//! (`/proj/secrets/key` under workdir `/proj`), and a relative grant never covers the absolute
//! candidate that every relative path also has.
//!
//! Patterns are compiled into automata ahead of time; the workdir arrives with the call. So the
//! join is split between the two, exactly:
//!
//! * The compiler ([`crate::program::JoinedPath`]) cleans each relative pattern `P` as Go's
//!   `filepath.Join` would (`C = Clean(P)`), counts the `..` levels `C` starts with (`up`), and
//!   keeps the rest `S` (`.` when nothing is left). For a clean absolute workdir `W`, let `B` be
//!   its ancestor `up` levels up; then `Clean(W + "/" + P)` is `B + "/" + S`, or `B` itself when
//!   `S` is `.` (for `B = /`: `/` + `S`, or `/`). Lexical cleaning commutes this way because `W`
//!   is clean and `S` has no `..` left at its start.
//! * The evaluator ([`below`]) derives from each absolute candidate `A` the part below `B`: for
//!   `A = B + "/" + R` the probe `/` + `R` (for `B = /`: `A` itself), which the automaton of
//!   `/` + `S` (a [`crate::program::Field::JoinedPath`] atom) matches exactly when `B/S` matches
//!   `A`: both are anchored, the text before them is the same literal `B`, and `S` is not at the
//!   start of either pattern, so no leading-`**/` rule applies to one but not the other. When
//!   `A` is `B` itself, only the pattern `B` (nothing left) matches; and under `B = /` the probe
//!   `/` is tried as well (`/**` matches `/`). A candidate neither equal to `B` nor below it
//!   matches no joined pattern, since each starts with the literal `B/`.
//!
//! A pattern that starts with `**` and is already clean needs no join: `W/**X` matching `A`
//! means `**X` matches `A` (the `**` takes `W/` too), so the compiler skips it, and the probe runs
//! only the few patterns that can add a match. Upstream's length limits apply to the joined text
//! (`JoinedPath::limit`). Two deliberate differences, both in what the workdir means: it is taken
//! literally (upstream's joined pattern reads glob characters in a workdir such as `/tmp/[x]` as
//! a glob, so the file actually under it is missed), and a relative workdir joins nothing (it
//! names no directory by itself; upstream can turn `../**/x` under workdir `w` into a pattern
//! matching anywhere).

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

/// The workdir as relative patterns are joined with it: backslashes made `/` and cleaned, as the
/// candidates' joins use it; `None` when it is not absolute (see the module doc).
pub fn join_base(workdir: &str) -> Option<String> {
    let cleaned = clean(&workdir.replace('\\', "/"));
    cleaned.starts_with('/').then_some(cleaned)
}

/// `base` (clean and absolute) `up` levels up: `/a/b` 1 up is `/a`, and `/` stays `/`.
pub fn ancestor(base: &str, up: u32) -> &str {
    let mut at = base;
    for _ in 0..up {
        at = match at.rfind('/') {
            Some(0) | None => "/",
            Some(i) => at.get(..i).unwrap_or("/"),
        };
    }
    at
}

/// Where the absolute candidate `cand` lies against the clean absolute directory `base`: whether
/// it is `base` itself, and the probe the joined patterns are matched against (`/` + the part
/// below `base`; `cand` itself under `/`), if it lies below it.
pub fn below<'c>(cand: &'c str, base: &str) -> (bool, Option<&'c str>) {
    let is_base = cand == base;
    if base == "/" {
        return (is_base, cand.starts_with('/').then_some(cand));
    }
    let probe = cand.strip_prefix(base).filter(|rest| rest.starts_with('/'));
    (is_base, probe)
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
    fn joined_bases_and_probes() {
        assert_eq!(join_base("/proj/./sub/"), Some("/proj/sub".into()));
        assert_eq!(join_base("C:\\proj"), None);
        assert_eq!(join_base("rel"), None);
        assert_eq!(ancestor("/a/b/c", 0), "/a/b/c");
        assert_eq!(ancestor("/a/b/c", 1), "/a/b");
        assert_eq!(ancestor("/a/b/c", 3), "/");
        assert_eq!(ancestor("/a", 5), "/");
        assert_eq!(
            below("/proj/secrets/k", "/proj"),
            (false, Some("/secrets/k"))
        );
        assert_eq!(below("/proj", "/proj"), (true, None));
        assert_eq!(below("/project/x", "/proj"), (false, None));
        assert_eq!(below("/etc/x", "/proj"), (false, None));
        assert_eq!(below("/etc/x", "/"), (false, Some("/etc/x")));
        assert_eq!(below("/", "/"), (true, Some("/")));
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
