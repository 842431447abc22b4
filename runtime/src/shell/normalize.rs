//! Upstream's `NormalizeCommand`: what a segment runs, once the packaging is taken off.
//!
//! `FOO=1 env -i nohup bash -lc "timeout 5 rm -rf /"` runs `rm -rf /`. Patterns are written
//! against the command, not against its launchers, so every segment is tokenized and then, until
//! nothing changes:
//!
//! * leading `NAME=value` assignments are dropped;
//! * transparent launchers are dropped, but only when their options parse cleanly (a launcher
//!   option we do not understand could change what runs, so we leave the segment as it is);
//! * shell wrappers are unwrapped: `sh -c PAYLOAD` (any POSIX shell, any path, any flag cluster
//!   containing `c`), `cmd /c|/k PAYLOAD` and `powershell|pwsh -Command PAYLOAD`. A payload that
//!   is a single word is re-tokenized, in the dialect its own head word picks, so nested wrappers
//!   unwrap too.
//!
//! Then leading redirections go, and the words are joined with single spaces. The segments of a
//! command are joined with ` && `. The loop is bounded: a segment that still unwraps after
//! [`MAX_UNWRAP`] rounds is reported so that the caller can fail closed.
//!
//! `sudo`, `xargs` and friends are not launchers here: an allow rule for `git *` must not cover
//! `sudo git push`. The restrictive stage sees through them separately.

use alloc::string::String;
use alloc::vec::Vec;
use core::ops::Range;

use super::heads::{classify, Head, HeadWord, Launcher};
use super::quote_word;
use super::set::Memo;
use super::split::{split, SplitDialect};
use super::tokenize::{redirection_len, tokenize, Dialect, Tokens};
use super::words::{head_word, is_assignment};
use crate::invariant::checked;

/// Rounds of launcher/wrapper stripping before a segment counts as too deep.
pub(crate) const MAX_UNWRAP: usize = 64;

/// The dialect a segment is tokenized in, picked by its head word.
pub(crate) fn dialect_of(segment: &str, default: Dialect) -> Dialect {
    match classify(head_word(segment)) {
        Some(Head::Cmd) => Dialect::Cmd,
        Some(Head::PowerShell) => Dialect::PowerShell,
        Some(Head::PosixShell) => Dialect::Posix,
        _ => default,
    }
}

/// What a launcher at the head of a word list does.
pub(crate) enum Launch {
    /// The command starts at this word.
    Next(usize),
    /// `env -S STRING rest…`: the command is STRING re-tokenized, followed by the words from `rest`.
    SplitString { text: String, rest: usize },
}

/// What a shell wrapper at the head of a word list runs.
pub(crate) enum Wrap {
    /// The payload is the words from this index on (`cmd /c del /f x`).
    Words(usize),
    /// The payload is this text, to be re-tokenized in this dialect (`bash -c 'rm -rf /'`).
    Text(String, Dialect),
}

/// Reusable buffers for normalizing.
#[derive(Debug, Default)]
pub(crate) struct Normalizer {
    toks: Tokens,
    payload: String,
    segs: Vec<Range<usize>>,
    /// Segments normalized recently, with their normalized forms. The readings of one command
    /// share most of their segments (the raw segments, the components, the normalized command
    /// are all read again), and normalizing a segment means tokenizing it; the result depends
    /// on the text alone.
    memo: Memo,
    /// A segment was still unwrapping after [`MAX_UNWRAP`] rounds.
    pub(crate) overflow: bool,
}

impl Normalizer {
    /// Appends the normalized form of `cmd` (its segments normalized, joined with ` && `) to `out`.
    pub(crate) fn command(&mut self, cmd: &str, out: &mut String) {
        let mut segs = core::mem::take(&mut self.segs);
        segs.clear();
        split(cmd, SplitDialect::Posix, &mut segs);
        for (k, seg) in segs.iter().enumerate() {
            if k > 0 {
                out.push_str(" && ");
            }
            let Some(seg) = checked(cmd.get(seg.clone())) else {
                self.overflow = true;
                continue;
            };
            self.segment(seg, out);
        }
        self.segs = segs;
    }

