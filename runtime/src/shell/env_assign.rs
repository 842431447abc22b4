//! Which environment variables a command assigns (`command_env_assignments`).
//!
//! Policies deny `LD_PRELOAD=…` or `RAMPART_MODE=disabled` however they are set, so this stage
//! collects variable names from every assignment form of the three dialects a command could be
//! in, without guessing which one it is:
//!
//! * POSIX: leading `NAME=value` words, `env NAME=value`, `export`/`declare`/`typeset`/`local`/
//!   `readonly NAME=value` (and `export NAME`, which hands an existing variable to children), and
//!   `sudo NAME=value`;
//! * cmd.exe: `set NAME=value` (also `set "NAME=value"`, `set /a`, `set /p`) and `setx NAME value`;
//! * PowerShell: `$env:NAME = …`, `Set-Item`/`New-Item [-Path] env:NAME`,
//!   `[Environment]::SetEnvironmentVariable('NAME', …)`.
//!
//! Only command positions count, so `printf 'LD_PRELOAD=%s'` assigns nothing. A command position
//! is wherever a wrapper chain leads: launchers (also path-qualified, `/usr/bin/env`), applets,
//! the privilege and fan-out wrappers the restrictive readings see through (`sudo env A=1 cmd`,
//! `doas nice env A=1 cmd`, `xargs env`, `su -c`, `find -exec`) and shell wrappers, in any order
//! and nesting, so an assignment rule sees what the chain sets just as the command's own rules
//! see the command it runs. Substitutions are read too. A chain too long or too deep to read to
//! its end fails closed.

use alloc::string::String;
use alloc::vec::Vec;

use super::grant::MAX_SUBSTITUTION_DEPTH;
use super::heads::{classify, Assigner, Head, HeadWord};
use super::normalize::{launcher, skip_assignments, split_string_text, wrapper, Launch, Wrap};
use super::plain::PlainText;
use super::see_through::{payloads, Payload};
use super::split::{split, SplitDialect};
use super::subcommands::{eval_payloads, substitutions};
use super::tokenize::{bytes_equal, splat, tokenize, word_at, Dialect, Tokens};
use super::words::{assignment_name, basename, contains_ignore_case, is_name};
use super::Scratch;
use crate::invariant::checked;

/// Wrapper payloads read inside one another (`bash -c "sudo su -c '…'"`) before a command that
/// may still assign counts as unreadable. Upstream stops silently after four shell wrappers; we
/// read as deep as the restrictive readings do, then fail closed.
pub(crate) const MAX_WRAPPER_DEPTH: usize = super::restrictive::MAX_DEPTH as usize;

/// Appends the names `cmd`, whose fast-path reading is `plain`, assigns to `out` (deduplicated,
/// first-seen order).
pub(crate) fn collect(
    cmd: &str,
    plain: Option<&PlainText>,
    sc: &mut Scratch,
    out: &mut Vec<String>,
) {
    match plain {
        Some(plain) => plain_names(cmd, plain, out),
        None if may_assign(cmd) => text_in_full(cmd, 0, 0, sc, out),
        None => {}
    }
}

/// The names plain text assigns: those of its leading assignments (the only ones in command
/// position, see `plain`), then what the textual PowerShell scan finds. Plain text has no `$`
/// or `(`, so that scan can only find `Set-Item env:X` or `New-Item env:X`, which need `env:`.
fn plain_names(cmd: &str, plain: &PlainText, out: &mut Vec<String>) {
    for name in plain.names() {
        push(out, name);
    }
    if plain.has_colon() && contains_env_colon(cmd.as_bytes()) {
        powershell(cmd, out);
    }
}

fn push(out: &mut Vec<String>, name: &str) {
    if !name.is_empty() && !out.iter().any(|n| n == name) {
        out.push(name.into());
    }
}

/// Every form needs an `=` or one of `export`/`set`/`$env:`/`Set-Item`.
fn may_assign(src: &str) -> bool {
    src.contains(['=', 'e', 'E'])
}

/// The names `src`, a text met on the way (a payload, a substitution), assigns.
fn text(src: &str, wrap_depth: usize, sub_depth: usize, sc: &mut Scratch, out: &mut Vec<String>) {
    if !may_assign(src) {
        return;
    }
    match sc.plain.read(src) {
        Some(plain) => plain_names(src, plain, out),
        None => text_in_full(src, wrap_depth, sub_depth, sc, out),
    }
}

