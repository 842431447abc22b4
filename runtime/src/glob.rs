//! Reference matchers for upstream's glob flavours (reference §2.5).
//!
//! Rules are decided by DFAs that the compiler builds from each pattern (`rampart_compiler::lower`).
//! A DFA is only as right as the regex it was built from, so this module says what each flavour
//! *means*, directly and slowly, and a differential test holds the lowering to it. The evaluator
//! may also call these matchers for one-off matches.
//!
//! Upstream has three flavours over two pattern languages:
//!
//! * [`match_glob`] (commands, URLs, agents, tools, sessions, ...): length limits, `\` read as `/`,
//!   then the first of: `*` alone, upstream's `**` matcher, a literal-prefix test, an in-order
//!   substring test, Go's `filepath.Match`.
//! * [`match_path_glob`]: always upstream's `**` matcher.
//! * [`match_domain_glob`]: Go's `filepath.Match` on lowercased, trimmed hostnames.
//!
//! Both languages parse into the same [`Elem`] list ([`parse_filepath`], [`parse_doublestar`]) so
//! the compiler lowers exactly what these matchers match. Their semantics differ ([`Dialect`]):
//!
//! * **Go** (`filepath.Match`): `\` escapes; a malformed pattern never matches; a class *can* match
//!   `/` (`a[^x]b` matches `a/b`); and Go steps `*` byte by byte, so the element after a `*` may
//!   start inside a multi-byte character, where `?` (and any class containing U+FFFD) matches one
//!   continuation byte: Go's `filepath.Match("*??", "€")` is true. We reproduce this.
//! * **Upstream's `**` matcher**: no escapes; `?` and classes never match `/`; characters, not
//!   bytes; an unclosed `[` makes the pattern never match.
//!
//! One deliberate difference from Go: Go commits to the *leftmost* place where a chunk between two
//! `*` matches and never backtracks. That only changes the answer when the chunk holds a class that
//! can match `/`: Go says `filepath.Match("a*[^x]*b", "ac/b")` is false although `*`=`c`,
//! `[^x]`=`/` fits. We match such patterns the way the glob reads (true here), which a regex can
//! express; Go's commitment cannot be.

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use crate::invariant::checked;

/// Longest pattern upstream accepts (bytes).
pub const MAX_PATTERN_LEN: usize = 8192;
/// Longest pattern containing `**` upstream accepts (bytes).
pub const MAX_DOUBLESTAR_PATTERN_LEN: usize = 256;
/// Most `**` one pattern may contain.
pub const MAX_DOUBLESTARS: usize = 2;
/// Longest input [`match_glob`] and [`match_path_glob`] match at all (bytes); longer never matches.
pub const MAX_INPUT_LEN: usize = 8192;

/// One element of a parsed pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Elem {
    /// This character, exactly.
    Lit(char),
    /// `?`: one character other than `/`.
    Any,
    /// `[...]`: one character in (or, negated, not in) the class.
    Class(Class),
    /// `*`: a run without `/`.
    Star,
    /// `**` (upstream's matcher only): any run, `/` included.
    AnyRun,
}

/// A bracket class as written: inclusive ranges, possibly negated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Class {
    pub negated: bool,
    /// As written; a range with `lo > hi` matches nothing.
    pub ranges: Vec<(char, char)>,
}

impl Class {
    /// Whether the class accepts `c` (before any rule about `/`).
    pub fn accepts(&self, c: char) -> bool {
        let listed = self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi);
        listed != self.negated
    }
}

/// Which language's matching rules apply to an [`Elem`] list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Go's `filepath.Match`: byte-stepped `*`, classes may match `/`.
    Go,
    /// Upstream's `**` matcher: character-stepped, `?` and classes never match `/`.
    Upstream,
}

/// The §1.6 load-time limits for one pattern.
pub fn check_limits(pattern: &str) -> Result<(), &'static str> {
    if pattern.len() > MAX_PATTERN_LEN {
        return Err("glob pattern longer than 8192 bytes");
    }
    if pattern.contains("**") && pattern.len() > MAX_DOUBLESTAR_PATTERN_LEN {
        return Err("glob pattern containing `**` longer than 256 bytes");
    }
    if pattern.matches("**").count() > MAX_DOUBLESTARS {
        return Err("glob pattern with more than two `**`");
    }
    Ok(())
}

