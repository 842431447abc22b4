//! What an intercepted call asks to run, as text the policy reads (upstream §4.2).
//!
//! argv-based calls (exec*, posix_spawn*) are rendered as a shell-quoted command line whose first
//! word is argv[0] only when argv[0] names the executable (it equals the path or its basename);
//! otherwise it is the real path, so that a spoofed argv[0] cannot disguise `/bin/rm` as `ls`.
//! `system` and `popen` hand over a shell string, which is used as is.

use alloc::string::String;
use alloc::vec::Vec;

use rampart_runtime::shell::quote_word;

use crate::text::{basename, lossy};

/// The command of one intercepted call.
pub struct Command {
    /// The text recorded and shown (`rampart: blocked <text>`), and what a server is asked about.
    pub text: String,
    /// For argv-based calls, the words as executed (first word per the real-path rule);
    /// `None` for a shell string.
    pub words: Option<Vec<String>>,
}

impl Command {
    /// The command of an argv-based call of `path` (the path or file argument as given).
    pub fn from_argv(path: &[u8], argv: &[&[u8]]) -> Command {
        let first: &[u8] = match argv.first() {
            Some(&a0) if a0 == path || a0 == basename(path) => a0,
            _ => path,
        };
        let words: Vec<String> = core::iter::once(first)
            .chain(argv.iter().skip(1).copied())
            .map(lossy)
            .collect();
        let mut text = String::new();
        for (i, word) in words.iter().enumerate() {
            if i > 0 {
                text.push(' ');
            }
            quote_word(word, &mut text);
        }
        Command {
            text,
            words: Some(words),
        }
    }

    /// The command of `system`/`popen`: the raw shell string.
    pub fn from_shell(command: &[u8]) -> Command {
        Command {
            text: lossy(command),
            words: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(path: &str, argv: &[&str]) -> String {
        let argv: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
        Command::from_argv(path.as_bytes(), &argv).text
    }

    #[test]
    fn upstream_examples() {
        assert_eq!(
            text("/bin/rm", &["spoofed", "two words", "a'b", "", "$HOME"]),
            r#"/bin/rm 'two words' 'a'\''b' '' '$HOME'"#
        );
        assert_eq!(text("/usr/bin/git", &["git", "status"]), "git status");
        assert_eq!(text("/bin/true", &["/bin/true"]), "/bin/true");
        assert_eq!(text("ls", &["ls", "-l"]), "ls -l");
    }

    #[test]
    fn spoofed_or_missing_argv0_reports_the_real_path() {
        assert_eq!(text("/bin/rm", &["ls", "-rf", "/"]), "/bin/rm -rf /");
        assert_eq!(text("/bin/true", &[]), "/bin/true");
        let c = Command::from_argv(b"/bin/rm", &[b"ls", b"x"]);
        assert_eq!(c.words.unwrap(), ["/bin/rm", "x"]);
    }

    #[test]
    fn shell_strings_are_kept_raw() {
        let c = Command::from_shell(b"rm -rf 'a b' | cat");
        assert_eq!(c.text, "rm -rf 'a b' | cat");
        assert!(c.words.is_none());
    }
}
