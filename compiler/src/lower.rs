//! Lowering upstream's glob flavours to regexes for multi-pattern dense DFAs.
//!
//! Rules are decided by DFAs, so every glob must become a regex that means *exactly* what
//! upstream's matcher means (the reference is [`rampart_runtime::glob`]; `tests/glob_lowering.rs`
//! compares the two on hundreds of thousands of inputs). Both sides share the runtime's parsers, so
//! what is lowered is what is matched.
//!
//! The regexes are shaped for one DFA per field holding many patterns, built by [`dfa_builder`]
//! (`MatchKind::All`, unanchored start). Under `MatchKind::All` a pattern ending in `.*` stays
//! "alive" to the end of the input, and the DFA must remember every subset of such patterns: 2^N
//! states. So each regex carries its own `^`/`$`, a leading `.*` becomes an unanchored start and a
//! trailing `.*` is dropped (a prefix match is enough). Only interior `.*` remain, and those are
//! the caller's to budget (split DFAs on `BuildError::is_size_limit_exceeded`).
//!
//! Conventions the regexes rely on:
//! * inputs are valid UTF-8, at most [`MAX_INPUT_LEN`] bytes for the command and path flavours
//!   (upstream's matchers reject longer inputs; the caller must not ask the DFA);
//! * command inputs are raw (`\` is matched as `/` by the regex), path inputs already have `\`
//!   turned into `/`, domain inputs are already in [`domain_form`](rampart_runtime::glob::domain_form);
//! * runs use byte classes (`(?-u:[^/])*`) and `?` one Unicode scalar value, which keeps DFAs
//!   small; Go's `filepath.Match` additionally lets `?` match a lone continuation byte after a
//!   byte-stepped `*` (see the runtime's module docs), and so do these regexes.
//!
//! [`MAX_INPUT_LEN`]: rampart_runtime::glob::MAX_INPUT_LEN

use std::fmt::Write as _;

use regex_automata::dfa::{dense, StartKind};
use regex_automata::nfa::thompson;
use regex_automata::util::syntax;
use regex_automata::MatchKind;

use rampart_runtime::eval::in_order::{self, Anchors};
use rampart_runtime::glob::{
    check_limits, domain_form, parse_doublestar, parse_filepath, Class, Dialect, Elem,
};

/// Which of upstream's glob flavours a pattern is matched with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavour {
    /// `MatchGlob` (§2.5 a): commands, URLs, agents, tools, sessions, env names, tool params.
    Command,
    /// Path globs (§2.5 b).
    Path,
    /// Domain globs (§2.5 c).
    Domain,
}

/// A lowered pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lowered {
    /// Matches every input (within the input length limit).
    Always,
    /// Matches nothing (empty, over-long or malformed patterns).
    Never,
    /// Matches where this regex has a match (search unanchored; the regex has its own anchors).
    Regex(String),
}

/// The regex that means exactly `flavour` on `pattern` (see the module docs for the input
/// conventions).
pub fn lower(pattern: &str, flavour: Flavour) -> Lowered {
    match flavour {
        Flavour::Command => lower_command(pattern),
        Flavour::Path => lower_path(pattern),
        Flavour::Domain => lower_domain(pattern),
    }
}

/// Where a lowered alternative may start, for the compiler's grouping of DFAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Starts at `^`, no run: a path in a trie, cheap to share a DFA with others.
    Anchored,
    /// Unanchored, no run: literal-like, cheap to share.
    Fixed,
    /// With a run (`*` or `**`) inside: in a shared `MatchKind::All` DFA every such pattern is a
    /// bit the DFA must remember once its head matched (2^N states), so it gets its own DFA.
    Wild,
}

/// One alternative of a lowered pattern, as [`lower_parts`] gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// The alternative alone (same conventions as [`Lowered::Regex`]).
    pub regex: String,
    pub shape: Shape,
    /// For unanchored and wild alternatives: the fixed-width regexes (no runs) each of which
    /// matches wherever the alternative matches, any of which can be its prefilter: its
    /// `^`-anchored head first, then its pieces with the most literal characters first (the whole
    /// body of a [`Shape::Fixed`] one); empty when it has none.
    pub keys: Vec<Key>,
    /// When the alternative is literal pieces in order (`MatchGlob`'s in-order substrings, or
    /// a `**` pattern's literals between runs): those pieces, which substring searches decide
    /// exactly without a DFA.
    pub in_order: Option<InOrder>,
}

