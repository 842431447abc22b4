//! Seeing through privilege and fan-out wrappers (an improvement over upstream).
//!
//! Upstream does not unwrap `sudo`, `doas`, `su -c`, `xargs` or `find -exec`, so `xargs rm -rf /`
//! passes standard.yaml and `sudo rm -rf /` only asks. For restrictive rules these wrappers run
//! their payload just as surely as `nohup` does, so the restrictive stage reads the payload too.
//! Grant components never do: allowing `git *` must not allow `sudo git push`.
//!
//! Each wrapper's options are parsed so that an option argument (`sudo -u root`,
//! `xargs -n 1`) is not mistaken for the command. An option we do not know is skipped on its own:
//! for a restrictive reading it is better to over-read than to stop.

use alloc::string::String;

use super::aliases::{exec_end, find_targets, is_exec_action};
use super::heads::{Head, HeadWord, SeeThrough};
use super::tokenize::Tokens;
use super::words::is_assignment;

/// A payload found behind a wrapper.
pub(crate) enum Payload<'a> {
    /// The command from this word on (the source from that word's start, quoting intact). The
    /// restrictive readings take its text, the environment assignments go on reading its words.
    Word(usize),
    /// Shell text (`su -c 'TEXT'`, `sudo -s 'TEXT'`, a `find -exec` payload per target).
    Text(&'a str),
}

/// Calls `emit` with every payload that the wrapper at `head` of `t` (words of `src`) runs.
pub(crate) fn payloads(t: &Tokens, src: &str, head: HeadWord, emit: &mut dyn FnMut(Payload<'_>)) {
    let h = head.index;
    match head.class {
        Some(Head::SeeThrough(SeeThrough::Sudo)) => {
            let (k, shell) = sudo_command(t, h + 1);
            emit_from(t, k, shell, emit);
        }
        Some(Head::SeeThrough(SeeThrough::Doas)) => {
            emit_from(t, doas_command(t, h + 1), false, emit)
        }
        Some(Head::SeeThrough(SeeThrough::Su)) => {
            if let Some(text) = su_command(t, h + 1) {
                emit(Payload::Text(text));
            }
        }
        Some(Head::SeeThrough(SeeThrough::Xargs)) => {
            emit_from(t, xargs_command(t, h + 1), false, emit)
        }
        Some(Head::Find) => find_payloads(t, src, h, emit),
        _ => {}
    }
}

fn emit_from(t: &Tokens, k: usize, shell: bool, emit: &mut dyn FnMut(Payload<'_>)) {
    if k >= t.len() {
        return;
    }
    emit(Payload::Word(k));
    if shell && k + 1 == t.len() {
        // `sudo -s 'a; b'` runs the word through the shell.
        emit(Payload::Text(t.value(k)));
    }
}

/// Where sudo's command starts (after options, `--` and `VAR=value`), and whether it runs
/// through a shell (`-s`, `-i`).
fn sudo_command(t: &Tokens, mut k: usize) -> (usize, bool) {
    const LONG_WITH_ARG: &[&str] = &[
        "--close-from",
        "--chdir",
        "--group",
        "--host",
        "--prompt",
        "--chroot",
        "--role",
        "--type",
        "--command-timeout",
        "--other-user",
        "--user",
    ];
    let mut shell = false;
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            k += 1;
            break;
        }
        if w.starts_with("--") {
            shell |= matches!(w, "--shell" | "--login");
            k += if LONG_WITH_ARG.contains(&w) { 2 } else { 1 };
            continue;
        }
        if w.len() < 2 || !w.starts_with('-') {
            break;
        }
        k += 1 + short_cluster(w, "CDgpRrTtUu", &mut |c| shell |= c == 's' || c == 'i');
    }
    while k < t.len() && is_assignment(t.value(k)) {
        k += 1;
    }
    (k, shell)
}

/// Walks a short-option cluster (`-Eu`, `-uroot`); returns 1 when the last option takes the next
/// word as its argument, else 0.
fn short_cluster(w: &str, with_arg: &str, on_flag: &mut dyn FnMut(char)) -> usize {
    let flags = &w[1..];
    for (i, c) in flags.char_indices() {
        on_flag(c);
        if with_arg.contains(c) {
            return usize::from(i + c.len_utf8() == flags.len());
        }
    }
    0
}

fn doas_command(t: &Tokens, mut k: usize) -> usize {
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            return k + 1;
        }
        if w.len() < 2 || !w.starts_with('-') {
            break;
        }
        k += 1 + short_cluster(w, "uC", &mut |_| {});
    }
    k
}

