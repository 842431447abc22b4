//! The command heads that the stages read specially, in one table.
//!
//! The threat: the fast path (`plain`) skips every stage for text whose heads are ordinary
//! words. If a stage learned a name that the fast path did not know (a new launcher, say),
//! `<new-launcher> rm -rf /` would be read as plain text, its `rm -rf /` reading would never be
//! made, and a deny rule would not fire. Three hand-kept lists (the stages' own matches, the fast
//! path's, the tests' alphabets) drift apart silently.
//!
//! So every name that a stage reads specially is listed once, in [`HEADS`], with what it makes
//! the stage do ([`Head`]). The stages dispatch on [`classify`]'s answer and hold no names of
//! their own; the fast path's lookup is a hash table built from the same table at compile time;
//! the tests' alphabets read it. A name cannot reach a stage without reaching the fast path.
//!
//! Each entry also says how a word is compared with its name ([`Compare`]), because the stages
//! differ and their readings must not change: normalizing drops a launcher only when the word is
//! exactly `env` (`/usr/bin/env` stays, and the restrictive stage reads the `env` alternate), a
//! shell or `sudo` counts whatever its directory, cmd.exe and PowerShell in any case. The fast
//! path asks the loosest question (`is_special_basename`: the basename, in the case the entry
//! allows), so it never calls ordinary a word that some stage reads.

use super::tokenize::Tokens;
use super::words::basename;
use crate::invariant::checked;

/// What a head word makes the stages do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Head {
    /// A transparent launcher, dropped with its options when normalizing (`env -i`, `timeout 5`).
    Launcher(Launcher),
    /// A POSIX shell: its `-c` payload is unwrapped (normalize, environment assignments) and a
    /// here-string fed to it is read as a command (substitutions, restrictive readings).
    PosixShell,
    /// cmd.exe: `/c` and `/k` payloads, and the segment is tokenized as cmd.exe.
    Cmd,
    /// PowerShell: `-Command` payloads, and the segment is tokenized as PowerShell.
    PowerShell,
    /// `busybox`/`toybox`: the applet after it is the command (rm/find aliases, alternates).
    Applet,
    /// A privilege or fan-out wrapper whose payload the restrictive readings see through.
    SeeThrough(SeeThrough),
    /// `find`: its `-exec` payloads are seen through, and `-delete` or `-exec rm -rf {}` give
    /// canonical `rm -rf` aliases.
    Find,
    /// `rm`: a recursive forced delete gets its canonical `rm -rf <operand>` aliases.
    Rm,
    /// `eval`: its arguments are a command (a grant component and a reading of their own).
    Eval,
    /// A word that opens a body (`if`, `then`, `!` …), peeled off for the body reading.
    Opens,
    /// `case`: the command after the pattern's `)` is a body reading.
    Case,
    /// A POSIX builtin that assigns environment variables (`export NAME=value`).
    Assigns(Assigner),
    /// cmd.exe's `set NAME=value`.
    Set,
    /// cmd.exe's `setx NAME value`.
    Setx,
    /// A program that runs a command it was given in an argument: an interpreter's one-liner,
    /// an editor's or a debugger's shell escape, an option whose value is a command (see
    /// `inline`). The restrictive readings read that command.
    Carrier(Carrier),
    /// `cd`: the later segments' relative operands are read from its directory (see
    /// `variables`).
    ChangesDirectory,
    /// A Windows recursive delete (`del /s`, `rd /s`, `Remove-Item -Recurse`, `robocopy /MIR`):
    /// a canonical `rm -rf <operand>` alias per target (see `aliases`).
    WindowsDelete(WindowsDelete),
}

/// Programs that carry a command in an argument (see `inline`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Carrier {
    /// `python -c CODE` (any `pythonX.Y`).
    Python,
    Perl,
    Ruby,
    /// `node -e|--eval|-p CODE`.
    Node,
    /// `php -r CODE`.
    Php,
    Lua,
    /// awk's program text (`system("…")`, `print | "cmd"`).
    Awk,
    /// `osascript -e 'do shell script "…"'`.
    Osascript,
    /// `vim -c ':!cmd'` and its relatives.
    Vim,
    /// `gdb -ex '!cmd'`, `-ex 'shell cmd'`.
    Gdb,
    /// `sqlite3 db '.shell cmd'`.
    Sqlite,
    /// `zip -TT cmd`.
    Zip,
    /// `tar --checkpoint-action=exec=cmd`, `--to-command`, `-I`.
    Tar,
    /// `ssh -o ProxyCommand=…` and `LocalCommand`.
    Ssh,
    /// `rsync -e cmd`.
    Rsync,
    /// `forfiles /c "cmd"`.
    Forfiles,
    /// `source FILE`, `. FILE`, PowerShell's `iex`: with no file, what it reads from a pipe.
    Source,
}