/// Literal pieces that match in order, as [`in_order`] decides them: each as the glob spells it
/// (in the command flavour `/` stands for either separator), anchored as `anchors` say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InOrder {
    pub anchors: Anchors,
    pub pieces: Vec<String>,
}

impl InOrder {
    /// What [`in_order::matches`] reads.
    pub fn encode(&self) -> Vec<u8> {
        let pieces: Vec<&str> = self.pieces.iter().map(String::as_str).collect();
        in_order::encode(self.anchors, &pieces)
    }
}

/// A piece that occurs wherever its alternative matches, and its count of literal characters
/// (a piece with few occurs in most inputs, so it filters little).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Key {
    pub regex: String,
    pub weight: usize,
}

/// A lowered pattern split into its alternatives: the pattern matches where any part matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parts {
    Always,
    Never,
    Alts(Vec<Part>),
}

/// [`lower`], split into its alternatives with their shapes, so a compiler can route each to a
/// DFA of its shape. The parts match exactly where `lower`'s regex matches; alternatives that
/// another one covers are left out.
pub fn lower_parts(pattern: &str, flavour: Flavour) -> Parts {
    let (alts, sep) = match flavour {
        Flavour::Command => command_alts(pattern, true),
        Flavour::Path => path_alts(pattern),
        Flavour::Domain => domain_alts(pattern),
    };
    let Some(alts) = alts else {
        return Parts::Never;
    };
    if alts.iter().any(Alt::is_always) {
        return Parts::Always;
    }
    if alts.is_empty() {
        return Parts::Never;
    }
    Parts::Alts(alts.iter().map(|a| a.part(sep)).collect())
}

/// One alternation matching any of `literals` anywhere (ASCII case-insensitive when asked).
/// An empty list gives a regex that never matches.
pub fn lower_contains(literals: &[&str], case_insensitive: bool) -> String {
    if literals.is_empty() {
        return String::from(NOTHING);
    }
    let mut out = String::from("(?:");
    for (i, literal) in literals.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        for c in literal.chars() {
            match c {
                'a'..='z' | 'A'..='Z' if case_insensitive => {
                    let _ = write!(
                        out,
                        "[{}{}]",
                        c.to_ascii_lowercase(),
                        c.to_ascii_uppercase()
                    );
                }
                _ => push_escaped(&mut out, c),
            }
        }
    }
    out.push(')');
    out
}

/// The dense-DFA builder every lowered regex is meant for: byte-oriented syntax (`utf8(false)`),
/// `.` matching `\n`, all matches reported, an unanchored start, and `size_limit` on the NFA, the
/// determinizer and the DFA (the defaults are unbounded).
pub fn dfa_builder(size_limit: usize) -> dense::Builder {
    let mut builder = dense::Builder::new();
    builder
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(StartKind::Unanchored)
                .dfa_size_limit(Some(size_limit))
                .determinize_size_limit(Some(size_limit)),
        )
        .syntax(syntax::Config::new().utf8(false).dot_matches_new_line(true))
        .thompson(
            thompson::Config::new()
                .utf8(false)
                .nfa_size_limit(Some(size_limit)),
        );
    builder
}

/// A class that matches nothing (regex-syntax accepts an empty intersection).
const NOTHING: &str = "[a&&b]";

/// Which input characters stand for the separator `/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sep {
    /// Path and domain inputs.
    Slash,
    /// Raw command inputs, where `\` is read as `/`.
    SlashOrBackslash,
}

impl Sep {
    fn class(self) -> &'static str {
        match self {
            Sep::Slash => "/",
            Sep::SlashOrBackslash => "[/\\\\]",
        }
    }

    /// A byte class body (without brackets) of everything but the separator.
    fn not_class_body(self) -> &'static str {
        match self {
            Sep::Slash => "^/",
            Sep::SlashOrBackslash => "^/\\\\",
        }
    }
}

/// Where a lowered alternative may start matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    /// At the start of the input.
    Anchored,
    /// Anywhere (a leading `.*` dropped).
    Anywhere,
    /// At the start or right after a separator (a leading `**/`, which may match zero directories).
    AfterSeparator,
}

