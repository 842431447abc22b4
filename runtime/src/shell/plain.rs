//! A fast path for plain text.
//!
//! Most agent commands are made of ordinary words joined by control operators:
//! `cargo test --workspace 2>&1 | tail -n 20`. For such text the full model does a lot of work to
//! find nothing: every stage tokenizes it again, looks for quotes, launchers, wrappers, keywords
//! and substitutions that are not there, and the worklist re-reads each reading it derives. This
//! module recognises *plain* text and says what the full model would derive from it, cheaply.
//!
//! Text is plain when
//! * every byte is a word byte (`[A-Za-z0-9_@%+=:,./-]`, and the globs `*` `?` and `~`, which
//!   no stage expands), a space, a newline, `&`, `|`, `;` or `>`; it does not contain `&>`, and
//!   it starts with a word byte;
//! * the head word of every segment is not an assignment, not a redirection and not a name any
//!   stage treats specially ([`is_special`], any directory; cmd.exe and PowerShell in any case);
//! * its last word is not `fi`, `done` or `esac`.
//!
//! Why that is enough, stage by stage (each claim is also checked against the full model by the
//! tests below, on a table and on generated text):
//! * no quote, backslash, `^` or backtick: every dialect tokenizes a segment into its
//!   space-separated words, and splitting is the same in every dialect (`&>` is the only
//!   operator on which they disagree here);
//! * no `(`, `` ` `` or `<`: no substitution, process substitution or here-string; no `eval`
//!   head: no eval payload;
//! * head not an assignment, launcher, wrapper or redirection: normalizing a segment only
//!   collapses its runs of spaces, so the normalized command is the segments joined with
//!   ` && `, and re-splitting it gives back those segments (the components);
//! * no `(`, `{`, `!`, keyword head or trailing keyword: no grouping or control-flow body;
//! * no `^`, `&>`, `'` or backtick: no cmd.exe or PowerShell reading;
//! * one segment: its head has no directory and is not `busybox`/`toybox`/a shell/`sudo`/
//!   `doas`/`su`/`xargs`/`find`/`rm`: no alternates and no rm/find aliases;
//! * no `export`/`declare`/`set`/`setx`… head and no `$`: no environment assignment except what
//!   the textual PowerShell scan finds, which the caller still runs.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::split::{split, SplitDialect};
use super::tokenize::{byte_flags, contains_amp_gt, redirection_len, tokenize, Dialect, Tokens};
use super::words::{
    assignment_name, basename, contains_ignore_case, head_word, is_assignment, is_cmd,
    is_powershell,
};

/// Segments beyond this take the full path: the components are deduplicated by a linear scan.
const MAX_SEGMENTS: usize = 16;

/// Byte classes: [`WORD`] bytes make bare words; [`SEPARATOR`] bytes separate words and segments;
/// any other byte (0) makes the text not plain.
const WORD: u8 = 1;
const SEPARATOR: u8 = 2;

static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphanumeric() {
            t[c] = WORD;
        }
        c += 1;
    }
    // The bare bytes of `quote_word`, and the glob and tilde characters no stage reads.
    let extra = b"_@%+=:,./-*?~";
    let mut k = 0;
    while k < extra.len() {
        t[extra[k] as usize] = WORD;
        k += 1;
    }
    let seps = b" \n&|;>";
    let mut k = 0;
    while k < seps.len() {
        t[seps[k] as usize] = SEPARATOR;
        k += 1;
    }
    t
};

/// Head words that some stage reads specially: launchers, wrappers, see-through wrappers, rm/find,
/// eval, keywords and the assignment builtins. (cmd.exe, PowerShell and `set`/`setx` are matched
/// in any case by [`is_special`].)
#[rustfmt::skip]
const SPECIAL_NAMES: &[&str] = &[
    // Launchers (normalize).
    "command", "exec", "env", "nohup", "nice", "timeout", "setsid", "stdbuf",
    // POSIX shells (wrappers, here-strings).
    "sh", "bash", "zsh", "dash", "ash", "ksh",
    // Applets, see-through wrappers and the rm/find aliases.
    "busybox", "toybox", "sudo", "doas", "su", "xargs", "find", "rm",
    // Substitutions.
    "eval",
    // Bodies.
    "if", "elif", "while", "until", "then", "do", "else", "case",
    // Environment assignments.
    "export", "declare", "typeset", "local", "readonly",
];

