//! Secrets are removed before a record is hashed (§5.5).
//!
//! The threat: an agent passes a password, token or key in a tool call (`curl -H "Authorization:
//! Bearer …"`, `mysql -psecret`, an MCP argument named `api_key`), and the audit log, which is kept
//! for a long time and shipped to syslog, would hold it in clear. Redaction runs before hashing, so
//! the chain covers the redacted record and the secret is never written anywhere.
//!
//! Two mechanisms, as upstream has them: values under sensitive keys are replaced whole, at any
//! depth; every other string is scanned for credential shapes. The scanners are hand-written
//! rather than regexes because a hook process must not compile automata for each call; each is
//! one pass over the text.

use serde_json::{Map, Value};

use crate::event::Event;

/// What a secret becomes.
pub const REDACTED: &str = "[REDACTED]";

const SENSITIVE_KEYS: [&str; 17] = [
    "authorization",
    "proxyauthorization",
    "password",
    "passwd",
    "passphrase",
    "token",
    "accesstoken",
    "refreshtoken",
    "idtoken",
    "apikey",
    "secret",
    "clientsecret",
    "cookie",
    "setcookie",
    "privatekey",
    "credential",
    "commandb64",
];

const SENSITIVE_SUFFIXES: [&str; 5] = ["password", "token", "apikey", "secret", "privatekey"];

/// Redacts every part of `event` that may carry a secret: the request, the decision message and
/// suggestions.
pub fn event(event: &mut Event) {
    map(&mut event.request);
    string_in_place(&mut event.decision.message);
    for s in &mut event.decision.suggestions {
        string_in_place(s);
    }
}

/// Redacts a JSON map in place: sensitive keys at any depth, credential shapes in strings.
pub fn map(map: &mut Map<String, Value>) {
    for (key, value) in map.iter_mut() {
        if is_sensitive_key(key) {
            *value = Value::String(REDACTED.to_owned());
        } else {
            json_value(value);
        }
    }
}

fn json_value(value: &mut Value) {
    match value {
        Value::String(s) => string_in_place(s),
        Value::Array(items) => items.iter_mut().for_each(json_value),
        Value::Object(inner) => map(inner),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Whether values under `key` are secrets: the key lower-cased with everything but letters and
/// digits removed is one of upstream's names or ends in one of its suffixes.
pub fn is_sensitive_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    SENSITIVE_KEYS.contains(&norm.as_str()) || SENSITIVE_SUFFIXES.iter().any(|s| norm.ends_with(s))
}

fn string_in_place(s: &mut String) {
    if let Some(redacted) = string(s) {
        *s = redacted;
    }
}

/// Whether `text` has any byte a credential shape starts with or is introduced by; most strings
/// (paths, plain commands) have none of `-=:_` or upper-case `A`, and skip every pass.
fn may_hold_secret(text: &str) -> bool {
    text.bytes()
        .any(|b| matches!(b, b'-' | b'=' | b':' | b'_' | b'A'))
}

/// The text with credential shapes replaced, or `None` when it holds none.
pub fn string(text: &str) -> Option<String> {
    if !may_hold_secret(text) {
        return None;
    }
    let mut current: Option<String> = None;
    for pass in [
        authorization,
        flags,
        mysql_password,
        assignments,
        token_shapes,
    ] {
        let input = current.as_deref().unwrap_or(text);
        if let Some(out) = pass(input) {
            current = Some(out);
        }
    }
    current
}

/// Spans `[start, end)` of `text` to replace with [`REDACTED`], in order, not overlapping.
fn replace_spans(text: &str, spans: &[(usize, usize)]) -> Option<String> {
    if spans.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for &(start, end) in spans {
        out.push_str(text.get(at..start)?);
        out.push_str(REDACTED);
        at = end;
    }
    out.push_str(text.get(at..)?);
    Some(out)
}

fn lower(text: &str) -> Vec<u8> {
    text.bytes().map(|b| b.to_ascii_lowercase()).collect()
}

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The end of a value starting at `start`: a quoted value up to its closing quote (the span is
/// its content), else a run of bytes that are not whitespace, quotes or `&;,`.
fn value_span(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    match bytes.get(start) {
        Some(&q @ (b'\'' | b'"')) => {
            let len = bytes.get(start + 1..)?.iter().position(|&b| b == q)?;
            (len > 0).then_some((start + 1, start + 1 + len))
        }
        Some(_) => {
            let len = bytes
                .get(start..)?
                .iter()
                .position(|&b| {
                    b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b'&' | b';' | b',')
                })
                .unwrap_or(bytes.len() - start);
            (len > 0).then_some((start, start + len))
        }
        None => None,
    }
}

/// Every position where `needle` (lower-case) occurs in `hay` (lower-cased).
fn find_all<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    let first = needle.first().copied().unwrap_or(0);
    hay.iter()
        .enumerate()
        .filter(move |&(i, &b)| b == first && hay.get(i..i + needle.len()) == Some(needle))
        .map(|(i, _)| i)
}