/// Upstream's `MatchGlob` (§2.5 a). Case-sensitive; see the module docs for the steps.
pub fn match_glob(pattern: &str, input: &str) -> bool {
    if pattern.is_empty() || input.len() > MAX_INPUT_LEN || exceeds_match_limits(pattern) {
        return false;
    }
    let pattern = pattern.replace('\\', "/");
    let input = input.replace('\\', "/");
    if pattern == "*" {
        return true;
    }
    if pattern.contains("**") {
        return pattern.matches("**").count() <= MAX_DOUBLESTARS
            && doublestar_match(&pattern, &input);
    }
    if let Some(prefix) = pattern.strip_suffix('*') {
        if input.starts_with(prefix) {
            return true;
        }
    }
    if pattern.starts_with('*') {
        return contains_in_order(&pattern, &input);
    }
    filepath_match(&pattern, &input)
}

/// Upstream's `matchPathGlob` (§2.5 b): always the `**` matcher, `\` read as `/`.
pub fn match_path_glob(pattern: &str, input: &str) -> bool {
    if pattern.is_empty() || input.len() > MAX_INPUT_LEN || check_limits(pattern).is_err() {
        return false;
    }
    doublestar_match(&pattern.replace('\\', "/"), &input.replace('\\', "/"))
}

/// Domain globs (§2.5 c): both sides in [`domain_form`], then Go's `filepath.Match`.
pub fn match_domain_glob(pattern: &str, input: &str) -> bool {
    filepath_match(&domain_form(pattern), &domain_form(input))
}

/// The form domain globs compare: trimmed, lowercased the way Go's `strings.ToLower` does (one
/// character to one character), one trailing `.` removed.
pub fn domain_form(s: &str) -> String {
    let lowered: String = s.trim().chars().map(go_to_lower).collect();
    match lowered.strip_suffix('.') {
        Some(stripped) => String::from(stripped),
        None => lowered,
    }
}

/// Go's `unicode.ToLower`: the simple mapping. Rust's full mapping turns `İ` into two characters;
/// its first one is the simple mapping (`İ` is the only such case).
fn go_to_lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Go's `filepath.Match` with separator `/` (see the module docs for the one difference).
pub fn filepath_match(pattern: &str, input: &str) -> bool {
    parse_filepath(pattern).is_some_and(|elems| match_elems(&elems, Dialect::Go, input))
}

/// The step-1 limits of `MatchGlob` that apply before `\` is rewritten.
fn exceeds_match_limits(pattern: &str) -> bool {
    pattern.len() > MAX_PATTERN_LEN
        || (pattern.contains("**") && pattern.len() > MAX_DOUBLESTAR_PATTERN_LEN)
}

/// Upstream's anchored `**` matcher, with the rule that a leading `**/` may match zero directories.
fn doublestar_match(pattern: &str, input: &str) -> bool {
    let whole =
        parse_doublestar(pattern).is_some_and(|e| match_elems(&e, Dialect::Upstream, input));
    whole
        || pattern
            .strip_prefix("**/")
            .and_then(parse_doublestar)
            .is_some_and(|e| match_elems(&e, Dialect::Upstream, input))
}

/// Step 5 of `MatchGlob`: every non-empty part between `*`s occurs in order, anywhere.
fn contains_in_order(pattern: &str, input: &str) -> bool {
    let mut rest = input;
    for part in pattern.split('*').filter(|p| !p.is_empty()) {
        match rest.split_once(part) {
            Some((_, after)) => rest = after,
            None => return false,
        }
    }
    true
}

/// Parses upstream's `**` language: `**`, `*`, `?`, `[...]` (only `^` negates, the first `]`
/// closes, `a-z` ranges), everything else literal. `None` for an unclosed `[`.
pub fn parse_doublestar(pattern: &str) -> Option<Vec<Elem>> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut elems = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                elems.push(Elem::AnyRun);
            }
            '*' => elems.push(Elem::Star),
            '?' => elems.push(Elem::Any),
            '[' => {
                let (class, next) = doublestar_class(&chars, i)?;
                elems.push(Elem::Class(class));
                i = next;
            }
            _ => elems.push(Elem::Lit(c)),
        }
    }
    Some(elems)
}

/// The class whose body starts at `start` (just after `[`), and the index after its `]`.
fn doublestar_class(chars: &[char], start: usize) -> Option<(Class, usize)> {
    let negated = chars.get(start) == Some(&'^');
    let body_start = start + usize::from(negated);
    let close = body_start + chars.get(body_start..)?.iter().position(|&c| c == ']')?;
    let body = chars.get(body_start..close)?;
    let mut ranges = Vec::new();
    let mut j = 0;
    while let Some(&lo) = body.get(j) {
        match (body.get(j + 1), body.get(j + 2)) {
            (Some('-'), Some(&hi)) => {
                ranges.push((lo, hi));
                j += 3;
            }
            _ => {
                ranges.push((lo, lo));
                j += 1;
            }
        }
    }
    Some((Class { negated, ranges }, close + 1))
}

