//! Restrictive readings: every way a deny or ask rule could see the command.
//!
//! A deny rule fires when *any* reading matches, so this stage errs towards reading more. It runs
//! a worklist over the reading list itself: the raw command and the grant components are seeded,
//! and each reading, in turn, contributes new ones (upstream §2.6 items 1-6, plus see-through):
//!
//! * its components (normalized segments and substitutions) and its normalized form; for the raw
//!   command also its raw segments, quoting intact (beyond upstream);
//! * its POSIX bodies: grouping, `if/while/until/do/then/else/!`, trailing `fi/done/esac`, and the
//!   arm of a `case`;
//! * alternates: the head without its directory (`/bin/rm` -> `rm`), the applet of
//!   `busybox`/`toybox`, the text of a `-c` payload or a here-string fed to a shell, the cmd.exe
//!   reading (when the text has `^`, `&>`, or `'` with `&`/`|`) and the PowerShell reading (when it
//!   has a backtick), and the payloads of `sudo`, `doas`, `su -c`, `xargs`, `find -exec` and the
//!   scheduling launchers and the dynamic loader (see `see_through`), and what interpreters,
//!   editors and option values carry (see `inline`);
//! * beyond upstream, for a head that names a Windows program (`C:\x\InstallUtil.exe`,
//!   `RUNDLL32`, `Set-MpPreference`): the reading in lower case with the directory and the
//!   extension dropped (`installutil /u x.dll`), since Windows finds commands in any case;
//! * beyond upstream, a reading with absolute operands cleaned (`cat /etc//./shadow` reads
//!   `cat /etc/shadow`);
//! * beyond upstream, for a pipe into a shell or an interpreter that reads its program from
//!   standard input, `<stage> | sh` for every stage before it (`/usr/bin/curl x | env s''h` reads
//!   `curl x | sh`);
//! * beyond upstream, the raw command with the values its own plain assignments give substituted
//!   (`X=rm; $X -rf ~` reads `X=rm; rm -rf ~`, see `variables`);
//! * the canonical `rm -rf <operand>` aliases (which are final: not expanded further), including
//!   Windows' recursive deletes (`del /s`, `rd /s`, `Remove-Item -Recurse`, `robocopy /MIR`).
//!
//! New readings are deduplicated, so the worklist ends. Limits keep it bounded and fail closed:
//! a reading derived more than [`MAX_DEPTH`] steps from the raw command, more than
//! [`MAX_READINGS`] readings, or more than [`MAX_ALIASES`] aliases set `overflow`.

use alloc::string::String;
use alloc::vec::Vec;

use super::aliases::{applet_head, canonical_alias, clean_path, rm_find_aliases, windows_operand};
use super::derived::{Call, Derivations, Use};
use super::grant;
use super::heads::{self, Carrier, Head, HeadWord, SeeThrough, WindowsDelete, CLOSERS};
use super::inline::carried;
use super::normalize::{command_head, wrapper, Wrap};
use super::plain::{self, PlainText};
use super::see_through::{payloads, Payload};
use super::set::{Dedup, Memo, Texts};
use super::split::{split, SplitDialect};
use super::subcommands::here_string;
use super::tokenize::{byte_flags, contains_amp_gt, tokenize, Dialect, Tokens};
use super::variables::substituted;
use super::words::basename;
use super::Scratch;
use crate::invariant::{checked, or_closed};

/// Derivation steps from the raw command before a reading counts as too deep.
pub(crate) const MAX_DEPTH: u8 = 24;
/// Readings before the command counts as unreadable.
pub(crate) const MAX_READINGS: usize = 4096;
/// Upstream's cap on canonical rm/find aliases.
pub(crate) const MAX_ALIASES: usize = 256;

/// The reading list under construction.
struct Readings<'o> {
    list: &'o mut Texts,
    set: Dedup,
    /// Per reading: derivation depth, or `None` for a final alias.
    depth: Vec<Option<u8>>,
    /// Per reading: it keeps the command's own quoting (the raw text, a raw segment, a payload
    /// exactly as its wrapper runs it), so an operator in it is an operator. A normalized
    /// reading lost its quotes: `echo 'x | sh'` normalizes to a text with a pipe in it.
    quoted: Vec<bool>,
    aliases: usize,
    overflow: bool,
    /// The expansions recorded for the rest of the command (see `derived`), and whether the
    /// calls made on the list are being recorded now.
    derived: Derivations,
    recording: bool,
}

