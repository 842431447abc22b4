//! Canonical `rm -rf <operand>` aliases for every spelling of a recursive forced delete.
//!
//! A policy author writes `rm -rf /`; an agent writes `rm -fr //`, `rm --recursive --force /`,
//! `busybox rm -vfr -- /tmp/../`, `find / -delete` or `find / -exec /bin/rm -rf {} \;`. Rather
//! than asking every policy to spell all of these, upstream reduces each of them to the one form
//! `rm -rf <operand>`, per operand: an `rm` with both a recursive flag (`-r`, `-R`,
//! `--recursive`) and a force flag (`-f`, `--force`) in any order or clustering, and `find`
//! targets that are deleted (`-delete`, or an `rm -rf {}` under `-exec`/`-execdir`, and, beyond
//! upstream, `-ok`/`-okdir`). An operand that is absolute or uses `.`/`..` is cleaned like Go's
//! `path.Clean`, so `//`, `/./` and `/tmp/../` all read as `/`. Redirections and comments are not
//! operands.

use alloc::string::String;
use alloc::vec::Vec;

use crate::invariant::or_closed;

use super::heads::{Carrier, Head, HeadWord, WindowsDelete};
use super::tokenize::{redirection_len, Tokens};

/// Calls `emit` with the operand of every canonical alias of the command in `t` (words of `src`)
/// whose head, launchers and applets skipped, is `head` (see `normalize::command_head` and
/// [`applet_head`]).
pub(crate) fn rm_find_aliases(t: &Tokens, src: &str, head: HeadWord, emit: &mut dyn FnMut(&str)) {
    let h = head.index;
    match head.class {
        Some(Head::Rm) => {
            let rm = parse_rm(t, src, h + 1, t.len());
            if rm.recursive && rm.force {
                let mut buf = String::new();
                for &k in &rm.operands {
                    // PowerShell's `rm -r -fo $HOME\Documents`: a Windows path, whose
                    // backslashes POSIX quoting would have eaten.
                    let raw = or_closed(src.get(t.raw(k)), src);
                    if raw.contains('\\') && !raw.starts_with('\'') {
                        buf.clear();
                        windows_operand(raw, &mut buf);
                        emit(&buf);
                    } else {
                        emit(t.value(k));
                    }
                }
            }
        }
        Some(Head::Find) => find_aliases(t, src, h, emit),
        Some(Head::WindowsDelete(kind)) => windows_aliases(t, src, h, kind, emit),
        Some(Head::Carrier(Carrier::Forfiles)) => forfiles_alias(t, src, h, emit),
        _ => {}
    }
}

/// Windows' recursive deletes, which read as `rm -rf <target>` with the target in the form of
/// [`windows_operand`]: cmd.exe's `del`/`erase`/`rd`/`rmdir` with `/s`, PowerShell's
/// `Remove-Item` (and its aliases `ri`, `rm`, `del`, `rd`…) with `-Recurse` or any prefix of it,
/// and `robocopy SRC DST /MIR|/PURGE`, which deletes whatever in DST the source lacks.
fn windows_aliases(
    t: &Tokens,
    src: &str,
    h: usize,
    kind: WindowsDelete,
    emit: &mut dyn FnMut(&str),
) {
    let mut buf = String::new();
    if kind == WindowsDelete::Robocopy {
        let positional: Vec<usize> = (h + 1..t.len())
            .filter(|&k| !t.value(k).starts_with('/'))
            .collect();
        let mirror = (h + 1..t.len()).any(|k| {
            ["/mir", "/purge"]
                .iter()
                .any(|f| t.value(k).eq_ignore_ascii_case(f))
        });
        if let (true, Some(&dst)) = (mirror, positional.get(1)) {
            windows_operand(or_closed(src.get(t.raw(dst)), src), &mut buf);
            emit(&buf);
        }
        return;
    }
    let mut recursive = false;
    let mut operands = Vec::new();
    let mut k = h + 1;
    while k < t.len() {
        let w = t.value(k);
        let raw = or_closed(src.get(t.raw(k)), src);
        if t.is_comment(k) {
            break;
        }
        let redirect = redirection_len(raw);
        if redirect > 0 {
            k += if redirect == raw.len() { 2 } else { 1 };
            continue;
        }
        if w.eq_ignore_ascii_case("/s") {
            recursive = true;
        } else if w.starts_with('/') && w.len() <= 3 && !w[1..].contains('/') {
            // Another cmd.exe switch (`/q`, `/f`, `/a:h`).
        } else if let Some(name) = w.strip_prefix('-').filter(|n| !n.is_empty()) {
            let name = name.split(':').next().unwrap_or("");
            if is_prefix_of(name, "recurse", 1) {
                recursive = true;
            } else if is_prefix_of(name, "path", 1) || is_prefix_of(name, "literalpath", 1) {
                if k + 1 < t.len() {
                    operands.push(k + 1);
                }
                k += 1;
            } else if !is_switch(name) && !w.contains(':') {
                // A parameter with a value (`-ErrorAction Stop`, `-Include *.bak`).
                k += 1;
            }
        } else {
            operands.push(k);
        }
        k += 1;
    }
    if recursive {
        for op in operands {
            buf.clear();
            windows_operand(or_closed(src.get(t.raw(op)), src), &mut buf);
            emit(&buf);
        }
    }
}

