//! Mentions: words a command prints, searches for or records, but never runs.
//!
//! The threat is the opposite of the usual one: a firewall that blocks work. A rule written to
//! find a dangerous command anywhere in a call (`command_contains: ["/dev/tcp/"]`,
//! `command_matches: ["*curl *| sh*"]`) also finds it in `grep -rn "bash -i >& /dev/tcp" tests/`,
//! in `git commit -m "stop recommending curl | sh"` and in `echo 'never run rm -rf /'`. Those
//! commands run grep, git and echo; the dangerous text is their data. An engineer who sees them
//! blocked switches the firewall off.
//!
//! So the restrictive stage also reads the command with its *mentions* masked: each data word is
//! replaced by `_` and the masked text gets readings of its own. The evaluator matches the
//! patterns that may match anywhere in a reading (command_contains, and command_matches that
//! start with `*`) against the masked readings, and the patterns anchored at a command's head
//! against the readings as they are: an anchored pattern already says which command it is about,
//! so `echo … >> ~/.bashrc` and `grep -r PRIVATE KEY /` are still seen whole.
//!
//! A word is data only where the command cannot run it: the words echo and printf print (unless
//! their output is piped on, possibly into a shell), the pattern of grep and its relatives, the
//! message of `git commit -m`, the string of `git log -S`, the body and title of `gh`, the value
//! of any `--grep`, the topic of man, help and their relatives, a PowerShell string expression
//! that starts a pipeline, and the code of an interpreter one-liner that only prints a string. A
//! word holding a substitution (`$(…)` or a backtick) is never data: the shell runs it, even
//! inside double quotes.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use crate::invariant::or_closed;

use super::normalize::command_head;
use super::split::{split, SplitDialect};
use super::tokenize::{
    byte_set, find_byte, find_where, redirection_len, tokenize, Dialect, Tokens,
};
use super::words::basename;

/// What masks a data word.
const MASK: &str = "_";

/// Working memory for [`Mentions::mask`].
#[derive(Debug, Default)]
pub(crate) struct Mentions {
    segs: Vec<Range<usize>>,
    toks: Tokens,
    /// Byte ranges of `src` to replace, in order.
    data: Vec<Range<usize>>,
}

/// Words that may name a command with mentions (ASCII case ignored), looked for where a word
/// starts: a text holding none of them, and no quote, is not tokenized at all.
const TRIGGERS: &[&str] = &[
    "echo",
    "printf",
    "grep",
    "egrep",
    "fgrep",
    "zgrep",
    "rg ",
    "ag ",
    "ack ",
    GIT,
    "gh ",
    "man ",
    "info ",
    "tldr ",
    "help",
    "whatis",
    "apropos",
    "findstr",
    "select-string",
    "sls ",
    "write-",
    "figlet",
    "banner",
    "say ",
    "notify-send",
    "cowsay",
    "print",
    "console.log",
    "puts ",
];

/// Whether `src` holds a quote, or a [`TRIGGERS`] word where a word starts (after a byte that is
/// not a letter, digit or `_`). One pass: a trigger is compared only at a word that starts with
/// its first letter, where looking for each trigger anywhere cost more than the rest of a plain
/// command's reading. A trigger missed here leaves the text unmasked, which is stricter. git
/// counts only where a subcommand whose words can be data may follow (see [`git_may_carry_data`]).
fn has_trigger(src: &str) -> bool {
    let mut rest = src.as_bytes();
    let mut word_start = true;
    while let Some((&c, tail)) = rest.split_first() {
        if c == b'\'' || c == b'"' {
            return true;
        }
        if word_start && c.is_ascii_alphabetic() && may_start_trigger(c) {
            let trigger = TRIGGERS.iter().find(|t| starts_with(rest, t));
            if trigger.is_some_and(|&t| t != GIT || git_may_carry_data(src)) {
                return true;
            }
        }
        word_start = !(c.is_ascii_alphanumeric() || c == b'_');
        rest = tail;
    }
    false
}

/// The [`TRIGGERS`] word of git, whose data words follow only the subcommands [`git_data`]
/// reads: most git commands an agent runs (`git status`, `git diff`, `git add -A`) carry none.
const GIT: &str = "git";