/// The names [`is_special`] matches in any case: every name `words::is_cmd` and
/// `words::is_powershell` accept, and `set`/`setx`. The filter is built from this list, so a name
/// those functions learn must be added here too.
#[rustfmt::skip]
const SPECIAL_ANY_CASE: &[&str] = &[
    "cmd", "cmd.exe", "powershell", "powershell.exe", "pwsh", "pwsh.exe", "set", "setx",
];

/// A Bloom filter over the special names: a bit per name, at [`special_hash`] of its length and
/// of its first, second and last bytes in lower case. Nearly every head misses it, so the name
/// comparisons, which cost more than the rest of a plain segment's reading, are rare. (Keyed on
/// three bytes: `du` shares its first byte with `do` and its last with `su`.)
static SPECIAL_FILTER: [u64; FILTER_WORDS] = special_filter();

const FILTER_WORDS: usize = 16;

/// The filter's bit for a name of bytes `b`, the same in any case.
const fn special_hash(b: &[u8]) -> usize {
    let (first, second) = match b {
        [] => (0, 0),
        [only] => (*only, 0),
        [first, second, ..] => (*first, *second),
    };
    let last = match b {
        [] => 0,
        [.., last] => *last,
    };
    let h = b.len() * 97 + low(first) * 31 + low(second) * 7 + low(last);
    h % (FILTER_WORDS * 64)
}

const fn low(c: u8) -> usize {
    c.to_ascii_lowercase() as usize
}

const fn special_filter() -> [u64; FILTER_WORDS] {
    let mut t = [0u64; FILTER_WORDS];
    let lists = [SPECIAL_NAMES, SPECIAL_ANY_CASE];
    let mut l = 0;
    while l < lists.len() {
        let mut k = 0;
        while k < lists[l].len() {
            let h = special_hash(lists[l][k].as_bytes());
            t[h / 64] |= 1 << (h % 64);
            k += 1;
        }
        l += 1;
    }
    t
}

/// One of [`SPECIAL_NAMES`]. (A linear search: the filter of [`is_special`] lets few heads
/// get this far.)
fn is_special_name(base: &str) -> bool {
    SPECIAL_NAMES.contains(&base)
}

fn is_special(head: &str) -> bool {
    let base = basename(head);
    let b = base.as_bytes();
    if b.is_empty() {
        return false;
    }
    let h = special_hash(b);
    let hit = SPECIAL_FILTER
        .get(h / 64)
        .is_some_and(|w| w & (1 << (h % 64)) != 0);
    if !hit {
        return false;
    }
    is_special_name(base)
        || is_cmd(base)
        || is_powershell(base)
        || base.eq_ignore_ascii_case("set")
        || base.eq_ignore_ascii_case("setx")
}

/// The first word of a segment (segments are trimmed, words are separated by single bytes).
fn first_word(seg: &str) -> &str {
    let end = seg.bytes().position(|c| c == b' ').unwrap_or(seg.len());
    seg.get(..end).unwrap_or("")
}

/// Plain text split into its segments.
#[derive(Debug, Default)]
pub(crate) struct Plain {
    /// The POSIX segments of the text.
    segs: Vec<Range<usize>>,
    /// The normalized form: the segments with single spaces, joined with ` && `.
    normalized: String,
    /// The distinct normalized segments (ranges of `normalized`), first seen first.
    components: Vec<Range<usize>>,
    /// The names of the leading assignments of the segments (`A=1 cargo test`), back to back,
    /// and their ranges, first seen first.
    names_text: String,
    names: Vec<Range<usize>>,
    /// The text has a quote (its cmd.exe reading may differ from it).
    quoted: bool,
    /// Some segment normalizes to other text than its own (quotes, runs of spaces, assignments).
    rewritten: bool,
    /// The words of the segment being read (quoted text and assignments only).
    toks: Tokens,
    /// The text last read, and whether it was plain (the empty text is not).
    text: String,
    plain: bool,
}