/// PowerShell switch parameters (no value) that a recursive delete may carry.
fn is_switch(name: &str) -> bool {
    is_prefix_of(name, "force", 2)
        || [
            "whatif", "confirm", "verbose", "debug", "wi", "cf", "vb", "db",
        ]
        .iter()
        .any(|s| name.eq_ignore_ascii_case(s))
}

/// `name` is a prefix of `full` at least `min` long, ASCII case ignored (PowerShell accepts any
/// unambiguous prefix of a parameter name).
fn is_prefix_of(name: &str, full: &str, min: usize) -> bool {
    name.len() >= min
        && name.len() <= full.len()
        && full
            .get(..name.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(name))
}

/// `forfiles /p DIR /s /c "cmd /c del @path"` deletes every file under DIR.
fn forfiles_alias(t: &Tokens, src: &str, h: usize, emit: &mut dyn FnMut(&str)) {
    let flag = |f: &str| (h + 1..t.len()).find(|&k| t.value(k).eq_ignore_ascii_case(f));
    let (Some(p), Some(_), Some(c)) = (flag("/p"), flag("/s"), flag("/c")) else {
        return;
    };
    let command = t.value(c + 1).to_ascii_lowercase();
    let deletes = ["del ", "erase ", "rd ", "rmdir ", "remove-item "]
        .iter()
        .any(|d| command.contains(d));
    if deletes && p + 1 < t.len() {
        let mut buf = String::new();
        windows_operand(or_closed(src.get(t.raw(p + 1)), src), &mut buf);
        emit(&buf);
    }
}

/// A Windows path as the canonical alias writes it: quotes dropped, `\` as `/`, a trailing
/// `\*`, `\*.*` or separator dropped (`del /s C:\x\*` deletes what `rd /s C:\x` deletes),
/// and in lower case when it is rooted in a drive, a variable or a registry hive, since Windows
/// paths are matched in any case.
pub(crate) fn windows_operand(raw: &str, out: &mut String) {
    let unquoted = raw.trim_matches(|c| c == '"' || c == '\'');
    let start = out.len();
    for c in unquoted.chars() {
        out.push(if c == '\\' { '/' } else { c });
    }
    loop {
        let tail = or_closed(out.get(start..), out);
        let cut = ["/*.*", "/*"]
            .iter()
            .find(|s| tail.ends_with(*s))
            .map(|s| s.len())
            .or_else(|| (tail.len() > 3 && tail.ends_with('/')).then_some(1));
        match cut {
            Some(n) => out.truncate(out.len() - n),
            None => break,
        }
    }
    let tail = or_closed(out.get(start..), out);
    let b = tail.as_bytes();
    let drive = matches!(b, [letter, b':', ..] if letter.is_ascii_alphabetic());
    let rooted = drive
        || tail.starts_with('%')
        || tail.starts_with('~')
        || ["$env:", "$home", "hklm:", "hkcu:", "registry::"]
            .iter()
            .any(|p| {
                tail.get(..p.len())
                    .is_some_and(|h| h.eq_ignore_ascii_case(p))
            });
    if rooted {
        let lower = tail.to_ascii_lowercase();
        out.truncate(start);
        out.push_str(&lower);
    }
}

/// Skips `busybox`/`toybox` (any path): `busybox rm -rf /` runs the `rm` applet.
pub(crate) fn applet_head(t: &Tokens, mut head: HeadWord) -> HeadWord {
    while head.index + 1 < t.len() && head.is(Head::Applet) {
        head = HeadWord::at(t, head.index + 1);
    }
    head
}

struct Rm {
    recursive: bool,
    force: bool,
    operands: Vec<usize>,
}

