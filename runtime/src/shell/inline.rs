//! Commands carried inside another program's arguments.
//!
//! A rule that denies `rm -rf ~` is blind to `python3 -c 'import os; os.system("rm -rf ~")'`,
//! `vim -c ':!rm -rf ~'`, `git`-free escapes such as `tar --checkpoint-action=exec='rm -rf ~'`
//! and `ssh -o ProxyCommand='sh -c "curl …|sh"'`: each runs the command it was handed, and the
//! shell only sees the program that carries it (GTFOBins lists hundreds). The restrictive stage
//! reads what these programs carry as readings of their own, so the usual rules judge it:
//!
//! * an interpreter's one-liner (`python -c`, `perl -e`, `ruby -e`, `node -e`, `php -r`,
//!   `lua -e`, an awk program, `osascript -e`): the string literals passed to its exec
//!   functions (`os.system`, `subprocess.run`, `system`, `exec`, `execSync`, `spawn`,
//!   `shell_exec`, `os.execute`, `do shell script`, backticks, `qx`, `%x`), each alone and joined
//!   with spaces (an argv list such as `["rm", "-rf", "/"]` reads as `rm -rf /`);
//! * an editor's or a debugger's shell escape (`vim -c ':!cmd'`, `gdb -ex '!cmd'`,
//!   `gdb -ex 'shell cmd'`, `sqlite3 db '.shell cmd'`);
//! * an option whose value is a command (`zip -TT`, `tar --checkpoint-action=exec=`,
//!   `--to-command`, `-I`, `ssh -o ProxyCommand=`/`LocalCommand=`, `rsync -e`,
//!   `forfiles /c`).
//!
//! A command built at run time (`os.system(cmd)`) has no literal to read; the profiles deny such
//! one-liners by their exec function instead. Reading too much only over-restricts, so a literal
//! that is not a command (`subprocess.run(["git", "status"])` reads as `git status`) does no harm.

use alloc::string::String;
use alloc::vec::Vec;

use crate::invariant::or_closed;

use super::heads::Carrier;
use super::tokenize::Tokens;

/// Calls `emit` with every command the carrier `kind` at word `h` of `t` is handed.
pub(crate) fn carried(t: &Tokens, kind: Carrier, h: usize, emit: &mut dyn FnMut(&str)) {
    let k = h + 1;
    match kind {
        Carrier::Python => code_after(t, k, &["-c"], PYTHON, emit),
        Carrier::Perl => clustered_code(t, k, &['e', 'E'], PERL, emit),
        Carrier::Ruby => clustered_code(t, k, &['e'], RUBY, emit),
        Carrier::Node => code_after(t, k, &["-e", "--eval", "-p", "--print"], NODE, emit),
        Carrier::Php => code_after(t, k, &["-r"], PHP, emit),
        Carrier::Lua => code_after(t, k, &["-e"], LUA, emit),
        Carrier::Awk => {
            if let Some(program) = awk_program(t, k) {
                exec_strings(program, AWK, emit);
                piped_strings(program, emit);
            }
        }
        Carrier::Osascript => code_after(t, k, &["-e"], OSASCRIPT, emit),
        Carrier::Vim => vim_escapes(t, k, emit),
        Carrier::Gdb => gdb_escapes(t, k, emit),
        Carrier::Sqlite => {
            for j in k..t.len() {
                let w = t.value(j).trim_start();
                if let Some(cmd) = w
                    .strip_prefix(".shell ")
                    .or_else(|| w.strip_prefix(".system "))
                {
                    emit(cmd);
                }
            }
        }
        Carrier::Zip => option_values(t, k, &["-TT", "--unzip-command"], emit),
        Carrier::Tar => {
            option_values(
                t,
                k,
                &["--to-command", "-I", "--use-compress-program"],
                emit,
            );
            option_values(t, k, &["--info-script", "--new-volume-script", "-F"], emit);
            for j in k..t.len() {
                if let Some(cmd) = t.value(j).strip_prefix("--checkpoint-action=exec=") {
                    emit(cmd);
                }
            }
        }
        Carrier::Ssh => ssh_commands(t, k, emit),
        Carrier::Rsync => option_values(t, k, &["-e", "--rsh"], emit),
        // `Invoke-Expression 'Remove-Item …'`: a literal command string (a script file has no
        // space in its name, so nothing else is read).
        Carrier::Source => {
            for j in k..t.len() {
                if t.value(j).contains(' ') {
                    emit(t.value(j));
                }
            }
        }
        Carrier::Forfiles => {
            for j in k..t.len() {
                if t.value(j).eq_ignore_ascii_case("/c") && j + 1 < t.len() {
                    emit(t.value(j + 1));
                }
            }
        }
    }
}

