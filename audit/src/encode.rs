//! Go's `encoding/json`, byte for byte, for the values an audit event holds.
//!
//! Why not serde_json's writer: the chain hash covers the exact bytes upstream's Go writer produces,
//! and upstream's verifier re-marshals every event before hashing it. A record we write must
//! therefore be what `json.Marshal` would write for the same event, or upstream reports our log as
//! tampered. serde_json differs in four places that matter here: it does not escape `<`, `>`, `&`,
//! U+2028 and U+2029 (Go's HTML escaping), it writes floats as `1e21` or `1.0` where Go writes
//! `1e+21` and `1`, it keeps integers beyond 2^53 exact where Go (which decodes JSON numbers into
//! `float64`) rounds them, and with its `preserve_order` feature (which any crate in a build may
//! switch on) its maps keep insertion order where Go sorts keys.
//!
//! What Go does, and so what this module does:
//! * strings: `"` and `\` backslash-escaped; `\b \f \n \r \t` short-escaped; other bytes below
//!   0x20 and `<`, `>`, `&` as `\u00XX` (lower-case hex); U+2028 and U+2029 as `\u2028`/`\u2029`;
//!   DEL and all other characters copied;
//! * numbers: as `float64`, shortest round-trip digits, plain notation for magnitudes in
//!   `[1e-6, 1e21)` and `0`, otherwise exponent notation with a signed, at least two-digit exponent
//!   (`1e+21`, `1e-07`), then `e-0X` shortened to `e-X`;
//! * maps: keys sorted bytewise; arrays in order; `null`, `true`, `false`;
//! * times: RFC 3339 with nanoseconds, trailing zeros (and a bare dot) trimmed, `Z` for UTC.

use serde_json::Value;

use rampart_runtime::invariant::or_closed;

use crate::chain::hex_digit;

/// Appends `s` as a Go JSON string (quotes included).
pub fn string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            let short = match b {
                b'"' => Some(b'"'),
                b'\\' => Some(b'\\'),
                0x08 => Some(b'b'),
                0x0c => Some(b'f'),
                b'\n' => Some(b'n'),
                b'\r' => Some(b'r'),
                b'\t' => Some(b't'),
                _ => None,
            };
            let unicode = b < 0x20 || matches!(b, b'<' | b'>' | b'&');
            if short.is_some() || unicode {
                out.extend_from_slice(run(bytes, start, i));
                match short {
                    Some(c) => out.extend_from_slice(&[b'\\', c]),
                    None => push_u00(out, b),
                }
                start = i + 1;
            }
            i += 1;
            continue;
        }
        // U+2028 and U+2029 are E2 80 A8 and E2 80 A9; a &str holds no invalid UTF-8.
        if b == 0xe2
            && bytes.get(i + 1) == Some(&0x80)
            && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9))
        {
            out.extend_from_slice(run(bytes, start, i));
            let last = if bytes.get(i + 2) == Some(&0xa8) {
                b'8'
            } else {
                b'9'
            };
            out.extend_from_slice(&[b'\\', b'u', b'2', b'0', b'2', last]);
            i += 3;
            start = i;
            continue;
        }
        i += 1;
    }
    out.extend_from_slice(run(bytes, start, bytes.len()));
    out.push(b'"');
}

/// The bytes `start..end` of `bytes`, copied as they are. The scan keeps `start <= end`; were it
/// not, all of `bytes`: a record that shows its damage rather than one quietly missing text.
fn run(bytes: &[u8], start: usize, end: usize) -> &[u8] {
    or_closed(bytes.get(start..end), bytes)
}

fn push_u00(out: &mut Vec<u8>, b: u8) {
    let (hi, lo) = (hex_digit(b >> 4), hex_digit(b));
    out.extend_from_slice(&[b'\\', b'u', b'0', b'0', hi, lo]);
}

/// Appends a signed integer (Go `int`/`int64`).
pub fn int(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(n.to_string().as_bytes());
}

