//! Splitting a command into segments at its control operators.
//!
//! Upstream checks every segment of a compound command on its own: a deny rule must see
//! `rm -rf /` in `git status && rm -rf /`, and an allow rule must cover both halves. So the
//! splitter cuts at every unquoted, unescaped `&&`, `||`, `;`, `|`, `&` and newline, and drops
//! empty segments. It is deliberately not a parser: `(`, `{` and keywords stay in the segments,
//! and the restrictive stage peels them (see `restrictive::bodies`).
//!
//! A single `&` next to a redirection (`2>&1`, `<&0`, `>&2`, `&>f`) is part of the redirection,
//! not an operator. In the cmd.exe dialect `^` escapes, `'` is an ordinary character and `&>`
//! splits. PowerShell has no background `&` (it is the call operator), so only `;`, `|`, `&&`,
//! `||` and newline split there.

use alloc::vec::Vec;
use core::ops::Range;

use super::tokenize::{byte_set, find_byte, find_where, is_blank};
use crate::invariant::or_closed;

/// Which quoting rules the splitter follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SplitDialect {
    Posix,
    Cmd,
    PowerShell,
    /// No quoting at all: for re-splitting normalized text, whose quotes are already removed, so
    /// any quote left is a literal character that must not hide an operator.
    Literal,
}

/// The bytes some dialect quotes, escapes or splits at.
static INTERESTING: [bool; 256] = byte_set(b"'\"\\^`\n;|&");

/// Appends the trimmed, non-empty segments of `src` to `out` as byte ranges.
pub(crate) fn split(src: &str, dialect: SplitDialect, out: &mut Vec<Range<usize>>) {
    // Room for the segments of most commands at once (a new reader's buffers start empty).
    out.reserve(8);
    let b = src.as_bytes();
    let mut start = 0;
    let mut i = 0;
    loop {
        // Every other byte would fall through to `_ => 0` below.
        i = find_where(b, i, interesting);
        let Some(&c) = b.get(i) else {
            break;
        };
        let quoting = dialect != SplitDialect::Literal;
        let op_len = match (dialect, c) {
            (SplitDialect::Literal, b'\'' | b'"' | b'\\') => 0,
            (SplitDialect::Posix, b'\'') | (SplitDialect::PowerShell, b'\'') => {
                i = (find_byte(b, i + 1, b'\'') + 1).min(b.len());
                continue;
            }
            (_, b'"') if quoting => {
                i = skip_double_quoted(b, i + 1, dialect);
                continue;
            }
            (SplitDialect::Posix, b'\\')
            | (SplitDialect::Cmd, b'^')
            | (SplitDialect::PowerShell, b'`') => {
                i += 2;
                continue;
            }
            (_, b'\n' | b';') => 1,
            (_, b'|') => {
                if b.get(i + 1) == Some(&b'|') {
                    2
                } else {
                    1
                }
            }
            (_, b'&') if b.get(i + 1) == Some(&b'&') => 2,
            (SplitDialect::PowerShell, b'&') => 0,
            (_, b'&') => {
                let before = i.checked_sub(1).and_then(|p| b.get(p));
                let after_redirect = matches!(before, Some(b'>' | b'<'));
                let before_redirect =
                    matches!(dialect, SplitDialect::Posix | SplitDialect::Literal)
                        && b.get(i + 1) == Some(&b'>');
                if after_redirect || before_redirect {
                    0
                } else {
                    1
                }
            }
            _ => 0,
        };
        if op_len == 0 {
            i += 1;
            continue;
        }
        push_trimmed(b, start, i, out);
        i += op_len;
        start = i;
    }
    push_trimmed(b, start, b.len().max(start), out);
}

/// Whether some dialect reads byte `c` (were it missing from the table, yes: the caller's match
/// reads it).
fn interesting(c: u8) -> bool {
    or_closed(INTERESTING.get(usize::from(c)).copied(), true)
}

fn skip_double_quoted(b: &[u8], mut i: usize, dialect: SplitDialect) -> usize {
    let escape = match dialect {
        SplitDialect::Posix => Some(b'\\'),
        SplitDialect::PowerShell => Some(b'`'),
        SplitDialect::Cmd | SplitDialect::Literal => None,
    };
    while let Some(&c) = b.get(i) {
        if Some(c) == escape {
            i += 2;
            continue;
        }
        if c == b'"' {
            return i + 1;
        }
        i += 1;
    }
    b.len()
}

fn push_trimmed(b: &[u8], mut start: usize, mut end: usize, out: &mut Vec<Range<usize>>) {
    end = end.min(b.len());
    let blank_at = |at: usize| b.get(at).is_some_and(|&c| is_blank(c));
    while start < end && blank_at(start) {
        start += 1;
    }
    while end > start && blank_at(end - 1) {
        end -= 1;
    }
    if start < end {
        out.push(start..end);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::String;

    fn segs(src: &str, d: SplitDialect) -> Vec<String> {
        let mut r = Vec::new();
        split(src, d, &mut r);
        r.into_iter().map(|r| src[r].into()).collect()
    }

    #[test]
    fn posix_table() {
        let cases: &[(&str, &[&str])] = &[
            ("git status", &["git status"]),
            (
                "a && b || c; d | e & f\ng",
                &["a", "b", "c", "d", "e", "f", "g"],
            ),
            ("a;;b", &["a", "b"]),
            ("cmd 2>&1 | tail", &["cmd 2>&1", "tail"]),
            ("cmd &> log", &["cmd &> log"]),
            ("cmd <&0 >&2", &["cmd <&0 >&2"]),
            ("nohup rm -rf / &", &["nohup rm -rf /"]),
            ("echo 'a && b' \"c; d\"", &["echo 'a && b' \"c; d\""]),
            ("echo a\\;b", &["echo a\\;b"]),
            ("echo 'open ; x", &["echo 'open ; x"]),
            ("a |& b", &["a", "b"]),
            ("  ; ; ", &[]),
            ("", &[]),
        ];
        for (src, want) in cases {
            assert_eq!(segs(src, SplitDialect::Posix), *want, "{src:?}");
        }
    }

    #[test]
    fn literal_table() {
        let cases: &[(&str, &[&str])] = &[
            ("echo a && b", &["echo a", "b"]),
            (
                "git status x\"y && rm -rf /",
                &["git status x\"y", "rm -rf /"],
            ),
            ("echo it's; rm x", &["echo it's", "rm x"]),
            ("echo a\\;b 2>&1", &["echo a\\", "b 2>&1"]),
        ];
        for (src, want) in cases {
            assert_eq!(segs(src, SplitDialect::Literal), *want, "{src:?}");
        }
    }

    #[test]
    fn cmd_table() {
        let cases: &[(&str, &[&str])] = &[
            ("echo 'a & b'", &["echo 'a", "b'"]),
            ("echo a^&b & c", &["echo a^&b", "c"]),
            ("dir &> x", &["dir", "> x"]),
            ("dir 2>&1 | more", &["dir 2>&1", "more"]),
        ];
        for (src, want) in cases {
            assert_eq!(segs(src, SplitDialect::Cmd), *want, "{src:?}");
        }
    }

    #[test]
    fn powershell_table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "Get-Item x; Remove-Item y",
                &["Get-Item x", "Remove-Item y"],
            ),
            (
                "& 'C:\\x.exe' a | Out-Null",
                &["& 'C:\\x.exe' a", "Out-Null"],
            ),
            ("echo \"a`\";b\"", &["echo \"a`\";b\""]),
        ];
        for (src, want) in cases {
            assert_eq!(segs(src, SplitDialect::PowerShell), *want, "{src:?}");
        }
    }
}