/// [`text`] for text that is not plain.
fn text_in_full(
    src: &str,
    wrap_depth: usize,
    sub_depth: usize,
    sc: &mut Scratch,
    out: &mut Vec<String>,
) {
    let mut segs = Vec::new();
    split(src, SplitDialect::Posix, &mut segs);
    // Borrowed from the scratch for the loops below (a nested call gets fresh buffers).
    let mut posix = core::mem::take(&mut sc.posix);
    for seg in &segs {
        let Some(seg) = checked(src.get(seg.clone())) else {
            sc.overflow = true;
            continue;
        };
        words(posix.get(seg), seg, wrap_depth, sub_depth, sc, out);
    }
    sc.posix = posix;
    let mut toks = core::mem::take(&mut sc.toks);
    if contains_ignore_case(src, "set") {
        segs.clear();
        split(src, SplitDialect::Cmd, &mut segs);
        for seg in &segs {
            let Some(seg) = checked(src.get(seg.clone())) else {
                sc.overflow = true;
                continue;
            };
            tokenize(seg, Dialect::Cmd, &mut toks);
            words(&toks, seg, wrap_depth, sub_depth, sc, out);
        }
    }
    sc.toks = toks;
    powershell(src, out);
    let mut subs = Vec::new();
    substitutions(src, &mut subs);
    eval_payloads(src, &mut sc.posix, &mut subs);
    if !subs.is_empty() && sub_depth >= MAX_SUBSTITUTION_DEPTH {
        sc.overflow = true;
        return;
    }
    for sub in &subs {
        text(sub, wrap_depth, sub_depth + 1, sc, out);
    }
}

/// The assignments of one segment's words (`src`'s, in whichever dialect they were tokenized),
/// read through the whole chain in front of the command: launchers (also path-qualified,
/// `/usr/bin/env`), `busybox`/`toybox` applets, the wrappers the restrictive readings see
/// through (`sudo`, `doas`, `xargs`, and the text payloads of `su -c`, `sudo -s` and
/// `find -exec`) and shell wrappers, in any order and nesting. So
/// `sudo -E A=1 doas nice env B=2 bash -c 'C=3 ls'` assigns A, B and C. A chain longer than
/// [`MAX_UNWRAP`](super::normalize::MAX_UNWRAP) words of wrappers, or payloads nested deeper than
/// [`MAX_WRAPPER_DEPTH`], cannot be read to its end: the command fails closed (`overflow`).
fn words(
    t: &Tokens,
    src: &str,
    wrap_depth: usize,
    sub_depth: usize,
    sc: &mut Scratch,
    out: &mut Vec<String>,
) {
    let mut i = 0;
    for _ in 0..super::normalize::MAX_UNWRAP {
        while let Some(name) = assignment_name(t.value(i)) {
            push(out, name);
            i += 1;
        }
        let at = chain_head(t, skip_assignments(t, i));
        i = at.index;
        match launcher(t, at, &mut |w| push(out, assignment_name(w).unwrap_or(""))) {
            Some(Launch::Next(j)) => {
                i = j;
                continue;
            }
            Some(Launch::SplitString { text: s, rest }) => {
                let payload = split_string_text(s, t, rest);
                nested(&payload, wrap_depth, sub_depth, sc, out);
                return;
            }
            None => {}
        }
        match at.class {
            Some(Head::Applet) if i + 1 < t.len() => {
                i += 1;
                continue;
            }
            Some(Head::SeeThrough(_) | Head::Find) => {
                match see_through(t, src, at, wrap_depth, sub_depth, sc, out) {
                    Some(j) => {
                        i = j;
                        continue;
                    }
                    None => return,
                }
            }
            Some(Head::Assigns(builtin)) => {
                // `export NAME` hands the variable on, but only when the word is `export` itself.
                let head = t.value(i);
                let exports = builtin == Assigner::Export && basename(head) == head;
                for k in i + 1..t.len() {
                    let w = t.value(k);
                    match assignment_name(w) {
                        Some(name) => push(out, name),
                        None if exports && is_name(w) => push(out, w),
                        None => {}
                    }
                }
            }
            Some(Head::Set) => cmd_set(t, i + 1, out),
            Some(Head::Setx) => cmd_setx(t, i + 1, out),
            _ => {}
        }
        match wrapper(t, at) {
            Some(Wrap::Words(j)) => i = j,
            Some(Wrap::Text(payload, _)) => {
                nested(&payload, wrap_depth, sub_depth, sc, out);
                return;
            }
            None => return,
        }
    }
    // Still unwrapping: what the chain ends in was not read.
    sc.overflow = true;
}

