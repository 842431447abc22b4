//! A fast path for plain text.
//!
//! Most agent commands are made of ordinary words joined by control operators:
//! `cargo test --workspace 2>&1 | tail -n 20`. For such text the full model does a lot of work to
//! find nothing: every stage tokenizes it again, looks for quotes, launchers, wrappers, keywords
//! and substitutions that are not there, and the worklist re-reads each reading it derives. This
//! module recognises *plain* text and says what the full model would derive from it, cheaply:
//! one pass over the bytes reads the words, cuts the segments, checks their heads and writes the
//! normalized text, so nothing is split, tokenized or copied twice.
//!
//! Text is plain when
//! * every byte is a word byte (`[A-Za-z0-9_@%+=:,./-]`, and the globs `*` `?` and `~`, which
//!   no stage expands), a space, a newline, `&`, `|`, `;` or `>`, or sits in a quoted part whose
//!   contents are word bytes separated by single spaces; it does not contain `&>`, and it starts
//!   with a word byte;
//! * the head word of every segment is bare (unquoted), not an assignment, not a redirection and
//!   not a name any stage treats specially (one of [`heads::HEADS`], any directory, in the case
//!   its entry allows); the words before it are assignments whose names are unquoted;
//! * its last word does not close a body (`fi`, `done`, `esac`: [`heads::CLOSERS`]).
//!
//! Why that is enough, stage by stage (each claim is also checked against the full model by the
//! tests below, on a table and on generated text):
//! * no backslash, `^`, backtick or `$`, and quoted parts that hold no operator, quote or run of
//!   spaces: every dialect tokenizes a segment into its space-separated words, with the quotes
//!   removed, and splitting is the same in every dialect (`&>` is the only operator on which they
//!   disagree here);
//! * no `(`, `` ` `` or `<`: no substitution, process substitution or here-string; no `eval`
//!   head: no eval payload;
//! * head not an assignment, launcher, wrapper or redirection: normalizing a segment only drops
//!   its leading assignments and quotes and collapses its runs of spaces, so the normalized
//!   command is the segments so read joined with ` && `, and re-splitting it gives back those
//!   segments (the components);
//! * no `(`, `{`, `!`, keyword head or trailing keyword: no grouping or control-flow body;
//! * no `^`, `&>` or backtick: no PowerShell reading, and a cmd.exe reading of its own only
//!   when a `'` meets an `&` or `|` ([`PlainText::may_read_as_cmd`]), which the caller derives;
//! * one segment: its head has no directory and is not `busybox`/`toybox`/a shell/`sudo`/
//!   `doas`/`su`/`xargs`/`find`/`rm`: no alternates and no rm/find aliases;
//! * no `export`/`declare`/`set`/`setx`… head and no `$`: no environment assignment except the
//!   leading ones and what the textual PowerShell scan finds.
//!
//! When, moreover, none of its readings derives another ([`PlainText::readings_are_final`]), the
//! caller lists them directly instead of running the restrictive stage's worklist.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::heads::{self, Head, CLOSERS};
use super::tokenize::{bytes_equal, find_byte, redirection_len, word_at};
use super::words::{contains_ignore_case, is_name};
use crate::invariant::{checked, or_closed};

/// Segments beyond this take the full path: the components are deduplicated by a linear scan.
const MAX_SEGMENTS: usize = 16;

/// Flags of [`FLAGS`]: what a byte tells the scan. A byte with [`BREAK`] ends a run of word
/// bytes and spaces: an operator, `&`, a quote, or a byte that is never plain.
const EQUALS: u8 = 1;
const SLASH: u8 = 2;
const DASH: u8 = 4;
/// `>`: part of a word (a redirection), but neither first nor in a quoted part.
const GT: u8 = 8;
const SPACE: u8 = 16;
const COLON: u8 = 32;
const BREAK: u8 = 128;

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
static FLAGS: [u8; 256] = {
    let mut t = [BREAK; 256];
    let mut c = 0;
    while c < 256 {
        if (c as u8).is_ascii_alphanumeric() {
            t[c] = 0;
        }
        c += 1;
    }
    // The bare bytes of `quote_word`, and the glob and tilde characters no stage reads.
    let extra = b"_@%+:,.*?~";
    let mut k = 0;
    while k < extra.len() {
        t[extra[k] as usize] = 0;
        k += 1;
    }
    t[b'=' as usize] = EQUALS;
    t[b'/' as usize] = SLASH;
    t[b'-' as usize] = DASH;
    t[b'>' as usize] = GT;
    t[b' ' as usize] = SPACE;
    t[b':' as usize] = COLON;
    t
};