    /// The POSIX segments of the text [`Normalizer::command`] read last.
    pub(crate) fn segments(&self) -> &[Range<usize>] {
        &self.segs
    }

    /// Appends the normalized form of one segment to `out`.
    pub(crate) fn segment(&mut self, seg: &str, out: &mut String) {
        if let Some(done) = self.memo.get(seg) {
            out.push_str(done);
            return;
        }
        let start = out.len();
        let dialect = dialect_of(seg, Dialect::Posix);
        tokenize(seg, dialect, &mut self.toks);
        self.unwrap_and_join(seg, out);
        // Only a segment that normalized completely is remembered, so a hit never hides an
        // overflow.
        if !self.overflow {
            if let Some(done) = checked(out.get(start..)) {
                self.memo.put(seg, done);
            }
        }
    }

    /// Normalizes words that are already split (argv). Returns the payload of a shell wrapper
    /// instead when there is one: argv words are exact, but a payload is shell text.
    pub(crate) fn words(&mut self, words: &Tokens, out: &mut String) -> Option<String> {
        self.toks.clone_from(words);
        let mut i = 0;
        for _ in 0..MAX_UNWRAP {
            let head = HeadWord::at(&self.toks, skip_assignments(&self.toks, i));
            i = head.index;
            match launcher(&self.toks, head, &mut |_| {}) {
                Some(Launch::Next(j)) => i = j,
                Some(Launch::SplitString { text, rest }) => {
                    return Some(split_string_text(text, &self.toks, rest))
                }
                None => match wrapper(&self.toks, head) {
                    Some(Wrap::Words(j)) => i = j,
                    Some(Wrap::Text(payload, _)) => return Some(payload),
                    None => {
                        self.toks.join_from(i, out);
                        return None;
                    }
                },
            }
        }
        self.overflow = true;
        self.toks.join_from(i, out);
        None
    }

    fn unwrap_and_join(&mut self, seg: &str, out: &mut String) {
        let mut owned = false;
        let mut i = 0;
        let mut rounds = 0;
        loop {
            rounds += 1;
            if rounds > MAX_UNWRAP {
                self.overflow = true;
                break;
            }
            let head = HeadWord::at(&self.toks, skip_assignments(&self.toks, i));
            i = head.index;
            let reparse = match launcher(&self.toks, head, &mut |_| {}) {
                Some(Launch::Next(j)) => {
                    i = j;
                    continue;
                }
                Some(Launch::SplitString { text, rest }) => {
                    (split_string_text(text, &self.toks, rest), Dialect::Posix)
                }
                None => match wrapper(&self.toks, head) {
                    Some(Wrap::Words(j)) => {
                        i = j;
                        continue;
                    }
                    Some(Wrap::Text(payload, d)) => (payload, d),
                    None => break,
                },
            };
            self.payload = reparse.0;
            owned = true;
            let d = dialect_of(&self.payload, reparse.1);
            tokenize(&self.payload, d, &mut self.toks);
            i = 0;
        }
        let src = if owned { self.payload.as_str() } else { seg };
        i = skip_redirections(src, &self.toks, i);
        self.toks.join_from(i, out);
    }
}

/// `env -S 'a b' c d` -> `a b 'c' 'd'`: the split string, then the remaining words quoted so that
/// re-tokenizing gives them back unchanged.
pub(crate) fn split_string_text(mut text: String, toks: &Tokens, rest: usize) -> String {
    for k in rest..toks.len() {
        text.push(' ');
        quote_word(toks.value(k), &mut text);
    }
    text
}

/// The first word at or after `i` that is not a `NAME=value` assignment, as long as some word
/// follows the assignments (a lone `FOO=bar` is kept: it is what the segment does).
pub(crate) fn skip_assignments(t: &Tokens, i: usize) -> usize {
    let j = (i..t.len())
        .find(|&k| !is_assignment(t.value(k)))
        .unwrap_or(t.len());
    if j < t.len() {
        j
    } else {
        i
    }
}

