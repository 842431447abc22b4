//! Seeing through privilege, fan-out and scheduling wrappers (an improvement over upstream).
//!
//! Upstream does not unwrap `sudo`, `doas`, `su -c`, `xargs` or `find -exec`, so `xargs rm -rf /`
//! passes standard.yaml and `sudo rm -rf /` only asks. For restrictive rules these wrappers run
//! their payload just as surely as `nohup` does, so the restrictive stage reads the payload too.
//! The same holds for the launchers that only change how a program is scheduled or where it runs
//! (`ionice`, `chrt`, `taskset`, `numactl`, `unbuffer`, `flock`, `script -c`, `watch`, `runuser`,
//! `wsl`, `conhost`, `pcalua`) and for the dynamic loader run as a program:
//! `/lib64/ld-linux-x86-64.so.2 /bin/rm -rf ~` maps `rm` into its own process, so the only exec
//! anyone sees is the loader's. Grant components never see through any of them: allowing `git *`
//! must not allow `sudo git push`.
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
        Some(Head::SeeThrough(launcher)) => launcher_payload(t, h, launcher, emit),
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

/// The command a scheduling or placement launcher at word `h` runs.
fn launcher_payload(t: &Tokens, h: usize, launcher: SeeThrough, emit: &mut dyn FnMut(Payload<'_>)) {
    let k = h + 1;
    match launcher {
        SeeThrough::Ionice => {
            if let Some(k) = ionice_command(t, k) {
                emit_from(t, k, false, emit);
            }
        }
        SeeThrough::Chrt => {
            if let Some(k) = chrt_command(t, k) {
                emit_from(t, k, false, emit);
            }
        }
        SeeThrough::Taskset => {
            if let Some(k) = taskset_command(t, k) {
                emit_from(t, k, false, emit);
            }
        }
        SeeThrough::Numactl => emit_from(t, options_then(t, k, NUMACTL_WITH_ARG), false, emit),
        SeeThrough::Loader => emit_from(t, options_then(t, k, LOADER_WITH_ARG), false, emit),
        SeeThrough::Unbuffer => emit_from(t, options_then(t, k, &[]), false, emit),
        SeeThrough::Flock => flock_payload(t, k, emit),
        SeeThrough::Script => {
            // `-c TEXT`, also in a cluster (`-qc TEXT`), or `--command TEXT`.
            let clustered = (k..t.len()).find(|&j| {
                let w = t.value(j);
                w.len() > 1 && w.starts_with('-') && !w.starts_with("--") && w.ends_with('c')
            });
            let text = clustered
                .and_then(|j| (j + 1 < t.len()).then(|| t.value(j + 1)))
                .or_else(|| value_of(t, k, &["--command"]));
            if let Some(text) = text {
                emit(Payload::Text(text));
            }
        }
        SeeThrough::Watch => {
            let k = options_then(t, k, &["-n", "--interval", "-q", "--equexit"]);
            emit_words(t, k, emit);
        }
        SeeThrough::Runuser => match value_of(t, k, &["-c", "--command"]) {
            Some(text) => emit(Payload::Text(text)),
            None => emit_from(t, after_dashdash(t, k), false, emit),
        },
        SeeThrough::Wsl => {
            let with_arg = [
                "-d",
                "--distribution",
                "-u",
                "--user",
                "--cd",
                "--shell-type",
            ];
            emit_from(t, options_then(t, k, &with_arg), false, emit);
        }
        SeeThrough::Conhost => {
            let k = options_then(t, k, &["--width", "--height", "--signal", "--server"]);
            emit_from(t, k, false, emit);
        }
        SeeThrough::Pcalua => {
            // The program's raw word: a Windows path, whose backslashes POSIX quoting would eat.
            if let Some(j) = (k..t.len()).find(|&j| t.value(j) == "-a") {
                emit_from(t, j + 1, false, emit);
            }
        }
        SeeThrough::Sudo | SeeThrough::Doas | SeeThrough::Su | SeeThrough::Xargs => {}
    }
}

/// Options of numactl that take the next word.
const NUMACTL_WITH_ARG: &[&str] = &[
    "-N",
    "-m",
    "-C",
    "-i",
    "-p",
    "-P",
    "--cpunodebind",
    "--membind",
    "--physcpubind",
    "--interleave",
    "--preferred",
    "--preferred-many",
];

/// Options of the dynamic loader that take the next word (`ld.so --help`).
const LOADER_WITH_ARG: &[&str] = &[
    "--library-path",
    "--inhibit-rpath",
    "--audit",
    "--preload",
    "--argv0",
    "--glibc-hwcaps-prepend",
    "--glibc-hwcaps-mask",
];

/// The first word at or after `k` that is not an option (skipping the next word after one of
/// `with_arg`, and stopping after `--`).
fn options_then(t: &Tokens, mut k: usize, with_arg: &[&str]) -> usize {
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            return k + 1;
        }
        if !w.starts_with('-') || w.len() < 2 {
            return k;
        }
        k += if with_arg.contains(&w) { 2 } else { 1 };
    }
    k
}