/// The memory of [`Readings`] and of the reading being expanded, kept between commands.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    pub(crate) set: Dedup,
    depth: Vec<Option<u8>>,
    quoted: Vec<bool>,
    cur: String,
    /// Kept from one read to the next within a command (see [`Buffers::share`]).
    derived: Derivations,
    /// How the next [`read`] uses `derived`; it is `Off` again after that read.
    share: Use,
}

impl Buffers {
    /// How the next [`read`] uses the expansions recorded: `Record` forgets those of the
    /// command read before and records anew, `Replay` replays them.
    pub(crate) fn share(&mut self, derived: Use) {
        if derived == Use::Record {
            self.derived.forget();
        }
        self.share = derived;
    }
}

/// What [`components`] fills for each reading it analyses, kept between readings (and
/// commands) so that its memory is reused.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    normalized: String,
    comps: Texts,
    set: Dedup,
    /// The cmd.exe and PowerShell readings of segments read recently (see [`dialect_reading`]).
    cmd: Memo,
    powershell: Memo,
    joined: String,
    /// The POSIX segments of the reading analysed last.
    segments: Vec<core::ops::Range<usize>>,
    /// The POSIX segments of the raw command of this read, and its length, when it is not plain:
    /// the first reading (the raw command, trimmed) is not split again.
    raw_segments: Vec<core::ops::Range<usize>>,
    raw_len: Option<usize>,
}

/// Bytes of readings expanded (and of substitutions analysed) per byte of input, plus a floor,
/// before the command counts as unreadable. Agent commands use a small fraction of it; a hostile
/// nest of substitutions whose every level is a new reading does not.
const WORK_PER_BYTE: usize = 32;
const WORK_FLOOR: usize = 64 * 1024;

impl Readings<'_> {
    /// Records a call on the list while an expansion is being recorded.
    fn note(&mut self, call: Call, s: &str) {
        if self.recording {
            self.derived.record(call, s);
        }
    }

    fn add(&mut self, s: &str, depth: u8) {
        self.note(Call::Add, s);
        self.insert(s, depth);
    }

    /// A range that did not cut its text (a bug): every restrictive rule matches instead.
    fn fail(&mut self) {
        self.note(Call::Fail, "");
        self.overflow = true;
    }

    fn insert(&mut self, s: &str, depth: u8) {
        let s = trim(s);
        if s.is_empty() || self.overflow {
            return;
        }
        if depth > MAX_DEPTH || self.list.len() >= MAX_READINGS {
            self.overflow = true;
            return;
        }
        if self.set.insert(self.list, s) {
            self.depth.push(Some(depth));
            self.quoted.push(false);
        }
    }

    /// Adds `s`, a text that keeps the command's quoting (see `quoted`).
    fn add_quoted(&mut self, s: &str, depth: u8) {
        self.note(Call::Quoted, s);
        self.insert_quoted(s, depth);
    }

    fn insert_quoted(&mut self, s: &str, depth: u8) {
        let before = self.list.len();
        self.insert(s, depth);
        if self.list.len() > before {
            if let Some(q) = self.quoted.last_mut() {
                *q = true;
            }
        }
    }

    /// Adds a part of a reading, cut by a range the stages computed. A range that does not cut
    /// it is a bug: it raises `overflow`, so every restrictive rule matches, rather than lose
    /// the part.
    fn add_part(&mut self, part: Option<&str>, depth: u8) {
        match checked(part) {
            Some(part) => self.add(part, depth),
            None => self.fail(),
        }
    }

    /// Adds `s`, to be expanded only when `expand` says so (asked only when `s` is new): a
    /// reading known to derive nothing new is listed but not read again.
    fn add_maybe_final(&mut self, s: &str, depth: u8, expand: impl FnOnce(&str) -> bool) {
        let before = self.list.len();
        self.insert(s, depth);
        if self.list.len() > before && !expand(s) {
            if let Some(d) = self.depth.last_mut() {
                *d = None;
            }
        }
    }

    fn add_alias(&mut self, operand: &str, buf: &mut String) {
        self.note(Call::Alias, operand);
        self.insert_alias(operand, buf);
    }

    fn insert_alias(&mut self, operand: &str, buf: &mut String) {
        self.aliases += 1;
        if self.aliases > MAX_ALIASES || self.list.len() >= MAX_READINGS {
            self.overflow = true;
            return;
        }
        buf.clear();
        canonical_alias(operand, buf);
        if self.set.insert(self.list, buf) {
            self.depth.push(None);
            self.quoted.push(false);
        }
    }
}

/// `str::trim`, without its Unicode work when both ends are ASCII and not blank (the usual case).
fn trim(s: &str) -> &str {
    let b = s.as_bytes();
    let solid = |c: &u8| c.is_ascii() && !c.is_ascii_whitespace();
    if b.first().is_some_and(solid) && b.last().is_some_and(solid) {
        s
    } else {
        s.trim()
    }
}

