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
    if all_printable(cmd.as_bytes()) || !cmd.chars().any(is_removed) {
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

/// Printable ASCII, tab and newline are never removed. Checked eight bytes at a time: the
/// usual command is all printable ASCII, and a byte-by-byte test costs more than copying it.
fn all_printable(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let printable = |c: &u8| matches!(c, 0x20..=0x7e | b'\t' | b'\n');
    let mut chunks = b.chunks_exact(8);
    for chunk in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        let w = u64::from_le_bytes(w);
        // With no high bit set, a byte under 0x20 or equal to 0x7f sets the high bit of its
        // lane in one of these (the classic "has a byte less than n" tests).
        let del = w ^ (0x7f * ONES);
        let odd = (w.wrapping_sub(0x20 * ONES) & !w) | (del.wrapping_sub(ONES) & !del);
        if (w | odd) & HIGH != 0 && !chunk.iter().all(printable) {
            return false;
        }
    }
    chunks.remainder().iter().all(printable)
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
            ("0123456789abcdef\x7f~ ", "0123456789abcdef~ "),
            ("0123456789abc\x1fdef~ !", "0123456789abcdef~ !"),
            ("tab\there\nand newline ~~~~", "tab\there\nand newline ~~~~"),
        ];
        for (src, want) in cases {
            let mut out = String::new();
            sanitize(src, &mut out);
            assert_eq!(out, *want, "{src:?}");
        }
    }

    #[test]
    fn printable_check_agrees_with_a_byte_loop() {
        for n in 0..=255u8 {
            for at in 0..17 {
                let mut b = [b'a'; 17];
                b[at] = n;
                let want = b.iter().all(|c| matches!(c, 0x20..=0x7e | b'\t' | b'\n'));
                assert_eq!(all_printable(&b), want, "{n:#x} at {at}");
            }
        }
    }
}