/// Whether `src`, which names git, may hold one of the subcommands [`git_data`] reads: a run
/// of letters, digits and `-` that is one of their names, or a backslash (an escape can spell a
/// name, `com\\mit`, that is not in the text). Quotes are triggers of their own.
fn git_may_carry_data(src: &str) -> bool {
    let b = src.as_bytes();
    b.contains(&b'\\')
        || b.split(|c| !(c.is_ascii_alphanumeric() || *c == b'-'))
            .any(|word| git_data_kind(word).is_some())
}

/// Whether some [`TRIGGERS`] word starts with the letter `c`, case ignored: most words start
/// with none, and are then not compared with each trigger.
fn may_start_trigger(c: u8) -> bool {
    let bit = c.to_ascii_lowercase().wrapping_sub(b'a');
    bit >= 26 || TRIGGER_FIRSTS & (1 << bit) != 0
}

/// Bit `k` set: some [`TRIGGERS`] word starts with the `k`-th letter, either case (every bit
/// for a word that starts with no letter, so that such a word is always compared).
#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
const TRIGGER_FIRSTS: u32 = {
    let mut bits = 0u32;
    let mut k = 0;
    while k < TRIGGERS.len() {
        let word = TRIGGERS[k].as_bytes();
        let first = if word.is_empty() {
            0
        } else {
            word[0].to_ascii_lowercase()
        };
        bits |= if first.is_ascii_lowercase() {
            1 << (first - b'a')
        } else {
            u32::MAX
        };
        k += 1;
    }
    bits
};

/// `text` starts with `word`, ASCII case ignored.
fn starts_with(text: &[u8], word: &str) -> bool {
    let word = word.as_bytes();
    word.first()
        .is_some_and(|f| text.first().is_some_and(|c| c.eq_ignore_ascii_case(f)))
        && text
            .get(..word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
}

impl Mentions {
    /// Writes `src` with its data words masked to `out`; false (and `out` untouched) when there
    /// is nothing to mask.
    pub(crate) fn mask(&mut self, src: &str, out: &mut String) -> bool {
        if !has_trigger(src) {
            return false;
        }
        self.data.clear();
        self.segs.clear();
        split(src, SplitDialect::Posix, &mut self.segs);
        let segs = core::mem::take(&mut self.segs);
        for seg in &segs {
            let piped = piped_on(src, seg.end);
            let text = or_closed(src.get(seg.clone()), src);
            if runs_something(text) {
                continue;
            }
            tokenize(text, Dialect::Posix, &mut self.toks);
            let before = self.data.len();
            data_words(&self.toks, text, piped, &mut self.data);
            for r in self.data.iter_mut().skip(before) {
                *r = r.start + seg.start..r.end + seg.start;
            }
        }
        self.segs = segs;
        if self.data.is_empty() {
            return false;
        }
        let mut at = 0;
        for r in &self.data {
            out.push_str(or_closed(src.get(at..r.start), src));
            out.push_str(MASK);
            at = r.end;
        }
        out.push_str(or_closed(src.get(at..), src));
        true
    }
}

/// Whether `text` holds a substitution (`$(…)`, a backtick, `<(…)`, `>(…)`) outside single
/// quotes: the shell runs it, even inside double quotes, and it may span several words, so
/// nothing in such a segment is masked. Inside single quotes it is text.
fn runs_something(text: &str) -> bool {
    let b = text.as_bytes();
    let mut k = 0;
    loop {
        // Bytes that quote, escape or open nothing are crossed eight at a time.
        k = find_where(b, k, |c| {
            or_closed(OPENS.get(usize::from(c)).copied(), true)
        });
        let Some(&c) = b.get(k) else {
            return false;
        };
        match c {
            b'\'' => k = find_byte(b, k + 1, b'\'') + 1,
            b'\\' => k += 2,
            b'`' => return true,
            _ if b.get(k + 1) == Some(&b'(') => return true,
            _ => k += 1,
        }
    }
}

/// The bytes [`runs_something`] stops at: quotes, escapes and what may open a substitution.
static OPENS: [bool; 256] = byte_set(b"'\\`$<>");

/// Whether the segment ending at `end` pipes its output on (`|` but not `||`).
fn piped_on(src: &str, end: usize) -> bool {
    let rest = or_closed(src.get(end..), src).trim_start_matches([' ', '\t']);
    rest.starts_with('|') && !rest.starts_with("||")
}

/// Pushes the raw ranges (in `text`) of the data words of one segment.
fn data_words(t: &Tokens, text: &str, piped: bool, out: &mut Vec<Range<usize>>) {
    if t.len() == 0 {
        return;
    }
    if let Some(r) = string_expression(t, text) {
        out.push(r);
        return;
    }
    let h = command_head(t, 0).index;
    if h >= t.len() {
        return;
    }
    let mut buf = [0u8; HEAD_MAX];
    let head = lower_case_head(basename(t.value(h)), &mut buf);
    let mut push = |k: usize| push_word(t, text, k, out);
    match head {
        "echo" | "printf" | "write-host" | "write-output" | "figlet" | "toilet" | "banner"
        | "say" | "notify-send" | "cowsay"
            if !piped =>
        {
            operands(t, text, h + 1, &mut push)
        }
        "grep" | "egrep" | "fgrep" | "zgrep" | "rg" | "ag" | "ack" => {
            grep_pattern(t, h + 1, &mut push)
        }
        "findstr" | "findstr.exe" => findstr_strings(t, h + 1, &mut push),
        "select-string" | "sls" => flag_values(t, h + 1, &["-pattern"], &mut push),
        "git" => git_data(t, h + 1, &mut push),
        "gh" | "glab" => flag_values(t, h + 1, &["--body", "-b", "--title", "-t"], &mut push),
        "man" | "info" | "tldr" | "help" | "whatis" | "apropos" | "get-help" | "get-command"
        | "which" | "whereis" => topics(t, h + 1, &mut push),
        "python" | "python3" | "node" | "ruby" | "perl" | "php" => print_only(t, h + 1, &mut push),
        _ => {}
    }
    grep_flag_values(t, h + 1, &mut push);
}

/// Bytes in the longest head [`data_words`] knows (`select-string`), and then some.
const HEAD_MAX: usize = 16;

/// `word` in ASCII lower case, written to `buf` (a head is looked at in every segment of
/// every command, so nothing is allocated for it); empty when `word` is longer than any head
/// [`data_words`] knows.
fn lower_case_head<'b>(word: &str, buf: &'b mut [u8; HEAD_MAX]) -> &'b str {
    let Some(lower) = buf.get_mut(..word.len()) else {
        return "";
    };
    lower.copy_from_slice(word.as_bytes());
    lower.make_ascii_lowercase();
    core::str::from_utf8(lower).unwrap_or("")
}