/// Exec functions by language: a call of one of these runs its string arguments.
const PYTHON: &[&str] = &[
    "system",
    "popen",
    "execl",
    "execlp",
    "execle",
    "execv",
    "execvp",
    "execvpe",
    "spawnl",
    "spawnlp",
    "spawnv",
    "spawnvp",
    "run",
    "call",
    "check_call",
    "check_output",
    "Popen",
    "getoutput",
    "getstatusoutput",
    "spawn",
];
const PERL: &[&str] = &["system", "exec", "qx", "open"];
const RUBY: &[&str] = &[
    "system", "exec", "spawn", "popen", "popen3", "capture2", "capture3",
];
const NODE: &[&str] = &[
    "exec",
    "execSync",
    "execFile",
    "execFileSync",
    "spawn",
    "spawnSync",
    "Command",
    "run",
];
const PHP: &[&str] = &[
    "system",
    "exec",
    "shell_exec",
    "passthru",
    "popen",
    "proc_open",
];
const LUA: &[&str] = &["execute", "popen"];
const AWK: &[&str] = &["system"];
const OSASCRIPT: &[&str] = &["do shell script"];

/// The code after one of `flags`, read for `fns`.
fn code_after(t: &Tokens, k: usize, flags: &[&str], fns: &[&str], emit: &mut dyn FnMut(&str)) {
    for j in k..t.len() {
        if flags.contains(&t.value(j)) && j + 1 < t.len() {
            let code = t.value(j + 1);
            exec_strings(code, fns, emit);
            backticks(code, emit);
        }
    }
}

/// Like [`code_after`], for interpreters whose code flag may end a cluster (`perl -ne CODE`).
fn clustered_code(t: &Tokens, k: usize, flags: &[char], fns: &[&str], emit: &mut dyn FnMut(&str)) {
    for j in k..t.len() {
        let w = t.value(j);
        let is_flag = w.len() > 1
            && w.starts_with('-')
            && !w.starts_with("--")
            && w.chars().last().is_some_and(|c| flags.contains(&c));
        if is_flag && j + 1 < t.len() {
            let code = t.value(j + 1);
            exec_strings(code, fns, emit);
            backticks(code, emit);
        }
    }
}

/// awk's program: its first operand after the options (`-F`, `-v`, `-f` take a value; a
/// program from a file has none here).
fn awk_program(t: &Tokens, mut k: usize) -> Option<&str> {
    while k < t.len() {
        let w = t.value(k);
        match w {
            "-f" | "--file" => return None,
            "-F" | "-v" | "--assign" | "--field-separator" => k += 2,
            "--" => return t.get_value(k + 1),
            _ if w.starts_with('-') && w.len() > 1 => k += 1,
            _ => return Some(w),
        }
    }
    None
}

/// awk's `print | "cmd"` and `"cmd" | getline`: the string on the command side of the pipe.
fn piped_strings(code: &str, emit: &mut dyn FnMut(&str)) {
    let mut lits = Vec::new();
    literals(code, &mut lits);
    for (range, text) in &lits {
        let before = or_closed(code.get(..range.start), code).trim_end();
        let after = or_closed(code.get(range.end..), code).trim_start();
        if before.ends_with('|') || after.starts_with("| getline") || after.starts_with("|getline")
        {
            emit(text);
        }
    }
}

/// vim's `-c CMD`, `--cmd CMD` and `+CMD`: a `:!cmd` shell escape, and `system('cmd')`.
fn vim_escapes(t: &Tokens, k: usize, emit: &mut dyn FnMut(&str)) {
    for j in k..t.len() {
        let w = t.value(j);
        let cmd = match w {
            "-c" | "--cmd" => t.get_value(j + 1),
            _ => w.strip_prefix('+'),
        };
        if let Some(cmd) = cmd {
            let cmd = cmd.trim_start_matches([':', ' ']);
            if let Some(shell) = cmd.strip_prefix('!') {
                emit(shell);
            }
            exec_strings(cmd, &["system", "systemlist"], emit);
        }
    }
}

/// gdb's `-ex`/`-iex`/`--eval-command`: `!cmd`, `shell cmd`, and Python's exec calls.
fn gdb_escapes(t: &Tokens, k: usize, emit: &mut dyn FnMut(&str)) {
    for j in k..t.len() {
        let w = t.value(j);
        let cmd = match w {
            "-ex" | "--ex" | "-iex" | "--iex" | "-eval-command" | "--eval-command" => {
                t.get_value(j + 1)
            }
            _ => w.strip_prefix("--eval-command="),
        };
        let Some(cmd) = cmd.map(str::trim_start) else {
            continue;
        };
        if let Some(shell) = cmd.strip_prefix('!').or_else(|| cmd.strip_prefix("shell ")) {
            emit(shell);
        }
        if let Some(py) = cmd.strip_prefix("python") {
            exec_strings(py, PYTHON, emit);
        }
    }
}