/// Skips leading redirections (`> f`, `2>f`, `2>&1`), judged on the raw words in `src`.
pub(crate) fn skip_redirections(src: &str, t: &Tokens, mut i: usize) -> usize {
    while i < t.len() {
        let raw = t.raw_text(src, i);
        let n = redirection_len(raw);
        if n == 0 {
            break;
        }
        i += if n == raw.len() { 2 } else { 1 };
    }
    i.min(t.len())
}

/// The head of the command once assignments and transparent launchers are skipped (but not
/// wrappers, and not `env -S`, whose string needs re-tokenizing).
pub(crate) fn command_head(t: &Tokens, mut i: usize) -> HeadWord {
    for _ in 0..MAX_UNWRAP {
        let head = HeadWord::at(t, skip_assignments(t, i));
        match launcher(t, head, &mut |_| {}) {
            Some(Launch::Next(j)) => i = j,
            _ => return head,
        }
    }
    HeadWord::at(t, i)
}

/// A transparent launcher at `head`. `on_assign` sees every `NAME=value` that `env` sets.
pub(crate) fn launcher(
    t: &Tokens,
    head: HeadWord,
    on_assign: &mut dyn FnMut(&str),
) -> Option<Launch> {
    let Some(Head::Launcher(launcher)) = head.class else {
        return None;
    };
    let i = head.index;
    let j = match launcher {
        Launcher::Command => command_opts(t, i + 1)?,
        Launcher::Exec => exec_opts(t, i + 1)?,
        Launcher::Env => return env_opts(t, i + 1, on_assign),
        Launcher::Nohup => skip_dashdash(t, i + 1),
        Launcher::Nice => nice_opts(t, i + 1),
        Launcher::Timeout => timeout_opts(t, i + 1)?,
        Launcher::Setsid => flag_opts(t, i + 1, "cfw", &["--ctty", "--fork", "--wait"])?,
        Launcher::Stdbuf => stdbuf_opts(t, i + 1)?,
    };
    (j < t.len()).then_some(Launch::Next(j))
}

fn skip_dashdash(t: &Tokens, j: usize) -> usize {
    if t.value(j) == "--" {
        j + 1
    } else {
        j
    }
}

fn is_option(w: &str) -> bool {
    w.len() > 1 && w.starts_with('-')
}

fn command_opts(t: &Tokens, mut j: usize) -> Option<usize> {
    while t.value(j) == "-p" {
        j += 1;
    }
    let j = skip_dashdash(t, j);
    (!is_option(t.value(j))).then_some(j)
}

fn exec_opts(t: &Tokens, mut j: usize) -> Option<usize> {
    loop {
        match t.value(j) {
            "-c" | "-l" | "-cl" | "-lc" => j += 1,
            "-a" => j += 2,
            "--" => return Some(j + 1),
            w if is_option(w) => return None,
            _ => return Some(j),
        }
    }
}

/// Options made only of the letters in `short` (clustered or not) and the `long` flags.
fn flag_opts(t: &Tokens, mut j: usize, short: &str, long: &[&str]) -> Option<usize> {
    loop {
        let w = t.value(j);
        if w == "--" {
            return Some(j + 1);
        }
        if !is_option(w) {
            return Some(j);
        }
        let ok = long.contains(&w)
            || (!w.starts_with("--") && w[1..].chars().all(|c| short.contains(c)));
        if !ok {
            return None;
        }
        j += 1;
    }
}