/// The Windows recursive deletes (see `aliases`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowsDelete {
    /// cmd.exe's `del`/`erase` (`/s`) and `rd`/`rmdir` (`/s`).
    Cmd,
    /// PowerShell's `Remove-Item` and its aliases (`-Recurse`).
    RemoveItem,
    /// `robocopy SRC DST /MIR|/PURGE` empties DST of what SRC lacks.
    Robocopy,
}

/// The transparent launchers (see `normalize`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Launcher {
    Command,
    Exec,
    Env,
    Nohup,
    Nice,
    Timeout,
    Setsid,
    Stdbuf,
}

/// The wrappers the restrictive readings see through (see `see_through`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeeThrough {
    Sudo,
    Doas,
    Su,
    Xargs,
    /// `ionice [-c N] [-n N] [-t] CMD`.
    Ionice,
    /// `chrt [policy] PRIORITY CMD`.
    Chrt,
    /// `taskset [-c] MASK CMD`.
    Taskset,
    /// `numactl [options] CMD`.
    Numactl,
    /// The dynamic loader run as a program: `ld-linux-x86-64.so.2 [options] PROGRAM ARGS`
    /// (recognised by its shape, whatever its directory and version: see [`classify`]).
    Loader,
    /// `unbuffer CMD`.
    Unbuffer,
    /// `flock [options] FILE CMD` or `flock FILE -c TEXT`.
    Flock,
    /// `script -c TEXT`.
    Script,
    /// `watch [options] TEXT…` (run through `sh -c`).
    Watch,
    /// `runuser -u USER -- CMD`, `runuser USER -c TEXT`.
    Runuser,
    /// `wsl [-d D] [-u U] [-e|--exec|--] CMD` (Windows Subsystem for Linux).
    Wsl,
    /// `conhost [--headless] CMD` (Windows console host).
    Conhost,
    /// `pcalua -a PROGRAM` (Windows program compatibility assistant).
    Pcalua,
}

/// The POSIX builtins that assign variables (see `env_assign`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Assigner {
    /// Also hands an existing variable to children: `export NAME` assigns `NAME`.
    Export,
    Declare,
    Typeset,
    Local,
    Readonly,
}

/// How a word is compared with an entry's name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The word is the name.
    Word,
    /// The word is the name in any ASCII case.
    WordAnyCase,
    /// The word's last path component (after `/` or `\`) is the name.
    Basename,
    /// The word's last path component is the name in any ASCII case.
    BasenameAnyCase,
}

/// One name a stage reads specially.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    pub name: &'static str,
    pub head: Head,
    pub compare: Compare,
}

const fn entry(name: &'static str, head: Head, compare: Compare) -> Entry {
    Entry {
        name,
        head,
        compare,
    }
}

use Compare::{Basename, BasenameAnyCase, Word, WordAnyCase};