/// `Authorization: Bearer <x>` and `Basic <x>` (any case, any spacing).
fn authorization(text: &str) -> Option<String> {
    let low = lower(text);
    let mut spans = Vec::new();
    for at in find_all(&low, b"authorization") {
        let mut i = at + "authorization".len();
        i += skip(&low, i, |b| b == b' ' || b == b'\t');
        if low.get(i) != Some(&b':') {
            continue;
        }
        i += 1;
        i += skip(&low, i, |b| b == b' ' || b == b'\t');
        let scheme = ["bearer", "basic", "token"]
            .into_iter()
            .find(|s| low.get(i..i + s.len()) == Some(s.as_bytes()));
        if let Some(scheme) = scheme {
            i += scheme.len();
            let gap = skip(&low, i, |b| b == b' ' || b == b'\t');
            if gap == 0 {
                continue;
            }
            i += gap;
        }
        if let Some(span) = value_span(text.as_bytes(), i) {
            push_span(&mut spans, span);
        }
    }
    replace_spans(text, &spans)
}

fn skip(bytes: &[u8], from: usize, pred: impl Fn(u8) -> bool) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|&&b| pred(b)).count())
}

fn push_span(spans: &mut Vec<(usize, usize)>, span: (usize, usize)) {
    if spans.last().is_none_or(|&(_, end)| span.0 >= end) {
        spans.push(span);
    }
}