/// One alternative of a lowered pattern, before rendering.
struct Alt {
    start: Start,
    body: String,
    end_anchored: bool,
    /// The body holds a run (`*`, `**`).
    runs: bool,
    /// The body's fixed-width pieces between runs, with their count of literal characters.
    pieces: Vec<(String, usize)>,
    /// See [`Part::in_order`].
    in_order: Option<InOrder>,
}

impl Alt {
    /// An alternative that matches every input.
    fn always() -> Alt {
        Alt {
            start: Start::Anywhere,
            body: String::new(),
            end_anchored: false,
            runs: false,
            pieces: Vec::new(),
            in_order: None,
        }
    }

    /// Whether it matches every input: nothing to match and nothing to anchor to.
    fn is_always(&self) -> bool {
        self.body.is_empty() && (!self.end_anchored || self.start == Start::Anywhere)
    }

    fn part(&self, sep: Sep) -> Part {
        let shape = match (self.start, self.runs) {
            (_, true) => Shape::Wild,
            (Start::Anchored, false) => Shape::Anchored,
            (_, false) => Shape::Fixed,
        };
        Part {
            regex: self.render(sep),
            shape,
            keys: if shape == Shape::Anchored {
                Vec::new()
            } else {
                self.keys()
            },
            in_order: self.in_order.clone(),
        }
    }

    /// The alternative's keys (see [`Part::keys`]). The anchored head is the cheapest to share
    /// (one thread, dead after a mismatch); an alternative without one (`^[^/]*/gdb *`) is still
    /// keyed by its pieces, as each of them occurs wherever it matches.
    fn keys(&self) -> Vec<Key> {
        let head = self
            .pieces
            .first()
            .filter(|(_, weight)| self.start == Start::Anchored && *weight > 0)
            .map(|(piece, weight)| Key {
                regex: format!("^{piece}"),
                weight: *weight,
            });
        let mut pieces: Vec<Key> = self
            .pieces
            .iter()
            .filter(|(_, weight)| *weight > 0)
            .map(|(piece, weight)| Key {
                regex: piece.clone(),
                weight: *weight,
            })
            .collect();
        // Stable: among pieces of one weight, the first keeps its place.
        pieces.sort_by_key(|k| std::cmp::Reverse(k.weight));
        head.into_iter().chain(pieces).collect()
    }

    fn render(&self, sep: Sep) -> String {
        let start = match self.start {
            Start::Anchored => String::from("^"),
            Start::Anywhere => String::new(),
            Start::AfterSeparator => format!("(?:^|{})", sep.class()),
        };
        let end = if self.end_anchored { "$" } else { "" };
        format!("{start}{}{end}", self.body)
    }
}

/// `MatchGlob`: its steps become alternatives (steps 4 and 5/6 may both hold).
fn lower_command(pattern: &str) -> Lowered {
    match command_alts(pattern, false) {
        (Some(alts), sep) => combine(alts, sep),
        (None, _) => Lowered::Never,
    }
}

/// The alternatives of `MatchGlob`; `None` for a pattern that never matches. `minimal` leaves out
/// the literal-prefix alternative of a `*X*` pattern: an input starting with `*X` contains the
/// parts of `*X*` in order, so the substring alternative already covers it.
fn command_alts(pattern: &str, minimal: bool) -> (Option<Vec<Alt>>, Sep) {
    let sep = Sep::SlashOrBackslash;
    if pattern.is_empty() || check_limits(pattern).is_err() {
        return (None, sep);
    }
    let pattern = pattern.replace('\\', "/");
    if pattern == "*" {
        return (Some(vec![Alt::always()]), sep);
    }
    if pattern.contains("**") {
        return (Some(doublestar_alts(&pattern, sep)), sep);
    }
    let mut alts = Vec::new();
    let mut literal_prefix = false;
    let covered = minimal && pattern.starts_with('*');
    if let Some(prefix) = pattern.strip_suffix('*').filter(|_| !covered) {
        let body = literal(prefix, sep);
        alts.push(Alt {
            start: Start::Anchored,
            body,
            end_anchored: false,
            runs: false,
            pieces: Vec::new(),
            in_order: None,
        });
        literal_prefix = !prefix.contains(['*', '?', '[']);
    }
    if pattern.starts_with('*') {
        alts.push(in_order_substrings(&pattern, sep));
    } else if !literal_prefix {
        // `P*` with a plain `P` needs no filepath alternative: `^P` covers `^P[^/]*$`.
        alts.extend(filepath_alt(&pattern, sep));
    }
    (Some(alts), sep)
}

