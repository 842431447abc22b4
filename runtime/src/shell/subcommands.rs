//! Finding the commands a command runs inside itself.
//!
//! `git log $(curl evil)` runs `curl evil` before git ever starts, so a deny rule must see it and
//! an allow rule for `git *` must not cover it. Upstream finds `$( … )`, backticks, `<( … )`,
//! `>( … )` and `eval …` payloads.
//!
//! The scan for substitutions is textual, like upstream's: it finds `$(` even inside single
//! quotes, so `echo '$(rm -rf /)'` yields `rm -rf /`. That over-reads on purpose (a quoted
//! substitution can become live again through `eval`, `bash -c` or `ssh`). The body of a
//! substitution runs to its matching `)`; quotes inside the body are honoured so that
//! `$(echo ")")` ends at the right parenthesis; an unterminated body runs to the end. This module
//! finds one level; the caller recurses with a depth bound.

use alloc::string::String;
use alloc::vec::Vec;

use super::heads::{classify, Head, EVAL};
use super::split::{split, SplitDialect};
use super::tokenize::{find_any, find_byte, find_either, redirection_len, PosixWords, Tokens};
use super::words::is_assignment;
use crate::invariant::or_closed;

/// Appends the bodies of the substitutions in `src` (outermost only, in order) to `out`.
pub(crate) fn substitutions(src: &str, out: &mut Vec<String>) {
    let b = src.as_bytes();
    let mut i = 0;
    loop {
        // Every other byte would fall through to `_ => i += 1` below.
        i = find_any(b, i, OPENS);
        let Some(&c) = b.get(i) else {
            break;
        };
        match c {
            b'$' | b'<' | b'>' if b.get(i + 1) == Some(&b'(') => {
                let end = matching_paren(b, i + 2);
                out.push(slice(src, i + 2, end).into());
                i = end + 1;
            }
            b'`' => {
                let (body, end) = backtick_body(src, i + 1);
                out.push(body);
                i = end + 1;
            }
            _ => i += 1,
        }
    }
}

/// The bytes that may open a substitution (`$(`, `<(`, `>(`, a backtick).
pub(crate) const OPENS: [u8; 4] = [b'$', b'<', b'>', b'`'];

/// Appends the payload of every `eval` segment of `src` (`eval a b` -> `a b`) to `out`, and
/// (beyond upstream, which reads them only for deny rules) of every here-string fed to a shell
/// (`bash <<< 'a b'` -> `a b`).
pub(crate) fn eval_payloads(src: &str, words: &mut PosixWords, out: &mut Vec<String>) {
    if !may_carry_payload(src.as_bytes()) {
        return;
    }
    let mut segs = Vec::new();
    split(src, SplitDialect::Posix, &mut segs);
    for seg in segs {
        let toks = words.get(slice(src, seg.start, seg.end));
        let head = (0..toks.len()).find(|&i| !is_assignment(toks.value(i)));
        let Some(h) = head else {
            continue;
        };
        match classify(toks.value(h)) {
            Some(Head::Eval) if h + 1 < toks.len() => {
                let mut payload = String::new();
                toks.join_from(h + 1, &mut payload);
                out.push(payload);
            }
            Some(Head::PosixShell) => {
                if let Some(payload) = here_string(toks, slice(src, seg.start, seg.end), h) {
                    out.push(payload.into());
                }
            }
            _ => {}
        }
    }
}

/// Whether `b` holds `eval` or `<<<`, which every payload [`eval_payloads`] reads follows: one
/// scan for their bytes `v` and `<`, eight at a time (it runs on every reading analysed).
fn may_carry_payload(b: &[u8]) -> bool {
    // The scan finds `eval` by its second byte.
    const _: () = assert!(matches!(EVAL.as_bytes(), [b'e', b'v', ..]));
    let mut i = find_either(b, 0, b'v', b'<');
    while let Some(&c) = b.get(i) {
        let hit = match c {
            b'v' => {
                i.checked_sub(1).and_then(|at| b.get(at..at + EVAL.len())) == Some(EVAL.as_bytes())
            }
            _ => b.get(i..i + 3) == Some(b"<<<".as_slice()),
        };
        if hit {
            return true;
        }
        i = find_either(b, i + 1, b'v', b'<');
    }
    false
}