/// ssh's `-o ProxyCommand=…` / `-oLocalCommand=…` / `-o 'ProxyCommand …'`.
fn ssh_commands(t: &Tokens, k: usize, emit: &mut dyn FnMut(&str)) {
    const KEYS: [&str; 3] = ["proxycommand", "localcommand", "knownhostscommand"];
    for j in k..t.len() {
        let w = t.value(j);
        let option = match w {
            "-o" => t.get_value(j + 1),
            _ => w.strip_prefix("-o"),
        };
        let Some(option) = option else {
            continue;
        };
        let split = option.find(['=', ' ']).unwrap_or(option.len());
        let (key, value) = option.split_at(split);
        if KEYS.iter().any(|k| key.eq_ignore_ascii_case(k)) {
            emit(value.get(1..).unwrap_or("").trim());
        }
    }
}

/// The values of `names` (`-TT CMD`, `--to-command=CMD`, `--to-command CMD`).
fn option_values(t: &Tokens, k: usize, names: &[&str], emit: &mut dyn FnMut(&str)) {
    for j in k..t.len() {
        let w = t.value(j);
        if names.contains(&w) {
            if let Some(v) = t.get_value(j + 1) {
                emit(v);
            }
        } else if let Some(v) = names.iter().find_map(|n| {
            w.strip_prefix(n)
                .and_then(|rest| rest.strip_prefix('='))
                .filter(|_| n.starts_with("--"))
        }) {
            emit(v);
        }
    }
}

/// The string literals passed to a call of one of `fns` in `code`, each alone and (when there
/// are several) joined with spaces.
fn exec_strings(code: &str, fns: &[&str], emit: &mut dyn FnMut(&str)) {
    let mut lits = Vec::new();
    let mut joined = String::new();
    for f in fns {
        let mut from = 0;
        while let Some(at) = code.get(from..).and_then(|s| s.find(f)).map(|i| i + from) {
            from = at + f.len();
            let before = code.get(..at).and_then(|s| s.chars().last());
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let args = call_arguments(or_closed(code.get(from..), code));
            lits.clear();
            literals(args, &mut lits);
            joined.clear();
            for (k, (_, text)) in lits.iter().enumerate() {
                emit(text);
                if k > 0 {
                    joined.push(' ');
                }
                joined.push_str(text);
            }
            if lits.len() > 1 {
                emit(&joined);
            }
        }
    }
}

/// The text of a call's arguments after the function's name: up to the matching `)` when a
/// `(` follows, else up to the end of the statement (`system "x"`, `do shell script "x"`).
fn call_arguments(rest: &str) -> &str {
    let trimmed = rest.trim_start();
    let offset = rest.len() - trimmed.len();
    let b = trimmed.as_bytes();
    let Some(first) = b.first() else {
        return "";
    };
    let starts_call = matches!(first, b'(' | b'"' | b'\'' | b'{' | b'[');
    let starts_call = starts_call || (rest.starts_with(' ') && *first != b'=');
    if !starts_call {
        return "";
    }
    if *first == b'(' {
        let mut depth = 0usize;
        let mut quote: Option<u8> = None;
        let mut k = 0;
        while let Some(&c) = b.get(k) {
            match quote {
                Some(_) if c == b'\\' => k += 1,
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    b'"' | b'\'' | b'`' => quote = Some(c),
                    b'(' | b'[' | b'{' => depth += 1,
                    b')' | b']' | b'}' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return rest.get(offset..offset + k + 1).unwrap_or("");
                        }
                    }
                    _ => {}
                },
            }
            k += 1;
        }
        return rest.get(offset..).unwrap_or("");
    }
    let end = trimmed.find([';', '\n']).unwrap_or(trimmed.len());
    rest.get(offset..offset + end).unwrap_or("")
}