fn lower_path(pattern: &str) -> Lowered {
    match path_alts(pattern) {
        (Some(alts), sep) => combine(alts, sep),
        (None, _) => Lowered::Never,
    }
}

fn path_alts(pattern: &str) -> (Option<Vec<Alt>>, Sep) {
    let sep = Sep::Slash;
    if pattern.is_empty() || check_limits(pattern).is_err() {
        return (None, sep);
    }
    (Some(doublestar_alts(&pattern.replace('\\', "/"), sep)), sep)
}

fn lower_domain(pattern: &str) -> Lowered {
    match domain_alts(pattern) {
        (Some(alts), sep) => combine(alts, sep),
        (None, _) => Lowered::Never,
    }
}

fn domain_alts(pattern: &str) -> (Option<Vec<Alt>>, Sep) {
    let sep = Sep::Slash;
    let alts = filepath_alt(&domain_form(pattern), sep)
        .into_iter()
        .collect();
    (Some(alts), sep)
}

fn combine(alts: Vec<Alt>, sep: Sep) -> Lowered {
    if alts.iter().any(Alt::is_always) {
        return Lowered::Always;
    }
    match alts.as_slice() {
        [] => Lowered::Never,
        [only] => Lowered::Regex(only.render(sep)),
        _ => {
            let rendered: Vec<String> = alts
                .iter()
                .map(|a| format!("(?:{})", a.render(sep)))
                .collect();
            Lowered::Regex(rendered.join("|"))
        }
    }
}

/// Step 5 of `MatchGlob`: the parts between `*`s, in order, anywhere, `?` and `[` literal.
fn in_order_substrings(pattern: &str, sep: Sep) -> Alt {
    let texts: Vec<&str> = pattern.split('*').filter(|p| !p.is_empty()).collect();
    let pieces: Vec<(String, usize)> = texts
        .iter()
        .map(|p| (literal(p, sep), p.chars().count()))
        .collect();
    let parts: Vec<&str> = pieces.iter().map(|(p, _)| p.as_str()).collect();
    let runs = parts.len() > 1;
    Alt {
        start: Start::Anywhere,
        body: parts.join(ANY_RUN),
        end_anchored: false,
        runs,
        pieces,
        in_order: runs.then(|| InOrder {
            anchors: Anchors {
                either_separator: sep == Sep::SlashOrBackslash,
                ..Anchors::default()
            },
            pieces: texts.iter().map(|t| t.to_string()).collect(),
        }),
    }
}

/// Go's `filepath.Match`, anchored at both ends; `None` for a malformed or unmatchable pattern.
fn filepath_alt(pattern: &str, sep: Sep) -> Option<Alt> {
    let elems = parse_filepath(pattern)?;
    let body = elements(&elems, Dialect::Go, sep)?;
    Some(Alt {
        start: Start::Anchored,
        body,
        end_anchored: true,
        runs: elems.iter().any(is_run),
        pieces: pieces(&elems, Dialect::Go, sep),
        in_order: None,
    })
}

/// Upstream's anchored `**` matcher; a leading `**/` may also match zero directories.
fn doublestar_alts(pattern: &str, sep: Sep) -> Vec<Alt> {
    let (start, rest) = match pattern.strip_prefix("**/") {
        Some(rest) => (Start::AfterSeparator, rest),
        None => (Start::Anchored, pattern),
    };
    let Some(elems) = parse_doublestar(rest) else {
        return Vec::new();
    };
    let (start, elems) = drop_leading_run(start, &elems);
    let (elems, end_anchored) = drop_trailing_run(elems);
    let pieces = pieces(elems, Dialect::Upstream, sep);
    let in_order = literal_runs(start, elems, end_anchored, sep);
    elements(elems, Dialect::Upstream, sep)
        .map(|body| Alt {
            start,
            body,
            end_anchored,
            runs: elems.iter().any(is_run),
            pieces,
            in_order,
        })
        .into_iter()
        .collect()
}

