//! Splitting one segment into words.
//!
//! Upstream reads a segment as a list of words before it strips launchers and wrappers, and every
//! later stage (normalisation, the rm/find aliases, the see-through alternates) works on those words.
//! Two facts about a word matter besides its unquoted value: where it came from in the source (so a
//! stage can hand on "the rest of the command from this word" with its original quoting intact) and
//! whether it began with an unquoted `#` (a comment, which the alias stage must not read as an
//! operand).
//!
//! Three dialects, chosen by the caller:
//! * POSIX: `'…'` is literal, `"…"` honours `\` before `$ \` " \ newline`, a backslash outside
//!   quotes escapes the next character, backslash-newline vanishes. `$VAR`, globs and `~` are not
//!   expanded. An unterminated quote runs to the end of the string.
//! * cmd.exe: `"…"` quotes, `^` escapes the next character, `'` is an ordinary character.
//! * PowerShell: `'…'` is literal (`''` is a quote), `"…"` and bare words use the backtick as the
//!   escape character.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::invariant::or_closed;

/// How a segment is tokenized.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    Posix,
    Cmd,
    PowerShell,
}

/// One word: its span in the source and its unquoted value in [`Tokens::text`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub(crate) raw: Range<usize>,
    value: Range<usize>,
    /// The word began with an unquoted `#`.
    pub(crate) comment: bool,
}

/// The words of one segment, with their values stored in one buffer so that re-tokenizing in a loop
/// does not allocate.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tokens {
    text: String,
    toks: Vec<Token>,
}

impl Tokens {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.toks.clear();
    }

    pub(crate) fn len(&self) -> usize {
        self.toks.len()
    }

    /// The unquoted value of word `i` (empty past the end).
    pub(crate) fn value(&self, i: usize) -> &str {
        // Values are whole strings pushed to `text`; were a range not, the text holding it.
        self.toks.get(i).map_or("", |t| {
            or_closed(self.text.get(t.value.clone()), &self.text)
        })
    }

    /// The unquoted value of word `i`, or `None` past the end.
    pub(crate) fn get_value(&self, i: usize) -> Option<&str> {
        (i < self.len()).then(|| self.value(i))
    }

    /// The source span of word `i` (empty past the end).
    pub(crate) fn raw(&self, i: usize) -> Range<usize> {
        self.toks.get(i).map_or(0..0, |t| t.raw.clone())
    }

    /// Word `i` as written in `src`, the text these words were read from (empty past the end).
    /// Spans end at blanks, quotes and operators (ASCII), so they cut `src` on character
    /// boundaries; a span that did not would be read as the word's value, which is the word
    /// with its quoting removed, never as nothing.
    pub(crate) fn raw_text<'a>(&'a self, src: &'a str, i: usize) -> &'a str {
        or_closed(src.get(self.raw(i)), self.value(i))
    }

    pub(crate) fn is_comment(&self, i: usize) -> bool {
        self.toks.get(i).is_some_and(|t| t.comment)
    }

    /// Appends a word whose value is known (argv words, which the kernel already split).
    pub(crate) fn push_word(&mut self, raw: Range<usize>, word: &str) {
        let start = self.text.len();
        self.text.push_str(word);
        self.toks.push(Token {
            raw,
            value: start..self.text.len(),
            comment: false,
        });
    }

    /// Joins the values of words `from..` with single spaces, appending to `out`.
    pub(crate) fn join_from(&self, from: usize, out: &mut String) {
        out.reserve(self.text.len() + self.len());
        for i in from..self.len() {
            if i > from {
                out.push(' ');
            }
            out.push_str(self.value(i));
        }
    }

    fn begin(&mut self, raw_start: usize, comment: bool) {
        let v = self.text.len();
        self.toks.push(Token {
            raw: raw_start..raw_start,
            value: v..v,
            comment,
        });
    }

    fn finish(&mut self, raw_end: usize) {
        let end = self.text.len();
        if let Some(t) = self.toks.last_mut() {
            t.raw.end = raw_end;
            t.value.end = end;
        }
    }
}