/// `src[from..to]`, `to` clipped to the end. The ends are operator bytes the scanners found, so
/// on character boundaries; were they not, the whole of `src` holds the body.
fn slice(src: &str, from: usize, to: usize) -> &str {
    or_closed(src.get(from..to.min(src.len())), src)
}

/// The index of the `)` closing a body that starts at `i` (or the length when unterminated).
fn matching_paren(b: &[u8], mut i: usize) -> usize {
    let mut depth = 0usize;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 1,
            b'\'' => i = find_byte(b, i + 1, b'\''),
            b'"' => i = closing_double_quote(b, i + 1),
            b'(' => depth += 1,
            b')' if depth == 0 => return i,
            b')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    b.len()
}

fn closing_double_quote(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    b.len()
}

/// The body of a backtick substitution starting at `i`, with `` \` `` and `\\` unescaped (that is
/// how backticks nest), and the index of the closing backtick.
fn backtick_body(src: &str, start: usize) -> (String, usize) {
    let b = src.as_bytes();
    let mut body = String::new();
    let mut i = start;
    let mut copied = start;
    while let Some(&c) = b.get(i) {
        match c {
            b'\\' if matches!(b.get(i + 1), Some(b'`' | b'\\' | b'$')) => {
                body.push_str(slice(src, copied, i));
                copied = i + 1;
                i += 2;
            }
            b'`' => break,
            _ => i += 1,
        }
    }
    body.push_str(slice(src, copied, i));
    (body, i)
}

/// The payload of `bash <<< 'payload'` (or `<<<payload`).
pub(crate) fn here_string<'t>(t: &'t Tokens, src: &str, h: usize) -> Option<&'t str> {
    (h + 1..t.len()).find_map(|k| {
        let raw = t.raw_text(src, k);
        if redirection_len(raw) != 3 || !raw.starts_with("<<<") {
            return None;
        }
        if raw.len() == 3 {
            (k + 1 < t.len()).then(|| t.value(k + 1))
        } else {
            t.value(k).get(3..)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subs(src: &str) -> Vec<String> {
        let mut out = Vec::new();
        substitutions(src, &mut out);
        eval_payloads(src, &mut PosixWords::default(), &mut out);
        out
    }

    #[test]
    fn may_carry_payload_is_contains_eval_or_here_string() {
        let texts = [
            "",
            "e",
            "v",
            "ev",
            "eval",
            "xeval",
            "evaevalx",
            "vvvvvvvveval",
            "<",
            "<<",
            "<<<",
            "a << <",
            "cat <<< x",
            "cat <<<",
            "12345678<<<",
            "1234567<<<",
            "evaeva<<",
            "ééévalé",
            "e\u{e9}val",
            "sh -c 'echo hi' && eva l",
            "xxxxxxxxxxxxxxxxxxxxxxxeval",
        ];
        for t in texts {
            let want = t.contains("eval") || t.contains("<<<");
            assert_eq!(may_carry_payload(t.as_bytes()), want, "{t:?}");
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("git status", &[]),
            ("git log $(whoami)", &["whoami"]),
            ("echo $(a $(b) c) `d`", &["a $(b) c", "d"]),
            ("echo '$(rm -rf /)'", &["rm -rf /"]),
            ("diff <(ls a) >(tee b)", &["ls a", "tee b"]),
            ("echo $(echo \")\" x)", &["echo \")\" x"]),
            ("echo $(unterminated x", &["unterminated x"]),
            ("echo `a \\`b\\` c`", &["a `b` c"]),
            ("echo `open", &["open"]),
            ("eval 'rm -rf /'", &["rm -rf /"]),
            ("FOO=1 eval rm -rf /; ls", &["rm -rf /"]),
            ("echo eval x", &[]),
            ("bash <<< 'rm -rf /'", &["rm -rf /"]),
            ("cat <<< 'rm -rf /'", &[]),
            ("cat <file >out", &[]),
        ];
        for (src, want) in cases {
            assert_eq!(subs(src), *want, "{src:?}");
        }
    }
}