/// Fills `out` with the restrictive readings of `raw`, seeded with its `normalized` form and the
/// grant `components`. When `components_are_raws` is set these are the raw command's own, so the
/// raw reading does not recompute them, and `raw`'s POSIX segments are those `grant::analyze` of
/// `raw` left in `sc.posix_segs` when it is not plain. `plain`: the fast path's reading of `raw`.
pub(crate) fn read(
    raw: &str,
    normalized: &str,
    components: &Texts,
    components_are_raws: bool,
    plain: Option<&PlainText>,
    sc: &mut Scratch,
    out: &mut Texts,
) {
    let mut buffers = core::mem::take(&mut sc.readings);
    let derived = buffers.share;
    buffers.set.reset(out);
    buffers.depth.clear();
    buffers.quoted.clear();
    let mut r = Readings {
        list: out,
        set: buffers.set,
        depth: buffers.depth,
        quoted: buffers.quoted,
        aliases: 0,
        overflow: false,
        derived: buffers.derived,
        recording: false,
    };
    sc.work = 0;
    // The segments of plain text are plain too, and derive only themselves and their normalized
    // form, which is already a component (see `plain::inert_segment`).
    let expand_segment = |c: &str| plain.is_none() || !plain::inert_segment(c);
    // Plain raw text whose components are its own derives nothing more unless it may have a
    // cmd.exe reading (see `expand`). The reading is the trimmed text, which may not be plain
    // (`ls fi ` is, `ls fi` is not).
    let trimmed = trim(raw).len() == raw.len();
    let raw_derives = match plain {
        Some(plain) => !(components_are_raws && trimmed) || plain.may_read_as_cmd(),
        None => true,
    };
    r.add_maybe_final(raw, 0, |_| raw_derives);
    if let Some(q) = r.quoted.first_mut() {
        *q = true;
    }
    // The normalized form of plain text is plain, reads as itself and has the same components.
    r.add_maybe_final(normalized, 1, expand_segment);
    for c in components {
        r.add_maybe_final(c, 1, expand_segment);
    }
    // Beyond upstream: the raw segments too, quoting intact. Re-reading normalized text loses
    // quotes: behind a keyword (`if X='a b' rm -rf /`) or inside a payload with a literal quote,
    // only the raw segment still reads as `rm -rf /`.
    sc.segs.clear();
    match plain {
        // Already added: they are the components.
        Some(plain) if components_are_raws && plain.segments_are_components() => {}
        Some(plain) => sc.segs.extend_from_slice(plain.segment_ranges()),
        // `grant::analyze` split the raw command already (see above).
        None if components_are_raws => sc.segs.extend_from_slice(&sc.posix_segs),
        None => split(raw, SplitDialect::Posix, &mut sc.segs),
    }
    let a = &mut sc.analysis;
    a.raw_len = None;
    if plain.is_none() {
        a.raw_segments.clear();
        a.raw_segments.extend_from_slice(&sc.segs);
        a.raw_len = Some(raw.len());
    }
    if sc.segs.len() > 1 {
        let segs = core::mem::take(&mut sc.segs);
        for seg in &segs {
            let Some(seg) = checked(raw.get(seg.clone())) else {
                r.overflow = true;
                continue;
            };
            let before = r.list.len();
            r.add_maybe_final(seg, 1, expand_segment);
            if r.list.len() > before {
                if let Some(q) = r.quoted.last_mut() {
                    *q = true;
                }
            }
        }
        sc.segs = segs;
    }
    // Plain text has no `$`, backtick or `cd` (a special head) to substitute.
    if plain.is_none() {
        if let Some(text) = substituted(raw) {
            r.add_quoted(&text, 1);
        }
    }
    let budget = raw
        .len()
        .saturating_mul(WORK_PER_BYTE)
        .saturating_add(WORK_FLOOR);
    let mut cur = buffers.cur;
    let mut k = 0;
    // Once any stage has failed closed, every restrictive rule matches anyway: stop reading.
    while k < r.list.len() && !r.overflow && !sc.overflow && !sc.norm.overflow {
        if sc.work > budget {
            r.overflow = true;
            break;
        }
        if let Some(Some(depth)) = r.depth.get(k).copied() {
            let Some(reading) = checked(r.list.get(k)) else {
                r.overflow = true;
                break;
            };
            sc.work += reading.len();
            cur.clear();
            cur.push_str(reading);
            let skip_components = k == 0 && components_are_raws;
            // The first reading is the raw command when that is trimmed (and not empty, or
            // there would be no reading): its fast-path reading is known.
            let known = (k == 0 && trimmed && !raw.is_empty()).then_some(plain);
            let quoted = r.quoted.get(k).copied().unwrap_or(false);
            match derived {
                Use::Record if k > 0 => expand_recorded(&cur, depth + 1, quoted, sc, &mut r),
                Use::Replay if k > 0 => expand_or_replay(&cur, depth + 1, quoted, sc, &mut r),
                _ => expand(&cur, known, depth + 1, skip_components, quoted, sc, &mut r),
            }
        }
        k += 1;
    }
    sc.overflow |= r.overflow;
    sc.readings = Buffers {
        set: r.set,
        depth: r.depth,
        quoted: r.quoted,
        cur,
        derived: r.derived,
        share: Use::Off,
    };
}