/// The POSIX words of the text tokenized last, kept. Several stages read the words of the same
/// text in turn (the rm/find aliases and alternates of a reading, its `eval` payloads, its
/// environment assignments), and tokenizing depends on the text alone.
#[derive(Debug, Default)]
pub(crate) struct PosixWords {
    text: String,
    toks: Tokens,
    valid: bool,
}

impl PosixWords {
    /// The POSIX words of `src`.
    pub(crate) fn get(&mut self, src: &str) -> &Tokens {
        if !self.valid || self.text != src {
            self.text.clear();
            self.text.push_str(src);
            tokenize(src, Dialect::Posix, &mut self.toks);
            self.valid = true;
        }
        &self.toks
    }
}

pub(crate) fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Tokenizes `src` into `out` (cleared first).
pub(crate) fn tokenize(src: &str, dialect: Dialect, out: &mut Tokens) {
    out.clear();
    // The words' values are about as long as the source: room for them (and for the words of
    // most texts) at once, not a reallocation per doubling. A reader's first commands, and a
    // process that decides once, start from empty buffers.
    out.text.reserve(src.len());
    out.toks.reserve(src.len() / 4 + 2);
    match dialect {
        Dialect::Posix => tokenize_posix(src, out),
        Dialect::Cmd => tokenize_cmd(src, out),
        Dialect::PowerShell => tokenize_powershell(src, out),
    }
}

/// Copies `src[from..to]` into the current word. Slicing is on ASCII boundaries only.
fn copy(out: &mut Tokens, src: &str, from: usize, to: usize) {
    // Were a boundary not one, the word would hold all of `src` rather than lose bytes.
    out.text.push_str(or_closed(src.get(from..to), src));
}

/// The word loop the POSIX and PowerShell tokenizers share: blanks end a word, a word that starts
/// with `#` is marked as a comment, and `word_bytes` consumes the dialect's quoting and escapes.
fn split_words(src: &str, out: &mut Tokens, word_bytes: fn(&str, usize, &mut Tokens) -> usize) {
    let b = src.as_bytes();
    let mut i = 0;
    let mut in_word = false;
    while let Some(&c) = b.get(i) {
        if is_blank(c) {
            if in_word {
                out.finish(i);
                in_word = false;
            }
            i += 1;
            continue;
        }
        if !in_word {
            out.begin(i, c == b'#');
            in_word = true;
        }
        i = word_bytes(src, i, out);
    }
    if in_word {
        out.finish(b.len());
    }
}

fn tokenize_posix(src: &str, out: &mut Tokens) {
    split_words(src, out, posix_word_bytes);
}

/// Consumes the posix word bytes that start at `i` (not a blank); returns the next index.
fn posix_word_bytes(src: &str, mut i: usize, out: &mut Tokens) -> usize {
    let b = src.as_bytes();
    let Some(&c) = b.get(i) else {
        return b.len();
    };
    match c {
        b'\'' => {
            let end = find_byte(b, i + 1, b'\'');
            copy(out, src, i + 1, end);
            i = (end + 1).min(b.len());
        }
        b'"' => i = posix_double_quoted(src, i + 1, out),
        b'\\' => match b.get(i + 1) {
            Some(b'\n') => i += 2,
            Some(_) => {
                let n = char_len(src, i + 1);
                copy(out, src, i + 1, i + 1 + n);
                i += 1 + n;
            }
            None => {
                out.text.push('\\');
                i += 1;
            }
        },
        _ => {
            // A run of ordinary bytes is copied at once; it ends at an ASCII byte, so on a
            // character boundary.
            let n = b
                .iter()
                .skip(i)
                .position(|&c| is_blank(c) || matches!(c, b'\'' | b'"' | b'\\'))
                .unwrap_or(b.len() - i);
            copy(out, src, i, i + n);
            i += n;
        }
    }
    i
}