/// Reads rm's words `from..to`. GNU rm takes options anywhere before `--`.
fn parse_rm(t: &Tokens, src: &str, from: usize, to: usize) -> Rm {
    let mut rm = Rm {
        recursive: false,
        force: false,
        operands: Vec::new(),
    };
    let mut options = true;
    let mut k = from;
    while k < to {
        if t.is_comment(k) {
            break;
        }
        let w = t.value(k);
        let raw = t.raw_text(src, k);
        let redirect = redirection_len(raw);
        if redirect > 0 {
            k += if redirect == raw.len() { 2 } else { 1 };
            continue;
        }
        if options && w == "--" {
            options = false;
        } else if options && w.starts_with("--") {
            rm.recursive |= w == "--recursive";
            rm.force |= w == "--force";
        } else if options && w.len() > 1 && w.starts_with('-') {
            rm.recursive |= w.contains(['r', 'R']);
            rm.force |= w.contains('f');
        } else {
            rm.operands.push(k);
        }
        k += 1;
    }
    rm
}

/// The targets of a `find` at word `h` (indices; empty means `.`) and where its expression starts.
pub(crate) fn find_targets(t: &Tokens, src: &str, h: usize) -> (Vec<usize>, usize) {
    let mut k = h + 1;
    loop {
        match t.value(k) {
            "-H" | "-L" | "-P" => k += 1,
            "-D" => k += 2,
            w if w.starts_with("-O") => k += 1,
            _ => break,
        }
    }
    let mut targets = Vec::new();
    while k < t.len() {
        let w = t.value(k);
        let raw = t.raw_text(src, k);
        let expression = w.starts_with('-') || matches!(w, "(" | "!" | ")" | ",");
        if expression || t.is_comment(k) || redirection_len(raw) > 0 {
            break;
        }
        targets.push(k);
        k += 1;
    }
    (targets, k)
}

/// The end of an `-exec` payload starting at `from`: the index of its `;` or `+`, or the end.
pub(crate) fn exec_end(t: &Tokens, from: usize) -> usize {
    (from..t.len())
        .find(|&k| matches!(t.value(k), ";" | "+"))
        .unwrap_or(t.len())
}

pub(crate) fn is_exec_action(w: &str) -> bool {
    matches!(w, "-exec" | "-execdir" | "-ok" | "-okdir")
}

fn find_aliases(t: &Tokens, src: &str, h: usize, emit: &mut dyn FnMut(&str)) {
    let (targets, expr) = find_targets(t, src, h);
    let each_target = |emit: &mut dyn FnMut(&str), template: &str| {
        if targets.is_empty() {
            emit(&template.replace("{}", "."));
        }
        for &k in &targets {
            emit(&template.replace("{}", t.value(k)));
        }
    };
    let mut k = expr;
    while k < t.len() {
        if t.is_comment(k) {
            break;
        }
        let w = t.value(k);
        if w == "-delete" {
            each_target(emit, "{}");
        } else if is_exec_action(w) {
            let end = exec_end(t, k + 1);
            let head = applet_head(t, HeadWord::at(t, k + 1));
            if head.index < end && head.is(Head::Rm) {
                let rm = parse_rm(t, src, head.index + 1, end);
                if rm.recursive && rm.force {
                    for &op in &rm.operands {
                        let operand = t.value(op);
                        if operand.contains("{}") {
                            each_target(emit, operand);
                        } else {
                            emit(operand);
                        }
                    }
                }
            }
            k = end;
        }
        k += 1;
    }
}

/// Appends `rm -rf <operand>` to `out`, cleaning the operand when it is absolute or uses `.`/`..`.
pub(crate) fn canonical_alias(operand: &str, out: &mut String) {
    out.push_str("rm -rf ");
    let dotted = operand.split('/').any(|p| p == "." || p == "..");
    if operand.starts_with('/') || dotted {
        clean_path(operand, out);
    } else {
        out.push_str(operand);
    }
}

/// Go's `path.Clean`, appended to `out`.
pub(crate) fn clean_path(p: &str, out: &mut String) {
    let rooted = p.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    if rooted {
        out.push('/');
    }
    for (k, part) in parts.iter().enumerate() {
        if k > 0 {
            out.push('/');
        }
        out.push_str(part);
    }
    if !rooted && parts.is_empty() {
        out.push('.');
    }
}

#[cfg(test)]
mod tests {
    use super::super::normalize::command_head;
    use super::super::tokenize::{tokenize, Dialect};
    use super::*;

    fn aliases(cmd: &str) -> Vec<String> {
        let mut t = Tokens::default();
        tokenize(cmd, Dialect::Posix, &mut t);
        let mut out = Vec::new();
        let head = applet_head(&t, command_head(&t, 0));
        rm_find_aliases(&t, cmd, head, &mut |op| {
            let mut s = String::new();
            canonical_alias(op, &mut s);
            out.push(s);
        });
        out
    }

