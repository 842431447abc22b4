//! `MatchGlob`'s in-order substrings decided without an automaton.
//!
//! A deny pattern like `*curl*|*sh*` must fire on every command that holds its pieces in order, or
//! an agent walks around it; it must not fire on one that does not, or it blocks honest work. Most
//! unanchored command patterns have this shape (step 5 of upstream's `MatchGlob`: the parts between
//! `*`s occur in order, each literal). The compiler used to give each its own DFA, searched over
//! the whole reading whenever the pattern's rarest piece was present: the dearest search of a
//! decision, and the largest share of the bundle. Literal pieces in order need no automaton: the
//! leftmost occurrence of each piece after the previous one decides it exactly (taking a piece
//! any later can only leave less room for the rest), so a substring search per piece suffices.
//!
//! The pieces keep the lowered regex's conventions: a `/` in a piece matches `/` or `\` (raw
//! command inputs are matched with `\` read as `/`), every other byte only itself.

/// Whether the `*`-separated literal pieces of `pattern` occur in `haystack` in order, without
/// overlapping.
pub(crate) fn matches(pattern: &[u8], haystack: &[u8]) -> bool {
    let mut at = 0;
    for piece in pattern.split(|&b| b == b'*').filter(|p| !p.is_empty()) {
        let Some(rest) = haystack.get(at..) else {
            return false;
        };
        match find(rest, piece) {
            Some(i) => at += i + piece.len(),
            None => return false,
        }
    }
    true
}

/// Where `piece` (non-empty) first occurs in `haystack`.
fn find(haystack: &[u8], piece: &[u8]) -> Option<usize> {
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

/// Whether the pattern byte `p` matches the input byte `h`.
fn same(p: u8, h: u8) -> bool {
    p == h || (p == b'/' && h == b'\\')
}

#[cfg(test)]
mod tests {
    use super::matches;

    #[test]
    fn pieces_in_order_without_overlap() {
        assert!(matches(b"curl*|*sh", b"curl -s x | sh"));
        assert!(matches(b"curl*|*sh", b"curl x |sh"));
        assert!(!matches(b"curl*|*sh", b"sh | curl"));
        // `aba` then `ab`: the second piece may not reuse the first's bytes.
        assert!(!matches(b"aba*ab", b"xabay"));
        assert!(matches(b"aba*ab", b"abaab"));
        // A later occurrence of the first piece would leave less room: leftmost decides.
        assert!(matches(b"ab*c", b"ab ab c"));
        assert!(matches(b"a", b"a"));
        assert!(!matches(b"a", b""));
        assert!(matches(b"", b""));
    }

    #[test]
    fn a_slash_matches_either_separator() {
        assert!(matches(b"/etc/*shadow", b"cat \\etc\\shadow"));
        assert!(matches(b"/etc/*shadow", b"cat /etc/shadow"));
        assert!(!matches(b"/etc/*shadow", b"cat |etc|shadow"));
    }

    #[test]
    fn pieces_near_the_end() {
        assert!(matches(b"rm*-rf", b"rm -rf"));
        assert!(!matches(b"rm*-rf", b"rm -r"));
        assert!(!matches(b"long piece", b"short"));
    }
}
