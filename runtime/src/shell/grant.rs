//! Grant components: the commands an allow rule has to cover.
//!
//! Upstream 1.4.1 closed `git status && evil` by making allow rules cover every segment, and a
//! substitution runs a command too (`git log $(curl evil)`). So the components are the segments of
//! the normalized command plus, recursively, the normalized segments of every substitution and
//! `eval` payload, in order and without duplicates. `composite` says whether there is more than
//! one segment or any substitution: an explicitly composite pattern may then match the whole.
//!
//! Like upstream, the normalized string is split again, so quotes that vanished in normalization
//! can split a component (`echo 'a && b'` gives `echo a` and `b`). That only ever asks an allow
//! rule to cover more. The re-split ignores quotes: they were removed already, and a literal one
//! left in a word (`git status "x\"y"; rm -rf /` normalizes to `git status x"y && rm -rf /`) must
//! not hide the next segment inside a fake quotation.

use alloc::string::String;
use alloc::vec::Vec;

use super::plain::PlainText;
use super::set::{Dedup, Texts};
use super::split::{split, SplitDialect};
use super::subcommands::{eval_payloads, substitutions, OPENS};
use super::tokenize::find_any;
use super::Scratch;
use crate::invariant::checked;

/// Substitution nesting beyond this is not read; the reading fails closed.
pub(crate) const MAX_SUBSTITUTION_DEPTH: usize = 16;

/// Fills `normalized` and appends the components of `cmd`, whose fast-path reading is `plain`,
/// to `comps`. Returns `composite`.
pub(crate) fn analyze(
    cmd: &str,
    plain: Option<&PlainText>,
    sc: &mut Scratch,
    normalized: &mut String,
    comps: &mut Texts,
    set: &mut Dedup,
) -> bool {
    normalized.clear();
    if let Some(plain) = plain {
        normalized.push_str(plain.normalized());
        for comp in plain.components() {
            set.insert(comps, comp);
        }
        return plain.segments() > 1;
    }
    sc.norm.command(cmd, normalized);
    sc.posix_segs.clear();
    sc.posix_segs.extend_from_slice(sc.norm.segments());
    let segments = push_segments(normalized, sc, comps, set);
    let subs = substitution_components(cmd, sc, comps, set, 1);
    segments > 1 || subs
}

/// Appends the components of every substitution in `cmd`; true when there was one.
pub(crate) fn substitution_components(
    cmd: &str,
    sc: &mut Scratch,
    comps: &mut Texts,
    set: &mut Dedup,
    depth: usize,
) -> bool {
    let mut subs = Vec::new();
    let b = cmd.as_bytes();
    if find_any(b, 0, OPENS) < b.len() {
        substitutions(cmd, &mut subs);
    }
    eval_payloads(cmd, &mut sc.posix, &mut subs);
    if subs.is_empty() {
        return false;
    }
    if depth > MAX_SUBSTITUTION_DEPTH {
        sc.overflow = true;
        return true;
    }
    let mut normalized = String::new();
    for sub in &subs {
        sc.work += sub.len();
        normalized.clear();
        sc.norm.command(sub, &mut normalized);
        push_segments(&normalized, sc, comps, set);
        substitution_components(sub, sc, comps, set, depth + 1);
    }
    true
}

/// Pushes the POSIX segments of `normalized`; returns how many there were.
fn push_segments(normalized: &str, sc: &mut Scratch, comps: &mut Texts, set: &mut Dedup) -> usize {
    sc.segs.clear();
    split(normalized, SplitDialect::Literal, &mut sc.segs);
    for seg in &sc.segs {
        // A range that does not cut the text is a bug: every restrictive rule matches instead.
        match checked(normalized.get(seg.clone())) {
            Some(seg) => {
                set.insert(comps, seg);
            }
            None => sc.overflow = true,
        }
    }
    sc.segs.len()
}

#[cfg(test)]
mod tests {
    use super::super::plain::PlainReader;
    use super::*;

    fn grant(cmd: &str) -> (String, Texts, bool) {
        let mut sc = Scratch::default();
        let mut n = String::new();
        let mut comps = Texts::default();
        let mut plain = PlainReader::default();
        let composite = analyze(
            cmd,
            plain.read(cmd),
            &mut sc,
            &mut n,
            &mut comps,
            &mut Dedup::default(),
        );
        (n, comps, composite)
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str], bool)] = &[
            ("git status", &["git status"], false),
            ("git status && git log", &["git status", "git log"], true),
            ("git status && git status", &["git status"], true),
            ("git log $(whoami)", &["git log $(whoami)", "whoami"], true),
            ("echo $(a $(b))", &["echo $(a $(b))", "a $(b)", "b"], true),
            ("echo 'a && b'", &["echo a", "b"], true),
            ("bash -c 'rm -rf / && ls'", &["rm -rf /", "ls"], true),
            ("sudo git status", &["sudo git status"], false),
            ("eval 'rm -rf /'", &["eval rm -rf /", "rm -rf /"], true),
            (
                "FOO=1 npm test | tee out.log",
                &["npm test", "tee out.log"],
                true,
            ),
            ("cat <(ls) | grep x", &["cat <(ls)", "grep x", "ls"], true),
            (
                "git status \"x\\\"y\"; rm -rf /",
                &["git status x\"y", "rm -rf /"],
                true,
            ),
            (
                "bash -c 'git status \"x\\\"y\" && rm -rf /'",
                &["git status x\"y", "rm -rf /"],
                true,
            ),
        ];
        for (cmd, want, composite) in cases {
            let (_, comps, c) = grant(cmd);
            assert_eq!(comps, *want, "{cmd:?}");
            assert_eq!(c, *composite, "{cmd:?}");
        }
    }

    #[test]
    fn deep_substitutions_fail_closed() {
        let cmd = "$(".repeat(4000);
        let mut sc = Scratch::default();
        analyze(
            &cmd,
            None,
            &mut sc,
            &mut String::new(),
            &mut Texts::default(),
            &mut Dedup::default(),
        );
        assert!(sc.overflow);
    }
}