/// The flags of byte `c` (were it missing from the table, [`BREAK`]: not plain).
fn flags(c: u8) -> u8 {
    or_closed(FLAGS.get(usize::from(c)).copied(), BREAK)
}

/// A byte that may start plain text and appear in a quoted part.
fn is_word_byte(c: u8) -> bool {
    flags(c) & (BREAK | SPACE | GT) == 0
}

/// Whether the word `w` of `c`, a segment's head, is quoted, a redirection or a name some stage
/// reads specially (see [`heads`](super::heads), whatever its directory). The usual head misses
/// the table of [`heads::is_special_basename`] and is never sliced as text.
fn is_special_head(c: &str, w: &Word) -> bool {
    let slash = w.flags & SLASH != 0;
    // A word the scanner did not cut from `c` (a bug) is special: the full model reads it.
    let Some(b) = checked(c.as_bytes().get(w.start..w.end)) else {
        return true;
    };
    let base = match b.iter().rposition(|&x| x == b'/') {
        Some(at) if slash => b.get(at + 1..),
        _ => Some(b),
    };
    let Some(base) = checked(base) else {
        return true;
    };
    let redirection = || checked(c.get(w.start..w.end)).is_none_or(|t| redirection_len(t) > 0);
    w.quote.is_some() || (w.flags & GT != 0 && redirection()) || heads::is_special_basename(base)
}

/// Whether `b` may hold an absolute path that `path.Clean` changes (`//`, `/./`, `/../`, or a
/// trailing `/.`): the restrictive stage reads such a command once more with it cleaned. A `//`
/// after `:` (a URL's) does not count.
fn unclean_path(b: &[u8]) -> bool {
    // Only a `/` can start one, and most texts have few: jump from one to the next.
    let mut i = find_byte(b, 0, b'/');
    while i < b.len() {
        let after_colon = i.checked_sub(1).and_then(|p| b.get(p)) == Some(&b':');
        let unclean = match b.get(i + 1) {
            Some(b'/') => !after_colon,
            Some(b'.') => matches!(b.get(i + 2), None | Some(b'/' | b' ' | b'.')),
            _ => false,
        };
        if unclean {
            return true;
        }
        i = find_byte(b, i + 1, b'/');
    }
    false
}

/// Reads texts with the fast path. It keeps one [`PlainText`] whose buffers every read reuses,
/// so a reading lives until the next read.
#[derive(Debug, Default)]
pub(crate) struct PlainReader {
    text: PlainText,
    /// Never read text as plain (the tests compare the fast path with the full model).
    pub(crate) off: bool,
}

impl PlainReader {
    /// `c` read as plain text, or `None` when it is not plain (the empty text is not).
    pub(crate) fn read(&mut self, c: &str) -> Option<&PlainText> {
        if self.off {
            return None;
        }
        self.text.read(c)?;
        Some(&self.text)
    }
}

/// Plain text as the fast path read it: its segments, normalized form, components and what the
/// stages need to know about it.
#[derive(Debug, Default)]
pub(crate) struct PlainText {
    /// The POSIX segments of the text.
    segs: Vec<Range<usize>>,
    /// The normalized form: the segments' words, quotes removed, with single spaces, joined
    /// with ` && `.
    normalized: String,
    /// The distinct normalized segments (ranges of `normalized`), first seen first.
    components: Vec<Range<usize>>,
    /// The names of the leading assignments of the segments (`A=1 cargo test`), back to back,
    /// and their ranges, first seen first.
    names_text: String,
    names: Vec<Range<usize>>,
    /// The text has a `'`, and an `&` or `|`.
    single_quote: bool,
    amp_or_pipe: bool,
    /// Some segment normalizes to other text than its own (quotes, runs of spaces, assignments).
    rewritten: bool,
    /// Where the text's quote bytes are, in order.
    quotes: Vec<usize>,
    /// The [`FLAGS`] of every byte read (only [`COLON`] is asked for).
    seen: u8,
    /// The first segment has a directory in its head or a word before it.
    first_slash: bool,
    /// Some segment, raw or normalized, is not inert (see [`inert_segment`]).
    derives: bool,
    /// The text ends in a space or a newline.
    untrimmed: bool,
}