fn env_opts(t: &Tokens, mut j: usize, on_assign: &mut dyn FnMut(&str)) -> Option<Launch> {
    loop {
        let w = t.value(j);
        if j >= t.len() {
            return None;
        }
        if is_assignment(w) {
            on_assign(w);
            j += 1;
            continue;
        }
        match w {
            "--" => j += 1,
            "-" | "-i" | "-0" | "-v" | "--ignore-environment" | "--null" | "--debug" => {
                j += 1;
                continue;
            }
            "-u" | "-C" | "--unset" | "--chdir" | "--argv0" | "-a" => {
                j += 2;
                continue;
            }
            "-S" | "--split-string" => {
                return (j + 1 < t.len()).then(|| Launch::SplitString {
                    text: t.value(j + 1).into(),
                    rest: j + 2,
                })
            }
            _ => {
                if let Some(s) = w
                    .strip_prefix("--split-string=")
                    .or_else(|| w.strip_prefix("-S"))
                {
                    return Some(Launch::SplitString {
                        text: s.into(),
                        rest: j + 1,
                    });
                }
                let attached = ["--unset=", "--chdir=", "--argv0=", "-u", "-C"];
                if attached.iter().any(|p| w.starts_with(p)) {
                    j += 1;
                    continue;
                }
                if is_option(w) && !w.starts_with("--") && w[1..].chars().all(|c| "i0v".contains(c))
                {
                    j += 1;
                    continue;
                }
                if is_option(w) {
                    return None;
                }
            }
        }
        return (j < t.len()).then_some(Launch::Next(j));
    }
}

fn nice_opts(t: &Tokens, mut j: usize) -> usize {
    loop {
        let w = t.value(j);
        let numeric = |s: &str| {
            !s.is_empty()
                && s.trim_start_matches(['-', '+'])
                    .bytes()
                    .all(|c| c.is_ascii_digit())
        };
        j += match w {
            "-n" | "--adjustment" => 2,
            "--" => return j + 1,
            _ if w.starts_with("--adjustment=") => 1,
            _ if w.strip_prefix("-n").is_some_and(numeric) => 1,
            _ if w
                .strip_prefix('-')
                .is_some_and(|n| n.bytes().all(|c| c.is_ascii_digit()) && !n.is_empty()) =>
            {
                1
            }
            _ => return j,
        };
    }
}

fn timeout_opts(t: &Tokens, mut j: usize) -> Option<usize> {
    loop {
        let w = t.value(j);
        j += match w {
            "--preserve-status" | "--foreground" | "-v" | "--verbose" => 1,
            "-k" | "-s" | "--kill-after" | "--signal" => 2,
            "--" => return Some(j + 2),
            _ if w.starts_with("--kill-after=") || w.starts_with("--signal=") => 1,
            _ if w.len() > 2 && (w.starts_with("-k") || w.starts_with("-s")) => 1,
            _ if is_option(w) => return None,
            // The first operand is the duration; the command follows it.
            _ => return Some(j + 1),
        };
    }
}

fn stdbuf_opts(t: &Tokens, mut j: usize) -> Option<usize> {
    loop {
        let w = t.value(j);
        j += match w {
            "-i" | "-o" | "-e" | "--input" | "--output" | "--error" => 2,
            "--" => return Some(j + 1),
            _ if ["--input=", "--output=", "--error="]
                .iter()
                .any(|p| w.starts_with(p)) =>
            {
                1
            }
            _ if w.len() > 2 && ["-i", "-o", "-e"].iter().any(|p| w.starts_with(p)) => 1,
            _ if is_option(w) => return None,
            _ => return Some(j),
        };
    }
}

/// A shell wrapper at `head`: a POSIX shell with a `c` flag, `cmd /c|/k`, or
/// `powershell|pwsh -Command`.
pub(crate) fn wrapper(t: &Tokens, head: HeadWord) -> Option<Wrap> {
    let i = head.index;
    match head.class {
        Some(Head::PosixShell) => posix_wrapper(t, i + 1),
        Some(Head::Cmd) => cmd_wrapper(t, i + 1),
        Some(Head::PowerShell) => powershell_wrapper(t, i + 1),
        _ => None,
    }
}

