//! What a shell was asked to run, read from its command line the way the shell reads it.
//!
//! The threat: a shim that finds no command where the shell will find one (`bash -ec 'rm ...'`,
//! `bash -o pipefail -c ...`, `zsh --login -c ...`) lets that command through undecided. So the
//! options are walked as bash, zsh, dash and ksh walk them: clusters of single-letter options
//! (`-lc`), the ones that take a value (`-o NAME`, `-O NAME`, `--rcfile FILE`), `--` and the first
//! operand that ends the options. With `c` among the options, the first operand is the command;
//! without it, the first operand is a script, run with the rest as its arguments.

/// What a shell invocation runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Invocation {
    /// `-c COMMAND`: the command string.
    Command(String),
    /// `SHELL SCRIPT ARGS...`: the script and its arguments, as one shell-quoted command
    /// (`bash deploy.sh prod`).
    Script(String),
    /// No command and no script: an interactive shell, or commands on stdin.
    Interactive,
}

/// Long options that take the next word as their value.
const LONG_WITH_VALUE: [&str; 3] = ["--rcfile", "--init-file", "--emulate"];

/// Reads the arguments after `argv[0]` of shell `name` (`bash`, `sh`, `zsh`, `dash`, `ksh`).
pub fn read(name: &str, args: &[String]) -> Invocation {
    let mut command_flag = false;
    let mut words = args.iter();
    let mut operand = None;
    while let Some(word) = words.next() {
        if word == "--" || word == "-" {
            operand = words.next();
            break;
        }
        if let Some(long) = word.strip_prefix("--") {
            if LONG_WITH_VALUE
                .iter()
                .any(|l| l.trim_start_matches('-') == long)
            {
                words.next();
            }
            continue;
        }
        let (minus, letters) = match (word.strip_prefix('-'), word.strip_prefix('+')) {
            (Some(letters), _) => (true, letters),
            (None, Some(letters)) => (false, letters),
            (None, None) => {
                operand = Some(word);
                break;
            }
        };
        for letter in letters.chars() {
            match letter {
                'c' if minus => command_flag = true,
                // `-o NAME` (set option), bash's `-O NAME` (shopt): the value is the next word.
                'o' | 'O' => {
                    words.next();
                }
                _ => {}
            }
        }
    }
    match (command_flag, operand) {
        (true, Some(command)) => Invocation::Command(command.clone()),
        // `bash -c` with no command: the shell reports the error itself.
        (true, None) => Invocation::Interactive,
        (false, Some(script)) => {
            let mut words = vec![name.to_string(), script.clone()];
            words.extend(words_after(args, script));
            Invocation::Script(shell_quote(&words))
        }
        (false, None) => Invocation::Interactive,
    }
}

/// The arguments after the first occurrence of `script` (the script's own arguments).
fn words_after(args: &[String], script: &String) -> Vec<String> {
    match args.iter().position(|a| std::ptr::eq(a, script)) {
        Some(at) => args.iter().skip(at + 1).cloned().collect(),
        None => Vec::new(),
    }
}

/// Words joined into one shell command (reference §4.2): a word of only
/// `[A-Za-z0-9_@%+=:,./-]` stays bare, any other is single-quoted with `'` written `'\''`, an
/// empty word is `''`.
pub fn shell_quote(words: &[String]) -> String {
    let bare = |c: u8| c.is_ascii_alphanumeric() || b"_@%+=:,./-".contains(&c);
    words
        .iter()
        .map(|w| {
            if !w.is_empty() && w.bytes().all(bare) {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &[&str]) -> Vec<String> {
        text.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn command_strings_wherever_the_options_put_them() {
        for (args, want) in [
            (&["-c", "ls -l"][..], "ls -l"),
            (&["-lc", "git status"], "git status"),
            (&["-e", "-c", "make"], "make"),
            (&["-eo", "pipefail", "-c", "a | b"], "a | b"),
            (&["-o", "pipefail", "-c", "x"], "x"),
            (&["-O", "extglob", "-c", "y"], "y"),
            (
                &["--login", "--rcfile", "/r", "-c", "z", "name", "arg"],
                "z",
            ),
            (&["-c", "--", "w"], "w"),
            (&["-ic", "echo hi"], "echo hi"),
            (&["+e", "-c", "v"], "v"),
        ] {
            assert_eq!(
                read("bash", &words(args)),
                Invocation::Command(want.into()),
                "{args:?}"
            );
        }
    }

    #[test]
    fn scripts_and_interactive_shells() {
        assert_eq!(
            read("bash", &words(&["-e", "deploy.sh", "prod env", "x"])),
            Invocation::Script("bash deploy.sh 'prod env' x".into())
        );
        assert_eq!(
            read("sh", &words(&["--", "-odd.sh"])),
            Invocation::Script("sh -odd.sh".into())
        );
        assert_eq!(read("bash", &[]), Invocation::Interactive);
        assert_eq!(read("bash", &words(&["-l", "-i"])), Invocation::Interactive);
        assert_eq!(read("bash", &words(&["-s"])), Invocation::Interactive);
        assert_eq!(read("bash", &words(&["-c"])), Invocation::Interactive);
    }

    #[test]
    fn quoting_follows_the_reference() {
        let w = words(&["/bin/rm", "two words", "a'b", "", "$HOME"]);
        assert_eq!(shell_quote(&w), r"/bin/rm 'two words' 'a'\''b' '' '$HOME'");
        assert_eq!(shell_quote(&words(&["git", "status"])), "git status");
    }
}