/// Pushes word `k` (a segment with a substitution was left out before: see `runs_something`).
fn push_word(t: &Tokens, text: &str, k: usize, out: &mut Vec<Range<usize>>) {
    if k >= t.len() {
        return;
    }
    let r = t.raw(k);
    if text.get(r.clone()).is_none_or(str::is_empty) {
        return;
    }
    if out.last().is_none_or(|last| last.end <= r.start) {
        out.push(r);
    }
}

/// A segment that is a PowerShell string expression (`'a b' | Out-File x`): a first word quoted
/// whole that holds a space. No program has a name with a space, so the shell could not run it.
fn string_expression(t: &Tokens, text: &str) -> Option<Range<usize>> {
    let r = t.raw(0);
    let raw = text.get(r.clone())?;
    let quoted = raw.len() >= 2
        && ((raw.starts_with('\'') && raw.ends_with('\''))
            || (raw.starts_with('"') && raw.ends_with('"')));
    (quoted && t.value(0).contains(' ')).then_some(r)
}

/// Every word from `from` on that is not a redirection or its target.
fn operands(t: &Tokens, text: &str, from: usize, push: &mut dyn FnMut(usize)) {
    let mut k = from;
    while k < t.len() {
        if t.is_comment(k) {
            break;
        }
        let raw = or_closed(text.get(t.raw(k)), text);
        let n = redirection_len(raw);
        if n > 0 {
            k += if n == raw.len() { 2 } else { 1 };
            continue;
        }
        push(k);
        k += 1;
    }
}

/// The topics of man, help and their relatives: operands that are neither an option nor an
/// option's value (`man -P 'sh -c x' ls`: the pager runs).
fn topics(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    for k in from..t.len() {
        let option = |j: usize| t.value(j).starts_with('-');
        if !option(k) && (k == from || !option(k - 1)) {
            push(k);
        }
    }
}