/// Every name that a stage reads specially in a command's head position.
#[rustfmt::skip]
pub const HEADS: &[Entry] = &[
    entry("command", Head::Launcher(Launcher::Command), Word),
    entry("exec", Head::Launcher(Launcher::Exec), Word),
    entry("env", Head::Launcher(Launcher::Env), Word),
    entry("nohup", Head::Launcher(Launcher::Nohup), Word),
    entry("nice", Head::Launcher(Launcher::Nice), Word),
    entry("timeout", Head::Launcher(Launcher::Timeout), Word),
    entry("setsid", Head::Launcher(Launcher::Setsid), Word),
    entry("stdbuf", Head::Launcher(Launcher::Stdbuf), Word),
    entry("sh", Head::PosixShell, Basename),
    entry("bash", Head::PosixShell, Basename),
    entry("zsh", Head::PosixShell, Basename),
    entry("dash", Head::PosixShell, Basename),
    entry("ash", Head::PosixShell, Basename),
    entry("ksh", Head::PosixShell, Basename),
    entry("cmd", Head::Cmd, BasenameAnyCase),
    entry("cmd.exe", Head::Cmd, BasenameAnyCase),
    entry("powershell", Head::PowerShell, BasenameAnyCase),
    entry("powershell.exe", Head::PowerShell, BasenameAnyCase),
    entry("pwsh", Head::PowerShell, BasenameAnyCase),
    entry("pwsh.exe", Head::PowerShell, BasenameAnyCase),
    entry("busybox", Head::Applet, Basename),
    entry("toybox", Head::Applet, Basename),
    entry("sudo", Head::SeeThrough(SeeThrough::Sudo), Basename),
    entry("doas", Head::SeeThrough(SeeThrough::Doas), Basename),
    entry("su", Head::SeeThrough(SeeThrough::Su), Basename),
    entry("xargs", Head::SeeThrough(SeeThrough::Xargs), Basename),
    entry("find", Head::Find, Basename),
    entry("rm", Head::Rm, Basename),
    entry(EVAL, Head::Eval, Word),
    entry("if", Head::Opens, Word),
    entry("elif", Head::Opens, Word),
    entry("while", Head::Opens, Word),
    entry("until", Head::Opens, Word),
    entry("then", Head::Opens, Word),
    entry("do", Head::Opens, Word),
    entry("else", Head::Opens, Word),
    entry("!", Head::Opens, Word),
    entry("case", Head::Case, Word),
    entry("export", Head::Assigns(Assigner::Export), Basename),
    entry("declare", Head::Assigns(Assigner::Declare), Basename),
    entry("typeset", Head::Assigns(Assigner::Typeset), Basename),
    entry("local", Head::Assigns(Assigner::Local), Basename),
    entry("readonly", Head::Assigns(Assigner::Readonly), Basename),
    entry("set", Head::Set, WordAnyCase),
    entry("setx", Head::Setx, WordAnyCase),
    entry("ionice", Head::SeeThrough(SeeThrough::Ionice), Basename),
    entry("chrt", Head::SeeThrough(SeeThrough::Chrt), Basename),
    entry("taskset", Head::SeeThrough(SeeThrough::Taskset), Basename),
    entry("numactl", Head::SeeThrough(SeeThrough::Numactl), Basename),
    entry("ld.so", Head::SeeThrough(SeeThrough::Loader), Basename),
    entry("unbuffer", Head::SeeThrough(SeeThrough::Unbuffer), Basename),
    entry("flock", Head::SeeThrough(SeeThrough::Flock), Basename),
    entry("script", Head::SeeThrough(SeeThrough::Script), Basename),
    entry("watch", Head::SeeThrough(SeeThrough::Watch), Basename),
    entry("runuser", Head::SeeThrough(SeeThrough::Runuser), Basename),
    entry("wsl", Head::SeeThrough(SeeThrough::Wsl), BasenameAnyCase),
    entry("wsl.exe", Head::SeeThrough(SeeThrough::Wsl), BasenameAnyCase),
    entry("conhost", Head::SeeThrough(SeeThrough::Conhost), BasenameAnyCase),
    entry("conhost.exe", Head::SeeThrough(SeeThrough::Conhost), BasenameAnyCase),
    entry("pcalua", Head::SeeThrough(SeeThrough::Pcalua), BasenameAnyCase),
    entry("pcalua.exe", Head::SeeThrough(SeeThrough::Pcalua), BasenameAnyCase),
    entry("python", Head::Carrier(Carrier::Python), Basename),
    entry("perl", Head::Carrier(Carrier::Perl), Basename),
    entry("ruby", Head::Carrier(Carrier::Ruby), Basename),
    entry("node", Head::Carrier(Carrier::Node), Basename),
    entry("nodejs", Head::Carrier(Carrier::Node), Basename),
    entry("php", Head::Carrier(Carrier::Php), Basename),
    entry("lua", Head::Carrier(Carrier::Lua), Basename),
    entry("awk", Head::Carrier(Carrier::Awk), Basename),
    entry("gawk", Head::Carrier(Carrier::Awk), Basename),
    entry("mawk", Head::Carrier(Carrier::Awk), Basename),
    entry("nawk", Head::Carrier(Carrier::Awk), Basename),
    entry("osascript", Head::Carrier(Carrier::Osascript), Basename),
    entry("vim", Head::Carrier(Carrier::Vim), Basename),
    entry("vi", Head::Carrier(Carrier::Vim), Basename),
    entry("view", Head::Carrier(Carrier::Vim), Basename),
    entry("nvim", Head::Carrier(Carrier::Vim), Basename),
    entry("rvim", Head::Carrier(Carrier::Vim), Basename),
    entry("ex", Head::Carrier(Carrier::Vim), Basename),
    entry("gdb", Head::Carrier(Carrier::Gdb), Basename),
    entry("sqlite3", Head::Carrier(Carrier::Sqlite), Basename),
    entry("zip", Head::Carrier(Carrier::Zip), Basename),
    entry("tar", Head::Carrier(Carrier::Tar), Basename),
    entry("ssh", Head::Carrier(Carrier::Ssh), Basename),
    entry("rsync", Head::Carrier(Carrier::Rsync), Basename),
    entry("forfiles", Head::Carrier(Carrier::Forfiles), BasenameAnyCase),
    entry("forfiles.exe", Head::Carrier(Carrier::Forfiles), BasenameAnyCase),
    entry("source", Head::Carrier(Carrier::Source), Word),
    entry(".", Head::Carrier(Carrier::Source), Word),
    entry("iex", Head::Carrier(Carrier::Source), WordAnyCase),
    entry("invoke-expression", Head::Carrier(Carrier::Source), WordAnyCase),
    entry("del", Head::WindowsDelete(WindowsDelete::Cmd), BasenameAnyCase),
    entry("erase", Head::WindowsDelete(WindowsDelete::Cmd), BasenameAnyCase),
    entry("rd", Head::WindowsDelete(WindowsDelete::Cmd), BasenameAnyCase),
    entry("rmdir", Head::WindowsDelete(WindowsDelete::Cmd), BasenameAnyCase),
    entry("remove-item", Head::WindowsDelete(WindowsDelete::RemoveItem), BasenameAnyCase),
    entry("ri", Head::WindowsDelete(WindowsDelete::RemoveItem), BasenameAnyCase),
    entry("robocopy", Head::WindowsDelete(WindowsDelete::Robocopy), BasenameAnyCase),
    entry("robocopy.exe", Head::WindowsDelete(WindowsDelete::Robocopy), BasenameAnyCase),
    entry("cd", Head::ChangesDirectory, Word),
];

