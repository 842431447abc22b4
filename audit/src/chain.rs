//! The hash chain (§5.2): what a record's hash covers, read straight from the stored bytes.
//!
//! `hash = "sha256:" + hex(SHA-256(prev_hash || the record encoded with hash = ""))`, genesis
//! `prev_hash` `""`. Because `prev_hash` and `hash` are always the last two fields and their values
//! are `sha256:` plus hex (or empty), a stored line can be checked *textually*: blank the last
//! `"hash"` value and hash what remains. A reader never decodes and re-encodes a record to check
//! it, so no encoder difference (large integers, escapes) can make a genuine record look forged or
//! a forged one look genuine. The line must still be a JSON object for the verifier to accept it;
//! that is checked separately.
//!
//! A rotated file starts with a continuation header, which is not an event and is not hashed:
//! `{"chain_continue":"<last hash>","prev_file":"<previous file name>"}`.

use serde::Deserialize;
use sha2::{Digest, Sha256};

use rampart_runtime::invariant::or_closed;

use crate::event::Event;

/// The prefix of every hash value.
pub const HASH_PREFIX: &str = "sha256:";

/// A record ready to append: its line (newline included) and hash.
pub struct Sealed {
    pub line: Vec<u8>,
    pub hash: String,
}

/// Links `event` to `prev_hash`, computes its hash and returns the line to append. Sets the
/// event's `prev_hash` and `hash`.
pub fn seal(event: &mut Event, prev_hash: &str) -> Sealed {
    event.prev_hash = prev_hash.to_owned();
    event.hash.clear();
    let mut line = event.encode_until_hash();
    let hash = hash_of(prev_hash.as_bytes(), &line);
    line.push(b'"');
    line.extend_from_slice(hash.as_bytes());
    line.extend_from_slice(b"\"}\n");
    event.hash.clone_from(&hash);
    Sealed { line, hash }
}

/// The hash of a record whose encoding up to and including `"hash":` is `until_hash`.
fn hash_of(prev_hash: &[u8], until_hash: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash);
    hasher.update(until_hash);
    hasher.update(b"\"\"}");
    format_hash(&hasher.finalize().into())
}

/// `sha256:` + lower-case hex.
pub fn format_hash(digest: &[u8; 32]) -> String {
    let mut out = String::with_capacity(71);
    out.push_str(HASH_PREFIX);
    push_hex(&mut out, digest);
    out
}

/// Appends lower-case hex.
pub fn push_hex(out: &mut String, bytes: &[u8]) {
    out.reserve(bytes.len() * 2);
    for &b in bytes {
        out.push(char::from(hex_digit(b >> 4)));
        out.push(char::from(hex_digit(b)));
    }
}

/// The lower-case hex digit of the low four bits of `n`.
pub(crate) fn hex_digit(n: u8) -> u8 {
    match n & 0xf {
        d @ 0..=9 => b'0' + d,
        d => b'a' + (d - 10),
    }
}

/// The 32 bytes of a `sha256:<hex>` value.
pub fn parse_hash(text: &str) -> Option<[u8; 32]> {
    let hex = text.strip_prefix(HASH_PREFIX)?;
    if hex.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (slot, pair) in out.iter_mut().zip(hex.as_bytes().chunks_exact(2)) {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let (hi, lo) = match pair {
            [hi, lo] => (digit(*hi)?, digit(*lo)?),
            _ => return None,
        };
        *slot = hi << 4 | lo;
    }
    Some(out)
}

/// A stored line, classified.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Event(Record<'a>),
    Continue(Continue),
}

/// The chain fields of a stored event line, found from its end.
#[derive(Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub prev_hash: &'a str,
    pub hash: &'a str,
    /// Where the hash value's opening quote is.
    hash_quote: usize,
}

/// A continuation header.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Continue {
    pub chain_continue: String,
    pub prev_file: String,
}

impl Continue {
    pub fn line(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"{\"chain_continue\":");
        crate::encode::string(&mut out, &self.chain_continue);
        out.extend_from_slice(b",\"prev_file\":");
        crate::encode::string(&mut out, &self.prev_file);
        out.extend_from_slice(b"}\n");
        out
    }
}

/// Why a line is not a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// The line does not end in `,"prev_hash":"…","hash":"…"}`.
    NoChainFields,
    /// A `chain_continue` line that is not exactly a header.
    BadHeader,
}

/// Classifies a stored line (without its newline).
pub fn classify(line: &[u8]) -> Result<Line<'_>, LineError> {
    if line.starts_with(b"{\"chain_continue\":") {
        return serde_json::from_slice::<Continue>(line)
            .map(Line::Continue)
            .map_err(|_| LineError::BadHeader);
    }
    record(line).map(Line::Event)
}