/// grep's pattern: the value of `-e`/`--regexp`, else its first operand.
fn grep_pattern(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    // Options whose value is the next word (grep and ripgrep); the value is not the pattern.
    const WITH_ARG: &[&str] = &[
        "-A",
        "-B",
        "-C",
        "-m",
        "-d",
        "-D",
        "-f",
        "-g",
        "-t",
        "-T",
        "-M",
        "-j",
        "--glob",
        "--type",
        "--type-not",
        "--max-count",
        "--max-depth",
        "--context",
        "--after-context",
        "--before-context",
        "--file",
        "--include",
        "--exclude",
        "--exclude-dir",
        "--color",
        "--colors",
        "--threads",
        "--sort",
        "--encoding",
        "--max-columns",
    ];
    let mut k = from;
    let mut explicit = false;
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            if !explicit {
                push(k + 1);
            }
            return;
        }
        if w == "-e" || w == "--regexp" {
            push(k + 1);
            explicit = true;
            k += 2;
            continue;
        }
        if w.starts_with('-') && w.len() > 1 {
            k += if WITH_ARG.contains(&w) { 2 } else { 1 };
            continue;
        }
        if !explicit {
            push(k);
        }
        return;
    }
}

/// findstr's search strings: `/C:string` and the first operand that is not a `/` flag.
fn findstr_strings(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    for k in from..t.len() {
        let w = t.value(k);
        if w.len() > 3 && w[..3].eq_ignore_ascii_case("/c:") {
            push(k);
        } else if !w.starts_with('/') {
            push(k);
            return;
        }
    }
}

/// The value of each flag in `names` (`--body X`, `--body=X`), ASCII case ignored.
fn flag_values(t: &Tokens, from: usize, names: &[&str], push: &mut dyn FnMut(usize)) {
    for k in from..t.len() {
        let w = t.value(k);
        if names.iter().any(|n| w.eq_ignore_ascii_case(n)) {
            push(k + 1);
        } else if names
            .iter()
            .any(|n| n.starts_with("--") && starts_with_flag(w, n))
        {
            push(k);
        }
    }
}

/// `w` is `flag=value` (`--grep=x`).
fn starts_with_flag(w: &str, flag: &str) -> bool {
    w.len() > flag.len() + 1
        && w.as_bytes().get(flag.len()) == Some(&b'=')
        && w[..flag.len()].eq_ignore_ascii_case(flag)
}

/// Test runners and git take a search string in `--grep`.
fn grep_flag_values(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    flag_values(t, from, &["--grep"], push);
}

/// git's messages and search strings.
fn git_data(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    // Skip git's own options (`-C dir`, `-c k=v`) to the subcommand.
    let mut k = from;
    while k < t.len() && t.value(k).starts_with('-') {
        k += if matches!(t.value(k), "-C" | "-c") {
            2
        } else {
            1
        };
    }
    match git_data_kind(t.value(k).as_bytes()) {
        Some(GitData::Message) => {
            for j in k + 1..t.len() {
                let w = t.value(j);
                // `-m MSG`, `-am MSG`, `--message MSG`: the value is the message.
                let short_m = w.starts_with('-') && !w.starts_with("--") && w.ends_with('m');
                if short_m || w == "--message" {
                    push(j + 1);
                } else if starts_with_flag(w, "--message") {
                    push(j);
                }
            }
        }
        Some(GitData::Search) => {
            for j in k + 1..t.len() {
                let w = t.value(j);
                if matches!(w, "-S" | "-G") {
                    push(j + 1);
                } else if w.len() > 2 && (w.starts_with("-S") || w.starts_with("-G")) {
                    push(j);
                }
            }
        }
        Some(GitData::Grep) => grep_pattern(t, k + 1, push),
        None => {}
    }
}

/// What a git subcommand's data words are.
enum GitData {
    /// The `-m`/`--message` value.
    Message,
    /// The `-S`/`-G` value.
    Search,
    /// The pattern.
    Grep,
}