/// Reads a double-quoted run starting after the opening quote; returns the index after the closing
/// quote (or the end).
fn posix_double_quoted(src: &str, mut i: usize, out: &mut Tokens) -> usize {
    let b = src.as_bytes();
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => return i + 1,
            b'\\' => match b.get(i + 1) {
                Some(b'\n') => i += 2,
                Some(&e @ (b'$' | b'`' | b'"' | b'\\')) => {
                    out.text.push(e as char);
                    i += 2;
                }
                _ => {
                    out.text.push('\\');
                    i += 1;
                }
            },
            _ => {
                let n = char_len(src, i);
                copy(out, src, i, i + n);
                i += n;
            }
        }
    }
    i
}

fn tokenize_cmd(src: &str, out: &mut Tokens) {
    let b = src.as_bytes();
    let mut i = 0;
    let mut in_word = false;
    let mut quoted = false;
    while let Some(&c) = b.get(i) {
        if !quoted && is_blank(c) {
            if in_word {
                out.finish(i);
                in_word = false;
            }
            i += 1;
            continue;
        }
        if !in_word {
            out.begin(i, false);
            in_word = true;
        }
        match c {
            b'"' => {
                quoted = !quoted;
                i += 1;
            }
            b'^' if !quoted && i + 1 < b.len() => {
                let n = char_len(src, i + 1);
                copy(out, src, i + 1, i + 1 + n);
                i += 1 + n;
            }
            _ => {
                // A run of ordinary bytes at once (as in `tokenize_posix`); a `^` inside quotes
                // is ordinary, but ends the run harmlessly.
                let n = b
                    .iter()
                    .skip(i + 1)
                    .position(|&c| (!quoted && is_blank(c)) || matches!(c, b'"' | b'^'))
                    .map_or(b.len() - i, |p| p + 1);
                copy(out, src, i, i + n);
                i += n;
            }
        }
    }
    if in_word {
        out.finish(b.len());
    }
}

fn tokenize_powershell(src: &str, out: &mut Tokens) {
    split_words(src, out, powershell_word_bytes);
}

/// Consumes the powershell word bytes that start at `i` (not a blank); returns the next index.
fn powershell_word_bytes(src: &str, mut i: usize, out: &mut Tokens) -> usize {
    let b = src.as_bytes();
    let Some(&c) = b.get(i) else {
        return b.len();
    };
    match c {
        b'\'' => {
            i += 1;
            while let Some(&c) = b.get(i) {
                if c == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        out.text.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                let n = char_len(src, i);
                copy(out, src, i, i + n);
                i += n;
            }
        }
        b'"' => {
            i += 1;
            while let Some(&c) = b.get(i) {
                match c {
                    b'"' if b.get(i + 1) == Some(&b'"') => {
                        out.text.push('"');
                        i += 2;
                    }
                    b'"' => {
                        i += 1;
                        break;
                    }
                    b'`' if i + 1 < b.len() => {
                        let n = char_len(src, i + 1);
                        copy(out, src, i + 1, i + 1 + n);
                        i += 1 + n;
                    }
                    _ => {
                        let n = char_len(src, i);
                        copy(out, src, i, i + n);
                        i += n;
                    }
                }
            }
        }
        b'`' if i + 1 < b.len() => {
            let n = char_len(src, i + 1);
            copy(out, src, i + 1, i + 1 + n);
            i += 1 + n;
        }
        _ => {
            let n = char_len(src, i);
            copy(out, src, i, i + n);
            i += n;
        }
    }
    i
}

/// The union of `table`'s flags over the bytes of `b`: which kinds of byte occur, found in one
/// pass without branches (a loop that decides byte by byte mispredicts on every new command).
pub(crate) fn byte_flags(b: &[u8], table: &[u8; 256]) -> u8 {
    // Were a byte missing from the table, every flag: the kinds that take the slow paths.
    b.iter().fold(0u8, |acc, &c| {
        acc | or_closed(table.get(usize::from(c)).copied(), u8::MAX)
    })
}