/// A name whose variants no table can list: the dynamic loader (`ld-linux-x86-64.so.2`,
/// `ld-linux-aarch64.so.1`, `ld-musl-x86_64.so.1`) and Python's versioned names (`python3.12`).
fn shaped(base: &[u8]) -> Option<Head> {
    let loader = base.starts_with(b"ld-") && base.windows(3).any(|w| w == b".so");
    let python = base.strip_prefix(b"python").is_some_and(|rest| {
        !rest.is_empty() && rest.iter().all(|c| c.is_ascii_digit() || *c == b'.')
    });
    if loader {
        Some(Head::SeeThrough(SeeThrough::Loader))
    } else if python {
        Some(Head::Carrier(Carrier::Python))
    } else {
        None
    }
}

/// A head that names a Windows program or a PowerShell command (an executable's extension or
/// an upper-case letter): its readings are also made in lower case with the extension dropped,
/// since Windows finds programs and commands in any case (see `restrictive`).
pub(crate) fn is_windows_name(base: &[u8]) -> bool {
    windows_extension(base) > 0 || base.iter().any(u8::is_ascii_uppercase)
}

/// The length of `base`'s Windows executable extension (`.exe`, `.com`, `.bat`, `.cmd`), 0 for
/// none.
pub(crate) fn windows_extension(base: &[u8]) -> usize {
    const EXTS: [&[u8]; 4] = [b".exe", b".com", b".bat", b".cmd"];
    EXTS.iter()
        .find(|e| {
            base.len() > e.len()
                && base
                    .get(base.len() - e.len()..)
                    .is_some_and(|tail| tail.eq_ignore_ascii_case(e))
        })
        .map_or(0, |e| e.len())
}

/// `eval`'s name, which the search for eval payloads also looks for in a text.
pub(crate) const EVAL: &str = "eval";

/// The words that close a body (`if x; then rm -rf /; fi`): the restrictive stage peels them off
/// the end of a reading, so the fast path reads no text that ends in one.
pub const CLOSERS: &[&str] = &["fi", "done", "esac"];

/// What `word` makes the stages do, if anything.
pub fn classify(word: &str) -> Option<Head> {
    let base = basename(word).as_bytes();
    let bare = base.len() == word.len();
    candidates(base)
        .find(|e| e.matches(base, bare))
        .map(|e| e.head)
        .or_else(|| shaped(base))
}

