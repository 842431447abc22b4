//! Classifying single words: assignments, variable names, paths.
//!
//! Several stages ask the same questions about a word ("is this `NAME=value`?", "what is this
//! head without its directory?"); answering them in one place keeps the stages agreeing. Which
//! command names are special is [`heads`](super::heads)' question.

/// `NAME=value` with a POSIX variable name.
pub(crate) fn is_assignment(word: &str) -> bool {
    assignment_name(word).is_some()
}

/// The `NAME` of `NAME=value` (also `NAME+=value`), if `word` is an assignment.
pub(crate) fn assignment_name(word: &str) -> Option<&str> {
    // A byte loop: `str::find` sets up a general search, which costs more than these short words.
    let eq = word.bytes().position(|c| c == b'=')?;
    let before = word.get(..eq)?;
    let name = before.strip_suffix('+').unwrap_or(before);
    is_name(name).then_some(name)
}

/// A POSIX variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub(crate) fn is_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// The last path component of a command name (`/bin/rm` -> `rm`, `C:\x\cmd.exe` -> `cmd.exe`).
pub(crate) fn basename(word: &str) -> &str {
    // Both separators are ASCII, so the byte after one is a character boundary.
    match word.bytes().rposition(|c| c == b'/' || c == b'\\') {
        Some(i) => word.get(i + 1..).unwrap_or(""),
        None => word,
    }
}

/// `haystack` contains `needle`, ASCII case ignored.
pub(crate) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    let Some((first, rest)) = n.split_first() else {
        return true;
    };
    // Compare whole windows only where the first byte matches.
    h.iter().enumerate().any(|(i, c)| {
        c.eq_ignore_ascii_case(first)
            && h.get(i + 1..i + n.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(rest))
    })
}

/// The first whitespace-delimited word of `s`, with simple quotes removed: enough to pick a
/// dialect before tokenizing.
pub(crate) fn head_word(s: &str) -> &str {
    let s = s.trim_start();
    // The three blanks are ASCII: a byte scan finds what `str::find` does, without its
    // per-character search.
    let end = s
        .bytes()
        .position(|c| matches!(c, b' ' | b'\t' | b'\n'))
        .unwrap_or(s.len());
    s[..end].trim_matches(['"', '\''])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assignments() {
        for (w, name) in [
            ("FOO=bar", Some("FOO")),
            ("_x1=", Some("_x1")),
            ("PATH+=:/x", Some("PATH")),
            ("1X=y", None),
            ("=y", None),
            ("a-b=c", None),
            ("--opt=x", None),
            ("plain", None),
        ] {
            assert_eq!(assignment_name(w), name, "{w}");
        }
    }

    #[test]
    fn words_and_substrings() {
        assert_eq!(basename("/bin/rm"), "rm");
        assert_eq!(basename("C:\\Windows\\cmd.exe"), "cmd.exe");
        assert_eq!(head_word("  'bash' -c x"), "bash");
    }
}