/// The high bit of each byte of `x` that is zero, and no other bit (the exact form of the
/// classic "has a zero byte" test: no borrow crosses from one byte into the next).
pub(crate) fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7) + LOW7) | x) & !LOW7
}

/// The high bit of each byte of `w` that equals `c` (see [`zero_bytes`]).
pub(crate) fn bytes_equal(w: u64, c: u8) -> u64 {
    zero_bytes(w ^ splat(c))
}

/// `c` in every byte of a word.
pub(crate) const fn splat(c: u8) -> u64 {
    c as u64 * 0x0101_0101_0101_0101
}

/// The eight bytes of `b` from `at`, as a little-endian word (for the zero-byte tests).
pub(crate) fn word_at(b: &[u8], at: usize) -> Option<u64> {
    let bytes = b.get(at..at.checked_add(8)?)?;
    <[u8; 8]>::try_from(bytes).ok().map(u64::from_le_bytes)
}

/// Whether `b` holds `&>` (bash's redirection of both streams; cmd.exe splits there). Callers
/// ask only when [`byte_flags`] saw both `&` and `>`.
pub(crate) fn contains_amp_gt(b: &[u8]) -> bool {
    b.windows(2).any(|w| w == b"&>")
}

/// Index of the first byte at or after `from` that `wanted` accepts, or the length. Eight bytes
/// are tested at a time without a branch per byte: the scans that call it (the splitter's
/// operators and quotes, the openings of substitutions) cross long runs of other bytes.
pub(crate) fn find_where(b: &[u8], mut from: usize, wanted: impl Fn(u8) -> bool) -> usize {
    while let Some(chunk) = b.get(from..from + 8) {
        if chunk.iter().fold(false, |any, &c| any | wanted(c)) {
            break;
        }
        from += 8;
    }
    while let Some(&c) = b.get(from) {
        if wanted(c) {
            break;
        }
        from += 1;
    }
    from
}

/// Index of the next `needle` at or after `from`, or the length.
///
/// Eight bytes at a time: the scans that call it (a quoted part, the slashes of a path) cross
/// long runs of other bytes in compound commands.
pub(crate) fn find_byte(b: &[u8], from: usize, needle: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let Some(rest) = b.get(from..) else {
        return b.len();
    };
    let splat = u64::from(needle) * ONES;
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for c in &mut chunks {
        // A byte equal to `needle` is a zero byte of `w`; the lowest zero byte is the lowest
        // byte with its high bit set in `zero` (a borrow only marks bytes above a zero one).
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8])) ^ splat;
        let zero = w.wrapping_sub(ONES) & !w & HIGHS;
        if zero != 0 {
            return at + (zero.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|&c| c == needle)
        .map_or(b.len(), |p| at + p)
}

/// The set of `bytes`, as a table by byte value (for [`find_where`] and the like).
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
pub(crate) const fn byte_set(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut k = 0;
    while k < bytes.len() {
        t[bytes[k] as usize] = true;
        k += 1;
    }
    t
}

