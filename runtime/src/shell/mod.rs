//! The shell command model: how rampart reads a command string.
//!
//! A policy says `deny rm -rf /` and `allow git *`; an agent writes
//! `FOO=1 bash -lc "git status && sudo rm -fr //"`. Deciding that call needs two different views
//! of the command, and upstream Rampart (reference §2.6) defines both:
//!
//! * **Restrictive readings** (deny, ask): every way the command could be understood as doing
//!   something. A rule matches when *any* reading matches: the raw text, each segment, what the
//!   segment runs once launchers and `-c` wrappers are peeled off, grouping and control-flow
//!   bodies, here-string payloads, other shell dialects, and a canonical `rm -rf <operand>` for
//!   every spelling of a recursive forced delete. Reading too much only over-restricts; reading
//!   too little lets a command through. Where a reading is cut short by a limit, `overflow` tells
//!   the evaluator to treat the command as matching.
//! * **Grant components** (allow, watch): every command the call executes. An allow rule must
//!   cover all of them. Components never see through `sudo`, `xargs` and the like: `sudo git push`
//!   is not `git push`.
//!
//! Beyond upstream, the restrictive readings also see through `sudo`, `doas`, `su -c`, `xargs` and
//! `find -exec` (upstream let `xargs rm -rf /` through).
//!
//! The stages, one module each: [`sanitize`](sanitize) → [`split`](split) →
//! [`subcommands`](subcommands) → [`tokenize`](tokenize) → [`normalize`](normalize) →
//! [`grant`](grant) components → [`restrictive`](restrictive) readings (with
//! [`aliases`](aliases) for rm/find and [`see_through`](see_through)) and
//! [`env_assign`](env_assign) for `command_env_assignments`; a command read twice (as it is and
//! with its mentions masked) replays for the second list what the first derived from the readings
//! both share ([`derived`](derived)). Most agent commands are plain words
//! and operators, which a fast path (`plain`) reads in one pass; the names that need the full
//! model are listed once, in [`heads`]. A [`Reader`] keeps the stages' working memory between
//! commands, apart from the [`CommandReadings`] it returns.
//!
//! Everything is bounded: nesting depth, unwrap rounds, the number of readings and aliases. Work
//! is linear in the input per reading, so 8 KiB of operators or open parentheses reads quickly.

mod aliases;
mod derived;
mod env_assign;
mod grant;
pub mod heads;
mod inline;
mod mention;
mod normalize;
mod plain;
mod restrictive;
mod sanitize;
mod see_through;
mod set;
mod split;
mod subcommands;
mod tokenize;
mod variables;
mod words;

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use derived::Use;
use plain::{PlainReader, PlainText};
use set::Dedup;
pub use set::{Iter as TextsIter, Texts};
use tokenize::Tokens;

use crate::invariant::{checked, or_closed};

/// Everything the evaluator needs to know about one command string.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommandReadings {
    /// The sanitized command (ANSI CSI escapes, NUL and control chars other than \t \n removed).
    pub raw: String,
    /// NormalizeCommand: normalized segments joined with " && ".
    pub normalized: String,
    /// Grant components: the normalized segments of the command plus the normalized segments of every
    /// subcommand ($(..), backticks, <(..), >(..), eval), in order, without duplicates.
    pub components: Texts,
    /// More than one segment, or any subcommand (upstream's `composite`).
    pub composite: bool,
    /// Every restrictive reading (§2.6 "Restrictive match" items 1-6 and the rm/find canonical aliases
    /// of item 4, plus our improvements), deduplicated, `raw` first. A deny/ask rule matches when any
    /// of these matches.
    pub restrictive: Texts,
    /// The reading hit a limit (more than 256 rm/find aliases, nesting deeper than the bound, too many
    /// readings): restrictive rules must treat the command as matching (fail closed).
    pub overflow: bool,
    /// Names of environment variables the command assigns anywhere (`VAR=x cmd`, `env VAR=x`,
    /// `export/declare/typeset VAR=x`, cmd.exe `set`/`setx`, PowerShell `$env:VAR=`, `Set-Item env:VAR`,
    /// `[Environment]::SetEnvironmentVariable(`), all three dialects tried, the whole chain of launchers
    /// and wrappers read through (`sudo env A=1 cmd`, `doas nice env A=1 cmd`, `su -c`, `xargs`,
    /// `find -exec`, nested shell wrappers), substitutions included; `printf 'LD_PRELOAD=%s'`
    /// assigns nothing.
    pub env_assignments: Vec<String>,
    /// The restrictive readings of the command with its mentions masked (see `mention`): the data
    /// words of grep, echo, `git commit -m` and the like replaced by `_`. Empty when the command
    /// mentions nothing. Patterns that may match anywhere in a reading (command_contains, and
    /// command_matches that start with `*`) are matched against these instead of `restrictive`;
    /// patterns anchored at a command's head still see `restrictive` whole.
    pub masked: Texts,
}