/// [`expand`] for a reading after the first (so neither known nor with its components
/// skipped), recording the calls it makes on the list (see `derived`).
fn expand_recorded(c: &str, d: u8, quoted: bool, sc: &mut Scratch, r: &mut Readings<'_>) {
    let mark = r.derived.mark();
    let work = sc.work;
    r.recording = true;
    expand(c, None, d, false, quoted, sc, r);
    r.recording = false;
    if r.overflow || sc.overflow || sc.norm.overflow {
        r.derived.drop_since(mark);
    } else {
        let work = sc.work.saturating_sub(work);
        r.derived.keep(c, quoted, mark, work);
    }
}

/// [`expand`] for a reading after the first, replaying its recorded expansion when there is one.
fn expand_or_replay(c: &str, d: u8, quoted: bool, sc: &mut Scratch, r: &mut Readings<'_>) {
    let Some((calls, work)) = r.derived.find(c, quoted) else {
        expand(c, None, d, false, quoted, sc, r);
        return;
    };
    sc.work += work;
    let derived = core::mem::take(&mut r.derived);
    let mut buf = String::new();
    for k in calls {
        match derived.call(k) {
            (Call::Add, s) => r.insert(s, d),
            (Call::Quoted, s) => r.insert_quoted(s, d),
            (Call::Alias, operand) => r.insert_alias(operand, &mut buf),
            (Call::Fail, _) => r.overflow = true,
        }
    }
    r.derived = derived;
}

/// Adds the readings derived from `c` at depth `d`. `known`: the fast path's reading of `c`,
/// when the caller has it (else `c` is read here).
fn expand(
    c: &str,
    known: Option<Option<&PlainText>>,
    d: u8,
    skip_components: bool,
    quoted: bool,
    sc: &mut Scratch,
    r: &mut Readings<'_>,
) {
    let plain = match known {
        Some(plain) => plain,
        None => sc.plain.read(c),
    };
    match plain {
        Some(plain) => {
            if expand_plain(plain, d, skip_components, r) {
                dialects(c, d, sc, r);
            }
        }
        None => expand_in_full(c, d, skip_components, quoted, sc, r),
    }
}

/// Plain text derives only its normalized form and components, and maybe its cmd.exe reading
/// (see `plain`), which the caller adds when this returns true.
fn expand_plain(plain: &PlainText, d: u8, skip_components: bool, r: &mut Readings<'_>) -> bool {
    if !skip_components {
        r.add(plain.normalized(), d);
        for comp in plain.components() {
            r.add(comp, d);
        }
    }
    plain.may_read_as_cmd()
}

/// [`expand`] for text that is not plain: every stage.
fn expand_in_full(
    c: &str,
    d: u8,
    skip_components: bool,
    quoted: bool,
    sc: &mut Scratch,
    r: &mut Readings<'_>,
) {
    if !skip_components {
        components(c, d, sc, r);
    }
    bodies(c, d, r);
    dialects(c, d, sc, r);
    sc.segs.clear();
    if skip_components {
        // The first reading: the raw command trimmed, so the raw command itself when it is as long.
        match sc.analysis.raw_len {
            Some(len) if len == c.len() => sc.segs.extend_from_slice(&sc.analysis.raw_segments),
            _ => split(c, SplitDialect::Posix, &mut sc.segs),
        }
    } else {
        // Analysing the components split `c` already.
        sc.segs.extend_from_slice(&sc.analysis.segments);
    }
    if sc.segs.len() > 1 && quoted {
        pipes(c, d, sc, r);
    }
    if sc.segs.len() == 1 {
        let toks = sc.posix.get(c);
        let head = command_head(toks, 0);
        let applet = applet_head(toks, head);
        alternates(c, toks, head, applet, d, r);
        let mut buf = String::new();
        rm_find_aliases(toks, c, applet, &mut |op| r.add_alias(op, &mut buf));
    }
}