fn posix_wrapper(t: &Tokens, mut j: usize) -> Option<Wrap> {
    let mut has_c = false;
    while j < t.len() {
        let w = t.value(j);
        if w == "--" || w == "-" {
            j += 1;
            break;
        }
        if let Some(long) = w.strip_prefix("--") {
            j += if matches!(long, "rcfile" | "init-file") {
                2
            } else {
                1
            };
            continue;
        }
        if w.len() > 1 && (w.starts_with('-') || w.starts_with('+')) {
            let flags = &w[1..];
            has_c |= w.starts_with('-') && flags.contains('c');
            // `-o pipefail`, `+O extglob`: the option name is the next word.
            j += if flags.contains(['o', 'O']) { 2 } else { 1 };
            continue;
        }
        break;
    }
    (has_c && j < t.len()).then(|| Wrap::Text(t.value(j).into(), Dialect::Posix))
}

fn cmd_wrapper(t: &Tokens, mut j: usize) -> Option<Wrap> {
    while j < t.len() {
        let w = t.value(j);
        let flag = w.strip_prefix('/')?;
        let is_run = flag
            .get(..1)
            .is_some_and(|f| f.eq_ignore_ascii_case("c") || f.eq_ignore_ascii_case("k"));
        if is_run {
            let attached = &flag[1..];
            if attached.is_empty() {
                return payload_words(t, j + 1, Dialect::Cmd);
            }
            // `/cdir x`: the payload starts inside this word.
            let mut text = String::from(attached);
            for k in j + 1..t.len() {
                text.push(' ');
                text.push_str(t.value(k));
            }
            return Some(Wrap::Text(text, Dialect::Cmd));
        }
        j += 1;
    }
    None
}

fn powershell_wrapper(t: &Tokens, mut j: usize) -> Option<Wrap> {
    const WITH_VALUE: &[&str] = &[
        "executionpolicy",
        "ep",
        "ex",
        "exec",
        "windowstyle",
        "w",
        "win",
        "version",
        "v",
        "outputformat",
        "of",
        "o",
        "inputformat",
        "if",
        "i",
        "configurationname",
        "config",
        "workingdirectory",
        "wd",
        "psconsolefile",
        "settingsfile",
        "custompipename",
    ];
    while j < t.len() {
        let w = t.value(j);
        let name = w.strip_prefix('-').or_else(|| w.strip_prefix('/'))?;
        let lower_is = |s: &str| name.eq_ignore_ascii_case(s);
        let is_command = !name.is_empty()
            && name.len() <= "command".len()
            && "command"
                .get(..name.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(name));
        if is_command {
            return payload_words(t, j + 1, Dialect::PowerShell);
        }
        if ["file", "f", "encodedcommand", "enc", "e", "ec"]
            .iter()
            .any(|s| lower_is(s))
        {
            return None;
        }
        j += if WITH_VALUE.iter().any(|s| lower_is(s)) {
            2
        } else {
            1
        };
    }
    None
}