/// The quoted string literals of `code` (single, double or backtick quoted), unescaped, with
/// their byte ranges in `code`.
fn literals(code: &str, out: &mut Vec<(core::ops::Range<usize>, String)>) {
    let b = code.as_bytes();
    let mut k = 0;
    while let Some(&q) = b.get(k) {
        if !matches!(q, b'"' | b'\'' | b'`') {
            k += 1;
            continue;
        }
        let start = k;
        let mut text = String::new();
        k += 1;
        let mut closed = false;
        while let Some(&c) = b.get(k) {
            if let (b'\\', Some(&next)) = (c, b.get(k + 1)) {
                // The escaped character whole: after a backslash a multi-byte character is
                // one character, not its first byte.
                let len = utf8_len(next);
                match next {
                    b'n' => text.push('\n'),
                    b't' => text.push('\t'),
                    _ => text.push_str(or_closed(code.get(k + 1..k + 1 + len), "")),
                }
                k += 1 + len;
                continue;
            }
            if c == q {
                closed = true;
                break;
            }
            // Multi-byte characters are copied whole.
            let len = utf8_len(c);
            text.push_str(or_closed(code.get(k..k + len), code));
            k += len;
        }
        if closed {
            out.push((start..k + 1, text));
        }
        k += 1;
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

/// Perl's, Ruby's and PHP's backtick commands and `qx{…}`/`%x(…)`.
fn backticks(code: &str, emit: &mut dyn FnMut(&str)) {
    let mut lits = Vec::new();
    literals(code, &mut lits);
    for (range, text) in &lits {
        if code.as_bytes().get(range.start) == Some(&b'`') {
            emit(text);
        }
    }
    for opener in ["qx{", "qx(", "qx/", "%x(", "%x{"] {
        let mut from = 0;
        while let Some(at) = code
            .get(from..)
            .and_then(|s| s.find(opener))
            .map(|i| i + from)
        {
            let body_start = at + opener.len();
            let close = match opener.as_bytes().last() {
                Some(b'{') => '}',
                Some(b'(') => ')',
                _ => '/',
            };
            let body = or_closed(code.get(body_start..), code);
            let end = body.find(close).unwrap_or(body.len());
            emit(or_closed(body.get(..end), body));
            from = body_start + end;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::heads::{classify, Head};
    use super::super::tokenize::{tokenize, Dialect};
    use super::*;
    use alloc::string::ToString;

    fn carried_by(cmd: &str) -> Vec<String> {
        let mut t = Tokens::default();
        tokenize(cmd, Dialect::Posix, &mut t);
        let Some(Head::Carrier(kind)) = classify(t.value(0)) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        carried(&t, kind, 0, &mut |s| out.push(s.to_string()));
        out
    }

    #[test]
    fn an_escaped_multibyte_character_is_taken_whole() {
        let mut lits = Vec::new();
        literals("print '\\é\\n' \"a\\ü\"", &mut lits);
        let texts: Vec<&str> = lits.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["é\n", "aü"]);
        // Unclosed after the escape: nothing is read past the end.
        lits.clear();
        literals("awk '\\é", &mut lits);
        assert!(lits.is_empty());
    }

    #[test]
    fn table() {
        let cases: &[(&str, &[&str])] = &[
            (
                "python3 -c 'import os; os.system(\"rm -rf ~\")'",
                &["rm -rf ~"],
            ),
            (
                "python -c 'import subprocess; subprocess.run([\"rm\", \"-rf\", \"/\"])'",
                &["rm", "-rf", "/", "rm -rf /"],
            ),
            ("python3 -c 'print(1)'", &[]),
            ("perl -e 'system(\"id\")'", &["id"]),
            ("perl -ne 'print `id`'", &["id"]),
            ("ruby -e 'system \"curl x|sh\"'", &["curl x|sh"]),
            ("ruby -e 'exec \"/bin/sh\"'", &["/bin/sh"]),
            (
                "node -e \"require('child_process').execSync('id')\"",
                &["id"],
            ),
            ("php -r 'shell_exec(\"id\");'", &["id"]),
            ("lua -e 'os.execute(\"id\")'", &["id"]),
            ("awk 'BEGIN {system(\"id\")}'", &["id"]),
            ("awk 'BEGIN {\"id\" | getline x}'", &["id"]),
            (
                "osascript -e 'do shell script \"id\" with administrator privileges'",
                &["id"],
            ),
            ("vim -c ':!rm -rf ~' -c ':q!'", &["rm -rf ~"]),
            ("view -c ':!/bin/bash' /etc/hosts", &["/bin/bash"]),
            ("gdb -nx -ex '!sh' -ex quit", &["sh"]),
            ("gdb -batch -ex 'shell id'", &["id"]),
            ("sqlite3 /dev/null '.shell id'", &["id"]),
            ("zip z.zip f -T -TT 'sh -c x #'", &["sh -c x #"]),
            (
                "tar -cf /dev/null /dev/null --checkpoint=1 --checkpoint-action=exec='rm -rf ~'",
                &["rm -rf ~"],
            ),
            ("ssh -o ProxyCommand='sh -c x' h", &["sh -c x"]),
            (
                "ssh -oLocalCommand=/bin/sh -o PermitLocalCommand=yes h",
                &["/bin/sh"],
            ),
            ("rsync -e 'sh -c x' a b", &["sh -c x"]),
            ("forfiles /p C:/ /c \"cmd /c x.bat\"", &["cmd /c x.bat"]),
            ("tar czf x.tgz src", &[]),
            ("ssh -T git@github.com", &[]),
        ];
        for (cmd, want) in cases {
            assert_eq!(carried_by(cmd), *want, "{cmd:?}");
        }
    }
}