/// A word of plain text as the scan found it: where it is, the [`FLAGS`] of its bytes, and
/// where its first quote is.
struct Word {
    start: usize,
    end: usize,
    flags: u8,
    quote: Option<usize>,
}

/// The segment being read.
#[derive(Default)]
struct Segment {
    /// The raw text from its first word's start to its last word's end.
    start: usize,
    end: usize,
    words: usize,
    /// Where its head word starts (after the leading assignments).
    head_start: usize,
    /// A word up to and including the head has a directory.
    slash: bool,
    /// It has a quote, or may have a run of spaces: its normalized text is not its raw text
    /// from the head on.
    quoted: bool,
    spaced: bool,
}

/// How a segment's head words end.
enum HeadEnd {
    /// The head word was read.
    Read,
    /// The text or an operator came first: an empty segment, or assignments alone.
    Missing,
}

impl PlainText {
    /// Reads `c` in one pass, segment by segment; `None` (and nothing usable) when the text is
    /// not plain.
    fn read(&mut self, c: &str) -> Option<()> {
        self.clear();
        let b = c.as_bytes();
        if unclean_path(b) {
            return None;
        }
        self.untrimmed = matches!(b.last(), Some(b' ' | b'\n'));
        if !b.first().is_some_and(|&f| is_word_byte(f)) {
            return None;
        }
        let mut i = 0;
        while i < b.len() {
            i = self.read_segment(c, i)?;
        }
        // A lone segment whose head has a directory has an alternate reading (`/bin/ls` -> `ls`).
        (self.segs.len() != 1 || !self.first_slash).then_some(())
    }

    fn clear(&mut self) {
        self.segs.clear();
        self.normalized.clear();
        self.components.clear();
        self.names_text.clear();
        self.names.clear();
        self.single_quote = false;
        self.amp_or_pipe = false;
        self.rewritten = false;
        self.derives = false;
        self.seen = 0;
        self.quotes.clear();
    }

    /// Reads the segment at `start` and the operator after it; returns where the next one
    /// starts. Its leading assignments and head are read word by word, and the rest, which only
    /// has to be plain, byte by byte.
    fn read_segment(&mut self, c: &str, start: usize) -> Option<usize> {
        let b = c.as_bytes();
        let mut seg = Segment::default();
        let mut i = skip_spaces(b, start);
        if let HeadEnd::Missing = self.read_head(c, &mut i, &mut seg)? {
            // A segment without words (`a && ; b`) is no segment, as `split` drops it.
            return if seg.words == 0 {
                self.operator_end(b, i)
            } else {
                None
            };
        }
        let end = self.read_tail(b, i, &mut seg)?;
        seg.end = end;
        while seg.end > seg.start && b.get(seg.end - 1) == Some(&b' ') {
            seg.end -= 1;
        }
        self.close(c, &seg)?;
        self.operator_end(b, end)
    }

    /// Where the text after the operator at `i` (or the end) starts; `None` at `&>`.
    fn operator_end(&mut self, b: &[u8], i: usize) -> Option<usize> {
        let Some(&op) = b.get(i) else {
            return Some(i);
        };
        self.amp_or_pipe |= op == b'&' || op == b'|';
        Some(i + operator_len(b, i)?)
    }

    /// Reads the leading assignments and the head word, leaving `i` after the head.
    fn read_head(&mut self, c: &str, i: &mut usize, seg: &mut Segment) -> Option<HeadEnd> {
        let b = c.as_bytes();
        loop {
            match b.get(*i) {
                None | Some(b'&' | b'|' | b';' | b'\n') => return Some(HeadEnd::Missing),
                Some(_) => {}
            }
            let w = self.scan_word(b, *i)?;
            *i = w.end;
            self.seen |= w.flags;
            if seg.words == 0 {
                seg.start = w.start;
            }
            seg.words += 1;
            seg.slash |= w.flags & SLASH != 0;
            seg.quoted |= w.quote.is_some();
            if w.flags & EQUALS == 0 {
                seg.head_start = w.start;
                return (!is_special_head(c, &w)).then_some(HeadEnd::Read);
            }
            // A head with `=` that is not an assignment is not plain.
            let text = checked(c.get(w.start..w.end))?;
            let name = assignment_name(text, &w)?;
            self.take_assignment(c, text, name, &w, seg)?;
            *i = skip_spaces(b, *i);
        }
    }