/// `elems` as [`InOrder`] pieces, when they are literals between `**` runs and the alternative
/// starts at the start of the input or anywhere (not after a separator).
fn literal_runs(start: Start, elems: &[Elem], end_anchored: bool, sep: Sep) -> Option<InOrder> {
    if start == Start::AfterSeparator {
        return None;
    }
    let mut pieces = Vec::new();
    for piece in elems.split(|e| *e == Elem::AnyRun) {
        let text: Option<String> = piece
            .iter()
            .map(|e| match e {
                Elem::Lit(c) if *c != '*' => Some(*c),
                _ => None,
            })
            .collect();
        let text = text?;
        if !text.is_empty() {
            pieces.push(text);
        }
    }
    Some(InOrder {
        anchors: Anchors {
            at_start: start == Start::Anchored,
            at_end: end_anchored,
            either_separator: sep == Sep::SlashOrBackslash,
        },
        pieces,
    })
}

/// The fixed-width runs of `elems` between stars, rendered, with their count of literals.
fn pieces(elems: &[Elem], dialect: Dialect, sep: Sep) -> Vec<(String, usize)> {
    elems
        .split(is_run)
        .filter_map(|piece| {
            let weight = piece.iter().filter(|e| matches!(e, Elem::Lit(_))).count();
            Some((elements(piece, dialect, sep)?, weight))
        })
        .collect()
}

fn is_run(e: &Elem) -> bool {
    matches!(e, Elem::Star | Elem::AnyRun)
}

/// `^.*X` (or `(?:^|/).*X`) is an unanchored `X`; stars right after the `**` add nothing.
fn drop_leading_run(start: Start, elems: &[Elem]) -> (Start, &[Elem]) {
    if elems.first() != Some(&Elem::AnyRun) {
        return (start, elems);
    }
    let mut rest = elems;
    while let [Elem::AnyRun | Elem::Star, after @ ..] = rest {
        rest = after;
    }
    (Start::Anywhere, rest)
}

/// `X.*$` holds exactly when `X` matches a prefix; stars right before the `**` add nothing.
fn drop_trailing_run(elems: &[Elem]) -> (&[Elem], bool) {
    if elems.last() != Some(&Elem::AnyRun) {
        return (elems, true);
    }
    let mut kept = elems;
    while let [before @ .., Elem::AnyRun | Elem::Star] = kept {
        kept = before;
    }
    (kept, false)
}

/// Any run of bytes, `\n` included.
const ANY_RUN: &str = "(?s-u:.)*";
/// A continuation byte: what Go's `?` may match in the middle of a character.
const CONTINUATION: &str = "(?-u:[\\x80-\\xBF])";

/// The regex of `elems` under `dialect`; `None` when an element can never match.
fn elements(elems: &[Elem], dialect: Dialect, sep: Sep) -> Option<String> {
    let mut out = String::new();
    for elem in elems {
        match elem {
            Elem::Lit('/') => out.push_str(sep.class()),
            Elem::Lit(c) => push_escaped(&mut out, *c),
            Elem::Any if dialect == Dialect::Go => {
                let _ = write!(out, "(?:[{}]|{CONTINUATION})", sep.not_class_body());
            }
            Elem::Any => {
                let _ = write!(out, "[{}]", sep.not_class_body());
            }
            Elem::Class(class) => out.push_str(&class_regex(class, dialect, sep)?),
            Elem::Star => {
                let _ = write!(out, "(?-u:[{}])*", sep.not_class_body());
            }
            Elem::AnyRun => out.push_str(ANY_RUN),
        }
    }
    Some(out)
}

/// A class as the characters it accepts on the (converted) input; `None` if it accepts none.
fn class_regex(class: &Class, dialect: Dialect, sep: Sep) -> Option<String> {
    let mut set = CharSet::of(class);
    let slash = set.contains('/');
    // Upstream's classes never match the separator; Go's may, and then a raw `\` counts as `/`.
    let slash = slash && dialect == Dialect::Go;
    set.set('/', slash);
    if sep == Sep::SlashOrBackslash {
        set.set('\\', slash);
    }
    let fffd = dialect == Dialect::Go && set.contains(char::REPLACEMENT_CHARACTER);
    let class = set.render();
    match (class, fffd) {
        (None, _) => None,
        (Some(class), false) => Some(class),
        (Some(class), true) => Some(format!("(?:{class}|{CONTINUATION})")),
    }
}