/// The head at word `k`, a launcher also by its basename: `/usr/bin/env A=1 ls` assigns `A`
/// (normalizing keeps `/usr/bin/env`, as upstream; the restrictive readings read its `env`
/// alternate).
fn chain_head(t: &Tokens, k: usize) -> HeadWord {
    let at = HeadWord::at(t, k);
    let word = t.value(k);
    // A word without a directory was classified as its basename already.
    if at.class.is_some() || !word.contains(['/', '\\']) {
        return at;
    }
    match classify(basename(word)) {
        Some(launcher @ Head::Launcher(_)) => HeadWord {
            index: k,
            class: Some(launcher),
        },
        _ => at,
    }
}

/// The payloads of the see-through wrapper at `at`: text payloads are read here, and the word
/// where the wrapped command starts is returned (the wrapper's own `VAR=value` words, as in
/// `sudo -E A=1 cmd`, are collected on the way).
fn see_through(
    t: &Tokens,
    src: &str,
    at: HeadWord,
    wrap_depth: usize,
    sub_depth: usize,
    sc: &mut Scratch,
    out: &mut Vec<String>,
) -> Option<usize> {
    let mut next = None;
    payloads(t, src, at, &mut |p| match p {
        Payload::Word(k) => next = Some(k),
        Payload::Text(text) => nested(text, wrap_depth, sub_depth, sc, out),
    });
    let next = next.filter(|&k| k > at.index);
    if matches!(at.class, Some(Head::SeeThrough(_))) {
        for k in at.index + 1..next.unwrap_or(t.len()) {
            push(out, assignment_name(t.value(k)).unwrap_or(""));
        }
    }
    next
}

/// Reads `payload`, a wrapper's text, one level deeper; past [`MAX_WRAPPER_DEPTH`] a payload that
/// may assign fails the command closed.
fn nested(
    payload: &str,
    wrap_depth: usize,
    sub_depth: usize,
    sc: &mut Scratch,
    out: &mut Vec<String>,
) {
    if wrap_depth < MAX_WRAPPER_DEPTH {
        text(payload, wrap_depth + 1, sub_depth, sc, out);
    } else if may_assign(payload) {
        sc.overflow = true;
    }
}

/// cmd.exe `set [/a|/p] NAME=value`.
fn cmd_set(t: &Tokens, mut k: usize, out: &mut Vec<String>) {
    while t.value(k).starts_with('/') {
        k += 1;
    }
    let w = t.value(k);
    if let Some(eq) = w.find('=') {
        let name = w[..eq].trim();
        if !name.contains(char::is_whitespace) {
            push(out, name);
        }
    }
}

/// cmd.exe `setx [/m] [/s host /u user /p pass] NAME value`.
fn cmd_setx(t: &Tokens, mut k: usize, out: &mut Vec<String>) {
    while let Some(flag) = t.value(k).strip_prefix('/') {
        let with_value = ["s", "u", "p", "f", "a", "r", "x", "d"]
            .iter()
            .any(|f| flag.eq_ignore_ascii_case(f));
        k += if with_value { 2 } else { 1 };
    }
    if k < t.len() {
        push(out, t.value(k));
    }
}

/// PowerShell's forms, found by a case-insensitive textual scan.
fn powershell(src: &str, out: &mut Vec<String>) {
    if !may_assign_powershell(src.as_bytes()) {
        return;
    }
    let lower = src.to_ascii_lowercase();
    for (at, _) in lower.match_indices("$env:") {
        let rest = &src[at + 5..];
        let name_len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        let after = rest[name_len..].trim_start();
        let assigns = after.starts_with('=') && !after.starts_with("==");
        let compound = ["+=", "-=", "*=", "/="]
            .iter()
            .any(|op| after.starts_with(op));
        if name_len > 0 && (assigns || compound) {
            push(out, &rest[..name_len]);
        }
    }
    for verb in ["set-item", "new-item"] {
        for (at, _) in lower.match_indices(verb) {
            let mut rest = lower[at + verb.len()..].trim_start();
            for flag in ["-path", "-literalpath"] {
                if let Some(r) = rest.strip_prefix(flag) {
                    rest = r.trim_start();
                }
            }
            let rest = rest.trim_start_matches(['\'', '"']);
            if let Some(name) = rest.strip_prefix("env:") {
                let name = name.trim_start_matches(['\\', '/']);
                let len = name
                    .bytes()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
                    .count();
                let start = src.len() - name.len();
                push(out, &src[start..start + len]);
            }
        }
    }
    for (at, _) in lower.match_indices("setenvironmentvariable(") {
        let rest = src[at + "setenvironmentvariable(".len()..].trim_start();
        let rest = rest.trim_start_matches(['\'', '"']);
        let len = rest
            .bytes()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == b'_')
            .count();
        push(out, &rest[..len]);
    }
}