    /// The word starting at `start` (a byte that is neither a space nor an operator), or `None`
    /// when it is not plain.
    fn scan_word(&mut self, b: &[u8], start: usize) -> Option<Word> {
        let mut w = Word {
            start,
            end: start,
            flags: 0,
            quote: None,
        };
        let mut i = start;
        loop {
            // The run of word bytes, then the byte that stopped it.
            while let Some(&c) = b.get(i) {
                let f = flags(c);
                if f & (BREAK | SPACE) != 0 {
                    break;
                }
                w.flags |= f;
                i += 1;
            }
            match b.get(i) {
                Some(b'\'' | b'"') => {
                    w.quote = w.quote.or(Some(i));
                    i = self.read_quoted(b, i)?;
                }
                Some(b'&') if self.redirection_amp(b, i)? => i += 1,
                Some(b' ' | b'&' | b'|' | b';' | b'\n') | None => break,
                Some(_) => return None,
            }
        }
        w.end = i;
        Some(w)
    }

    /// Reads the rest of a segment after its head, from `i`; returns where the operator that
    /// ends it (or the text) is.
    fn read_tail(&mut self, b: &[u8], mut i: usize, seg: &mut Segment) -> Option<usize> {
        loop {
            i = skip_words(b, i, &mut seg.spaced, &mut self.seen);
            match b.get(i) {
                Some(b'\'' | b'"') => {
                    seg.quoted = true;
                    i = self.read_quoted(b, i)?;
                }
                Some(b'&') if self.redirection_amp(b, i)? => i += 1,
                Some(b'&' | b'|' | b';' | b'\n') | None => return Some(i),
                Some(_) => return None,
            }
        }
    }

    /// Reads the quoted part at `i` (see [`quoted_end`]), recording where its quotes are.
    fn read_quoted(&mut self, b: &[u8], i: usize) -> Option<usize> {
        let end = quoted_end(b, i, &mut self.seen)?;
        self.single_quote |= b.get(i) == Some(&b'\'');
        self.quotes.extend([i, end - 1]);
        Some(end)
    }

    /// Whether the `&` at `i` belongs to a redirection (`2>&1`) rather than being an operator;
    /// `None` at `&>`, which is never plain. (`&&` is an operator even after `>`.)
    fn redirection_amp(&mut self, b: &[u8], i: usize) -> Option<bool> {
        match b.get(i + 1) {
            Some(b'>') => return None,
            Some(b'&') => return Some(false),
            _ => {}
        }
        let after_gt = i.checked_sub(1).and_then(|p| b.get(p)) == Some(&b'>');
        self.amp_or_pipe |= after_gt;
        Some(after_gt)
    }

    /// A leading assignment: its name is recorded, and it is not written.
    fn take_assignment(
        &mut self,
        c: &str,
        text: &str,
        name: &str,
        w: &Word,
        seg: &Segment,
    ) -> Option<()> {
        // Each dialect picks the segment's first word, quotes trimmed, as its head.
        if seg.words == 1 {
            let head = text.trim_matches(['"', '\'']);
            if matches!(heads::classify(head), Some(Head::Cmd | Head::PowerShell)) {
                return None;
            }
        }
        // A quoted assignment splits differently as cmd.exe words, which the assignment stage
        // reads when the text has `set`.
        if w.quote.is_some() && contains_ignore_case(c, "set") {
            return None;
        }
        if !self.names().any(|n| n == name) {
            let start = self.names_text.len();
            self.names_text.push_str(name);
            self.names.push(start..self.names_text.len());
        }
        Some(())
    }

    /// Records a segment read to its end, and writes its normalized text; `None` when it is not
    /// plain.
    fn close(&mut self, c: &str, seg: &Segment) -> Option<()> {
        let raw = checked(c.as_bytes().get(seg.start..seg.end))?;
        let raw_keyword_last = keyword_last(raw);
        // A trailing keyword has a body reading.
        if (seg.end == c.len() && raw_keyword_last) || self.segs.len() >= MAX_SEGMENTS {
            return None;
        }
        if self.segs.is_empty() {
            self.first_slash = seg.slash;
        }
        self.segs.push(seg.start..seg.end);
        if !self.normalized.is_empty() {
            self.normalized.push_str(" && ");
        }
        let start = self.normalized.len();
        let from_head = checked(c.get(seg.head_start..seg.end))?;
        if seg.spaced {
            push_collapsed(from_head, &mut self.normalized)?;
        } else if seg.quoted {
            let quotes = self.quotes.iter().map(|&q| q.wrapping_sub(seg.head_start));
            push_without(from_head, quotes, &mut self.normalized)?;
        } else {
            self.normalized.push_str(from_head);
        }
        self.rewritten |= self.normalized.len() - start != raw.len();
        let normalized = checked(self.normalized.as_bytes().get(start..))?;
        self.derives |= seg.slash || raw_keyword_last || keyword_last(normalized);
        self.push_component(start);
        Some(())
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
            .map(|r| or_closed(self.normalized.get(r.clone()), &self.normalized))
    }