/// How the quick reading of a text's segments ended.
enum Bare {
    Plain,
    NotPlain,
    /// A segment starts with an assignment: its words have to be read.
    NeedsWords,
}

impl Plain {
    /// Reads `c`; false (and nothing usable) when it is not plain. Several stages ask about the
    /// raw command in turn, so the answer for the last text read is kept.
    pub(crate) fn read(&mut self, c: &str) -> bool {
        if self.text == c {
            return self.plain;
        }
        self.text.clear();
        self.text.push_str(c);
        self.plain = self.read_uncached(c);
        self.plain
    }

    fn read_uncached(&mut self, c: &str) -> bool {
        self.segs.clear();
        self.normalized.clear();
        self.components.clear();
        self.names_text.clear();
        self.names.clear();
        self.rewritten = false;
        let Some(bytes) = plain_bytes(c.as_bytes()) else {
            return false;
        };
        let quoted = bytes == Bytes::Quoted;
        self.quoted = quoted;
        let b = c.as_bytes();
        let last_start = b
            .iter()
            .rposition(|&x| x == b' ' || x == b'\n')
            .map_or(0, |i| i + 1);
        if matches!(c.get(last_start..), Some("fi" | "done" | "esac")) {
            return false;
        }
        if bytes == Bytes::OneSegment {
            // What `split` gives text without an operator byte: the text, trimmed (it starts
            // with a word byte, and a space is its only blank).
            let end = b.iter().rposition(|&x| x != b' ').map_or(0, |i| i + 1);
            self.segs.push(0..end);
        } else {
            split(c, SplitDialect::Posix, &mut self.segs);
        }
        if self.segs.len() > MAX_SEGMENTS {
            return false;
        }
        if !quoted {
            match self.read_bare(c) {
                Bare::Plain => return true,
                Bare::NotPlain => return false,
                Bare::NeedsWords => {
                    self.normalized.clear();
                    self.components.clear();
                }
            }
        }
        self.read_words(c)
    }

    /// Text without quotes whose heads are plain words: each segment normalizes to itself with
    /// its runs of spaces collapsed.
    fn read_bare(&mut self, c: &str) -> Bare {
        // A lone segment whose head has a directory has an alternate reading (`/bin/ls` -> `ls`).
        if self.segs.len() == 1 && first_word(c).contains('/') {
            return Bare::NotPlain;
        }
        for k in 0..self.segs.len() {
            let seg = c.get(self.segs[k].clone()).unwrap_or("");
            let head = first_word(seg);
            if is_assignment(head) {
                return Bare::NeedsWords;
            }
            if head.contains('=') || redirection_len(head) > 0 || is_special(head) {
                return Bare::NotPlain;
            }
            self.push_normalized(seg);
        }
        Bare::Plain
    }

    /// Text with quotes or leading assignments: each segment is tokenized, its assignments are
    /// dropped and its words joined with single spaces. The quoted parts hold word bytes and
    /// single spaces only (see [`plain_bytes`]), so the normalized text is plain and quote-free.
    fn read_words(&mut self, c: &str) -> bool {
        self.rewritten = true;
        let lone = self.segs.len() == 1;
        let mut toks = core::mem::take(&mut self.toks);
        let mut plain = true;
        for k in 0..self.segs.len() {
            let seg = c.get(self.segs[k].clone()).unwrap_or("");
            let head = first_word(seg);
            if !head.bytes().any(|b| matches!(b, b'\'' | b'"' | b'=')) {
                // A bare head and no assignment: the checks of `read_bare`, and the words need
                // not be read one by one (see `push_unquoted`).
                if redirection_len(head) > 0 || is_special(head) || (lone && head.contains('/')) {
                    plain = false;
                    break;
                }
                self.push_unquoted(seg);
                continue;
            }
            tokenize(seg, Dialect::Posix, &mut toks);
            if !self.read_segment(c, seg, &toks, lone) {
                plain = false;
                break;
            }
        }
        self.toks = toks;
        plain
    }