/// Reads command strings, keeping its working memory from one command to the next.
///
/// Reading a command fills a dozen strings and lists: the readings themselves, tokens, indexes,
/// the fast path's reading. A process that decides many commands (a server thread, `rampart
/// check` over a stream) keeps one `Reader` per thread and reads every command with it, so that
/// those buffers are allocated once; a process that decides once (the preload, a hook) makes one
/// for its command, or calls [`read_command`]. As with regex-automata's `Cache` beside its
/// `Regex`, the memory is kept apart from what is computed: a command's readings are a value
/// that nothing of the previous command's reading leaks into, valid until the next read.
#[derive(Default)]
pub struct Reader {
    readings: CommandReadings,
    buffers: Buffers,
}

impl Reader {
    pub fn new() -> Reader {
        Reader::default()
    }

    /// Reads a command string (the exec tool's `command`).
    pub fn read_command(&mut self, cmd: &str) -> &CommandReadings {
        read_command_with(cmd, &mut self.readings, &mut self.buffers);
        &self.readings
    }

    /// Reads a command that the kernel already split into words (see [`read_argv`]).
    pub fn read_argv(&mut self, argv: &[&str]) -> &CommandReadings {
        read_argv_with(argv, &mut self.readings, &mut self.buffers);
        &self.readings
    }
}

impl core::fmt::Debug for Reader {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Reader").finish_non_exhaustive()
    }
}

/// The buffers of one reading: the fast path's reading of the raw command, which the stages
/// receive, apart from the stages' scratch.
#[derive(Debug, Default)]
struct Buffers {
    raw: PlainReader,
    stages: Scratch,
}

#[cfg(test)]
impl Buffers {
    /// Buffers that never take the fast path (the tests compare it with the full model).
    fn full_model() -> Buffers {
        let mut b = Buffers::default();
        b.raw.off = true;
        b.stages.plain.off = true;
        b
    }
}

/// Reads a command string (the exec tool's `command`) with a [`Reader`] of its own.
pub fn read_command(cmd: &str) -> CommandReadings {
    let mut reader = Reader::new();
    reader.read_command(cmd);
    reader.readings
}

fn read_command_with(cmd: &str, out: &mut CommandReadings, b: &mut Buffers) {
    let sc = &mut b.stages;
    clear(out, sc);
    if let Some(plain) = b.raw.read(cmd) {
        // Plain text is printable ASCII and newlines, which sanitizing keeps.
        out.raw.push_str(cmd);
        if plain.readings_are_final() {
            plain_readings(out, plain, sc);
        } else {
            read_in_full(out, Some(plain), sc);
        }
        return;
    }
    sanitize::sanitize(cmd, &mut out.raw);
    // Sanitizing only removes bytes, and what it removes may have kept the text from being plain.
    let changed = out.raw.len() != cmd.len();
    let plain = if changed { b.raw.read(&out.raw) } else { None };
    read_in_full(out, plain, sc);
}

/// The stages in turn, for the raw text `out.raw`, whose fast-path reading is `plain`.
fn read_in_full(out: &mut CommandReadings, plain: Option<&PlainText>, sc: &mut Scratch) {
    let mut set = core::mem::take(&mut sc.components);
    out.composite = grant::analyze(
        &out.raw,
        plain,
        sc,
        &mut out.normalized,
        &mut out.components,
        &mut set,
    );
    sc.components = set;
    finish(out, plain, sc, true);
}

/// The readings of plain text whose readings derive nothing further (see `plain`): its own
/// normalized form and components, and as restrictive readings the text, its normalized form,
/// its components and (when they are not the components) its raw segments.
///
/// Most are known to be distinct, so they are not searched for: the components are (`plain`
/// keeps one of each), and with one segment the component is the normalized form. With more,
/// no component is the text or its normalized form: each of those holds an operator or ` && `,
/// which no segment does.
fn plain_readings(out: &mut CommandReadings, plain: &PlainText, sc: &mut Scratch) {
    out.normalized.push_str(plain.normalized());
    for comp in plain.components() {
        out.components.push(comp);
    }
    let composite = plain.segments() > 1;
    out.composite = composite;
    let list = &mut out.restrictive;
    list.push(&out.raw);
    if out.normalized != out.raw {
        list.push(&out.normalized);
    }
    if composite {
        for comp in plain.components() {
            list.push(comp);
        }
    }
    if composite && !plain.segments_are_components() {
        let set = &mut sc.readings.set;
        for seg in plain.segment_ranges() {
            // A range that does not cut the text is a bug: every restrictive rule matches instead.
            match checked(out.raw.get(seg.clone())) {
                Some(seg) => {
                    set.insert(list, seg);
                }
                None => out.overflow = true,
            }
        }
    }
    env_assign::collect(&out.raw, Some(plain), sc, &mut out.env_assignments);
    mention_readings(out, sc);
}

