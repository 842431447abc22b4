//! Hook commands: writing `<stable path> hook --format X` and recognising ours in a host's file.
//!
//! A hook entry is rampart's when its command runs a program named `rampart` with `hook` as its
//! first argument (whatever the path: upstream's `rampart hook`, an old absolute path, the stable
//! path), or when it is an `http` hook that posts to a rampart server's `/v1/hooks/` route. That
//! is how setup replaces an upstream or outdated entry instead of adding a second one, and how
//! `--remove` finds exactly what is rampart's and nothing else.

use std::path::Path;

/// The command line of a hook: the stable binary, `hook`, and `--format` for hosts other than
/// Claude Code (whose format is the default).
pub fn hook_command(binary: &Path, format: Option<&str>) -> String {
    let mut command = format!("{} hook", quote(&binary.to_string_lossy()));
    if let Some(format) = format {
        command.push_str(" --format ");
        command.push_str(format);
    }
    command
}

/// A hook command that runs rampart, taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RampartHook {
    /// The program as written (absolute path, or upstream's bare `rampart`).
    pub program: String,
    /// `--format`, when given.
    pub format: Option<String>,
    /// `--mode`, when given.
    pub mode: Option<String>,
}

/// `command` taken apart when it runs `rampart hook`.
pub fn rampart_hook(command: &str) -> Option<RampartHook> {
    let words = words(command)?;
    let (program, args) = words.split_first()?;
    let is_rampart = Path::new(program)
        .file_name()
        .is_some_and(|n| n == "rampart");
    if !is_rampart || args.first().map(String::as_str) != Some("hook") {
        return None;
    }
    Some(RampartHook {
        program: program.clone(),
        format: flag(args, "--format"),
        mode: flag(args, "--mode"),
    })
}

/// The server command line of an MCP entry that runs `rampart mcp [flags] -- SERVER...`.
pub fn rampart_mcp(program: &str, args: &[String]) -> Option<Vec<String>> {
    let is_rampart = Path::new(program)
        .file_name()
        .is_some_and(|n| n == "rampart");
    if !is_rampart || args.first().map(String::as_str) != Some("mcp") {
        return None;
    }
    let dash = args.iter().position(|a| a == "--")?;
    Some(args.get(dash + 1..).unwrap_or_default().to_vec())
}

/// The value of `--name V` or `--name=V`.
fn flag(args: &[String], name: &str) -> Option<String> {
    let prefixed = format!("{name}=");
    args.iter().enumerate().find_map(|(i, arg)| {
        if arg == name {
            args.get(i + 1).cloned()
        } else {
            arg.strip_prefix(&prefixed).map(str::to_string)
        }
    })
}

/// `word` quoted for `sh` when it needs to be.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:@,%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

/// The words of a simple shell command (quotes and backslashes as `sh` reads them); `None` for
/// unbalanced quotes.
pub fn words(command: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = command.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => w.push(chars.next()?),
                        c => w.push(c),
                    }
                }
            }
            '\\' => word.get_or_insert_with(String::new).push(chars.next()?),
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    #[test]
    fn commands_round_trip_through_the_recogniser() {
        let command = hook_command(Path::new("/home/a b/.rampart/bin/rampart"), Some("codex"));
        assert_eq!(
            command,
            "'/home/a b/.rampart/bin/rampart' hook --format codex"
        );
        let hook = rampart_hook(&command).unwrap();
        assert_eq!(hook.program, "/home/a b/.rampart/bin/rampart");
        assert_eq!(hook.format.as_deref(), Some("codex"));
        assert_eq!(
            rampart_hook("rampart hook --mode=monitor")
                .unwrap()
                .mode
                .as_deref(),
            Some("monitor")
        );
        assert_eq!(
            hook_command(Path::new("/r/rampart"), None),
            "/r/rampart hook"
        );
        for other in [
            "rampart serve",
            "/usr/bin/rampart-x hook",
            "python3 hook.py",
            "'unbalanced",
        ] {
            assert_eq!(rampart_hook(other), None, "{other}");
        }
        assert_eq!(
            words("a \"b \\\" c\" 'd''e' f\\ g").unwrap(),
            ["a", "b \" c", "de", "f g"]
        );
        assert_eq!(quote("it's"), "'it'\\''s'");
    }
}