/// Each PowerShell form has a `$`, a `(` or `-item`: most commands have none, and need no
/// lowercasing. One pass over the bytes.
fn may_assign_powershell(b: &[u8]) -> bool {
    b.iter().any(|&c| c == b'$' || c == b'(') || contains_dash_item(b)
}

/// `env:` in any case: colons found eight bytes at a time, then the bytes before each.
fn contains_env_colon(b: &[u8]) -> bool {
    let colons = |at| word_at(b, at).map(|w| bytes_equal(w, b':'));
    let env_before = |at: usize| {
        at.checked_sub(3)
            .and_then(|from| b.get(from..at))
            .is_some_and(|w| w.eq_ignore_ascii_case(b"env"))
    };
    any_candidate(b, colons, b':', env_before)
}

/// `-item` in any case.
fn contains_dash_item(b: &[u8]) -> bool {
    // Most commands have dashes and no `-item`: a candidate is a dash followed by `i` or `I`,
    // found eight positions at a time from two overlapping loads.
    let candidates = |at| {
        let (here, next) = (word_at(b, at)?, word_at(b, at + 1)?);
        Some(bytes_equal(here, b'-') & bytes_equal(next | splat(0x20), b'i'))
    };
    let item = |at: usize| {
        b.get(at + 1..at + 5)
            .is_some_and(|w| w.eq_ignore_ascii_case(b"item"))
    };
    any_candidate(b, candidates, b'-', item)
}