/// su's `-c` command text, if any (`-c X`, `-lc X`, `--command X`, `--command=X`).
fn su_command(t: &Tokens, mut k: usize) -> Option<&str> {
    while k < t.len() {
        let w = t.value(k);
        if matches!(w, "-c" | "--command" | "--session-command") {
            return (k + 1 < t.len()).then(|| t.value(k + 1));
        }
        if let Some(text) = w
            .strip_prefix("--command=")
            .or_else(|| w.strip_prefix("--session-command="))
        {
            return Some(text);
        }
        if w.starts_with('-') && !w.starts_with("--") && w.len() > 1 {
            let mut c_last = false;
            let skip = short_cluster(w, "csgGw", &mut |c| c_last = c == 'c');
            if c_last && skip == 1 {
                return (k + 1 < t.len()).then(|| t.value(k + 1));
            }
            k += 1 + skip;
            continue;
        }
        k += 1;
    }
    None
}

fn xargs_command(t: &Tokens, mut k: usize) -> usize {
    const LONG_WITH_ARG: &[&str] = &[
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--max-chars",
        "--process-slot-var",
        "--max-lines",
        "--eof",
        "--replace",
    ];
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            return k + 1;
        }
        if w.starts_with("--") {
            k += if LONG_WITH_ARG.contains(&w) { 2 } else { 1 };
            continue;
        }
        if w.len() < 2 || !w.starts_with('-') {
            break;
        }
        // -e, -i and -l take only attached arguments.
        k += 1 + short_cluster(w, "aEILnPsd", &mut |_| {});
    }
    k
}

/// Every `-exec`/`-execdir`/`-ok`/`-okdir` payload of the `find` at word `h`, once per target,
/// with `{}` replaced by the target as written.
fn find_payloads(t: &Tokens, src: &str, h: usize, emit: &mut dyn FnMut(Payload<'_>)) {
    let (targets, mut k) = find_targets(t, src, h);
    let mut text = String::new();
    while k < t.len() {
        if !is_exec_action(t.value(k)) {
            k += 1;
            continue;
        }
        let end = exec_end(t, k + 1);
        let target_raws = targets.iter().map(|&i| t.raw_text(src, i));
        let dot = core::iter::once(".").filter(|_| targets.is_empty());
        for target in dot.chain(target_raws) {
            text.clear();
            for p in k + 1..end {
                if p > k + 1 {
                    text.push(' ');
                }
                let raw = t.raw_text(src, p);
                if t.value(p) == "{}" {
                    text.push_str(target);
                } else {
                    text.push_str(raw);
                }
            }
            if !text.is_empty() {
                emit(Payload::Text(&text));
            }
        }
        k = end + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::tokenize::{tokenize, Dialect};
    use super::*;
    use alloc::vec::Vec;

    fn seen(cmd: &str) -> Vec<String> {
        let mut t = Tokens::default();
        tokenize(cmd, Dialect::Posix, &mut t);
        let mut out = Vec::new();
        payloads(&t, cmd, HeadWord::at(&t, 0), &mut |p| {
            out.push(match p {
                Payload::Word(k) => cmd[t.raw(k).start..].into(),
                Payload::Text(s) => s.into(),
            })
        });
        out
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            ("sudo rm -rf /", &["rm -rf /"]),
            ("sudo -u root -E rm -rf /", &["rm -rf /"]),
            ("sudo -Eu root -- FOO=1 rm -rf /", &["rm -rf /"]),
            (
                "sudo -uroot --preserve-env=X --user root rm -rf /",
                &["rm -rf /"],
            ),
            (
                "sudo -s 'rm -rf / && ls'",
                &["'rm -rf / && ls'", "rm -rf / && ls"],
            ),
            ("sudo -l", &[]),
            ("/usr/bin/sudo bash -c 'x y'", &["bash -c 'x y'"]),
            ("doas -u root rm -rf /", &["rm -rf /"]),
            ("su -c 'rm -rf /'", &["rm -rf /"]),
            ("su root -c 'rm -rf /'", &["rm -rf /"]),
            ("su - root -lc 'rm -rf /'", &["rm -rf /"]),
            ("su -s /bin/sh root", &[]),
            ("su --command='rm -rf /' root", &["rm -rf /"]),
            ("xargs rm -rf /", &["rm -rf /"]),
            ("xargs -0 -n1 rm -rf /", &["rm -rf /"]),
            ("xargs -I{} -P 4 --max-args 2 rm -rf {}", &["rm -rf {}"]),
            ("xargs -i rm -rf {}", &["rm -rf {}"]),
            ("find / -exec rm -rf {} \\;", &["rm -rf /"]),
            (
                "find a 'b c' -execdir shred -u {} +",
                &["shred -u a", "shred -u 'b c'"],
            ),
            ("find -ok rm {} ;", &["rm ."]),
            ("find / -name x", &[]),
        ];
        for (cmd, want) in cases {
            assert_eq!(seen(cmd), *want, "{cmd:?}");
        }
    }
}