/// The value after the first of `flags` at or after `k` (`-c TEXT`), or after `flag=`.
fn value_of<'t>(t: &'t Tokens, k: usize, flags: &[&str]) -> Option<&'t str> {
    (k..t.len()).find_map(|j| {
        let w = t.value(j);
        if flags.contains(&w) {
            (j + 1 < t.len()).then(|| t.value(j + 1))
        } else {
            flags.iter().find_map(|f| {
                w.strip_prefix(f)
                    .and_then(|rest| rest.strip_prefix('='))
                    .filter(|_| f.starts_with("--"))
            })
        }
    })
}

fn after_dashdash(t: &Tokens, k: usize) -> usize {
    (k..t.len())
        .find(|&j| t.value(j) == "--")
        .map_or(t.len(), |j| j + 1)
}

/// Words from `k` on, joined as shell text (`watch` runs them through `sh -c`).
fn emit_words(t: &Tokens, k: usize, emit: &mut dyn FnMut(Payload<'_>)) {
    if k >= t.len() {
        return;
    }
    let mut text = String::new();
    for j in k..t.len() {
        if j > k {
            text.push(' ');
        }
        text.push_str(t.value(j));
    }
    emit(Payload::Text(&text));
}

/// `ionice [-c C] [-n N] [-t] CMD`; none with `-p`, `-P` or `-u` (those name processes).
fn ionice_command(t: &Tokens, mut k: usize) -> Option<usize> {
    while k < t.len() {
        let w = t.value(k);
        match w {
            "-c" | "-n" | "--class" | "--classdata" => k += 2,
            "-t" | "--ignore" => k += 1,
            "-p" | "-P" | "-u" | "--pid" | "--pgid" | "--uid" => return None,
            "--" => return Some(k + 1),
            _ if w.len() > 2 && (w.starts_with("-c") || w.starts_with("-n")) => k += 1,
            _ if w.starts_with("--class=") || w.starts_with("--classdata=") => k += 1,
            _ => return Some(k),
        }
    }
    None
}

/// `chrt [options] PRIORITY CMD`; none with `-p` or a query (`-m`).
fn chrt_command(t: &Tokens, mut k: usize) -> Option<usize> {
    while k < t.len() {
        let w = t.value(k);
        match w {
            "-p" | "--pid" | "-m" | "--max" | "-h" | "--help" | "-V" | "--version" => return None,
            "-T" | "-P" | "-D" | "--sched-runtime" | "--sched-period" | "--sched-deadline" => {
                k += 2
            }
            "--" => {
                k += 1;
                break;
            }
            _ if w.starts_with('-') && w.len() > 1 => k += 1,
            _ => break,
        }
    }
    // The priority, then the command.
    (k + 1 < t.len()).then_some(k + 1)
}

/// `taskset [-a] [-c] MASK CMD`; none with `-p`.
fn taskset_command(t: &Tokens, mut k: usize) -> Option<usize> {
    while k < t.len() {
        let w = t.value(k);
        if w == "--" {
            k += 1;
            break;
        }
        if !w.starts_with('-') || w.len() < 2 {
            break;
        }
        if w.contains('p') && !w.starts_with("--") || w == "--pid" {
            return None;
        }
        k += 1;
    }
    (k + 1 < t.len()).then_some(k + 1)
}

/// `flock [options] FILE CMD…` or `flock [options] FILE -c TEXT`.
fn flock_payload(t: &Tokens, k: usize, emit: &mut dyn FnMut(Payload<'_>)) {
    let with_arg = ["-w", "--timeout", "-E", "--conflict-exit-code"];
    let file = options_then(t, k, &with_arg);
    let next = file + 1;
    match t.value(next) {
        "-c" | "--command" => {
            if next + 1 < t.len() {
                emit(Payload::Text(t.value(next + 1)));
            }
        }
        _ => emit_from(t, next, false, emit),
    }
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
            ("ionice -c3 rm -rf /var/www", &["rm -rf /var/www"]),
            ("ionice -c 2 -n 7 rm -rf /", &["rm -rf /"]),
            ("ionice -p 42", &[]),
            ("chrt -i 0 rm -rf /home", &["rm -rf /home"]),
            ("chrt --fifo 50 rm x", &["rm x"]),
            ("chrt -p 42", &[]),
            ("taskset -c 0 rm -rf ~", &["rm -rf ~"]),
            ("taskset 0x3 rm x", &["rm x"]),
            ("taskset -pc 0 42", &[]),
            ("numactl --membind 0 rm x", &["rm x"]),
            (
                "/lib64/ld-linux-x86-64.so.2 /bin/rm -rf ~",
                &["/bin/rm -rf ~"],
            ),
            ("ld.so --library-path /x /bin/sh -p", &["/bin/sh -p"]),
            ("flock /tmp/l rm x", &["rm x"]),
            ("flock -w 5 /tmp/l -c 'rm x'", &["rm x"]),
            ("script -qc 'rm x' /dev/null", &["rm x"]),
            ("script -c 'rm x' /dev/null", &["rm x"]),
            ("watch -n 5 rm x", &["rm x"]),
            ("runuser -u bob -- rm x", &["rm x"]),
            ("runuser bob -c 'rm x'", &["rm x"]),
            ("wsl -e /bin/sh -c x", &["/bin/sh -c x"]),
            ("wsl.exe -d Ubuntu -- rm x", &["rm x"]),
            ("conhost.exe --headless cmd /c x.bat", &["cmd /c x.bat"]),
            ("pcalua.exe -a x.exe -c y", &["x.exe -c y"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(seen(cmd), *want, "{cmd:?}");
        }
    }
}