/// Index of the next `x` or `y` at or after `from`, or the length: [`find_byte`] for two
/// needles, eight bytes at a time.
pub(crate) fn find_either(b: &[u8], from: usize, x: u8, y: u8) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let Some(rest) = b.get(from..) else {
        return b.len();
    };
    let (sx, sy) = (u64::from(x) * ONES, u64::from(y) * ONES);
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for c in &mut chunks {
        // As in `find_byte`, for each needle; the lowest byte either marks is the first match.
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let (wx, wy) = (w ^ sx, w ^ sy);
        let zero = ((wx.wrapping_sub(ONES) & !wx) | (wy.wrapping_sub(ONES) & !wy)) & HIGHS;
        if zero != 0 {
            return at + (zero.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|&c| c == x || c == y)
        .map_or(b.len(), |p| at + p)
}

/// Index of the next of the four `needles` at or after `from`, or the length: [`find_either`]
/// for four needles, eight bytes at a time (for sets small enough that four compares per word
/// beat a table lookup per byte, as in [`find_where`]).
pub(crate) fn find_any(b: &[u8], from: usize, needles: [u8; 4]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let Some(rest) = b.get(from..) else {
        return b.len();
    };
    let splats = needles.map(|n| u64::from(n) * ONES);
    let mut chunks = rest.chunks_exact(8);
    let mut at = from;
    for c in &mut chunks {
        // As in `find_either`, for each needle; the lowest byte any marks is the first match.
        let w = u64::from_le_bytes(c.try_into().unwrap_or([0; 8]));
        let zero = splats
            .iter()
            .fold(0, |z, &s| z | ((w ^ s).wrapping_sub(ONES) & !(w ^ s)))
            & HIGHS;
        if zero != 0 {
            return at + (zero.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|c| needles.contains(c))
        .map_or(b.len(), |p| at + p)
}

/// Length in bytes of the character starting at `i` (1 for a non-boundary, so callers always
/// advance).
pub(crate) fn char_len(s: &str, i: usize) -> usize {
    let b = s.as_bytes();
    match b.get(i) {
        None => 1,
        Some(&c) if c < 0x80 => 1,
        Some(_) => {
            let mut n = 1;
            while i + n < b.len() && !s.is_char_boundary(i + n) {
                n += 1;
            }
            n
        }
    }
}

/// The length of the redirection operator at the start of the raw word `w` (`>`, `2>>`, `&>`,
/// `<<<`, `2>&1`…), or 0 when `w` does not start with one.
pub(crate) fn redirection_len(w: &str) -> usize {
    let b = w.as_bytes();
    let mut i = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let op_start = i;
    if b.get(i) == Some(&b'&') && b.get(i + 1) == Some(&b'>') && i == 0 {
        i += 2;
        if b.get(i) == Some(&b'>') {
            i += 1;
        }
        return i;
    }
    match b.get(i) {
        Some(b'>') => {
            i += 1;
            if matches!(b.get(i), Some(b'>' | b'|' | b'&')) {
                i += 1;
            }
        }
        Some(b'<') => {
            i += 1;
            if b.get(i) == Some(&b'<') {
                i += 1;
                if matches!(b.get(i), Some(b'<' | b'-')) {
                    i += 1;
                }
            } else if matches!(b.get(i), Some(b'&' | b'>')) {
                i += 1;
            }
        }
        _ => return 0,
    }
    if i == op_start {
        0
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn find_byte_finds_the_first_from_any_start() {
        let text = b"ab'cdefgh'ijklmnopq'\x80\xff'rs''tuvwxyz0123456789'";
        for needle in [b'\'', b'z', b'a', 0x80, 0xff, b'#'] {
            for from in 0..=text.len() + 2 {
                let want = text
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|&c| c == needle))
                    .map_or(text.len(), |p| from + p);
                assert_eq!(find_byte(text, from, needle), want, "{needle} from {from}");
            }
        }
    }

    #[test]
    fn find_either_finds_the_first_of_two_from_any_start() {
        let text = b"ab'cdefgh'ijklmnopq'\x80\xff'rs''tuvwxyz0123456789'<v";
        let pairs = [
            (b'\'', b'z'),
            (b'z', b'a'),
            (0x80, 0xff),
            (b'#', b'9'),
            (b'v', b'<'),
            (b'#', b'~'),
        ];
        for (x, y) in pairs {
            for from in 0..=text.len() + 2 {
                let want = text
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|&c| c == x || c == y))
                    .map_or(text.len(), |p| from + p);
                assert_eq!(find_either(text, from, x, y), want, "{x} {y} from {from}");
            }
        }
    }

    #[test]
    fn find_any_finds_the_first_of_four_from_any_start() {
        let text = b"ab'cdefgh'ijklmnopq'\x80\xff'rs''tuvwxyz0123456789'<v$(x)`y`|&;\n";
        let sets = [
            [b'$', b'<', b'>', b'`'],
            [b'\n', b';', b'|', b'&'],
            [0x80, 0xff, b'z', b'z'],
            [b'#', b'~', b'#', b'~'],
            [b'a', b'b', b'q', b'v'],
        ];
        for set in sets {
            for from in 0..=text.len() + 2 {
                let want = text
                    .get(from..)
                    .and_then(|rest| rest.iter().position(|c| set.contains(c)))
                    .map_or(text.len(), |p| from + p);
                assert_eq!(find_any(text, from, set), want, "{set:?} from {from}");
            }
        }
    }

    fn words(src: &str, d: Dialect) -> Vec<String> {
        let mut t = Tokens::default();
        tokenize(src, d, &mut t);
        (0..t.len()).map(|i| t.value(i).into()).collect()
    }

    #[test]
    fn posix_table() {
        let cases: &[(&str, &[&str])] = &[
            ("rm -rf /", &["rm", "-rf", "/"]),
            ("'r'm -rf /", &["rm", "-rf", "/"]),
            ("r\\m -r\\f /", &["rm", "-rf", "/"]),
            ("\"rm\" -rf /", &["rm", "-rf", "/"]),
            ("echo 'a b'  \"c d\"", &["echo", "a b", "c d"]),
            ("echo \"a\\\"b\\$c\\d\"", &["echo", "a\"b$c\\d"]),
            ("echo a\\\nb", &["echo", "ab"]),
            ("echo '' x", &["echo", "", "x"]),
            ("echo 'unterminated x", &["echo", "unterminated x"]),
            ("echo \"unterminated x", &["echo", "unterminated x"]),
            ("echo $HOME ~ *", &["echo", "$HOME", "~", "*"]),
            ("echo trailing\\", &["echo", "trailing\\"]),
            ("  \t ", &[]),
            ("héllo wörld", &["héllo", "wörld"]),
            ("hé'l l'ö\"x y\"z\\ w", &["hél löx yz w"]),
        ];
        for (src, want) in cases {
            assert_eq!(words(src, Dialect::Posix), *want, "{src:?}");
        }
    }

    #[test]
    fn raw_spans_and_comments() {
        let mut t = Tokens::default();
        tokenize("echo 'a b' # x '#'", Dialect::Posix, &mut t);
        assert_eq!(t.raw(1), 5..10);
        assert!(t.is_comment(2));
        assert!(!t.is_comment(4));
    }

    #[test]
    fn cmd_table() {
        let cases: &[(&str, &[&str])] = &[
            ("del /f x", &["del", "/f", "x"]),
            ("d^e^l /f \"a b\"", &["del", "/f", "a b"]),
            ("echo 'a b'", &["echo", "'a", "b'"]),
            ("echo \"a ^b c\"^\"d^", &["echo", "a ^b c\"d^"]),
            ("x\"é y\"z w", &["xé yz", "w"]),
        ];
        for (src, want) in cases {
            assert_eq!(words(src, Dialect::Cmd), *want, "{src:?}");
        }
    }

    #[test]
    fn powershell_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Remove-Item x", &["Remove-Item", "x"]),
            (
                "R`emove-Item 'a''b' \"c`\"d\"",
                &["Remove-Item", "a'b", "c\"d"],
            ),
        ];
        for (src, want) in cases {
            assert_eq!(words(src, Dialect::PowerShell), *want, "{src:?}");
        }
    }

    #[test]
    fn redirections() {
        let cases: &[(&str, usize)] = &[
            (">", 1),
            (">f", 1),
            ("2>/dev/null", 2),
            ("2>&1", 3),
            ("&>f", 2),
            ("&>>f", 3),
            (">>f", 2),
            ("<<<x", 3),
            ("<<-EOF", 3),
            ("<&0", 2),
            ("rm", 0),
            ("2", 0),
            ("-f", 0),
        ];
        for (w, n) in cases {
            assert_eq!(redirection_len(w), *n, "{w:?}");
        }
    }
}