impl Entry {
    /// Whether a word with basename `base` is this entry (`bare`: the word is its basename).
    fn matches(&self, base: &[u8], bare: bool) -> bool {
        let exact = match self.compare {
            Compare::Word => bare,
            Compare::Basename => true,
            Compare::WordAnyCase => return bare && self.is_in_any_case(base),
            Compare::BasenameAnyCase => return self.is_in_any_case(base),
        };
        exact && self.is(base)
    }

    /// `base` is the name. (Compared byte by byte: names are a few bytes long, shorter than a
    /// call to `memcmp`.)
    fn is(&self, base: &[u8]) -> bool {
        let name = self.name.as_bytes();
        name.len() == base.len() && name.iter().zip(base).all(|(a, b)| a == b)
    }

    /// `base` is the name in some ASCII case.
    fn is_in_any_case(&self, base: &[u8]) -> bool {
        let name = self.name.as_bytes();
        name.len() == base.len()
            && name
                .iter()
                .zip(base)
                .all(|(a, b)| a.eq_ignore_ascii_case(b))
    }
}

/// Whether some stage may read a word with basename `base` specially, whatever its directory:
/// the fast path's question, looser than [`classify`] (`/usr/bin/env` is not a launcher, but it
/// has an `env` alternate).
pub(crate) fn is_special_basename(base: &[u8]) -> bool {
    candidates(base).any(|e| match e.compare {
        Compare::Word | Compare::Basename => e.is(base),
        Compare::WordAnyCase | Compare::BasenameAnyCase => e.is_in_any_case(base),
    }) || shaped(base).is_some()
        || is_windows_name(base)
}

/// Whether `w` is `head`.
pub(crate) fn is(w: &str, head: Head) -> bool {
    classify(w) == Some(head)
}

/// A word in head position and its class: the stages that look at the same head in turn
/// (launchers, wrappers, applets, see-through wrappers, rm and find) classify it once.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeadWord {
    pub(crate) index: usize,
    pub(crate) class: Option<Head>,
}

impl HeadWord {
    /// Word `index` of `t` (past the end: no class).
    pub(crate) fn at(t: &Tokens, index: usize) -> HeadWord {
        HeadWord {
            index,
            class: classify(t.value(index)),
        }
    }

    pub(crate) fn is(self, head: Head) -> bool {
        self.class == Some(head)
    }
}

/// The entries whose name may be `base` (in some case): those in its bucket of [`BUCKETS`].
fn candidates(base: &[u8]) -> impl Iterator<Item = &'static Entry> {
    // Were the bucket missing (a bug: buckets are numbered modulo the table's length), every
    // entry would be a candidate, walked from the last, so that no name is taken for an
    // ordinary word.
    let (first, every) = match checked(BUCKETS.get(bucket(base)).copied()) {
        Some(first) => (first, false),
        None => (HEADS.len() as u8, true),
    };
    core::iter::successors(entry_at(first, every), move |e| entry_at(e.1, every)).map(|e| e.0)
}

/// The entry numbered `n` (1 for the first of [`HEADS`], 0 for none), with the number of the
/// next one in its bucket, or (`every`) the one before it in [`HEADS`]. One lookup for both
/// tables: by their types, they have one entry per head.
fn entry_at(n: u8, every: bool) -> Option<(&'static Entry, u8)> {
    let k = usize::from(n).checked_sub(1)?;
    let (entry, &next) = HEADS.iter().zip(&NEXT_IN_BUCKET).nth(k)?;
    Some((entry, if every { n - 1 } else { next }))
}

/// A hash table over the names of [`HEADS`], built at compile time: the number of the first
/// entry whose name falls in each bucket (see [`entry_at`]), the rest chained through
/// [`NEXT_IN_BUCKET`]. Keyed on the length and the first, second and last bytes in lower case,
/// so most words find their bucket empty without a comparison, and a name (in any case) is
/// found after one or two. (Three bytes: `du` shares its first byte with `do` and its last with
/// `su`.)
static BUCKETS: [u8; BUCKET_COUNT] = buckets().0;
static NEXT_IN_BUCKET: [u8; HEADS.len()] = buckets().1;

const BUCKET_COUNT: usize = 1024;

/// The bucket of a name of bytes `b`, the same in any case.
#[inline]
const fn bucket(b: &[u8]) -> usize {
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
    h % BUCKET_COUNT
}