/// The normalized form of `c`, which is not plain, and its grant components.
fn components(c: &str, d: u8, sc: &mut Scratch, r: &mut Readings<'_>) {
    // The three buffers the analysis fills, borrowed one by one: moving the whole `Analysis`
    // (its memos too) out and back cost more than the rest of this function's own work.
    let a = &mut sc.analysis;
    let mut normalized = core::mem::take(&mut a.normalized);
    let mut comps = core::mem::take(&mut a.comps);
    let mut set = core::mem::take(&mut a.set);
    set.reset(&mut comps);
    grant::analyze(c, None, sc, &mut normalized, &mut comps, &mut set);
    sc.analysis.segments.clear();
    sc.analysis.segments.extend_from_slice(&sc.posix_segs);
    r.add(&normalized, d);
    for comp in &comps {
        r.add(comp, d);
    }
    let a = &mut sc.analysis;
    a.normalized = normalized;
    a.comps = comps;
    a.set = set;
}

/// Upstream's POSIX body readings: grouping and control-flow words peeled off both ends.
///
/// Every step only shortens the text it is given (each returns a part of it), so a step that
/// changed nothing is told by the length alone, not by comparing the texts.
fn bodies(c: &str, d: u8, r: &mut Readings<'_>) {
    let whole = c.trim();
    let mut s = whole;
    // Each round is linear; a round that peels nothing ends the loop, and a hostile run of
    // alternating keywords is cut off by the bound (the reading stays a superset of upstream's).
    for _ in 0..64 {
        let before = s.len();
        s = strip_leading(s);
        s = strip_trailing(s);
        if let Some(arm) = case_arm(s) {
            s = arm;
        }
        if s.len() == before {
            break;
        }
    }
    if s.len() != whole.len() {
        r.add(s, d);
    }
}

fn strip_leading(mut s: &str) -> &str {
    loop {
        let before = s.len();
        let opened = s
            .bytes()
            .position(|c| !(c == b'(' || c == b'{' || c.is_ascii_whitespace()))
            .unwrap_or(s.len());
        s = &s[opened..];
        let word_end = first_blank(s);
        if heads::is(&s[..word_end], Head::Opens) {
            s = &s[word_end..];
        }
        if s.len() == before {
            return s.trim_start();
        }
    }
}

fn strip_trailing(mut s: &str) -> &str {
    // A closing bracket is peeled only while unbalanced, so `echo ${HOME}` and `$(date)` stay.
    // The balance is that of the whole text as given, counted only when a bracket ends it.
    let given = s;
    let mut balance = None;
    loop {
        let before = s.len();
        if s.ends_with([')', '}']) {
            let (parens, braces) = balance.get_or_insert_with(|| brackets(given));
            if s.ends_with(')') && *parens > 0 {
                s = s[..s.len() - 1].trim_end();
                *parens -= 1;
            }
            if s.ends_with('}') && *braces > 0 {
                s = s[..s.len() - 1].trim_end();
                *braces -= 1;
            }
        }
        let word_start = s
            .bytes()
            .rposition(|c| matches!(c, b' ' | b'\t' | b'\n'))
            .map_or(0, |i| i + 1);
        if CLOSERS.contains(&&s[word_start..]) {
            s = s[..word_start].trim_end();
        }
        if s.len() == before {
            return s;
        }
    }
}

/// How many more `)` than `(`, and `}` than `{`, the text holds.
fn brackets(s: &str) -> (isize, isize) {
    let (mut parens, mut braces) = (0isize, 0isize);
    for b in s.bytes() {
        match b {
            b'(' => parens -= 1,
            b')' => parens += 1,
            b'{' => braces -= 1,
            b'}' => braces += 1,
            _ => {}
        }
    }
    (parens, braces)
}

/// `case x in x) BODY` -> BODY; also a later arm `pat) BODY` (its own segment after `;;`).
fn case_arm(s: &str) -> Option<&str> {
    let word_end = first_blank(s);
    let word = &s[..word_end];
    if let Some(rest) = s[word_end..].strip_prefix(' ') {
        if heads::is(word, Head::Case) {
            let close = rest.find(')')?;
            return Some(rest[close + 1..].trim_start());
        }
    }
    let unbalanced = word.ends_with(')') && word.matches(')').count() > word.matches('(').count();
    (unbalanced && !word.contains(['$', '`'])).then(|| s[word_end..].trim_start())
}

/// Where the first word of `s` ends: its first space, tab or newline, or its end. The three are
/// ASCII, so a byte scan finds what `str::find` does, without its per-character search.
fn first_blank(s: &str) -> usize {
    s.bytes()
        .position(|c| matches!(c, b' ' | b'\t' | b'\n'))
        .unwrap_or(s.len())
}