/// The data words of git subcommand `sub`, if it has any.
fn git_data_kind(sub: &[u8]) -> Option<GitData> {
    match sub {
        b"commit" | b"tag" | b"stash" | b"notes" | b"merge" | b"revert" | b"am"
        | b"cherry-pick" => Some(GitData::Message),
        b"log" | b"show" | b"whatchanged" | b"rev-list" | b"shortlog" | b"reflog" => {
            Some(GitData::Search)
        }
        b"grep" => Some(GitData::Grep),
        _ => None,
    }
}

/// An interpreter one-liner whose code only prints a string literal (`python3 -c 'print("x")'`,
/// `node -e 'console.log("x")'`): its code is data.
fn print_only(t: &Tokens, from: usize, push: &mut dyn FnMut(usize)) {
    let code_flags = ["-c", "-e", "-E", "-p", "--eval", "--print", "-r"];
    let Some(k) = (from..t.len()).find(|&k| code_flags.contains(&t.value(k))) else {
        return;
    };
    if k + 1 < t.len() && prints_a_literal(t.value(k + 1)) {
        push(k + 1);
    }
}

/// `print("…")`, `print '…'`, `console.log('…')`, `puts "…"`, `echo "…"`, and a trailing `;`.
fn prints_a_literal(code: &str) -> bool {
    let code = code.trim().trim_end_matches(';').trim_end();
    let Some(rest) = ["console.log", "print", "puts", "echo"]
        .iter()
        .find_map(|f| code.strip_prefix(f))
    else {
        return false;
    };
    let rest = rest.trim_start();
    let inner = match rest.strip_prefix('(') {
        Some(r) => match r.trim_end().strip_suffix(')') {
            Some(x) => x.trim(),
            None => return false,
        },
        None => rest,
    };
    is_plain_literal(inner)
}