    /// One segment of [`Plain::read_words`]; false when it is not plain.
    fn read_segment(&mut self, c: &str, seg: &str, t: &Tokens, lone: bool) -> bool {
        let h = (0..t.len())
            .find(|&i| !is_assignment(t.value(i)))
            .unwrap_or(t.len());
        // The head must be a bare word (its value is its text), in a segment read as POSIX.
        let head = t.value(h);
        let raw_head = seg.get(t.raw(h)).unwrap_or("");
        if h >= t.len()
            || raw_head != head
            || head.contains('=')
            || redirection_len(head) > 0
            || is_special(head)
            || (lone && head.contains('/'))
        {
            return false;
        }
        let dialect_head = head_word(seg);
        if is_cmd(dialect_head) || is_powershell(dialect_head) {
            return false;
        }
        // A quoted assignment splits differently as cmd.exe words, which the assignment stage
        // reads when the text has `set`.
        let quoted_assignment =
            (0..h).any(|i| seg.get(t.raw(i)).is_some_and(|w| w.contains(['\'', '"'])));
        if quoted_assignment && contains_ignore_case(c, "set") {
            return false;
        }
        for i in 0..h {
            if let Some(name) = assignment_name(t.value(i)) {
                let taken = self.names().any(|n| n == name);
                if !taken {
                    let start = self.names_text.len();
                    self.names_text.push_str(name);
                    self.names.push(start..self.names_text.len());
                }
            }
        }
        if !self.normalized.is_empty() {
            self.normalized.push_str(" && ");
        }
        let start = self.normalized.len();
        t.join_from(h, &mut self.normalized);
        self.push_component(start);
        true
    }

    pub(crate) fn segments(&self) -> usize {
        self.segs.len()
    }

    /// The POSIX segments of the text last read.
    pub(crate) fn segment_ranges(&self) -> &[Range<usize>] {
        &self.segs
    }

    pub(crate) fn normalized(&self) -> &str {
        &self.normalized
    }

    /// The grant components: the distinct normalized segments, in order.
    pub(crate) fn components(&self) -> impl Iterator<Item = &str> {
        self.components
            .iter()
            .map(|r| self.normalized.get(r.clone()).unwrap_or(""))
    }

    /// The environment variables the text assigns (all in leading assignments).
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(|r| self.names_text.get(r.clone()).unwrap_or(""))
    }

    /// The text has a quote, so its cmd.exe reading (when it has `&` or `|` too) may differ.
    pub(crate) fn quoted(&self) -> bool {
        self.quoted
    }

    /// Every segment is its own normalized form, so the segments are the components.
    pub(crate) fn segments_are_components(&self) -> bool {
        !self.rewritten
    }

    /// Appends a segment with its runs of spaces collapsed (it is trimmed, and plain: its words
    /// are separated by spaces only).
    fn push_normalized(&mut self, seg: &str) {
        if !self.normalized.is_empty() {
            self.normalized.push_str(" && ");
        }
        let start = self.normalized.len();
        if seg.as_bytes().windows(2).any(|w| w == b"  ") {
            self.rewritten = true;
            for (k, w) in seg.split(' ').filter(|w| !w.is_empty()).enumerate() {
                if k > 0 {
                    self.normalized.push(' ');
                }
                self.normalized.push_str(w);
            }
        } else {
            self.normalized.push_str(seg);
        }
        self.push_component(start);
    }

    /// Appends a segment whose head is a bare word (so it has no assignment) as its words joined
    /// with single spaces: without its quote bytes and with its runs of spaces collapsed. That is
    /// the same text because a quoted part of plain text is word bytes with single spaces inside
    /// and none at its ends (see [`quoted_end`]): it holds no other quote, no operator and no
    /// space next to another.
    fn push_unquoted(&mut self, seg: &str) {
        if !self.normalized.is_empty() {
            self.normalized.push_str(" && ");
        }
        let start = self.normalized.len();
        // Copied in runs between the bytes left out (all ASCII, so every index is a boundary).
        let b = seg.as_bytes();
        let mut from = 0;
        for (i, &c) in b.iter().enumerate() {
            let skip =
                c == b'\'' || c == b'"' || (c == b' ' && i > 0 && b.get(i - 1) == Some(&b' '));
            if skip {
                self.normalized.push_str(seg.get(from..i).unwrap_or(""));
                from = i + 1;
            }
        }
        self.normalized.push_str(seg.get(from..).unwrap_or(""));
        self.push_component(start);
    }

    /// Records `normalized[start..]`, the segment just appended, as a component unless it is one.
    fn push_component(&mut self, start: usize) {
        let new = start..self.normalized.len();
        let text = self.normalized.get(new.clone());
        let seen = self
            .components
            .iter()
            .any(|r| self.normalized.get(r.clone()) == text);
        if !seen {
            self.components.push(new);
        }
    }
}