    /// The environment variables the text assigns in leading assignments.
    pub(crate) fn names(&self) -> impl Iterator<Item = &str> {
        self.names
            .iter()
            .map(|r| or_closed(self.names_text.get(r.clone()), &self.names_text))
    }

    /// The text has a colon (which the PowerShell assignments of plain text need).
    pub(crate) fn has_colon(&self) -> bool {
        self.seen & COLON != 0
    }

    /// The text may have a cmd.exe reading of its own: `restrictive::dialects` reads one for a
    /// `'` with `&` or `|` (plain text has no `^`, `&>` or backtick, its other reasons).
    pub(crate) fn may_read_as_cmd(&self) -> bool {
        self.single_quote && self.amp_or_pipe
    }

    /// The text's readings derive nothing further: the text is trimmed, it has no cmd.exe
    /// reading, and its normalized form and its segments, raw and normalized, are inert (see
    /// [`inert_segment`]) or, for a raw segment with a leading assignment, read alone as plain
    /// text whose normalized form is its component. Then the restrictive readings are those
    /// texts alone.
    pub(crate) fn readings_are_final(&self) -> bool {
        !self.untrimmed && !self.may_read_as_cmd() && !self.derives
    }

    /// Every segment is its own normalized form, so the segments are the components.
    pub(crate) fn segments_are_components(&self) -> bool {
        !self.rewritten
    }

    /// Records `normalized[start..]`, the segment just written, as a component unless it is one.
    fn push_component(&mut self, start: usize) {
        let new = start..self.normalized.len();
        let b = self.normalized.as_bytes();
        let text = b.get(new.clone());
        let seen = self.components.iter().any(|r| b.get(r.clone()) == text);
        if !seen {
            self.components.push(new);
        }
    }
}

/// The length of the operator at `i` (`&&`, `||`, `&`, `|`, `;`, newline), or `None` at `&>`,
/// which is never plain.
fn operator_len(b: &[u8], i: usize) -> Option<usize> {
    let next = b.get(i + 1).copied();
    match (b.get(i), next) {
        (Some(b'&'), Some(b'>')) => None,
        (Some(b'&'), Some(b'&')) => (b.get(i + 2) != Some(&b'>')).then_some(2),
        (Some(b'|'), Some(b'|')) => Some(2),
        _ => Some(1),
    }
}

/// Appends `words`, plain words from a segment's head to its end, as its normalized text: its
/// quote bytes left out and its runs of spaces collapsed. That is the words, unquoted, joined
/// with single spaces, because a quoted part of plain text holds no quote, and no space at its
/// ends or next to another (see [`quoted_end`]).
fn push_collapsed(words: &str, out: &mut String) -> Option<()> {
    let b = words.as_bytes();
    let skipped = (0..b.len()).filter(|&i| match b.get(i) {
        Some(b'\'' | b'"') => true,
        Some(b' ') => b.get(i + 1) == Some(&b' '),
        _ => false,
    });
    push_without(words, skipped, out)
}

/// Appends `words` without the bytes at `skipped` (ascending offsets; those outside `words` are
/// ignored), copied in runs between them. The bytes skipped are ASCII, so every offset is a
/// character boundary; `None` (the text is not read as plain) if one is not.
fn push_without(words: &str, skipped: impl Iterator<Item = usize>, out: &mut String) -> Option<()> {
    let mut from = 0;
    for at in skipped.filter(|&at| at < words.len()) {
        out.push_str(checked(words.get(from..at))?);
        from = at + 1;
    }
    out.push_str(checked(words.get(from..))?);
    Some(())
}