/// The cmd.exe and PowerShell readings, when the text looks like it could be one.
fn dialects(c: &str, d: u8, sc: &mut Scratch, r: &mut Readings<'_>) {
    // Which of the telling bytes occur (see `DIALECT_BYTES`).
    let b = c.as_bytes();
    let seen = byte_flags(b, &DIALECT_BYTES);
    let has = |flags: u8| seen & flags != 0;
    let amp_gt = has(AMP) && has(GT) && contains_amp_gt(b);
    if has(CARET) || amp_gt || (has(QUOTE) && has(AMP | PIPE)) {
        dialect_reading(c, SplitDialect::Cmd, Dialect::Cmd, d, sc, r);
    }
    if has(BACKTICK) {
        dialect_reading(c, SplitDialect::PowerShell, Dialect::PowerShell, d, sc, r);
    }
}

/// Flags of [`DIALECT_BYTES`]: the bytes that make a text worth reading as cmd.exe or PowerShell.
const CARET: u8 = 1;
const GT: u8 = 2;
const QUOTE: u8 = 4;
const AMP: u8 = 8;
const PIPE: u8 = 16;
const BACKTICK: u8 = 32;

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
static DIALECT_BYTES: [u8; 256] = {
    let mut t = [0u8; 256];
    t[b'^' as usize] = CARET;
    t[b'>' as usize] = GT;
    t[b'\'' as usize] = QUOTE;
    t[b'&' as usize] = AMP;
    t[b'|' as usize] = PIPE;
    t[b'`' as usize] = BACKTICK;
    t
};

fn dialect_reading(
    c: &str,
    sd: SplitDialect,
    td: Dialect,
    d: u8,
    sc: &mut Scratch,
    r: &mut Readings<'_>,
) {
    let segs = &mut sc.segs;
    segs.clear();
    split(c, sd, segs);
    // The fields used, borrowed apart: moving the whole `Analysis` out and back copied it twice.
    let a = &mut sc.analysis;
    let memo = match td {
        Dialect::PowerShell => &mut a.powershell,
        Dialect::Cmd | Dialect::Posix => &mut a.cmd,
    };
    for seg in segs.iter() {
        let Some(seg) = checked(c.get(seg.clone())) else {
            r.fail();
            continue;
        };
        // The raw command, its raw segments and their payloads share their segments.
        if let Some(joined) = memo.get(seg) {
            r.add(joined, d);
            continue;
        }
        tokenize(seg, td, &mut sc.toks);
        a.joined.clear();
        sc.toks.join_from(0, &mut a.joined);
        memo.put(seg, &a.joined);
        r.add(&a.joined, d);
    }
}

/// For each pipe in `c` (whose segments are `sc.segs`) into a program that runs what it reads
/// (a shell, an interpreter with no script, `source`, `iex`), a reading `<stage> | sh` for every
/// stage before it in the pipeline; and the canonical alias of
/// `Get-ChildItem DIR -Recurse | Remove-Item`. (Every such sink is a special head, so text that
/// pipes into one is never plain: the fast path derives nothing of the kind.)
fn pipes(c: &str, d: u8, sc: &mut Scratch, r: &mut Readings<'_>) {
    let segs = core::mem::take(&mut sc.segs);
    let mut start = 0;
    let mut stage = String::new();
    let mut sink = String::new();
    let mut pair = String::new();
    for i in 1..segs.len() {
        let (Some(prev), Some(seg)) = (segs.get(i - 1), segs.get(i)) else {
            break;
        };
        if !piped(c, prev.end, seg.start) {
            start = i;
            continue;
        }
        let text = or_closed(c.get(seg.clone()), c);
        tokenize(text, Dialect::Posix, &mut sc.toks);
        let toks = core::mem::take(&mut sc.toks);
        let kind = sink_kind(&toks);
        // Every stage since the last break of the pipeline; all of them if that range is ever
        // wrong (more readings, never fewer).
        let sources = or_closed(segs.get(start..i), segs.as_slice());
        if kind == Sink::Delete {
            delete_source(c, sources, sc, r);
        }
        sc.toks = toks;
        sink.clear();
        match kind {
            Sink::Code => sink.push_str("sh"),
            Sink::None | Sink::Delete => continue,
        }
        for src in sources {
            stage.clear();
            sc.norm
                .segment(or_closed(c.get(src.clone()), c), &mut stage);
            pair.clear();
            pair.push_str(&stage);
            pair.push_str(" | ");
            pair.push_str(&sink);
            r.add(&pair, d);
        }
    }
    sc.segs = segs;
}

