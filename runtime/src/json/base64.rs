//! Standard base64 decoding, as Go's `base64.StdEncoding.DecodeString` accepts it.
//!
//! Agents may send an exec command as `command_b64` (so that quoting survives transport); the
//! policy must judge the decoded command, or `rm -rf /` encoded passes as no command at all
//! ([`super::prepare`]). The decoder accepts exactly what upstream's does: the standard alphabet,
//! `=` padding required on the last quantum, `\r` and `\n` ignored anywhere, non-zero trailing
//! bits tolerated (Go's non-strict mode). Anything else is an error, never a partial result.

use alloc::vec::Vec;

/// Decodes `text`; `None` when it is not standard padded base64.
pub fn decode_std(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut quad = [0u32; 4];
    let mut filled = 0;
    let mut padding = 0;
    let mut finished = false;
    for b in text.bytes() {
        if b == b'\r' || b == b'\n' {
            continue;
        }
        if finished {
            // Data after the padded last quantum.
            return None;
        }
        let value = match b {
            b'=' => {
                // Padding only fills the last one or two places of a quantum.
                if filled < 2 {
                    return None;
                }
                padding += 1;
                0
            }
            _ if padding > 0 => return None,
            _ => sextet(b)?,
        };
        *quad.get_mut(filled)? = value;
        filled += 1;
        if filled == 4 {
            let bits = quad.iter().fold(0u32, |acc, &v| acc << 6 | v);
            let bytes = bits.to_be_bytes();
            out.extend_from_slice(bytes.get(1..4 - padding)?);
            filled = 0;
            finished = padding > 0;
        }
    }
    (filled == 0).then_some(out)
}

/// The value of one character of the standard alphabet.
fn sextet(b: u8) -> Option<u32> {
    let v = match b {
        b'A'..=b'Z' => b - b'A',
        b'a'..=b'z' => b - b'a' + 26,
        b'0'..=b'9' => b - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    };
    Some(u32::from(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_like_go() {
        let ok: &[(&str, &[u8])] = &[
            ("", b""),
            ("cm0gLXJmIC8=", b"rm -rf /"),
            ("YQ==", b"a"),
            ("YWI=", b"ab"),
            ("YWJj", b"abc"),
            ("YW\r\nJj\n", b"abc"),
            ("+/+/", &[0xfb, 0xff, 0xbf]),
            // Go's StdEncoding is not strict: trailing bits need not be zero.
            ("YR==", b"a"),
        ];
        for (text, want) in ok {
            assert_eq!(decode_std(text).as_deref(), Some(*want), "{text:?}");
        }
    }

    #[test]
    fn refuses_what_go_refuses() {
        for text in [
            "YQ", "YWI", "Y===", "=YWJ", "YQ=a", "YQ==YQ==", "YWJj=", "YW Jj", "YW-j", "YW_j", "ü",
        ] {
            assert_eq!(decode_std(text), None, "{text:?}");
        }
    }
}