/// One quoted string with no escape, no interpolation and nothing after it.
fn is_plain_literal(s: &str) -> bool {
    let Some(q) = s.chars().next().filter(|c| *c == '"' || *c == '\'') else {
        return false;
    };
    let body = &s[1..];
    let Some(end) = body.find(q) else {
        return false;
    };
    end + 1 == body.len() && !body[..end].contains(['\\', '$', '`', '{', '#'])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `runs_something` as it was written byte by byte, before its scan crossed bytes by table,
    /// and `has_trigger` without its first-letter filter (and without its git refinement: no text
    /// below names git without a subcommand that carries data).
    fn runs_something_bytewise(text: &str) -> bool {
        let b = text.as_bytes();
        let mut single = false;
        let mut k = 0;
        while let Some(&c) = b.get(k) {
            if single {
                single = c != b'\'';
            } else if c == b'\\' {
                k += 1;
            } else if c == b'\'' {
                single = true;
            } else if c == b'`' || (b"$<>".contains(&c) && b.get(k + 1) == Some(&b'(')) {
                return true;
            }
            k += 1;
        }
        false
    }

    fn has_trigger_bytewise(src: &str) -> bool {
        let mut rest = src.as_bytes();
        let mut word_start = true;
        while let Some((&c, tail)) = rest.split_first() {
            if c == b'\'' || c == b'"' {
                return true;
            }
            if word_start
                && c.is_ascii_alphabetic()
                && TRIGGERS.iter().any(|t| starts_with(rest, t))
            {
                return true;
            }
            word_start = !(c.is_ascii_alphanumeric() || c == b'_');
            rest = tail;
        }
        false
    }

    #[test]
    fn git_is_a_trigger_only_where_a_subcommand_with_data_may_be() {
        for src in [
            "git status",
            "git diff --stat",
            "git add -A && git push",
            "GIT status",
        ] {
            assert!(!has_trigger(src), "{src:?}");
        }
        let carrying = [
            "git commit -m x",
            "git -C repo commit -am x",
            "git com\\mit -m x",
            "git log -S needle",
            "git tag -m v1 v1",
            "git cherry-pick -m 1 abc",
            "git status; git grep -e x",
            "git stash push -m wip",
        ];
        for src in carrying {
            assert!(has_trigger(src), "{src:?}");
            assert!(masked(src).is_some(), "{src:?}");
        }
    }

    #[test]
    fn the_table_scans_read_as_the_bytewise_ones() {
        let texts = [
            "",
            "'",
            "\\",
            "\\'",
            "x\\$(y)",
            "'$(x)'",
            "'$(x)' $(y)",
            "'unclosed $(x)",
            "echo `date`",
            "a $b <c >d",
            "a <(b)",
            "a >(b)",
            "a $((1+2))",
            "12345678$(",
            "1234567$(",
            "\\\\$(x)",
            "é$(x)",
            "grep x",
            "xgrep x",
            "_grep",
            "9grep",
            "a-grep",
            "GREP x",
            "echo hi",
            "printf x",
            "ls -la /tmp && cd src",
            "git commit -m x",
            "x \"y\"",
            "man ls",
            "élan grep",
            "ls | sort | head -5",
            "make test 2>&1 | tail",
        ];
        for t in texts {
            assert_eq!(runs_something(t), runs_something_bytewise(t), "{t:?}");
            assert_eq!(has_trigger(t), has_trigger_bytewise(t), "{t:?}");
        }
    }

    fn masked(src: &str) -> Option<String> {
        let mut m = Mentions::default();
        let mut out = String::new();
        m.mask(src, &mut out).then_some(out)
    }

    #[test]
    fn triggers_are_found_where_words_start() {
        for src in [
            "egrep -n x src/",
            "/usr/bin/ECHO hi",
            "Get-Help about",
            "ls 'a b'",
            "python3 -c \"print(1)\"",
            "a;git log",
        ] {
            assert!(has_trigger(src), "{src}");
        }
        for src in [
            "cargo build --release",
            "ls -la src",
            "pgrep -f server",
            "legit x",
        ] {
            assert!(!has_trigger(src), "{src}");
        }
    }

    #[test]
    fn data_words_are_masked() {
        let cases: &[(&str, Option<&str>)] = &[
            (
                "grep -n \"/etc/shadow\" docs/x.md",
                Some("grep -n _ docs/x.md"),
            ),
            ("grep -rn -e 'nc -e' src/", Some("grep -rn -e _ src/")),
            ("rg -F 'nc -e /bin/sh' docs/", Some("rg -F _ docs/")),
            ("grep -r -- --upload-file .", Some("grep -r -- _ .")),
            ("echo 'curl x | sh'", Some("echo _")),
            (
                "echo \"bash -i >& /dev/tcp/x\" > f.txt",
                Some("echo _ > f.txt"),
            ),
            ("git commit -m \"curl | sh\"", Some("git commit -m _")),
            ("git commit -am 'x y'", Some("git commit -am _")),
            (
                "git log -S \"curl | sh\" --oneline",
                Some("git log -S _ --oneline"),
            ),
            (
                "gh issue comment 3 --body 'cat ~/.aws/credentials'",
                Some("gh issue comment 3 --body _"),
            ),
            (
                "npm test -- --grep \"blocks curl | sh\"",
                Some("npm test -- --grep _"),
            ),
            ("Get-Help Clear-EventLog -Full", Some("Get-Help _ -Full")),
            ("man -P 'sh -c x' ls", Some("man -P 'sh -c x' _")),
            (
                "'wevtutil cl Security' | Out-File x.txt",
                Some("_ | Out-File x.txt"),
            ),
            ("node -e 'console.log(\"eval(x)\")'", Some("node -e _")),
            (
                "findstr /n \"vssadmin\" docs\\x.md",
                Some("findstr /n _ docs\\x.md"),
            ),
            ("git status", None),
            ("cargo test", None),
            ("echo 'rm -rf ~' | sh", None),
            ("echo \"$(rm -rf ~)\"", None),
            ("echo $(rm -rf ~)", None),
            ("echo '$(rm -rf ~)'", Some("echo _")),
            (
                "gh pr comment 1 --body 'ran `cat x`'",
                Some("gh pr comment 1 --body _"),
            ),
            ("echo 'a' \"$(id)\" 'b'", None),
            (
                "node -e 'require(\"child_process\").execSync(\"id\")'",
                None,
            ),
            (
                "python3 -c 'print(f\"{__import__(\\\"os\\\").system(1)}\")'",
                None,
            ),
        ];
        for (src, want) in cases {
            assert_eq!(masked(src).as_deref(), *want, "{src:?}");
        }
    }

    #[test]
    fn a_piped_echo_is_code_and_a_later_segment_is_still_read() {
        assert_eq!(
            masked("echo hi && echo 'x | sh' | bash").as_deref(),
            Some("echo _ && echo 'x | sh' | bash")
        );
    }
}