/// Appends `f` the way Go's encoder writes a `float64`. NaN and infinities, which Go refuses to
/// encode, cannot come out of a JSON document; they are written as `null` rather than failing.
pub fn float(out: &mut Vec<u8>, f: f64) {
    if !f.is_finite() {
        out.extend_from_slice(b"null");
        return;
    }
    let abs = f.abs();
    if abs == 0.0 || (1e-6..1e21).contains(&abs) {
        out.extend_from_slice(format!("{f}").as_bytes());
        return;
    }
    // Rust's `{:e}` gives the same shortest digits with an unsigned, unpadded exponent ("1e21",
    // "1.5e-7"); Go writes "1e+21" and "1.5e-07" and then shortens "e-07" to "e-7".
    let text = format!("{f:e}");
    match text.split_once('e') {
        Some((mantissa, exp)) => {
            out.extend_from_slice(mantissa.as_bytes());
            out.push(b'e');
            match exp.strip_prefix('-') {
                Some(digits) => {
                    out.push(b'-');
                    out.extend_from_slice(digits.as_bytes());
                }
                None => {
                    out.push(b'+');
                    if exp.len() < 2 {
                        out.push(b'0');
                    }
                    out.extend_from_slice(exp.as_bytes());
                }
            }
        }
        None => out.extend_from_slice(text.as_bytes()),
    }
}

/// Appends a JSON value as Go writes an `interface{}` decoded from JSON (numbers are `float64`).
pub fn value(out: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => float(out, n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                value(out, item);
            }
            out.push(b']');
        }
        Value::Object(map) => object(out, map),
    }
}

/// Appends a map with its keys sorted bytewise, as Go sorts a `map[string]any`.
pub fn object(out: &mut Vec<u8>, map: &serde_json::Map<String, Value>) {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    out.push(b'{');
    for (i, (key, item)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, key);
        out.push(b':');
        value(out, item);
    }
    out.push(b'}');
}

/// Appends an array of strings.
pub fn strings(out: &mut Vec<u8>, items: &[String]) {
    out.push(b'[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        string(out, item);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut out = Vec::new();
        string(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    fn f(x: f64) -> String {
        let mut out = Vec::new();
        float(&mut out, x);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn strings_are_escaped_as_go_escapes_them() {
        assert_eq!(s("echo <a> & b"), r#""echo \u003ca\u003e \u0026 b""#);
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(
            s("\u{8}\u{c}\n\r\t\u{1}\u{1f}"),
            r#""\b\f\n\r\t\u0001\u001f""#
        );
        assert_eq!(s("x\u{2028}y\u{2029}z"), r#""x\u2028y\u2029z""#);
        assert_eq!(s("\u{7f}é€😀"), "\"\u{7f}é€😀\"");
        assert_eq!(s("'/:=%"), "\"'/:=%\"");
    }

    #[test]
    fn floats_are_formatted_as_go_formats_them() {
        let cases = [
            (0.0, "0"),
            (-0.0, "-0"),
            (12.0, "12"),
            (1.5, "1.5"),
            (0.1, "0.1"),
            (1e-6, "0.000001"),
            (1e-7, "1e-7"),
            (1.5e-7, "1.5e-7"),
            (1e-10, "1e-10"),
            (1e20, "100000000000000000000"),
            (1e21, "1e+21"),
            (1.2345e100, "1.2345e+100"),
            (-3.25e-300, "-3.25e-300"),
            (12345678901234567890.0, "12345678901234567000"),
            (9007199254740993.0, "9007199254740992"),
        ];
        for (x, want) in cases {
            assert_eq!(f(x), want, "{x:e}");
        }
    }

    #[test]
    fn maps_are_sorted_and_nested_values_encoded() {
        let v: Value = serde_json::from_str(
            r#"{"b":[1,2.5,"<"],"a":{"z":null,"y":true},"A":false,"_":1e400}"#,
        )
        .unwrap_or(Value::Null);
        let mut out = Vec::new();
        value(&mut out, &v);
        // serde_json turns an out-of-range number into an error, so the document above is null.
        assert_eq!(out, b"null");
        let v: Value =
            serde_json::from_str(r#"{"b":[1,2.5,"<"],"a":{"z":null,"y":true},"A":false}"#)
                .unwrap_or(Value::Null);
        let mut out = Vec::new();
        value(&mut out, &v);
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            r#"{"A":false,"a":{"y":true,"z":null},"b":[1,2.5,"\u003c"]}"#
        );
    }
}
