//! Removing what a terminal would hide.
//!
//! An agent (or an attacker feeding it) can hide text from a human reviewer with ANSI escapes or
//! control characters, and a NUL can cut a C string short in one component but not in another.
//! Upstream strips all of them before any matching, so every later stage sees the same bytes:
//! ANSI CSI sequences (`ESC [ params letter`) go whole, NUL and every other control character
//! except `\t` and `\n` go one by one.

use alloc::string::String;

/// Appends the sanitized form of `cmd` to `out`.
pub(crate) fn sanitize(cmd: &str, out: &mut String) {
    // Printable ASCII, tab and newline are never removed; checking bytes is cheaper than chars.
    let printable = |b: u8| matches!(b, 0x20..=0x7e | b'\t' | b'\n');
    if cmd.bytes().all(printable) || !cmd.chars().any(is_removed) {
        out.push_str(cmd);
        return;
    }
    let mut chars = cmd.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c == '\x1b' {
            if let Some(n) = csi_len(&cmd[i..]) {
                while chars.peek().is_some_and(|&(j, _)| j < i + n) {
                    chars.next();
                }
                continue;
            }
        }
        if !is_removed(c) {
            out.push(c);
        }
    }
}

fn is_removed(c: char) -> bool {
    c.is_control() && c != '\t' && c != '\n'
}

/// The length of the CSI sequence at the start of `s` (`ESC [`, parameter and intermediate bytes,
/// a final letter), if there is one.
fn csi_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    if b.get(1) != Some(&b'[') {
        return None;
    }
    let body = b.get(2..)?;
    let n = body.iter().take_while(|c| matches!(c, 0x20..=0x3f)).count();
    match body.get(n) {
        Some(c) if c.is_ascii_alphabetic() => Some(2 + n + 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, &str)] = &[
            ("git status", "git status"),
            ("rm\x00 -rf /", "rm -rf /"),
            ("r\x1b[31mm\x1b[0m -rf /", "rm -rf /"),
            ("rm -rf /\x1b[2K", "rm -rf /"),
            ("a\tb\nc\r\x07d\x7f", "a\tb\ncd"),
            ("x\u{85}y", "xy"),
            ("\x1b[", "["),
            ("\x1bx", "x"),
            ("\x1b[12;", "[12;"),
            ("héllo", "héllo"),
        ];
        for (src, want) in cases {
            let mut out = String::new();
            sanitize(src, &mut out);
            assert_eq!(out, *want, "{src:?}");
        }
    }
}