/// Parses Go's `filepath.Match` language; `None` exactly where Go reports `ErrBadPattern` (Go
/// checks every chunk whatever the input, so a bad pattern never matches anything).
pub fn parse_filepath(pattern: &str) -> Option<Vec<Elem>> {
    let mut elems = Vec::new();
    let mut rest = pattern;
    while !rest.is_empty() {
        let (star, chunk, next) = scan_chunk(rest);
        if star {
            elems.push(Elem::Star);
        }
        parse_chunk(chunk, &mut elems)?;
        rest = next;
    }
    Some(elems)
}

/// Go's `scanChunk`: leading stars, then up to the next `*` outside a bracket.
fn scan_chunk(pattern: &str) -> (bool, &str, &str) {
    let trimmed = pattern.trim_start_matches('*');
    let star = trimmed.len() != pattern.len();
    let bytes = trimmed.as_bytes();
    let mut in_range = false;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if i + 1 < bytes.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    // `i` stops at `*` or the end, both character boundaries.
    let (chunk, rest) = trimmed.split_at(i.min(trimmed.len()));
    (star, chunk, rest)
}

/// The elements of one chunk, as Go's `matchChunk` reads them.
fn parse_chunk(mut chunk: &str, elems: &mut Vec<Elem>) -> Option<()> {
    while let Some(c) = chunk.chars().next() {
        chunk = &chunk[c.len_utf8()..];
        match c {
            '[' => {
                let (class, rest) = go_class(chunk)?;
                elems.push(Elem::Class(class));
                chunk = rest;
            }
            '?' => elems.push(Elem::Any),
            '\\' => {
                let escaped = chunk.chars().next()?;
                chunk = &chunk[escaped.len_utf8()..];
                elems.push(Elem::Lit(escaped));
            }
            _ => elems.push(Elem::Lit(c)),
        }
    }
    Some(())
}

/// A Go class whose body starts at `chunk` (just after `[`), and what follows its `]`.
fn go_class(mut chunk: &str) -> Option<(Class, &str)> {
    let negated = chunk.starts_with('^');
    if negated {
        chunk = &chunk[1..];
    }
    let mut ranges = Vec::new();
    loop {
        if !ranges.is_empty() {
            if let Some(rest) = chunk.strip_prefix(']') {
                return Some((Class { negated, ranges }, rest));
            }
        }
        let (lo, rest) = go_escaped_char(chunk)?;
        let (hi, rest) = match rest.strip_prefix('-') {
            Some(after_dash) => go_escaped_char(after_dash)?,
            None => (lo, rest),
        };
        ranges.push((lo, hi));
        chunk = rest;
    }
}

/// Go's `getEsc`: one class character, possibly `\`-escaped; an error if it is `-` or `]`
/// unescaped, or if nothing follows it (the class cannot be closed).
fn go_escaped_char(chunk: &str) -> Option<(char, &str)> {
    if chunk.is_empty() || chunk.starts_with(['-', ']']) {
        return None;
    }
    let chunk = chunk.strip_prefix('\\').unwrap_or(chunk);
    let c = chunk.chars().next()?;
    let rest = &chunk[c.len_utf8()..];
    if rest.is_empty() {
        return None;
    }
    Some((c, rest))
}

/// Whether `elems`, anchored at both ends, match `input` under `dialect`.
///
/// A Thompson simulation over byte positions: each position holds the set of elements reached,
/// and every step moves at most 4 bytes forward, so a ring of five rows suffices.
pub fn match_elems(elems: &[Elem], dialect: Dialect, input: &str) -> bool {
    const RING: usize = 5;
    let bytes = input.as_bytes();
    let words = (elems.len() + 1).div_ceil(64);
    let mut rows: [Vec<u64>; RING] = core::array::from_fn(|_| vec![0u64; words]);
    let mut current = vec![0u64; words];
    let [start, ..] = &mut rows;
    set_bit(start, 0);
    for pos in 0..=bytes.len() {
        // Take the row out (leaving the zeroed `current`) so the slot is clean for `pos + 5`.
        if let Some(row) = checked(rows.get_mut(pos % RING)) {
            core::mem::swap(row, &mut current);
        }
        close_over_stars(elems, &mut current);
        if pos == bytes.len() {
            return has_bit(&current, elems.len());
        }
        for (i, elem) in elems
            .iter()
            .enumerate()
            .filter(|(i, _)| has_bit(&current, *i))
        {
            if let Some((len, stay)) = step(elem, dialect, bytes, pos) {
                let target = if stay { i } else { i + 1 };
                if let Some(row) = checked(rows.get_mut((pos + len) % RING)) {
                    set_bit(row, target);
                }
            }
        }
        current.fill(0);
    }
    false
}