/// A set of Unicode scalar values as sorted, disjoint, inclusive ranges.
struct CharSet {
    ranges: Vec<(u32, u32)>,
}

const MAX_SCALAR: u32 = 0x10_FFFF;
const SURROGATES: (u32, u32) = (0xD800, 0xDFFF);

impl CharSet {
    fn of(class: &Class) -> CharSet {
        let mut ranges: Vec<(u32, u32)> = class
            .ranges
            .iter()
            .filter(|(lo, hi)| lo <= hi)
            .map(|&(lo, hi)| (u32::from(lo), u32::from(hi)))
            .collect();
        ranges.sort_unstable();
        let mut set = CharSet { ranges: Vec::new() };
        for (lo, hi) in ranges {
            set.add(lo, hi);
        }
        if class.negated {
            set.complement();
        }
        set
    }

    /// Adds a range; callers add in ascending order of `lo`.
    fn add(&mut self, lo: u32, hi: u32) {
        match self.ranges.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => self.ranges.push((lo, hi)),
        }
    }

    fn complement(&mut self) {
        let mut out = Vec::new();
        let mut next = 0u32;
        for &(lo, hi) in &self.ranges {
            if lo > next {
                out.push((next, lo - 1));
            }
            next = hi.saturating_add(1);
        }
        if next <= MAX_SCALAR {
            out.push((next, MAX_SCALAR));
        }
        self.ranges = out;
    }

    fn contains(&self, c: char) -> bool {
        let c = u32::from(c);
        self.ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi)
    }

    /// Puts `c` in the set or takes it out.
    fn set(&mut self, c: char, present: bool) {
        let c = u32::from(c);
        let mut out = Vec::with_capacity(self.ranges.len() + 2);
        for &(lo, hi) in &self.ranges {
            if lo <= c && c <= hi {
                if lo < c {
                    out.push((lo, c - 1));
                }
                if c < hi {
                    out.push((c + 1, hi));
                }
            } else {
                out.push((lo, hi));
            }
        }
        if present {
            out.push((c, c));
        }
        out.sort_unstable();
        self.ranges = Vec::new();
        for (lo, hi) in out {
            self.add(lo, hi);
        }
    }

    /// A Unicode-mode class over the set's scalar values (surrogates left out); `None` if empty.
    fn render(&self) -> Option<String> {
        let mut out = String::from("[");
        let mut any = false;
        for &(lo, hi) in &self.ranges {
            for (lo, hi) in without_surrogates(lo, hi) {
                let _ = write!(out, "\\x{{{lo:X}}}-\\x{{{hi:X}}}");
                any = true;
            }
        }
        out.push(']');
        any.then_some(out)
    }
}

/// `lo..=hi` with the surrogate block cut out (they are not characters).
fn without_surrogates(lo: u32, hi: u32) -> Vec<(u32, u32)> {
    let (s_lo, s_hi) = SURROGATES;
    let mut parts = Vec::new();
    if lo < s_lo {
        parts.push((lo, hi.min(s_lo - 1)));
    }
    if hi > s_hi {
        parts.push((lo.max(s_hi + 1), hi));
    }
    parts
}

/// `text` matched literally, `/` standing for the separator.
fn literal(text: &str, sep: Sep) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '/' => out.push_str(sep.class()),
            _ => push_escaped(&mut out, c),
        }
    }
    out
}

fn push_escaped(out: &mut String, c: char) {
    if regex_meta(c) {
        out.push('\\');
    }
    out.push(c);
}