/// Finds `,"prev_hash":"P","hash":"H"}` at the end of `line`. P and H hold no quote or
/// backslash (they are empty or `sha256:` + hex), so the last quotes delimit them.
fn record(line: &[u8]) -> Result<Record<'_>, LineError> {
    const HASH_KEY: &[u8] = b",\"hash\":\"";
    const PREV_KEY: &[u8] = b",\"prev_hash\":\"";
    let body = line.strip_suffix(b"\"}").ok_or(LineError::NoChainFields)?;
    let h_start = body
        .iter()
        .rposition(|&b| b == b'"')
        .ok_or(LineError::NoChainFields)?
        + 1;
    let before_h = body.get(..h_start).ok_or(LineError::NoChainFields)?;
    let with_p = before_h
        .strip_suffix(HASH_KEY)
        .and_then(|rest| rest.strip_suffix(b"\""))
        .ok_or(LineError::NoChainFields)?;
    let p_start = with_p
        .iter()
        .rposition(|&b| b == b'"')
        .ok_or(LineError::NoChainFields)?
        + 1;
    let before_p = with_p.get(..p_start).ok_or(LineError::NoChainFields)?;
    if !before_p.ends_with(PREV_KEY) {
        return Err(LineError::NoChainFields);
    }
    let prev_bytes = with_p.get(p_start..).ok_or(LineError::NoChainFields)?;
    let prev = std::str::from_utf8(prev_bytes).map_err(|_| LineError::NoChainFields)?;
    let hash_bytes = body.get(h_start..).ok_or(LineError::NoChainFields)?;
    let hash = std::str::from_utf8(hash_bytes).map_err(|_| LineError::NoChainFields)?;
    if prev.contains('\\') || hash.contains('\\') {
        return Err(LineError::NoChainFields);
    }
    Ok(Record {
        prev_hash: prev,
        hash,
        hash_quote: h_start - 1,
    })
}

impl Record<'_> {
    /// The hash the line's content gives (compare with [`Record::hash`]).
    pub fn computed_hash(&self, line: &[u8]) -> String {
        // `hash_quote` was found in this line; in another too short for it, the hash of nothing,
        // which no record's hash is: a mismatch, not a pass.
        hash_of(
            self.prev_hash.as_bytes(),
            or_closed(line.get(..self.hash_quote), &[]),
        )
    }

    /// Whether the stored hash is the one the content gives.
    pub fn self_consistent(&self, line: &[u8]) -> bool {
        self.computed_hash(line) == self.hash
    }
}

/// The `id` of a stored event, read without decoding the rest (for messages and duplicate
/// checks). `None` when the line has no top-level string `id`.
pub fn event_id(line: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Id {
        id: String,
    }
    serde_json::from_slice::<Id>(line).ok().map(|i| i.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::Event;
    use serde_json::Map;

    #[test]
    fn a_sealed_line_checks_textually() {
        let mut event = Event::new("exec", Map::new());
        event.id = "01J".into();
        let sealed = seal(&mut event, "sha256:00");
        let line = sealed.line.strip_suffix(b"\n").unwrap_or_default();
        let Ok(Line::Event(rec)) = classify(line) else {
            panic!("not a record")
        };
        assert_eq!(rec.prev_hash, "sha256:00");
        assert_eq!(rec.hash, sealed.hash);
        assert!(rec.self_consistent(line));
        let mut edited = line.to_vec();
        if let Some(b) = edited.iter_mut().find(|b| **b == b'e') {
            *b = b'f';
        }
        let Ok(Line::Event(rec)) = classify(&edited) else {
            panic!("not a record")
        };
        assert!(!rec.self_consistent(&edited));
    }

    #[test]
    fn headers_and_garbage_are_told_apart() {
        let header = Continue {
            chain_continue: "sha256:ab".into(),
            prev_file: "2026-01-01.jsonl".into(),
        };
        let line = header.line();
        assert_eq!(
            classify(line.strip_suffix(b"\n").unwrap_or_default()),
            Ok(Line::Continue(header))
        );
        assert_eq!(classify(b"{\"a\":1}"), Err(LineError::NoChainFields));
        assert_eq!(
            classify(b"{\"chain_continue\":\"x\",\"prev_file\":\"y\",\"z\":1}"),
            Err(LineError::BadHeader)
        );
        assert_eq!(
            classify(br#"{"request":{"prev_hash":"x","hash":"y"}}"#),
            Err(LineError::NoChainFields)
        );
    }
}