/// The name of a word that is an assignment (`NAME=` or `NAME+=`, the name unquoted).
fn assignment_name<'t>(text: &'t str, w: &Word) -> Option<&'t str> {
    let eq = w.start + text.bytes().position(|c| c == b'=')?;
    if w.quote.is_some_and(|q| q < eq) {
        return None;
    }
    let before = text.get(..eq - w.start)?;
    let name = before.strip_suffix('+').unwrap_or(before);
    is_name(name).then_some(name)
}

/// The index after the quote that closes the one at `open`, if the quoted part is plain: word
/// bytes separated by single spaces, none at either end. So a quoted part never adds an
/// operator, an empty word or a run of spaces to the normalized text. Adds the flags of its
/// bytes to `seen`.
fn quoted_end(b: &[u8], open: usize, seen: &mut u8) -> Option<usize> {
    let q = *b.get(open)?;
    let (mut spaced, mut body) = (false, 0);
    let close = skip_words(b, open + 1, &mut spaced, &mut body);
    let (first, last) = (b.get(open + 1)?, b.get(close.checked_sub(1)?)?);
    let solid = close > open + 1 && *first != b' ' && *last != b' ';
    *seen |= body;
    (b.get(close) == Some(&q) && solid && !spaced && body & GT == 0).then_some(close + 1)
}

/// The index of the first byte at or after `i` that is neither a word byte nor a space (or the
/// end); sets `spaced` on a run of spaces, and adds the flags of the bytes to `seen`. Eight bytes
/// at a time while none of them ends the run: most of a command is such bytes.
fn skip_words(b: &[u8], mut i: usize, spaced: &mut bool, seen: &mut u8) -> usize {
    let space_before = |at: usize| at.checked_sub(1).and_then(|p| b.get(p)) == Some(&b' ');
    while let Some(chunk) = b.get(i..i + 8) {
        let flags_here = chunk.iter().fold(0, |acc, &c| acc | flags(c));
        if flags_here & BREAK != 0 {
            break;
        }
        *seen |= flags_here;
        if flags_here & SPACE != 0 {
            // `chunk` is those 8 bytes; were it not, spaces: a run of them is collapsed anyway.
            let w = or_closed(word_at(b, i), u64::from_ne_bytes([b' '; 8]));
            let s = bytes_equal(w, b' ');
            // Two spaces side by side in the chunk, or one first after one before it.
            *spaced |= s & (s << 8) != 0 || (s & 0x80 != 0 && space_before(i));
        }
        i += 8;
    }
    let mut after_space = space_before(i);
    while let Some(&c) = b.get(i) {
        let f = flags(c);
        if f & BREAK != 0 {
            break;
        }
        let space = f & SPACE != 0;
        *spaced |= space && after_space;
        after_space = space;
        *seen |= f;
        i += 1;
    }
    i
}

/// The index of the first byte at or after `i` that is not a space.
fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
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
    let first_end = b.iter().position(|&c| c == b' ').unwrap_or(b.len());
    let first = or_closed(b.get(..first_end), b);
    !keyword_last(b) && !first.iter().any(|&c| c == b'/' || c == b'=')
}

/// The last space-separated word of `text` closes a body (`fi`, `done`, `esac`: [`CLOSERS`]).
fn keyword_last(b: &[u8]) -> bool {
    // Most words end in another byte.
    let closer_end = |c: u8| or_closed(CLOSER_ENDS.get(usize::from(c)).copied(), true);
    if !b.last().is_some_and(|&c| closer_end(c)) {
        return false;
    }
    CLOSERS.iter().any(|w| {
        let w = w.as_bytes();
        b.ends_with(w) && (b.len() == w.len() || b.get(b.len() - w.len() - 1) == Some(&b' '))
    })
}

/// The last bytes of the [`CLOSERS`].
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
static CLOSER_ENDS: [bool; 256] = {
    let mut t = [false; 256];
    let mut k = 0;
    while k < CLOSERS.len() {
        if let [.., last] = CLOSERS[k].as_bytes() {
            t[*last as usize] = true;
        }
        k += 1;
    }
    t
};

#[cfg(test)]
mod tests {
    use super::super::{read_argv_with, read_command_with, Buffers, CommandReadings};
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    fn is_plain(cmd: &str) -> bool {
        PlainReader::default().read(cmd).is_some()
    }