/// The payload from word `j` on: one word is text to re-tokenize, several are words already.
fn payload_words(t: &Tokens, j: usize, dialect: Dialect) -> Option<Wrap> {
    match t.len().checked_sub(j)? {
        0 => None,
        1 => Some(Wrap::Text(t.value(j).into(), dialect)),
        _ => Some(Wrap::Words(j)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(cmd: &str) -> String {
        let mut n = Normalizer::default();
        let mut out = String::new();
        n.command(cmd, &mut out);
        assert!(!n.overflow, "{cmd:?}");
        out
    }

    #[test]
    fn upstream_examples() {
        for cmd in [
            "'r'm -rf /",
            "r\\m -r\\f /",
            "\"rm\" -rf /",
            "FOO=bar rm -rf /",
            "env -i FOO=1 rm -rf /",
            "command rm -rf /",
            "exec rm -rf /",
            "nohup rm -rf / &",
            "timeout 5 rm -rf /",
            "bash -c 'rm -rf /'",
            "bash -lc \"FOO=1 sh -c 'rm -rf /'\"",
            "rm  -rf   /",
        ] {
            assert_eq!(norm(cmd), "rm -rf /", "{cmd:?}");
        }
        assert_eq!(norm("cmd /c del /f x"), "del /f x");
        assert_eq!(norm("powershell -Command Remove-Item x"), "Remove-Item x");
    }

    #[test]
    fn launcher_grammars() {
        let cases: &[(&str, &str)] = &[
            ("command -p -- ls", "ls"),
            ("command -v ls", "command -v ls"),
            ("exec -a x -cl ls", "ls"),
            ("exec -z ls", "exec -z ls"),
            (
                "env -u HOME -uPATH --unset=X -C /tmp -C/x --chdir=/ --argv0 y -0 -v -- ls",
                "ls",
            ),
            ("env -S 'rm -rf /' extra", "rm -rf / extra"),
            ("env --split-string='rm -rf' /", "rm -rf /"),
            ("env --bogus ls", "env --bogus ls"),
            ("env", "env"),
            ("nice -n 5 ls", "ls"),
            ("nice -10 ls", "ls"),
            ("nice --adjustment=3 -- ls", "ls"),
            ("timeout --preserve-status -k 5 -s KILL 10 ls", "ls"),
            ("timeout -sKILL 1m ls", "ls"),
            ("setsid -fw --ctty ls", "ls"),
            ("setsid -x ls", "setsid -x ls"),
            ("stdbuf -oL -e 0 --input=L ls", "ls"),
            ("nohup", "nohup"),
            ("FOO=bar", "FOO=bar"),
            (
                "FOO=1 BAR=2 env BAZ=3 nohup nice command exec ls -l",
                "ls -l",
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(norm(cmd), *want, "{cmd:?}");
        }
    }

    #[test]
    fn wrappers() {
        let cases: &[(&str, &str)] = &[
            ("/bin/bash -c 'rm -rf /'", "rm -rf /"),
            ("sh -ic 'ls'", "ls"),
            ("zsh -x -c 'ls' argv0", "ls"),
            ("bash -o pipefail -c 'ls | wc'", "ls | wc"),
            ("bash script.sh", "bash script.sh"),
            ("bash -c 'a && b'", "a && b"),
            ("cmd /c \"del /f x\"", "del /f x"),
            ("cmd.exe /s /c d^el x", "del x"),
            ("CMD /K dir", "dir"),
            ("cmd /cdir x", "dir x"),
            (
                "pwsh -NoProfile -ExecutionPolicy Bypass -c \"Remove-Item x\"",
                "Remove-Item x",
            ),
            (
                "powershell.exe -command \"R`emove-Item x\"",
                "Remove-Item x",
            ),
            ("powershell -File x.ps1", "powershell -File x.ps1"),
            ("sh -c \"cmd /c 'rm -rf /'\"", "'rm -rf /'"),
            ("cmd /c \"bash -c 'rm -rf /'\"", "rm -rf /"),
        ];
        for (cmd, want) in cases {
            assert_eq!(norm(cmd), *want, "{cmd:?}");
        }
    }

    #[test]
    fn redirections_and_segments() {
        let cases: &[(&str, &str)] = &[
            ("> out ls", "ls"),
            ("2>/dev/null ls", "ls"),
            ("ls > out", "ls > out"),
            (
                "git status && FOO=1 cargo test 2>&1 | tail -n 20",
                "git status && cargo test 2>&1 && tail -n 20",
            ),
            ("echo 'a && b'", "echo a && b"),
        ];
        for (cmd, want) in cases {
            assert_eq!(norm(cmd), *want, "{cmd:?}");
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut cmd = String::from("ls");
        for _ in 0..(MAX_UNWRAP + 4) {
            cmd = alloc::format!("env {cmd}");
        }
        let mut n = Normalizer::default();
        let mut out = String::new();
        n.command(&cmd, &mut out);
        assert!(n.overflow);
    }
}