/// Whether `check` holds at a candidate position of `b`. `lanes(at)` marks (with the high bit
/// of a byte lane) the candidates among the eight positions from `at`, and is `None` where the
/// chunked search stops; every later position holding `first` is a candidate.
fn any_candidate(
    b: &[u8],
    lanes: impl Fn(usize) -> Option<u64>,
    first: u8,
    check: impl Fn(usize) -> bool,
) -> bool {
    let mut at = 0;
    while let Some(mut marked) = lanes(at) {
        while marked != 0 {
            if check(at + (marked.trailing_zeros() / 8) as usize) {
                return true;
            }
            marked &= marked - 1;
        }
        at += 8;
    }
    (at..b.len()).any(|k| b.get(k) == Some(&first) && check(k))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn names(cmd: &str) -> Vec<String> {
        let mut out = Vec::new();
        text(cmd, 0, 0, &mut Scratch::default(), &mut out);
        out
    }

    /// `env:` is found in any case wherever its colon falls in the eight-byte scan; a colon
    /// after other bytes is not.
    #[test]
    fn env_colon_in_every_position() {
        for at in 0..20 {
            let pad = "x".repeat(at);
            for env in ["env:", "ENV:", "Env:"] {
                let text = alloc::format!("{pad}{env}X");
                assert!(contains_env_colon(text.as_bytes()), "{text:?}");
            }
            let text = alloc::format!("{pad}en:v: nv: https://e.v");
            assert!(!contains_env_colon(text.as_bytes()), "{text:?}");
        }
        assert!(!contains_env_colon(b":"));
        assert!(!contains_env_colon(b""));
    }

    /// `-item` is found in any case and in every lane of the eight-byte scan, also across two
    /// chunks and in the tail; a byte after a dash that looks like one to the scan is not.
    #[test]
    fn dash_item_in_every_position() {
        for at in 0..20 {
            for item in ["-item", "-ITEM", "-Item"] {
                let text = alloc::format!("{}{item} env:X", "x".repeat(at));
                assert!(contains_dash_item(text.as_bytes()), "{text:?}");
            }
            let text = alloc::format!("{}-,item -ite --x -tem", "x".repeat(at));
            assert!(!contains_dash_item(text.as_bytes()), "{text:?}");
        }
        assert!(contains_dash_item(b"--item"));
        assert!(!contains_dash_item(b""));
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("LD_PRELOAD=/x.so ls", &["LD_PRELOAD"]),
            ("A=1 B=2 env C=3 nohup ls", &["A", "B", "C"]),
            ("env -i LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("export LD_PRELOAD=/x.so", &["LD_PRELOAD"]),
            ("export LD_PRELOAD", &["LD_PRELOAD"]),
            ("declare -x RAMPART_MODE=disabled", &["RAMPART_MODE"]),
            ("typeset X=1", &["X"]),
            ("printf 'LD_PRELOAD=%s' x", &[]),
            ("echo LD_PRELOAD=x", &[]),
            ("git status", &[]),
            ("set RAMPART_MODE=disabled", &["RAMPART_MODE"]),
            ("cmd /c set \"RAMPART_MODE=disabled\"", &["RAMPART_MODE"]),
            ("SET /a X=1", &["X"]),
            ("setx /M LD_PRELOAD x", &["LD_PRELOAD"]),
            ("$env:RAMPART_MODE = 'disabled'", &["RAMPART_MODE"]),
            ("powershell -c \"$Env:LD_PRELOAD='x'\"", &["LD_PRELOAD"]),
            ("if ($env:X -eq 1) { }", &[]),
            ("if ($env:X == 1)", &[]),
            (
                "Set-Item -Path env:RAMPART_MODE -Value x",
                &["RAMPART_MODE"],
            ),
            ("Set-Item Env:\\FOO x", &["FOO"]),
            (
                "[Environment]::SetEnvironmentVariable('RAMPART_MODE', 'x')",
                &["RAMPART_MODE"],
            ),
            ("bash -c 'LD_PRELOAD=x ls'", &["LD_PRELOAD"]),
            ("sh -c \"bash -c 'export A=1'\"", &["A"]),
            ("echo $(LD_PRELOAD=x ls)", &["LD_PRELOAD"]),
            ("sudo -E LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("env -S 'A=1 ls'", &["A"]),
            ("ls; X=1", &["X"]),
            ("echo x; Set-Item env:A x", &["A"]),
            ("echo 12345678-ITEM env:B", &[]),
            ("echo a-b-c set-item env:C", &["C"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(names(cmd), *want, "{cmd:?}");
        }
    }

    /// Every wrapper in a chain is read through, in any order and nesting: the launchers (also
    /// path-qualified), applets, the see-through wrappers and shell wrappers.
    #[test]
    fn wrapper_chains() {
        let cases: &[(&str, &[&str])] = &[
            ("sudo env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            (
                "sudo -E A=1 doas nice env B=2 bash -c 'C=3 ls'",
                &["A", "B", "C"],
            ),
            ("doas env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("doas -u root sudo -E env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("timeout 5 doas nice env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("nice sudo env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("/usr/bin/env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("/usr/bin/sudo /bin/nice -n 1 /usr/bin/env A=1 ls", &["A"]),
            ("busybox env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("xargs -0 env LD_PRELOAD=x ls", &["LD_PRELOAD"]),
            ("su -c 'LD_PRELOAD=x ls'", &["LD_PRELOAD"]),
            ("sudo su - root -c 'env LD_PRELOAD=x ls'", &["LD_PRELOAD"]),
            ("find . -exec env LD_PRELOAD=x ls {} \\;", &["LD_PRELOAD"]),
            ("sudo sh -c 'LD_PRELOAD=x ls'", &["LD_PRELOAD"]),
            ("sudo env -S 'LD_PRELOAD=x ls'", &["LD_PRELOAD"]),
            ("env -S 'A=1' B=2 ls", &["A", "B"]),
            ("env -S 'ls' B=1", &[]),
            ("sudo LD_PRELOAD=x", &["LD_PRELOAD"]),
            ("sudo -u root ls LD_PRELOAD=x", &[]),
            ("doas printf 'LD_PRELOAD=%s' x", &[]),
            ("sudo -l", &[]),
        ];
        for (cmd, want) in cases {
            assert_eq!(names(cmd), *want, "{cmd:?}");
        }
    }

    fn nest(levels: usize) -> String {
        let mut cmd = String::from("X=1 ls");
        for k in 0..levels {
            let mut q = String::new();
            super::super::quote_word(&cmd, &mut q);
            let wrapper = if k % 2 == 0 { "sh -c" } else { "sudo su -c" };
            cmd = alloc::format!("{wrapper} {q}");
        }
        cmd
    }

    /// Upstream stops after four shell wrappers; the chain is read as deep as the restrictive
    /// readings go, and a deeper one fails closed instead of assigning nothing.
    #[test]
    fn deep_wrappers_are_read_or_fail_closed() {
        assert_eq!(names(&nest(6)), ["X"]);
        let read_at = |depth| {
            let mut sc = Scratch::default();
            let mut out = Vec::new();
            text("sh -c 'X=1 ls'", depth, 0, &mut sc, &mut out);
            (out, sc.overflow)
        };
        assert_eq!(read_at(MAX_WRAPPER_DEPTH - 1), (vec!["X".into()], false));
        assert_eq!(read_at(MAX_WRAPPER_DEPTH), (vec![], true));
        let mut chain = String::new();
        for _ in 0..super::super::normalize::MAX_UNWRAP {
            chain.push_str("sudo ");
        }
        let mut sc = Scratch::default();
        text(
            &alloc::format!("{chain}X=1 ls"),
            0,
            0,
            &mut sc,
            &mut Vec::new(),
        );
        assert!(sc.overflow, "a chain longer than the bound fails closed");
    }
}