    fn both_paths(cmd: &str) -> (CommandReadings, CommandReadings) {
        let mut fast = CommandReadings::default();
        read_command_with(cmd, &mut fast, &mut Buffers::default());
        let mut full = CommandReadings::default();
        read_command_with(cmd, &mut full, &mut Buffers::full_model());
        (fast, full)
    }

    /// The readings of `cmd` split at spaces as argv, with the fast paths and without.
    fn both_argv_paths(cmd: &str) -> (CommandReadings, CommandReadings) {
        let argv: Vec<&str> = cmd.split(' ').collect();
        let mut fast = CommandReadings::default();
        read_argv_with(&argv, &mut fast, &mut Buffers::default());
        let mut full = CommandReadings::default();
        read_argv_with(&argv, &mut full, &mut Buffers::full_model());
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
            "make -C /work/main -j4 >log 2>&1; echo ok",
            "ls -la ./src",
            "grep -n TODO src/*.rs ~/notes/?.md | sort",
            "ls 'x'",
            "ls \"x\"",
            "FOO=1 ls",
            "git commit -m 'fix: a b' && git log --pretty=format:'%h %s'",
            "RUSTFLAGS='-C target-cpu=native' cargo bench",
            "A=1 B=2 ./x.sh && ls",
        ] {
            assert!(is_plain(cmd), "{cmd:?}");
        }
    }

    /// Every name a stage reads specially (each entry of `heads::HEADS`, in every spelling the
    /// stage accepts), and every closing keyword, keeps text from being plain, alone or after
    /// another segment.
    #[test]
    fn every_special_head_is_special_to_the_fast_path() {
        for e in heads::HEADS {
            for head in e.spellings() {
                for cmd in [alloc::format!("{head} x"), alloc::format!("ls && {head} x")] {
                    assert!(!is_plain(&cmd), "{cmd:?} is plain");
                }
            }
        }
        for closer in CLOSERS {
            for cmd in [
                alloc::format!("ls {closer}"),
                alloc::format!("ls && x {closer}"),
            ] {
                assert!(!is_plain(&cmd), "{cmd:?} is plain");
            }
        }
    }

    /// Every string literal of the shell model's sources that could be a command name (whatever
    /// a stage compares a word with is one, whether or not it went through `heads`).
    fn names_in_the_sources() -> alloc::collections::BTreeSet<String> {
        extern crate std;
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/shell");
        let mut names = alloc::collections::BTreeSet::new();
        for file in std::fs::read_dir(dir).expect("the shell sources") {
            let text = std::fs::read_to_string(file.expect("a directory entry").path())
                .expect("a source file");
            for (k, part) in text.split('"').enumerate() {
                let first = part.bytes().next();
                let name_shaped = first.is_some_and(|c| c.is_ascii_alphabetic() || c == b'!')
                    && part
                        .bytes()
                        .all(|c| c.is_ascii_alphanumeric() || b"!._+-".contains(&c));
                // Any literal's contents sit between two quotes, so both parities are tried.
                if name_shaped && part.len() <= 24 && k > 0 {
                    names.insert(String::from(part));
                }
            }
        }
        assert!(names.len() > 100, "{} names", names.len());
        names
    }

    /// Whatever name a stage compares a command's head with reads the same on the fast path
    /// as in the full model. The heads are every name-shaped literal in the sources, so a name
    /// added to one stage alone (a new launcher in `normalize`, say) fails here even when no
    /// table lists it; the tails make each kind of head do its work (a launcher's or wrapper's
    /// payload, rm's and find's aliases, an assignment).
    #[test]
    fn no_stage_reads_a_head_the_fast_path_calls_ordinary() {
        let tails = [
            "rm -fr //",
            "-c rm",
            "/c rm",
            "/ -delete",
            "-fr //",
            "A=1",
            "A 1",
        ];
        for name in names_in_the_sources() {
            for head in [
                name.clone(),
                name.to_ascii_uppercase(),
                alloc::format!("/bin/{name}"),
            ] {
                for tail in tails {
                    assert_same(&alloc::format!("{head} {tail}"));
                    assert_same(&alloc::format!("ls && {head} {tail}"));
                }
            }
        }
    }

    #[test]
    fn normalized_and_components() {
        let mut reader = PlainReader::default();
        let p = reader.read("a  b && c |  a b ; c").expect("plain");
        assert_eq!(p.normalized(), "a b && c && a b && c");
        assert_eq!(p.components().collect::<Vec<_>>(), ["a b", "c"]);
        assert_eq!(p.segments(), 4);
    }

    /// A run of spaces is found wherever it falls in the eight-byte scan of a segment's tail:
    /// in a lane, across two chunks (more text follows, so the second is a whole chunk too), or
    /// in the bytes after the last chunk.
    #[test]
    fn runs_of_spaces_in_every_position() {
        let mut reader = PlainReader::default();
        for at in 1..20 {
            let word = "a".repeat(at);
            for tail in ["b x", "b x and more words after it"] {
                let cmd = alloc::format!("ls {word}  {tail}");
                let p = reader.read(&cmd).expect("plain");
                assert_eq!(
                    p.normalized(),
                    alloc::format!("ls {word} {tail}"),
                    "{cmd:?}"
                );
                assert_same(&cmd);
            }
        }
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
            assert!(!is_plain(cmd), "{cmd:?}");
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
        let plain = cmds.iter().filter(|c| is_plain(c)).count();
        assert!(plain > 100, "{plain} plain commands");
        for cmd in &cmds {
            assert_same(cmd);
        }
    }

    /// Words, operators, quotes and the bytes that are never plain; the heads come from
    /// [`head_tokens`].
    #[rustfmt::skip]
    const ALPHABET: &[&str] = &[
        "ls", "git", "status", "-la", "x", "./a", "/tmp/b", "a=b", "..", "-j4", "*.rs", "?", "~",
        " ", " ", " ", " ", "  ", " && ", " || ", "; ", ";", " | ", "|", "&", " & ", "\n", ">",
        " >out", " 2>&1", ">&", "&>", "-rf ", "/", "-delete", "-c ", "/c ", "X=1 ", "set-item ",
        "env:Y", "$", "'", "\"", "(", ")", "`", "^", "\\", "<", "\t", "#", "é", "/bin/", "'a b'",
        "'x'", "\"y z\"", "' '", "''", "'a  b'", "'fi'", "'a&b'", "A='1 2' ", "B=\"x\" ",
    ];

    /// Every spelling of every special head (`heads::HEADS`) with a space after it, and every
    /// closing keyword with a space before it: the tests meet whatever a stage reads specially.
    fn head_tokens() -> Vec<String> {
        let heads = heads::HEADS.iter().flat_map(|e| e.spellings());
        let closers = CLOSERS.iter().map(|c| alloc::format!(" {c}"));
        heads.map(|h| h + " ").chain(closers).collect()
    }

    /// Mostly plain words, with every special head and operator mixed in.
    fn command() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            3 => prop::sample::select(ALPHABET).prop_map(String::from),
            1 => prop::sample::select(head_tokens()),
        ];
        prop::collection::vec(token, 0..24).prop_map(|v| v.concat())
    }

    /// Plain words and operators only; with [`head_tokens`] now and then, so that most inputs
    /// take the fast path.
    #[rustfmt::skip]
    const PLAIN_ALPHABET: &[&str] = &[
        "ls", "git", "status", "-la", "x", "./a", "/tmp/b", "a=b", "..", " ", " ", " ", "  ", "*",
        "~/x?", " && ", " || ", ";", " | ", "&", "\n", ">", " 2>&1", ">&", "-rf", "/", "X=1",
        "'a b'", "'x'", "\"y z\"", "'fi'", "\"-item\"", "X=1 ", "A='1 2' ", "'", "/x/",
    ];

    fn plain_command() -> impl Strategy<Value = String> {
        let token = prop_oneof![
            6 => prop::sample::select(PLAIN_ALPHABET).prop_map(String::from),
            1 => prop::sample::select(head_tokens()),
        ];
        prop::collection::vec(token, 0..24).prop_map(|v| v.concat())
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

        /// The buffers a `Reader` keeps never leak into the next reading.
        #[test]
        fn reused_buffers_read_like_fresh_ones(
            cmds in prop::collection::vec(prop_oneof![command(), plain_command()], 1..8)
        ) {
            let mut reader = super::super::Reader::new();
            for cmd in &cmds {
                let reused = reader.read_command(cmd);
                prop_assert_eq!(reused, &super::super::read_command(cmd));
                let (_, full) = both_paths(cmd);
                prop_assert_eq!(reused, &full);
                let argv: Vec<&str> = cmd.split(' ').collect();
                let reused = reader.read_argv(&argv);
                prop_assert_eq!(reused, &super::super::read_argv(&argv));
            }
        }
    }
}