/// `--password x`, `--password=x`, `--token x`, `--api-key=x` and their relatives.
fn flags(text: &str) -> Option<String> {
    const FLAGS: [&[u8]; 12] = [
        b"--password",
        b"--passwd",
        b"--token",
        b"--access-token",
        b"--auth-token",
        b"--api-key",
        b"--api_key",
        b"--apikey",
        b"--secret",
        b"--client-secret",
        b"--private-key",
        b"--passphrase",
    ];
    let low = lower(text);
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (i, _) in low.iter().enumerate().filter(|(_, &b)| b == b'-') {
        if i > 0 && !low.get(i - 1).is_some_and(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let Some(flag) = FLAGS.iter().find(|f| low.get(i..i + f.len()) == Some(**f)) else {
            continue;
        };
        let mut v = i + flag.len();
        match low.get(v) {
            Some(b'=') => v += 1,
            Some(b) if b.is_ascii_whitespace() => v += skip(&low, v, |b| b.is_ascii_whitespace()),
            _ => continue,
        }
        if bytes.get(v) == Some(&b'-') {
            continue;
        }
        if let Some(span) = value_span(bytes, v) {
            push_span(&mut spans, span);
        }
    }
    replace_spans(text, &spans)
}

/// `-p'secret'` anywhere, and `-psecret` after a MySQL client name (elsewhere `-p` followed by a
/// word is too often something else: `find -print`, `mkdir -parents`).
fn mysql_password(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let low = lower(text);
    let mysql = ["mysql", "mariadb"]
        .iter()
        .filter_map(|name| find_all(&low, name.as_bytes()).next())
        .min();
    let mut spans = Vec::new();
    for i in find_all(&low, b"-p") {
        if i > 0 && !low.get(i - 1).is_some_and(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let v = i + 2;
        let quoted = matches!(bytes.get(v), Some(b'\'' | b'"'));
        let after_mysql = mysql.is_some_and(|m| m < i);
        let bare = bytes.get(v).is_some_and(|b| !b.is_ascii_whitespace());
        if quoted || (after_mysql && bare) {
            if let Some(span) = value_span(bytes, v) {
                push_span(&mut spans, span);
            }
        }
    }
    replace_spans(text, &spans)
}

/// `token=…`, `secret: …`, `api_key=…`, `password=…` (also inside longer names such as
/// `access_token=`) with values of eight characters or more.
fn assignments(text: &str) -> Option<String> {
    const NAMES: [&[u8]; 7] = [
        b"token",
        b"secret",
        b"api_key",
        b"apikey",
        b"api-key",
        b"password",
        b"passwd",
    ];
    let low = lower(text);
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for name in NAMES {
        for at in find_all(&low, name) {
            let mut i = at + name.len();
            if low.get(i).is_some_and(|&b| is_word(b)) {
                continue;
            }
            if matches!(low.get(i), Some(b'"' | b'\'')) {
                i += 1;
            }
            i += skip(&low, i, |b| b == b' ');
            if !matches!(low.get(i), Some(b'=' | b':')) {
                continue;
            }
            i += 1;
            i += skip(&low, i, |b| b == b' ');
            if let Some((start, end)) = value_span(bytes, i) {
                if end - start >= 8 && bytes.get(start..end) != Some(REDACTED.as_bytes()) {
                    spans.push((start, end));
                }
            }
        }
    }
    spans.sort_unstable();
    let mut merged = Vec::new();
    for span in spans {
        push_span(&mut merged, span);
    }
    replace_spans(text, &merged)
}

/// Tokens recognisable by their shape: GitHub (`ghp_`, `gho_`, `ghs_`), Slack (`xoxb-`,
/// `xoxp-`), OpenAI-style `sk-` keys of 20+ characters, AWS access key ids (`AKIA` + 16).
fn token_shapes(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while let Some(rest) = bytes.get(i..).filter(|rest| !rest.is_empty()) {
        if i > 0 && bytes.get(i - 1).is_some_and(|&b| is_word(b) || b == b'-') {
            i += 1;
            continue;
        }
        let run = |from: usize, ok: fn(u8) -> bool| -> usize {
            rest.get(from..)
                .map_or(0, |r| r.iter().take_while(|&&b| ok(b)).count())
        };
        let alnum = |b: u8| b.is_ascii_alphanumeric();
        let slack = |b: u8| b.is_ascii_alphanumeric() || b == b'-';
        let key = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
        let upper = |b: u8| b.is_ascii_uppercase() || b.is_ascii_digit();
        let len = if [&b"ghp_"[..], b"gho_", b"ghs_"]
            .iter()
            .any(|p| rest.starts_with(p))
        {
            Some(4 + run(4, alnum)).filter(|&n| n >= 4 + 20)
        } else if rest.starts_with(b"xoxb-") || rest.starts_with(b"xoxp-") {
            Some(5 + run(5, slack)).filter(|&n| n >= 5 + 10)
        } else if rest.starts_with(b"sk-") {
            Some(3 + run(3, key)).filter(|&n| n >= 3 + 20)
        } else if rest.starts_with(b"AKIA") {
            Some(4 + run(4, upper)).filter(|&n| n == 4 + 16)
        } else {
            None
        };
        match len {
            Some(n) => {
                spans.push((i, i + n));
                i += n;
            }
            None => i += 1,
        }
    }
    replace_spans(text, &spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(text: &str) -> String {
        string(text).unwrap_or_else(|| text.to_owned())
    }

    #[test]
    fn credential_shapes_are_redacted() {
        let cases = [
            (
                r#"curl -H "Authorization: Bearer abc.def" https://x"#,
                r#"curl -H "Authorization: Bearer [REDACTED]" https://x"#,
            ),
            (
                "authorization:basic dXNlcjpw",
                "authorization:basic [REDACTED]",
            ),
            ("mysql -u root -psecret db", "mysql -u root -p[REDACTED] db"),
            ("x -p'hunter2' y", "x -p'[REDACTED]' y"),
            ("find . -print", "find . -print"),
            ("mkdir -p dir", "mkdir -p dir"),
            (
                "login --password hunter2 --user x",
                "login --password [REDACTED] --user x",
            ),
            ("gh --token=abc", "gh --token=[REDACTED]"),
            ("x --api-key k1", "x --api-key [REDACTED]"),
            (
                "git clone https://ghp_abcdefghijklmnopqrstuvwxyz0123456789@github.com/a",
                "git clone https://[REDACTED]@github.com/a",
            ),
            ("SLACK=xoxb-1234567890-abc", "SLACK=[REDACTED]"),
            ("k=sk-abcdefghijklmnopqrstuv", "k=[REDACTED]"),
            (
                "task-abcdefghijklmnopqrstuvwxyz",
                "task-abcdefghijklmnopqrstuvwxyz",
            ),
            ("AKIAABCDEFGHIJKLMNOP rest", "[REDACTED] rest"),
            (
                "?access_token=abcdefgh12&x=1",
                "?access_token=[REDACTED]&x=1",
            ),
            ("token=short", "token=short"),
            ("secret: 0123456789abcdef", "secret: [REDACTED]"),
            ("echo hello", "echo hello"),
        ];
        for (input, want) in cases {
            assert_eq!(r(input), want, "{input}");
        }
    }

    #[test]
    fn sensitive_keys_are_replaced_at_any_depth() {
        let mut m: Map<String, Value> = serde_json::from_str(
            r#"{"command":"ls","headers":{"X-Api-Key":"k","Cookie":["a"]},"list":[{"client_secret":1}],"MY_PASSWORD":"p","tokens_used":3}"#,
        )
        .unwrap_or_default();
        map(&mut m);
        assert_eq!(
            Value::Object(m).to_string(),
            r#"{"MY_PASSWORD":"[REDACTED]","command":"ls","headers":{"Cookie":"[REDACTED]","X-Api-Key":"[REDACTED]"},"list":[{"client_secret":"[REDACTED]"}],"tokens_used":3}"#
        );
    }
}