/// The preload path: the kernel already split the words. `raw` is upstream's quoted join (§4.2:
/// bare when every byte is in [A-Za-z0-9_@%+=:,./-], else '...' with ' as '\'' ; empty word is '').
/// The readings are built from the argv words directly (no re-tokenising of the quoted join), except
/// that shell wrappers' payloads (`sh -c PAYLOAD`) are parsed as shell. With a [`Reader`] of its
/// own.
pub fn read_argv(argv: &[&str]) -> CommandReadings {
    let mut reader = Reader::new();
    reader.read_argv(argv);
    reader.readings
}

fn read_argv_with(argv: &[&str], out: &mut CommandReadings, b: &mut Buffers) {
    let sc = &mut b.stages;
    clear(out, sc);
    let mut words = Tokens::default();
    let mut clean = String::new();
    for (k, w) in argv.iter().enumerate() {
        if k > 0 {
            out.raw.push(' ');
        }
        clean.clear();
        sanitize::sanitize(w, &mut clean);
        let start = out.raw.len();
        quote_word(&clean, &mut out.raw);
        words.push_word(start..out.raw.len(), &clean);
    }
    let mut set = core::mem::take(&mut sc.components);
    match sc.norm.words(&words, &mut out.normalized) {
        None => {
            if !out.normalized.is_empty() {
                set.insert(&mut out.components, &out.normalized);
            }
        }
        Some(payload) => {
            out.composite = grant::analyze(
                &payload,
                b.raw.read(&payload),
                sc,
                &mut out.normalized,
                &mut out.components,
                &mut set,
            );
        }
    }
    sc.components = set;
    finish(out, b.raw.read(&out.raw), sc, false);
}

/// The readings every entry point derives the same way once raw, normalized and components are
/// set. `plain`: the fast path's reading of `raw`; `components_are_raws`: the components were
/// split from `raw` itself (not from an argv join).
fn finish(
    out: &mut CommandReadings,
    plain: Option<&PlainText>,
    sc: &mut Scratch,
    components_are_raws: bool,
) {
    // Masking first: when the command has masked readings, they share most of the restrictive
    // readings, so the restrictive stage records its expansions for them (see `derived`).
    let masked = mask(out, sc);
    sc.readings
        .share(if masked { Use::Record } else { Use::Off });
    restrictive::read(
        &out.raw,
        &out.normalized,
        &out.components,
        components_are_raws,
        plain,
        sc,
        &mut out.restrictive,
    );
    if masked {
        masked_readings(out, sc, Use::Replay);
    }
    // After the restrictive readings: a substitution too deep to read here raises `overflow`,
    // which would stop the restrictive stage's worklist before its end.
    env_assign::collect(&out.raw, plain, sc, &mut out.env_assignments);
    out.overflow = sc.overflow || sc.norm.overflow;
}

/// The restrictive readings of `out.raw` with its mentions masked, when it has any.
fn mention_readings(out: &mut CommandReadings, sc: &mut Scratch) {
    if mask(out, sc) {
        masked_readings(out, sc, Use::Off);
    }
}

/// Writes `out.raw` with its mentions masked to `sc.masking.raw`; false when it has none.
fn mask(out: &CommandReadings, sc: &mut Scratch) -> bool {
    let m = &mut sc.masking;
    m.raw.clear();
    m.mentions.mask(&out.raw, &mut m.raw)
}

/// The restrictive readings of the masked command in `sc.masking.raw`, using the expansions the
/// restrictive stage recorded as `derived` says.
fn masked_readings(out: &mut CommandReadings, sc: &mut Scratch, derived: Use) {
    let mut m = core::mem::take(&mut sc.masking);
    sc.readings.share(derived);
    m.normalized.clear();
    m.set.reset(&mut m.components);
    grant::analyze(
        &m.raw,
        None,
        sc,
        &mut m.normalized,
        &mut m.components,
        &mut m.set,
    );
    restrictive::read(
        &m.raw,
        &m.normalized,
        &m.components,
        true,
        None,
        sc,
        &mut out.masked,
    );
    sc.masking = m;
}