/// Whether `seg`, a segment (raw or normalized) of plain text or that text's normalized form,
/// derives no reading beyond itself, its normalized form and the text's components. Such a
/// reading is plain on its own: its bytes, its heads and its operators were checked with the
/// text, and it splits exactly as the text did (` && ` joins what already split). Only two checks
/// depend on it standing alone: a lone segment's head must have no directory (no `/bin/ls` ->
/// `ls` alternate), and its last word must not be `fi`, `done` or `esac` (no body reading; the
/// text may have ended with `&` after it). Then it reads as its normalized form (its spaces
/// collapsed) and its components, all of them components or the normalized form of the text.
pub(crate) fn inert_segment(seg: &str) -> bool {
    let b = seg.as_bytes();
    let last_word_is = |w: &[u8]| {
        b.ends_with(w) && (b.len() == w.len() || b.get(b.len() - w.len() - 1) == Some(&b' '))
    };
    let keyword_last = last_word_is(b"fi") || last_word_is(b"done") || last_word_is(b"esac");
    let first_end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    let first = b.get(..first_end).unwrap_or(b);
    !keyword_last && !first.iter().any(|&c| c == b'/' || c == b'=')
}

/// What [`plain_bytes`] found in plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bytes {
    /// A quote.
    Quoted,
    /// No quote, and no byte that `split` cuts at (`&`, `|`, `;`, newline).
    OneSegment,
    /// No quote, and some of those bytes.
    Operators,
}

/// Only word and separator bytes, no `&>`, and a word byte first; and quotes, whose contents
/// are word bytes separated by single spaces (so a quoted part never adds an operator, an empty
/// word or a run of spaces to the normalized text).
fn plain_bytes(b: &[u8]) -> Option<Bytes> {
    if b.first().is_none_or(|&f| CLASS[usize::from(f)] != WORD) {
        return None;
    }
    // Which kinds of byte occur: most commands have no quote and no `&>`, and a byte that is
    // neither word nor separator (inside quotes too) is never plain.
    let seen = byte_flags(b, &FLAGS);
    if seen & OTHER != 0 {
        return None;
    }
    if seen & QUOTE != 0 {
        return quoted_bytes(b).then_some(Bytes::Quoted);
    }
    if seen & (AMP | GT) == AMP | GT && contains_amp_gt(b) {
        return None;
    }
    if seen & (AMP | OPERATOR) == 0 {
        Some(Bytes::OneSegment)
    } else {
        Some(Bytes::Operators)
    }
}

/// Flags of [`FLAGS`]: a byte that is neither word, separator nor quote; a quote; `&`; `>`;
/// another byte `split` cuts at.
const OTHER: u8 = 1;
const QUOTE: u8 = 2;
const AMP: u8 = 4;
const GT: u8 = 8;
const OPERATOR: u8 = 16;

static FLAGS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        if CLASS[c] == 0 {
            t[c] = OTHER;
        }
        c += 1;
    }
    t[b'\'' as usize] = QUOTE;
    t[b'"' as usize] = QUOTE;
    t[b'&' as usize] = AMP;
    t[b'>' as usize] = GT;
    t[b'|' as usize] = OPERATOR;
    t[b';' as usize] = OPERATOR;
    t[b'\n' as usize] = OPERATOR;
    t
};

/// [`plain_bytes`] of text with a quote: the quoted parts are read one by one.
fn quoted_bytes(b: &[u8]) -> bool {
    let mut prev = 0u8;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\'' || c == b'"' {
            let Some(end) = quoted_end(b, i) else {
                return false;
            };
            i = end;
            prev = c;
            continue;
        }
        if CLASS[usize::from(c)] == 0 || (prev == b'&' && c == b'>') {
            return false;
        }
        prev = c;
        i += 1;
    }
    true
}