/// Whether the operator between two segments (`c[end..next]`) is a pipe, not `||`.
fn piped(c: &str, end: usize, next: usize) -> bool {
    let between = or_closed(c.get(end..next), c).trim();
    between == "|" || between == "|&"
}

/// What a pipeline stage does with its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    None,
    /// Runs it: a shell with no script and no `-c`, an interpreter with no script (or `-`),
    /// `source`, PowerShell's `iex`, `xargs sh -c`.
    Code,
    /// A Windows delete with no target of its own (`… | Remove-Item`).
    Delete,
}

fn sink_kind(t: &Tokens) -> Sink {
    let mut head = applet_head(t, command_head(t, 0));
    if head.is(Head::SeeThrough(SeeThrough::Xargs)) {
        let mut k = head.index + 1;
        while k < t.len() && t.value(k).starts_with('-') {
            k += 1;
        }
        head = HeadWord::at(t, k);
        let shell_c = head.is(Head::PosixShell) && t.value(head.index + 1) == "-c";
        if shell_c {
            return Sink::Code;
        }
    }
    let h = head.index;
    let name = basename(t.value(h));
    let operands = (h + 1..t.len()).filter(|&k| {
        let w = t.value(k);
        !w.starts_with('-') || w == "-"
    });
    let reads_stdin = || {
        operands
            .clone()
            .all(|k| t.value(k) == "-" || t.value(k).starts_with("--"))
    };
    match head.class {
        Some(Head::PosixShell) => {
            let dash_c = (h + 1..t.len()).any(|k| {
                let w = t.value(k);
                w.starts_with('-') && !w.starts_with("--") && w.contains('c')
            });
            // `sh -s -- args` reads its program from standard input too.
            let script = (h + 1..t.len()).find(|&k| !t.value(k).starts_with('-'));
            let after_s = (h + 1..t.len()).any(|k| t.value(k) == "-s");
            if !dash_c && (script.is_none() || after_s) {
                Sink::Code
            } else {
                Sink::None
            }
        }
        Some(Head::Carrier(
            Carrier::Python
            | Carrier::Perl
            | Carrier::Ruby
            | Carrier::Node
            | Carrier::Php
            | Carrier::Lua
            | Carrier::Osascript
            | Carrier::Source,
        )) if reads_stdin() => Sink::Code,
        Some(Head::WindowsDelete(WindowsDelete::Cmd | WindowsDelete::RemoveItem))
            if operands.clone().next().is_none() =>
        {
            Sink::Delete
        }
        _ if name.eq_ignore_ascii_case("invoke-expression") => Sink::Code,
        _ if t.value(h) == "$SHELL" || t.value(h) == "${SHELL}" => Sink::Code,
        _ => Sink::None,
    }
}

/// `Get-ChildItem DIR -Recurse | Remove-Item`: the canonical alias of DIR, for the stages of
/// `sources` that list a directory tree.
fn delete_source(
    c: &str,
    sources: &[core::ops::Range<usize>],
    sc: &mut Scratch,
    r: &mut Readings<'_>,
) {
    let mut buf = String::new();
    let mut op = String::new();
    for src in sources {
        let text = or_closed(c.get(src.clone()), c);
        tokenize(text, Dialect::Posix, &mut sc.toks);
        let t = &sc.toks;
        let h = command_head(t, 0).index;
        let lister = ["get-childitem", "gci", "dir", "ls", "get-item", "gi"]
            .iter()
            .any(|n| t.value(h).eq_ignore_ascii_case(n));
        let recurse = (h + 1..t.len()).any(|k| {
            let w = t.value(k).to_ascii_lowercase();
            w.len() > 1 && "-recurse".starts_with(&w)
        });
        if !lister || !recurse {
            continue;
        }
        let mut k = h + 1;
        let mut target = None;
        while k < t.len() {
            let w = t.value(k).to_ascii_lowercase();
            if w == "-path" || w == "-literalpath" {
                target = Some(k + 1);
                break;
            }
            if w.starts_with('-') {
                // `-Include *.bak`, `-Filter x`: a value follows; `-Recurse`, `-Force` do not.
                let switch = "-recurse".starts_with(&w) || "-force".starts_with(&w) || w == "-file";
                k += if switch { 1 } else { 2 };
                continue;
            }
            target = Some(k);
            break;
        }
        if let Some(k) = target.filter(|&k| k < t.len()) {
            op.clear();
            windows_operand(or_closed(text.get(t.raw(k)), text), &mut op);
            r.add_alias(&op, &mut buf);
        }
    }
}

