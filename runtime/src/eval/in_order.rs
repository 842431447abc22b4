//! Literal pieces in order, decided without an automaton.
//!
//! A deny pattern like `*curl*|*sh*` must fire on every command that holds its pieces in order, or
//! an agent walks around it; it must not fire on one that does not, or it blocks honest work. Most
//! unanchored command patterns have this shape: step 5 of upstream's `MatchGlob` (the parts
//! between `*`s occur in order, each literal), and `**` patterns whose parts are literals
//! (`**curl ** | sh`: in order, the last at the end). The compiler used to give each its own DFA,
//! searched over the whole reading whenever the pattern's rarest piece was present: the dearest
//! search of a decision, and the largest share of the bundle. Literal pieces in order need no
//! automaton: the leftmost occurrence of each piece after the previous one decides it exactly
//! (taking a piece any later can only leave less room for the rest), so a substring search per
//! piece suffices; an anchored first or last piece is a prefix or suffix test.
//!
//! The pieces keep the lowered regex's conventions: in a command flavour's pieces a `/` matches
//! `/` or `\` (raw command inputs are matched with `\` read as `/`), every other byte only itself.

use alloc::vec::Vec;

/// Flag of [`encode`]'s first byte: the first piece must start the input.
const AT_START: u8 = 1;
/// Flag of [`encode`]'s first byte: the last piece must end the input.
const AT_END: u8 = 2;
/// Flag of [`encode`]'s first byte: a `/` in a piece also matches `\`.
const EITHER_SEPARATOR: u8 = 4;

/// Where the pieces must lie, and what a `/` in them matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Anchors {
    /// The first piece starts the input.
    pub at_start: bool,
    /// The last piece ends the input.
    pub at_end: bool,
    /// A `/` in a piece also matches `\` (the command flavour).
    pub either_separator: bool,
}

/// The stored form of literal `pieces` (none may contain `*`) that must occur in order: a flag
/// byte (`b'0'` plus [`AT_START`], [`AT_END`] and [`EITHER_SEPARATOR`]), then the pieces joined
/// by `*`.
pub fn encode(anchors: Anchors, pieces: &[&str]) -> Vec<u8> {
    let flags = b'0'
        + u8::from(anchors.at_start) * AT_START
        + u8::from(anchors.at_end) * AT_END
        + u8::from(anchors.either_separator) * EITHER_SEPARATOR;
    let mut out = alloc::vec![flags];
    out.extend_from_slice(pieces.join("*").as_bytes());
    out
}

/// Whether `haystack` holds the pieces `stored` (see [`encode`]) describes.
pub fn matches(stored: &[u8], haystack: &[u8]) -> bool {
    let Some((&flags, joined)) = stored.split_first() else {
        return false;
    };
    let flags = flags.wrapping_sub(b'0');
    let (at_start, at_end) = (flags & AT_START != 0, flags & AT_END != 0);
    let same = if flags & EITHER_SEPARATOR != 0 {
        same_either
    } else {
        same_exact
    };
    let pieces = || joined.split(|&b| b == b'*').filter(|p| !p.is_empty());
    let count = pieces().count();
    let anchored = usize::from(at_start) + usize::from(at_end);
    if count < anchored {
        // `^abc$`: one piece anchored at both ends is the whole input.
        return count == 1
            && pieces().all(|p| p.len() == haystack.len() && starts(haystack, p, same));
    }
    let mut middle = haystack;
    if at_end {
        let Some(last) = pieces().next_back() else {
            return false;
        };
        // Shorter than the piece: no match.
        let Some((rest, end)) = middle.split_at_checked(middle.len().saturating_sub(last.len()))
        else {
            return false;
        };
        if !starts(end, last, same) {
            return false;
        }
        middle = rest;
    }
    if at_start {
        let Some(first) = pieces().next() else {
            return false;
        };
        let Some((head, rest)) = middle.split_at_checked(first.len()) else {
            return false;
        };
        if !starts(head, first, same) {
            return false;
        }
        middle = rest;
    }
    let inner = pieces().skip(usize::from(at_start)).take(count - anchored);
    in_order(inner, middle, same)
}

/// Whether the pattern byte (first) matches the input byte (second).
type Same = fn(u8, u8) -> bool;

fn same_exact(p: u8, h: u8) -> bool {
    p == h
}

fn same_either(p: u8, h: u8) -> bool {
    p == h || (p == b'/' && h == b'\\')
}