/// The index after the quote that closes the one at `open`, if the quoted part is plain.
fn quoted_end(b: &[u8], open: usize) -> Option<usize> {
    let q = *b.get(open)?;
    let len = b.get(open + 1..)?.iter().position(|&c| c == q)?;
    let body = b.get(open + 1..open + 1 + len)?;
    let word_or_space = |&c: &u8| c == b' ' || CLASS[usize::from(c)] == WORD;
    let solid = body.first().is_some_and(|&c| c != b' ') && body.last().is_some_and(|&c| c != b' ');
    if !solid || !body.iter().all(word_or_space) || body.windows(2).any(|w| w == b"  ") {
        return None;
    }
    Some(open + len + 2)
}

#[cfg(test)]
mod tests {
    use super::super::{read_argv_with, read_command_with, CommandReadings, Scratch};
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn both_paths(cmd: &str) -> (CommandReadings, CommandReadings) {
        let mut fast = CommandReadings::default();
        read_command_with(cmd, &mut fast, &mut Scratch::default());
        let mut full = CommandReadings::default();
        let mut sc = Scratch {
            full: true,
            ..Scratch::default()
        };
        read_command_with(cmd, &mut full, &mut sc);
        (fast, full)
    }

    /// The readings of `cmd` split at spaces as argv, with the fast paths and without.
    fn both_argv_paths(cmd: &str) -> (CommandReadings, CommandReadings) {
        let argv: Vec<&str> = cmd.split(' ').collect();
        let mut fast = CommandReadings::default();
        read_argv_with(&argv, &mut fast, &mut Scratch::default());
        let mut full = CommandReadings::default();
        let mut sc = Scratch {
            full: true,
            ..Scratch::default()
        };
        read_argv_with(&argv, &mut full, &mut sc);
        (fast, full)
    }

    fn assert_same(cmd: &str) {
        let (fast, full) = both_paths(cmd);
        assert_eq!(fast, full, "{cmd:?}");
        let (fast, full) = both_argv_paths(cmd);
        assert_eq!(fast, full, "argv of {cmd:?}");
    }

    #[test]
    fn typical_commands_are_plain() {
        for cmd in [
            "git status",
            "cargo test --workspace 2>&1 | tail -n 20",
            "npm install express && npm test | tee out.log",
            "cd /work/main && make -j4 >log 2>&1; echo ok",
            "ls -la ./src",
            "grep -n TODO src/*.rs ~/notes/?.md | sort",
            "ls 'x'",
            "ls \"x\"",
            "FOO=1 ls",
            "git commit -m 'fix: a b' && git log --pretty=format:'%h %s'",
            "RUSTFLAGS='-C target-cpu=native' cargo bench",
            "A=1 B=2 ./x.sh && ls",
        ] {
            assert!(Plain::default().read(cmd), "{cmd:?}");
        }
    }

    /// The quick filter of `is_special` lets every special name through, in any case where
    /// the name is matched in any case, and stops ordinary heads.
    #[test]
    fn special_names_pass_the_filter() {
        for name in SPECIAL_NAMES {
            assert!(is_special(name), "{name}");
            assert!(is_special_name(name), "{name}");
            assert!(is_special(&alloc::format!("/usr/bin/{name}")), "{name}");
        }
        for name in SPECIAL_ANY_CASE {
            assert!(is_special(name), "{name}");
            assert!(is_special(&name.to_ascii_uppercase()), "{name}");
        }
        for name in ["PowerShell.exe", "Cmd", "SetX", "C:\\x\\PWSH.EXE"] {
            assert!(is_special(name), "{name}");
        }
        for name in [
            "git", "cargo", "du", "ls", "Rm", "SUDO", "sets", "commands", "",
        ] {
            assert!(!is_special(name), "{name}");
        }
    }

    #[test]
    fn normalized_and_components() {
        let mut p = Plain::default();
        assert!(p.read("a  b && c |  a b ; c"));
        assert_eq!(p.normalized(), "a b && c && a b && c");
        assert_eq!(p.components().collect::<Vec<_>>(), ["a b", "c"]);
        assert_eq!(p.segments(), 4);
    }