/// `c` with bit 5 set: a letter in lower case (other bytes may meet, which a hash allows).
const fn low(c: u8) -> usize {
    (c | 0x20) as usize
}

#[allow(
    clippy::indexing_slicing,
    reason = "evaluated at compile time: an index out of bounds fails the build"
)]
const fn buckets() -> ([u8; BUCKET_COUNT], [u8; HEADS.len()]) {
    assert!(HEADS.len() < u8::MAX as usize);
    let mut first = [0u8; BUCKET_COUNT];
    let mut next = [0u8; HEADS.len()];
    // Each entry goes in front of its bucket's chain.
    let mut k = 0;
    while k < HEADS.len() {
        let b = bucket(HEADS[k].name.as_bytes());
        next[k] = first[b];
        first[b] = k as u8 + 1;
        k += 1;
    }
    (first, next)
}

#[cfg(test)]
impl Entry {
    /// Every way a stage may meet this name: with a directory where the comparison allows one,
    /// and in other cases where it allows them.
    pub(crate) fn spellings(&self) -> alloc::vec::Vec<alloc::string::String> {
        use alloc::format;
        let name = self.name;
        let dir = matches!(self.compare, Compare::Basename | Compare::BasenameAnyCase);
        let any_case = matches!(
            self.compare,
            Compare::WordAnyCase | Compare::BasenameAnyCase
        );
        let mut out = alloc::vec![name.into()];
        if dir {
            out.push(format!("/usr/bin/{name}"));
            out.push(format!("C:\\x\\{name}"));
        }
        if any_case {
            out.push(name.to_ascii_uppercase());
            let (first, rest) = name.split_at(1);
            out.push(format!("{}{rest}", first.to_ascii_uppercase()));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fail-closed walk of a missing bucket (see `candidates`) visits every entry once.
    #[test]
    fn the_walk_of_a_missing_bucket_visits_every_entry() {
        let walk =
            core::iter::successors(entry_at(HEADS.len() as u8, true), |e| entry_at(e.1, true));
        assert_eq!(walk.count(), HEADS.len());
    }

    #[test]
    fn every_entry_is_classified_as_itself_in_every_spelling() {
        for e in HEADS {
            for word in e.spellings() {
                assert_eq!(classify(&word), Some(e.head), "{word:?}");
                assert!(is_special_basename(basename(&word).as_bytes()), "{word:?}");
            }
        }
    }

    #[test]
    fn names_are_distinct_in_any_case() {
        for (k, a) in HEADS.iter().enumerate() {
            for b in &HEADS[k + 1..] {
                assert!(!a.name.eq_ignore_ascii_case(b.name), "{}", a.name);
            }
        }
    }

    #[test]
    fn comparisons_keep_each_stage_exact() {
        for (word, head) in [
            ("/usr/bin/env", None),
            ("ENV", None),
            ("/bin/Bash", None),
            ("/x/set", None),
            ("SetX", Some(Head::Setx)),
            ("C:/x/PowerShell.exe", Some(Head::PowerShell)),
            ("pwsh.exe.exe", None),
            ("/x/if", None),
            ("/usr/bin/bash", Some(Head::PosixShell)),
            ("fish", None),
            ("CMD.EXE", Some(Head::Cmd)),
            ("exe", None),
            ("du", None),
            ("sets", None),
            ("", None),
            (
                "/lib64/ld-linux-x86-64.so.2",
                Some(Head::SeeThrough(SeeThrough::Loader)),
            ),
            (
                "ld-musl-x86_64.so.1",
                Some(Head::SeeThrough(SeeThrough::Loader)),
            ),
            ("ld-x", None),
            ("python3.12", Some(Head::Carrier(Carrier::Python))),
            ("python3x", None),
            (
                "Remove-Item",
                Some(Head::WindowsDelete(WindowsDelete::RemoveItem)),
            ),
        ] {
            assert_eq!(classify(word), head, "{word:?}");
        }
        assert!(is_special_basename(b"env"));
        for word in ["git", "cargo", "du", "ls", "sets", "commands", ""] {
            assert!(!is_special_basename(word.as_bytes()), "{word:?}");
        }
        // Windows names get a lower-case reading, so the fast path leaves them to the stages.
        for word in ["Rm", "SUDO", "rundll32.exe", "Get-ChildItem", "x.BAT"] {
            assert!(is_special_basename(word.as_bytes()), "{word:?}");
        }
    }
}