/// Stars and `**` may match nothing.
fn close_over_stars(elems: &[Elem], row: &mut [u64]) {
    for (i, elem) in elems.iter().enumerate() {
        if matches!(elem, Elem::Star | Elem::AnyRun) && has_bit(row, i) {
            set_bit(row, i + 1);
        }
    }
}

/// How one element consumes input at `pos`: the bytes it takes and whether it stays put (a run).
fn step(elem: &Elem, dialect: Dialect, bytes: &[u8], pos: usize) -> Option<(usize, bool)> {
    let (c, len) = unit_at(bytes, pos)?;
    match elem {
        Elem::Lit(l) => {
            let mut buf = [0u8; 4];
            let lit = l.encode_utf8(&mut buf).as_bytes();
            bytes
                .get(pos..)?
                .starts_with(lit)
                .then_some((lit.len(), false))
        }
        Elem::Any => (c != '/').then_some((len, false)),
        Elem::Class(class) => {
            let slash_ok = dialect == Dialect::Go || c != '/';
            (slash_ok && class.accepts(c)).then_some((len, false))
        }
        Elem::Star if c == '/' => None,
        // Go's `*` stops at every byte, so the next element may start inside a character.
        Elem::Star if dialect == Dialect::Go => Some((1, true)),
        Elem::Star | Elem::AnyRun => Some((len, true)),
    }
}

/// The unit at `pos`: a whole character, or, in the middle of one (only Go's byte-stepped `*`
/// lands there), a lone byte that Go decodes as U+FFFD.
fn unit_at(bytes: &[u8], pos: usize) -> Option<(char, usize)> {
    let first = *bytes.get(pos)?;
    if is_continuation(first) {
        return Some((char::REPLACEMENT_CHARACTER, 1));
    }
    let len = utf8_len(first);
    let c = core::str::from_utf8(bytes.get(pos..pos + len)?)
        .ok()?
        .chars()
        .next()?;
    Some((c, len))
}

fn is_continuation(b: u8) -> bool {
    b & 0xC0 == 0x80
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

fn set_bit(row: &mut [u64], i: usize) {
    if let Some(w) = row.get_mut(i / 64) {
        *w |= 1 << (i % 64);
    }
}

fn has_bit(row: &[u64], i: usize) -> bool {
    row.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_parse_errors_are_exactly_gos() {
        // Every one of these is ErrBadPattern in Go 1.19 (checked with `go run`).
        for bad in [
            "[]a]", "[a-]", "a[", "x*a[", "[^]*]", "a\\", "[", "[^", "[a", "[\\",
        ] {
            assert_eq!(parse_filepath(bad), None, "{bad:?}");
        }
        for good in ["[\\]]", "[!x]", "[z-a]", "\\*", "a*b", "[*]", ""] {
            assert!(parse_filepath(good).is_some(), "{good:?}");
        }
    }

    #[test]
    fn doublestar_parse_keeps_classes_literal_except_caret() {
        let elems = parse_doublestar("[!x]**?*[^a-c-]").unwrap();
        assert_eq!(
            elems,
            [
                Elem::Class(Class {
                    negated: false,
                    ranges: vec![('!', '!'), ('x', 'x')]
                }),
                Elem::AnyRun,
                Elem::Any,
                Elem::Star,
                Elem::Class(Class {
                    negated: true,
                    ranges: vec![('a', 'c'), ('-', '-')]
                }),
            ]
        );
        assert_eq!(parse_doublestar("**/[a"), None);
    }

    #[test]
    fn limits() {
        assert!(check_limits(&"a".repeat(8192)).is_ok());
        assert!(check_limits(&"a".repeat(8193)).is_err());
        assert!(check_limits(&format!("**{}", "a".repeat(254))).is_ok());
        assert!(check_limits(&format!("**{}", "a".repeat(255))).is_err());
        assert!(check_limits("**/a/**").is_ok());
        assert!(check_limits("**/a/**/b/**").is_err());
        assert!(!match_glob("*", &"a".repeat(8193)));
        assert!(match_glob("*", &"a".repeat(8192)));
    }
}