/// Whether `pieces` occur in `haystack` in order, without overlapping.
fn in_order<'p>(pieces: impl Iterator<Item = &'p [u8]>, haystack: &[u8], same: Same) -> bool {
    let mut at = 0;
    for piece in pieces {
        let Some(rest) = haystack.get(at..) else {
            return false;
        };
        match find(rest, piece, same) {
            Some(i) => at += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// Whether `haystack` starts with `piece`.
fn starts(haystack: &[u8], piece: &[u8], same: Same) -> bool {
    haystack.len() >= piece.len() && piece.iter().zip(haystack).all(|(&p, &h)| same(p, h))
}

/// Where `piece` (non-empty) first occurs in `haystack`.
fn find(haystack: &[u8], piece: &[u8], same: Same) -> Option<usize> {
    let (&first, tail) = piece.split_first()?;
    let last_start = haystack.len().checked_sub(piece.len())?;
    let mut from = 0;
    while from <= last_start {
        let window = haystack.get(from..=last_start)?;
        let i = from + window.iter().position(|&b| same(first, b))?;
        let after = haystack.get(i + 1..i + piece.len())?;
        if tail.iter().zip(after).all(|(&p, &h)| same(p, h)) {
            return Some(i);
        }
        from = i + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{encode, matches, Anchors};

    fn anchored(at_start: bool, at_end: bool, pieces: &[&str], haystack: &str) -> bool {
        let anchors = Anchors {
            at_start,
            at_end,
            either_separator: true,
        };
        matches(&encode(anchors, pieces), haystack.as_bytes())
    }

    fn anywhere(pieces: &[&str], haystack: &str) -> bool {
        anchored(false, false, pieces, haystack)
    }

    #[test]
    fn pieces_in_order_without_overlap() {
        assert!(anywhere(&["curl", "|", "sh"], "curl -s x | sh"));
        assert!(anywhere(&["curl", "|", "sh"], "curl x |sh"));
        assert!(!anywhere(&["curl", "|", "sh"], "sh | curl"));
        // `aba` then `ab`: the second piece may not reuse the first's bytes.
        assert!(!anywhere(&["aba", "ab"], "xabay"));
        assert!(anywhere(&["aba", "ab"], "abaab"));
        // A later occurrence of the first piece would leave less room: leftmost decides.
        assert!(anywhere(&["ab", "c"], "ab ab c"));
        assert!(anywhere(&["a"], "a"));
        assert!(!anywhere(&["a"], ""));
        assert!(!anywhere(&["long piece"], "short"));
    }

    #[test]
    fn a_slash_matches_either_separator() {
        assert!(anywhere(&["/etc/", "shadow"], "cat \\etc\\shadow"));
        assert!(anywhere(&["/etc/", "shadow"], "cat /etc/shadow"));
        assert!(!anywhere(&["/etc/", "shadow"], "cat |etc|shadow"));
        let exact = encode(Anchors::default(), &["/etc/", "shadow"]);
        assert!(!matches(&exact, b"cat \\etc\\shadow"));
        assert!(matches(&exact, b"cat /etc/shadow"));
    }

    #[test]
    fn anchored_pieces_are_a_prefix_and_a_suffix_that_do_not_overlap() {
        let m = anchored;
        assert!(m(true, false, &["su ", " -c "], "su root -c id"));
        assert!(!m(true, false, &["su ", " -c "], "sudo su root -c id"));
        assert!(m(false, true, &["curl ", "|sh"], "x; curl a |sh"));
        assert!(!m(false, true, &["curl ", "|sh"], "curl a |sh; x"));
        assert!(m(true, true, &["ab", "ba"], "abba"));
        assert!(!m(true, true, &["ab", "ba"], "aba"));
        assert!(m(true, true, &["a", "b", "c"], "a-b-c"));
        assert!(!m(true, true, &["a", "b", "c"], "a-c-b-c-"));
        // One piece anchored at both ends is the whole input.
        assert!(m(true, true, &["abc"], "abc"));
        assert!(!m(true, true, &["abc"], "abcabc"));
        assert!(m(false, true, &["abc"], "xabc"));
        assert!(m(true, false, &["abc"], "abcx"));
        assert!(!m(true, false, &["abc"], "xabc"));
    }

    #[test]
    fn a_damaged_record_matches_nothing() {
        assert!(!matches(b"", b"x"));
        assert!(!matches(b"1", b"x"));
        assert!(!matches(b"3", b""));
    }
}