    #[test]
    fn special_text_is_not_plain() {
        for cmd in [
            "",
            " ls",
            "; ls",
            "ls\tx",
            "ls ''",
            "ls ' x'",
            "ls 'x '",
            "ls 'a  b'",
            "ls 'a && b'",
            "ls 'a;b'",
            "ls \"$x\"",
            "ls \"a\\b\"",
            "ls 'unterminated",
            "'ls' x",
            "ls && 'rm' -rf /",
            "A='x B=1' set",
            "A='x' ls; setx",
            "A=1",
            "A=1 B=2",
            "A=1 /bin/ls",
            "X=/x/cmd /c dir",
            "A=1 sudo ls",
            "echo $HOME",
            "echo `x`",
            "cat < f",
            "ls &> f",
            "echo (x)",
            "2>/dev/null ls",
            "> f ls",
            "/bin/ls",
            "env ls",
            "/usr/bin/sudo ls && x",
            "CMD.EXE /c dir",
            "pwsh -c x",
            "ls && rm -rf /",
            "eval x",
            "x; then y",
            "ls; fi",
            "export A",
            "SET A=1",
            "echo é",
        ] {
            assert!(!Plain::default().read(cmd), "{cmd:?}");
        }
    }

    #[test]
    fn fast_path_agrees_with_the_full_model_on_a_table() {
        for cmd in [
            "git status",
            "git  status   --short",
            "git commit -m 'fix: x' && cargo test --workspace 2>&1 | tail -n 20",
            "npm install express && npm test | tee out.log",
            "cd /work/main && FOO=1 cargo build -p x --no-default-features 2>&1 | head -50",
            "find . -name '*.rs' | xargs grep -n TODO | sort | uniq -c",
            "rm -rf /tmp/build && mkdir -p /tmp/build && cd /tmp/build && cmake .. && make -j4",
            "a && a && b",
            "a & b &",
            "a |& b",
            "ls >& out",
            "ls > && b",
            "ls >&& b",
            "x\ny\n",
            "./gradlew build",
            "./gradlew build && ls",
            "/bin/rm -rf / && ls",
            "echo set-item env:X",
            "echo Set-Item Env:X=1",
            "echo evaluate x",
            "echo fi",
            "echo fi x",
            "ls; fi",
            "lsls fi ",
            "ls 'x' fi\n",
            "echo a=b c=d",
            "ls2>&1",
            "ls 2>&1 >out",
            "a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;r;s",
            "make -j4 >log 2>&1; echo done",
            "sed -n '120,180p' runtime/src/eval/mod.rs",
            "echo 'allow all' > ~/.rampart/policies/custom.yaml",
            "git add -A && git commit -m \"fix: handle empty input\"",
            "cat src/main.rs | grep -n 'fn main' && wc -c src/main.rs",
            "cat a  |  grep 'x y'  2>&1",
            "RUST_BACKTRACE=1 cargo test -p x load::",
            "A=1 B=2 ./x.sh && ls",
            "A=1 ls && A=2 B=3 ls; C=1 ./y 'a b'",
            "A='x y' ls",
            "A='x B=1' ls; set",
            "echo 'x fi'",
            "echo 'x' fi",
            "echo 'done' && ls 'rm -rf /'",
            "A+=1 ls",
            "X=/x/cmd ls 'a b'",
            "x 'Set-Item' env:A",
            "git commit -m 'x' && git commit -m 'x'",
            "a'b c'd e\"f g\" 'h'",
        ] {
            assert_same(cmd);
        }
    }

    /// The exec commands of the benchmark corpus (one JSON call per line; the command is the
    /// first string after `"command":`, with the escapes the corpus uses).
    fn corpus_commands() -> Vec<String> {
        let text = include_str!("../../../benches/corpus/calls.jsonl");
        let mut out = Vec::new();
        for line in text.lines().filter(|l| l.contains("\"tool\":\"exec\"")) {
            let at = line
                .find("\"command\":\"")
                .expect("exec calls have a command")
                + 11;
            let mut cmd = String::new();
            let mut chars = line[at..].chars();
            while let Some(c) = chars.next() {
                match c {
                    '"' => break,
                    '\\' => match chars.next() {
                        Some('n') => cmd.push('\n'),
                        Some('t') => cmd.push('\t'),
                        Some(e @ ('"' | '\\' | '/')) => cmd.push(e),
                        e => panic!("unexpected escape {e:?} in {line}"),
                    },
                    c => cmd.push(c),
                }
            }
            out.push(cmd);
        }
        out
    }