    #[test]
    fn rm_spellings() {
        for cmd in [
            "rm -rf /",
            "rm -fr /",
            "rm -r -f /",
            "rm -R --force /",
            "rm --recursive --force /",
            "rm -vfr -- /",
            "busybox rm -rf /",
            "/bin/busybox rm -rf /",
            "toybox rm -rf /",
            "/bin/rm -rf /",
            "rm -rf //",
            "rm -rf /./",
            "rm -rf /tmp/../",
            "rm / -rf",
            "FOO=1 nohup rm -rf /",
            "rm -rf / 2>/dev/null",
            "rm -rf / > log",
            "rm -rf / # comment",
        ] {
            assert_eq!(aliases(cmd), ["rm -rf /"], "{cmd:?}");
        }
        assert_eq!(aliases("rm -rf /tmp /"), ["rm -rf /tmp", "rm -rf /"]);
        assert_eq!(aliases("rm -rf -- -x"), ["rm -rf -x"]);
        assert_eq!(aliases("rm -rf '#x'"), ["rm -rf #x"]);
        assert!(aliases("rm -f /").is_empty());
        assert!(aliases("rm -r /").is_empty());
        assert!(aliases("echo rm -rf /").is_empty());
    }

    #[test]
    fn find_spellings() {
        let cases: &[(&str, &[&str])] = &[
            ("find / -delete", &["rm -rf /"]),
            ("find -delete", &["rm -rf ."]),
            (
                "find -L / /home -name x -delete",
                &["rm -rf /", "rm -rf /home"],
            ),
            ("find / -exec /bin/rm -rf {} \\;", &["rm -rf /"]),
            ("find / -execdir rm -fr {} +", &["rm -rf /"]),
            ("find / -ok busybox rm -rf {} ;", &["rm -rf /"]),
            ("find /tmp/cache -delete", &["rm -rf /tmp/cache"]),
            ("find / -exec rm -f {} ;", &[]),
            ("find / -name '*.log' -print", &[]),
            ("find / -exec rm -rf /etc ;", &["rm -rf /etc"]),
        ];
        for (cmd, want) in cases {
            assert_eq!(aliases(cmd), *want, "{cmd:?}");
        }
    }

    #[test]
    fn windows_spellings() {
        let cases: &[(&str, &[&str])] = &[
            (
                "del /f /s /q C:\\Users\\dev\\source\\*",
                &["rm -rf c:/users/dev/source"],
            ),
            (
                "DEL /F /S /Q %SystemRoot%\\System32\\*",
                &["rm -rf %systemroot%/system32"],
            ),
            (
                "rd /s /q %USERPROFILE%\\AppData",
                &["rm -rf %userprofile%/appdata"],
            ),
            ("del /q /s /f D:\\backups\\*.*", &["rm -rf d:/backups"]),
            ("rd /s /q node_modules", &["rm -rf node_modules"]),
            ("del /q build\\*.obj", &[]),
            (
                "Remove-Item -Path $env:USERPROFILE -Recurse -Force",
                &["rm -rf $env:userprofile"],
            ),
            (
                "Remove-Item ~\\source -Recurse -Force -ErrorAction SilentlyContinue",
                &["rm -rf ~/source"],
            ),
            ("ri -r -fo C:\\inetpub", &["rm -rf c:/inetpub"]),
            ("rm -r -fo $HOME\\Documents", &["rm -rf $home/documents"]),
            ("del -Recurse -Force D:\\data", &["rm -rf d:/data"]),
            (
                "Remove-Item .\\node_modules -Recurse -Force",
                &["rm -rf node_modules"],
            ),
            ("Remove-Item x.txt", &[]),
            (
                "robocopy C:\\empty C:\\Users\\dev /MIR",
                &["rm -rf c:/users/dev"],
            ),
            ("robocopy dist \\\\share\\drop /E", &[]),
            (
                "forfiles /p C:\\Users\\dev /s /c \"cmd /c del /q @path\"",
                &["rm -rf c:/users/dev"],
            ),
        ];
        for (cmd, want) in cases {
            assert_eq!(aliases(cmd), *want, "{cmd:?}");
        }
    }

    #[test]
    fn clean_table() {
        for (p, want) in [
            ("/", "/"),
            ("//", "/"),
            ("/./", "/"),
            ("/tmp/../", "/"),
            ("/../..", "/"),
            ("a/../..", ".."),
            ("./", "."),
            ("a/./b//c/", "a/b/c"),
            ("", "."),
        ] {
            let mut s = String::new();
            clean_path(p, &mut s);
            assert_eq!(s, want, "{p:?}");
        }
    }
}