/// regex-syntax's meta characters (`regex_syntax::is_meta_character`).
fn regex_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_common_patterns() {
        let cases = [
            ("rm -rf /*", Flavour::Command, r"^rm \-rf [/\\]"),
            (
                "git * --force*",
                Flavour::Command,
                r"(?:^git \* \-\-force)|(?:^git (?-u:[^/\\])* \-\-force(?-u:[^/\\])*$)",
            ),
            ("*.env", Flavour::Command, r"\.env"),
            (
                "*curl*webhook.site",
                Flavour::Command,
                r"curl(?s-u:.)*webhook\.site",
            ),
            ("echo * x", Flavour::Command, r"^echo (?-u:[^/\\])* x$"),
            ("/etc/**", Flavour::Path, r"^/etc/"),
            (
                "**/.ssh/id_*",
                Flavour::Path,
                r"(?:^|/)\.ssh/id_(?-u:[^/])*$",
            ),
            ("**/.env", Flavour::Path, r"(?:^|/)\.env$"),
            ("*.ngrok.io", Flavour::Domain, r"^(?-u:[^/])*\.ngrok\.io$"),
            ("a?", Flavour::Domain, r"^a(?:[^/]|(?-u:[\x80-\xBF]))$"),
            ("a?", Flavour::Path, r"^a[^/]$"),
            (
                "[^b-a]",
                Flavour::Path,
                r"^[\x{0}-\x{2E}\x{30}-\x{D7FF}\x{E000}-\x{10FFFF}]$",
            ),
        ];
        for (pattern, flavour, want) in cases {
            assert_eq!(
                lower(pattern, flavour),
                Lowered::Regex(String::from(want)),
                "{pattern:?}"
            );
        }
    }

    #[test]
    fn parts_rejoin_to_the_lowered_regex() {
        let patterns = [
            ("*curl*webhook.site", Flavour::Command),
            ("git * --force*", Flavour::Command),
            ("rm -rf /*", Flavour::Command),
            ("**.ssh/*_key", Flavour::Command),
            ("**/.ssh/id_*", Flavour::Path),
            ("**/proj/**/secrets/*.key", Flavour::Path),
            ("*.ngrok.io", Flavour::Domain),
            ("*", Flavour::Command),
            ("", Flavour::Path),
        ];
        for (pattern, flavour) in patterns {
            let joined = match lower_parts(pattern, flavour) {
                Parts::Always => Lowered::Always,
                Parts::Never => Lowered::Never,
                Parts::Alts(parts) if parts.len() == 1 => Lowered::Regex(parts[0].regex.clone()),
                Parts::Alts(parts) => Lowered::Regex(
                    parts
                        .iter()
                        .map(|p| format!("(?:{})", p.regex))
                        .collect::<Vec<_>>()
                        .join("|"),
                ),
            };
            assert_eq!(joined, lower(pattern, flavour), "{pattern:?}");
        }
    }

    #[test]
    fn wild_parts_carry_their_longest_piece() {
        let Parts::Alts(parts) = lower_parts("*curl*webhook.site", Flavour::Command) else {
            panic!("not lowered");
        };
        assert_eq!(parts[0].shape, Shape::Wild);
        assert_eq!(parts[0].keys[0].regex, r"webhook\.site");
        // `^\*killall\*rampart` is covered by the substring alternative.
        let Parts::Alts(parts) = lower_parts("*killall*rampart*", Flavour::Command) else {
            panic!("not lowered");
        };
        assert_eq!(parts.len(), 1);
        assert_eq!(parts[0].regex, r"killall(?s-u:.)*rampart");
        let Parts::Alts(parts) = lower_parts("**/proj/**/secrets/*.key", Flavour::Path) else {
            panic!("not lowered");
        };
        assert_eq!(parts[0].shape, Shape::Wild);
        let required = &parts[0].keys[0].regex;
        assert!(required.contains("secrets/"), "{required}");
        let Parts::Alts(parts) = lower_parts("rm -rf /*", Flavour::Command) else {
            panic!("not lowered");
        };
        assert_eq!((parts[0].shape, parts[0].keys.len()), (Shape::Anchored, 0));
        let Parts::Alts(parts) = lower_parts("**.docker/config.json**", Flavour::Command) else {
            panic!("not lowered");
        };
        assert_eq!(parts[0].shape, Shape::Fixed);
    }

    #[test]
    fn always_and_never() {
        assert_eq!(lower("*", Flavour::Command), Lowered::Always);
        assert_eq!(lower("**", Flavour::Command), Lowered::Always);
        assert_eq!(lower("**", Flavour::Path), Lowered::Always);
        assert_eq!(lower("**/**", Flavour::Path), Lowered::Always);
        assert_eq!(lower("", Flavour::Command), Lowered::Never);
        assert_eq!(lower("a[", Flavour::Command), Lowered::Never);
        assert_eq!(lower("**/a/**/b/**", Flavour::Path), Lowered::Never);
        assert_eq!(lower("[z-a]", Flavour::Domain), Lowered::Never);
    }
}