    /// Every corpus command reads the same with the fast paths as with the full model, from
    /// the text and (split at spaces) as argv, and whether plain or not.
    #[test]
    fn fast_paths_agree_with_the_full_model_on_the_corpus() {
        let cmds = corpus_commands();
        assert_eq!(cmds.len(), 269);
        let plain = cmds.iter().filter(|c| Plain::default().read(c)).count();
        assert!(plain > 100, "{plain} plain commands");
        for cmd in &cmds {
            assert_same(cmd);
        }
    }

    /// Mostly plain words, with every special head and operator mixed in.
    #[rustfmt::skip]
    const ALPHABET: &[&str] = &[
        "ls", "git", "status", "-la", "x", "./a", "/tmp/b", "a=b", "..", "-j4", "*.rs", "?", "~",
        " ", " ", " ", " ", "  ", " && ", " || ", "; ", ";", " | ", "|", "&", " & ", "\n", ">",
        " >out", " 2>&1", ">&", "&>", " fi", " done", "esac", "if ", "then ", "case ", "rm ",
        "-rf ", "/", "find ", "-delete", "xargs ", "sudo ", "env ", "nohup ", "bash ", "-c ",
        "cmd ", "/c ", "pwsh ", "busybox ", "eval ", "export ", "set ", "setx ", "X=1 ",
        "set-item ", "env:Y", "$", "'", "\"", "(", ")", "`", "^", "\\", "<", "\t", "#", "é",
        "CMD.EXE ", "/bin/", "sh", "'a b'", "'x'", "\"y z\"", "' '", "''", "'a  b'", "'fi'",
        "'a&b'", "A='1 2' ", "B=\"x\" ",
    ];

    fn command() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET), 0..24).prop_map(|v| v.concat())
    }

    /// Plain words and operators only, so that most inputs take the fast path.
    #[rustfmt::skip]
    const PLAIN_ALPHABET: &[&str] = &[
        "ls", "git", "status", "-la", "x", "./a", "/tmp/b", "a=b", "..", " ", " ", " ", "  ", "*",
        "~/x?", " && ", " || ", ";", " | ", "&", "\n", ">", " 2>&1", ">&", " fi", "then", "rm",
        "-rf", "/", "sudo", "X=1", "set", "'a b'", "'x'", "\"y z\"", "'fi'", "\"-item\"", "X=1 ",
        "A='1 2' ", "'", "/x/cmd",
    ];

    fn plain_command() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(PLAIN_ALPHABET), 0..24).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn fast_path_agrees_with_the_full_model(cmd in command()) {
            let (fast, full) = both_paths(&cmd);
            prop_assert_eq!(fast, full);
            let (fast, full) = both_argv_paths(&cmd);
            prop_assert_eq!(fast, full);
        }

        #[test]
        fn fast_path_agrees_on_mostly_plain_text(cmd in plain_command()) {
            let (fast, full) = both_paths(&cmd);
            prop_assert_eq!(fast, full);
            let (fast, full) = both_argv_paths(&cmd);
            prop_assert_eq!(fast, full);
        }

        /// The buffers kept in a reused `CommandReadings` never leak into the next reading.
        #[test]
        fn reused_buffers_read_like_fresh_ones(
            cmds in prop::collection::vec(prop_oneof![command(), plain_command()], 1..8)
        ) {
            let mut reused = CommandReadings::default();
            for cmd in &cmds {
                super::super::read_command_into(cmd, &mut reused);
                prop_assert_eq!(&reused, &super::super::read_command(cmd));
                let (_, full) = both_paths(cmd);
                prop_assert_eq!(&reused, &full);
                let argv: Vec<&str> = cmd.split(' ').collect();
                super::super::read_argv_into(&argv, &mut reused);
                prop_assert_eq!(&reused, &super::super::read_argv(&argv));
            }
        }
    }
}
