//! Byte and string helpers for C strings: lossy UTF-8, JSON escaping, C-array walking.

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{c_char, CStr};

use rampart_runtime::invariant::or_closed;

/// Bytes as UTF-8, with each invalid byte replaced by U+FFFD. C strings are bytes; the shell model
/// and the evaluator read text.
pub fn lossy(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for _ in chunk.invalid() {
            out.push(char::REPLACEMENT_CHARACTER);
        }
    }
    out
}

/// Upstream's JSON string escaping (§4.2): `"` and `\` backslash-escaped, control characters and
/// invalid UTF-8 bytes as `\u00XX`, valid UTF-8 copied through. Writes the quotes too.
pub fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        // Runs of bytes that need no escape are copied whole: a record's command is mostly one
        // such run, and byte-at-a-time pushes were most of the cost of a record.
        let valid = chunk.valid().as_bytes();
        let mut start = 0;
        for (i, &b) in valid.iter().enumerate() {
            let escaped = match b {
                b'"' | b'\\' => false,
                0..=0x1f | 0x7f => true,
                _ => continue,
            };
            // Were the run not inside the chunk, the whole chunk: the record keeps the bytes.
            out.extend_from_slice(or_closed(valid.get(start..i), valid));
            if escaped {
                escape_byte(out, b);
            } else {
                out.extend_from_slice(&[b'\\', b]);
            }
            start = i + 1;
        }
        out.extend_from_slice(or_closed(valid.get(start..), valid));
        for &b in chunk.invalid() {
            escape_byte(out, b);
        }
    }
    out.push(b'"');
}

fn escape_byte(out: &mut Vec<u8>, b: u8) {
    out.extend_from_slice(b"\\u00");
    out.push(hex_digit(b >> 4));
    out.push(hex_digit(b));
}

/// The lower-case hex digit of the low four bits of `n`.
fn hex_digit(n: u8) -> u8 {
    match n & 0xf {
        d @ 0..=9 => b'0' + d,
        d => b'a' + (d - 10),
    }
}

/// Appends `n` in decimal.
pub fn push_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
        len += 1;
        if n == 0 {
            break;
        }
    }
    // Twenty digits hold every u64.
    out.extend_from_slice(or_closed(digits.get(digits.len() - len..), &digits));
}

/// The bytes of a C string, or `None` for a null pointer.
///
/// # Safety
/// `p` is null or points to a NUL-terminated string that outlives the result.
pub unsafe fn c_bytes<'a>(p: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: guaranteed by the caller.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_bytes())
}

/// The entries of a NULL-terminated array of C strings (argv, envp). A null array is empty.
///
/// # Safety
/// `array` is null or a NULL-terminated array of valid C strings that outlive the result.
pub unsafe fn c_array<'a>(array: *const *const c_char) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    if array.is_null() {
        return out;
    }
    let mut i = 0;
    loop {
        // SAFETY: the array is NULL-terminated, so every index up to the terminator is in bounds.
        let p = unsafe { *array.add(i) };
        // SAFETY: an entry of the array: a C string that outlives the result, or the final null.
        match unsafe { c_bytes(p) } {
            Some(s) => out.push(s),
            None => return out,
        }
        i += 1;
    }
}

/// The last `/`-separated component of a path.
pub fn basename(path: &[u8]) -> &[u8] {
    match path.iter().rposition(|&b| b == b'/') {
        Some(i) => path.get(i + 1..).unwrap_or(path),
        None => path,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_escaping_follows_upstream() {
        for (input, expected) in [
            (&b"plain"[..], r#""plain""#),
            (b"a\"b\\c", r#""a\"b\\c""#),
            (b"tab\there\n", r#""tab\u0009here\u000a""#),
            ("héllo".as_bytes(), "\"héllo\""),
            (b"bad\xffbyte", r#""bad\u00ffbyte""#),
        ] {
            let mut out = Vec::new();
            json_string(&mut out, input);
            assert_eq!(core::str::from_utf8(&out).unwrap(), expected);
        }
    }

    #[test]
    fn lossy_replaces_each_invalid_byte() {
        assert_eq!(lossy(b"a\xff\xfeb"), "a\u{FFFD}\u{FFFD}b");
        assert_eq!(lossy("ok é".as_bytes()), "ok é");
    }

    #[test]
    fn numbers_and_basenames() {
        let mut out = Vec::new();
        push_u64(&mut out, 0);
        out.push(b' ');
        push_u64(&mut out, u64::MAX);
        assert_eq!(out, b"0 18446744073709551615");
        assert_eq!(basename(b"/usr/bin/git"), b"git");
        assert_eq!(basename(b"git"), b"git");
        assert_eq!(basename(b"/usr/bin/"), b"");
    }
}