/// `cmd` with each segment's head (after assignments and transparent launchers) replaced by what
/// `program` returns for it, or `None` when it replaces nothing. The surfaces that see a command
/// as text use it to decide a command once more under the names of the programs it really runs
/// (a link's target; see `paths::PathResolver::linked_program`).
pub fn with_heads_replaced(
    cmd: &str,
    mut program: impl FnMut(&str) -> Option<String>,
) -> Option<String> {
    let mut segs = Vec::new();
    split::split(cmd, split::SplitDialect::Posix, &mut segs);
    let mut toks = Tokens::default();
    let mut out = String::with_capacity(cmd.len() + 16);
    let mut at = 0;
    let mut changed = false;
    for seg in &segs {
        let text = or_closed(cmd.get(seg.clone()), cmd);
        tokenize::tokenize(text, tokenize::Dialect::Posix, &mut toks);
        let head = normalize::command_head(&toks, 0).index;
        if head >= toks.len() {
            continue;
        }
        let Some(real) = program(toks.value(head)) else {
            continue;
        };
        let span = toks.raw(head);
        out.push_str(or_closed(cmd.get(at..seg.start + span.start), cmd));
        quote_word(&real, &mut out);
        at = seg.start + span.end;
        changed = true;
    }
    out.push_str(or_closed(cmd.get(at..), cmd));
    changed.then_some(out)
}

/// Upstream's argv word quoting (§4.2), appended to `out`.
pub fn quote_word(word: &str, out: &mut String) {
    let bare = |c: u8| c.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&c);
    if word.is_empty() {
        out.push_str("''");
    } else if word.bytes().all(bare) {
        out.push_str(word);
    } else {
        out.push('\'');
        for (k, part) in word.split('\'').enumerate() {
            if k > 0 {
                out.push_str("'\\''");
            }
            out.push_str(part);
        }
        out.push('\'');
    }
}

/// Empties `out` (the strings of its lists go to the indexes that refill them) and lowers the
/// scratch's flags.
fn clear(out: &mut CommandReadings, sc: &mut Scratch) {
    sc.reset();
    out.raw.clear();
    out.normalized.clear();
    sc.components.reset(&mut out.components);
    out.composite = false;
    sc.readings.set.reset(&mut out.restrictive);
    out.overflow = false;
    out.env_assignments.clear();
    sc.masking.set.reset(&mut out.masked);
}

/// Buffers shared by the stages of one reading, and the fail-closed flag they raise.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    pub(crate) norm: normalize::Normalizer,
    pub(crate) toks: Tokens,
    /// The POSIX words of the text read last (shared by the stages that read it in turn).
    pub(crate) posix: tokenize::PosixWords,
    pub(crate) segs: Vec<Range<usize>>,
    /// The POSIX segments of the text [`grant::analyze`] read last, when it was not plain.
    pub(crate) posix_segs: Vec<Range<usize>>,
    /// The fast path, for the texts the stages derive.
    pub(crate) plain: PlainReader,
    pub(crate) overflow: bool,
    /// Bytes processed so far, against the restrictive stage's work budget.
    pub(crate) work: usize,
    /// The index over the grant components.
    pub(crate) components: Dedup,
    /// The restrictive stage's index, derivation depths and current reading.
    pub(crate) readings: restrictive::Buffers,
    /// The restrictive stage's analysis of one reading's components.
    pub(crate) analysis: restrictive::Analysis,
    /// The masked command and its analysis (see `mention`).
    pub(crate) masking: Masking,
}

/// The buffers of [`mention_readings`].
#[derive(Debug, Default)]
pub(crate) struct Masking {
    mentions: mention::Mentions,
    raw: String,
    normalized: String,
    components: Texts,
    set: Dedup,
}

impl Scratch {
    /// Lowers the flags of the command read before (`clear` empties the indexes).
    fn reset(&mut self) {
        self.overflow = false;
        self.work = 0;
        self.norm.overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_word_matches_upstream_examples() {
        let cases: &[(&[&str], &str)] = &[
            (
                &["/bin/rm", "two words", "a'b", "", "$HOME"],
                "/bin/rm 'two words' 'a'\\''b' '' '$HOME'",
            ),
            (&["git", "status"], "git status"),
            (&["a_@%+=:,./-Z9"], "a_@%+=:,./-Z9"),
            (&["it's"], "'it'\\''s'"),
            (&["ünï"], "'ünï'"),
        ];
        for (argv, want) in cases {
            let mut out = String::new();
            for (k, w) in argv.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                quote_word(w, &mut out);
            }
            assert_eq!(out, *want);
        }
    }
}