/// Readings of a single segment that look past its head (its [`command_head`], and that with
/// applets skipped).
fn alternates(c: &str, t: &Tokens, at: HeadWord, applet: HeadWord, d: u8, r: &mut Readings<'_>) {
    let h = at.index;
    let head = t.value(h);
    windows_reading(c, t, h, d, r);
    cleaned_operands(c, t, h, d, r);
    if let Some(Head::Carrier(kind)) = applet.class {
        carried(t, kind, applet.index, &mut |p| r.add_quoted(p, d));
    }
    let base = basename(head);
    let path_like = base
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || b"._+-".contains(&c));
    if head.contains('/') && !base.is_empty() && path_like {
        let mut s = String::from(base);
        match checked(c.get(t.raw(h).end..)) {
            Some(rest) => {
                s.push_str(rest);
                r.add(&s, d);
            }
            None => r.fail(),
        }
    }
    if applet.index != h {
        r.add_part(c.get(t.raw(applet.index).start..), d);
    }
    if at.is(Head::PosixShell) {
        if let Some(Wrap::Text(payload, _)) = wrapper(t, at) {
            r.add_quoted(&payload, d);
        }
        if let Some(payload) = here_string(t, c, h) {
            r.add_quoted(payload, d);
        }
    }
    payloads(t, c, at, &mut |p| match p {
        Payload::Word(k) => match checked(c.get(t.raw(k).start..)) {
            Some(part) => r.add_quoted(part, d),
            None => r.fail(),
        },
        Payload::Text(text) => r.add_quoted(text, d),
    });
}

/// The reading of a Windows command in lower case, its head without directory or extension
/// (`"C:\\Program Files\\X\\MpCmdRun.exe" -RemoveDefinitions` reads
/// `mpcmdrun -removedefinitions`). The words after the head are taken raw, backslashes kept.
fn windows_reading(c: &str, t: &Tokens, h: usize, d: u8, r: &mut Readings<'_>) {
    let raw_head = or_closed(c.get(t.raw(h)), c);
    let head = raw_head.trim_matches(|ch| ch == '"' || ch == '\'');
    let base = basename(head);
    let is_windows = heads::is_windows_name(base.as_bytes()) || head.contains('\\');
    if !is_windows || base.is_empty() {
        return;
    }
    let ext = heads::windows_extension(base.as_bytes());
    let name = base.get(..base.len() - ext).unwrap_or(base);
    let mut s = name.to_ascii_lowercase();
    s.push_str(&or_closed(c.get(t.raw(h).end..), c).to_ascii_lowercase());
    r.add(&s, d);
}

/// The segment with every absolute operand that `path.Clean` changes cleaned
/// (`/etc//./shadow`, `/tmp/../etc/shadow`).
fn cleaned_operands(c: &str, t: &Tokens, h: usize, d: u8, r: &mut Readings<'_>) {
    let needs = |w: &str| {
        w.starts_with('/')
            && (w.contains("//")
                || w.contains("/./")
                || w.contains("/../")
                || w.ends_with("/.")
                || w.ends_with("/.."))
    };
    if !(h + 1..t.len()).any(|k| needs(t.value(k))) {
        return;
    }
    let mut s = String::from(or_closed(c.get(..t.raw(h).end), c));
    for k in h + 1..t.len() {
        s.push(' ');
        let w = t.value(k);
        if needs(w) {
            clean_path(w, &mut s);
        } else {
            s.push_str(or_closed(c.get(t.raw(k)), c));
        }
    }
    r.add(&s, d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(c: &str) -> Option<String> {
        let mut list = Texts::default();
        let mut r = Readings {
            list: &mut list,
            set: Dedup::default(),
            depth: Vec::new(),
            quoted: Vec::new(),
            aliases: 0,
            overflow: false,
            derived: Derivations::default(),
            recording: false,
        };
        bodies(c, 1, &mut r);
        list.iter().last().map(String::from)
    }

    #[test]
    fn bodies_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("(rm -rf /)", Some("rm -rf /")),
            ("{ rm -rf /", Some("rm -rf /")),
            ("then rm -rf /", Some("rm -rf /")),
            ("if ! ( rm -rf / )", Some("rm -rf /")),
            ("while rm -rf /", Some("rm -rf /")),
            ("do rm -rf / done", Some("rm -rf /")),
            ("case x in x) rm -rf /", Some("rm -rf /")),
            ("*.txt) rm -rf /", Some("rm -rf /")),
            ("fi", None),
            ("echo ${HOME}", None),
            ("echo $(date)", None),
            ("rm -rf /", None),
            ("iffy x", None),
        ];
        for (c, want) in cases {
            assert_eq!(body(c).as_deref(), *want, "{c:?}");
        }
    }
}
