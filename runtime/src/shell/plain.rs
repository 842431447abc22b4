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
use super::tokenize::redirection_len;
use super::words::{basename, is_cmd, is_powershell};

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
fn is_special_name(base: &str) -> bool {
    matches!(
        base,
        // Launchers (normalize).
        "command" | "exec" | "env" | "nohup" | "nice" | "timeout" | "setsid" | "stdbuf"
        // POSIX shells (wrappers, here-strings).
        | "sh" | "bash" | "zsh" | "dash" | "ash" | "ksh"
        // Applets, see-through wrappers and the rm/find aliases.
        | "busybox" | "toybox" | "sudo" | "doas" | "su" | "xargs" | "find" | "rm"
        // Substitutions.
        | "eval"
        // Bodies.
        | "if" | "elif" | "while" | "until" | "then" | "do" | "else" | "case"
        // Environment assignments.
        | "export" | "declare" | "typeset" | "local" | "readonly"
    )
}

fn is_special(head: &str) -> bool {
    let base = basename(head);
    // The longest special name is `powershell.exe`.
    if base.len() > "powershell.exe".len() {
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
    /// The text last read, and whether it was plain (the empty text is not).
    text: String,
    plain: bool,
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
        if !plain_bytes(c.as_bytes()) {
            return false;
        }
        let b = c.as_bytes();
        let last_start = b
            .iter()
            .rposition(|&x| x == b' ' || x == b'\n')
            .map_or(0, |i| i + 1);
        if matches!(c.get(last_start..), Some("fi" | "done" | "esac")) {
            return false;
        }
        split(c, SplitDialect::Posix, &mut self.segs);
        if self.segs.len() > MAX_SEGMENTS {
            return false;
        }
        // A lone segment whose head has a directory has an alternate reading (`/bin/ls` -> `ls`).
        if self.segs.len() == 1 && first_word(c).contains('/') {
            return false;
        }
        for k in 0..self.segs.len() {
            let seg = c.get(self.segs[k].clone()).unwrap_or("");
            let head = first_word(seg);
            if head.contains('=') || redirection_len(head) > 0 || is_special(head) {
                return false;
            }
            self.push_normalized(seg);
        }
        true
    }

    pub(crate) fn segments(&self) -> usize {
        self.segs.len()
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

    /// Appends a segment with its runs of spaces collapsed (it is trimmed, and plain: its words
    /// are separated by spaces only).
    fn push_normalized(&mut self, seg: &str) {
        if !self.normalized.is_empty() {
            self.normalized.push_str(" && ");
        }
        let start = self.normalized.len();
        if seg.as_bytes().windows(2).any(|w| w == b"  ") {
            for (k, w) in seg.split(' ').filter(|w| !w.is_empty()).enumerate() {
                if k > 0 {
                    self.normalized.push(' ');
                }
                self.normalized.push_str(w);
            }
        } else {
            self.normalized.push_str(seg);
        }
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

/// Only word and separator bytes, no `&>`, and a word byte first.
fn plain_bytes(b: &[u8]) -> bool {
    if b.first().is_none_or(|&f| CLASS[usize::from(f)] != WORD) {
        return false;
    }
    let mut prev = 0u8;
    for &c in b {
        if CLASS[usize::from(c)] == 0 || (prev == b'&' && c == b'>') {
            return false;
        }
        prev = c;
    }
    true
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

    fn assert_same(cmd: &str) {
        let (fast, full) = both_paths(cmd);
        assert_eq!(fast, full, "{cmd:?}");
        let argv: Vec<&str> = cmd.split(' ').collect();
        let mut fast = CommandReadings::default();
        read_argv_with(&argv, &mut fast, &mut Scratch::default());
        let mut full = CommandReadings::default();
        let mut sc = Scratch {
            full: true,
            ..Scratch::default()
        };
        read_argv_with(&argv, &mut full, &mut sc);
        assert_eq!(fast, full, "{argv:?}");
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
        ] {
            assert!(Plain::default().read(cmd), "{cmd:?}");
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
            "ls 'x'",
            "ls \"x\"",
            "ls\tx",
            "echo $HOME",
            "echo `x`",
            "cat < f",
            "ls &> f",
            "echo (x)",
            "FOO=1 ls",
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
            "echo a=b c=d",
            "ls2>&1",
            "ls 2>&1 >out",
            "a;b;c;d;e;f;g;h;i;j;k;l;m;n;o;p;q;r;s",
            "make -j4 >log 2>&1; echo done",
        ] {
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
        "CMD.EXE ", "/bin/", "sh",
    ];

    fn command() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(ALPHABET), 0..24).prop_map(|v| v.concat())
    }

    /// Plain words and operators only, so that most inputs take the fast path.
    #[rustfmt::skip]
    const PLAIN_ALPHABET: &[&str] = &[
        "ls", "git", "status", "-la", "x", "./a", "/tmp/b", "a=b", "..", " ", " ", " ", "  ", "*",
        "~/x?", " && ", " || ", ";", " | ", "&", "\n", ">", " 2>&1", ">&", " fi", "then", "rm",
        "-rf", "/", "sudo", "X=1", "set",
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
        }

        #[test]
        fn fast_path_agrees_on_mostly_plain_text(cmd in plain_command()) {
            let (fast, full) = both_paths(&cmd);
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
