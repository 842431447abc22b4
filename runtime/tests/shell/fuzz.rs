//! Hostile input: the shell model must never panic, and its work is bounded. Every reading is
//! linear in the input and the number of readings is capped, so even 8 KiB (the policy limit) of
//! operators, open substitutions or quotes reads quickly.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use rampart_runtime::shell::heads::{CLOSERS, HEADS};
use rampart_runtime::shell::{read_argv, read_command};

/// Generous for a debug build on a shared 2-core machine; a quadratic blow-up on 8 KiB would
/// still take far longer.
const BUDGET: Duration = Duration::from_secs(2);

#[track_caller]
fn assert_fast(cmd: &str) {
    let t = Instant::now();
    let r = read_command(cmd);
    let took = t.elapsed();
    assert!(took < BUDGET, "{} bytes took {took:?}", cmd.len());
    assert!(!r.restrictive.is_empty() || cmd.trim().is_empty());
}

#[test]
fn eight_kib_of_operators_substitutions_and_quotes_is_fast() {
    for unit in [
        "&&",
        "$(",
        "'",
        "\"",
        "`",
        "a && ",
        "rm -rf / ; ",
        "(",
        "{ ",
        "\\",
        "bash -c '",
        "sudo ",
        "env ",
        "<<<",
        "|",
        "\n",
        "x=1 ",
        "$(a) ",
    ] {
        let cmd = unit.repeat(8192 / unit.len());
        assert_fast(&cmd);
    }
}

#[test]
fn long_legitimate_commands_do_not_overflow() {
    let cmd: String = (0..300)
        .map(|i| format!("git add 'src/file {i}.rs' && "))
        .collect::<String>()
        + "git status";
    assert!(cmd.len() > 8000);
    let r = read_command(&cmd);
    assert!(!r.overflow);
    assert_eq!(r.components.len(), 301);
    let script = "set -e; for f in $(git ls-files '*.rs'); do if grep -q TODO \"$f\"; then echo \"$f\"; fi; done; \
                  FOO=1 bash -c 'cargo build --release 2>&1 | tail -n 5' && (cd sub && make -j4) || { echo fail; exit 1; }\n";
    let r = read_command(&script.repeat(20));
    assert!(!r.overflow);
}

#[test]
fn many_distinct_segments_stay_bounded() {
    let cmd: String = (0..1500).map(|i| format!("c{i};")).collect();
    assert_fast(&cmd);
    let cmd: String = (0..800).map(|i| format!("rm -rf /d{i};")).collect();
    let r = read_command(&cmd);
    assert!(r.overflow, "800 aliases exceed the cap");
}

/// Operators, quotes, substitutions, options and escapes; the command names come from
/// [`head_tokens`].
#[rustfmt::skip]
const ALPHABET: &[&str] = &[
    "rm", " ", "-rf", "/", "'", "\"", "\\", "$(", ")", "`", "&&", "|", ";", "&", "\n", "(", "{",
    "}", "<<<", "-c ", "/c ", "-exec ", "{}", "\\;", "-S", "^", "#", "2>&1", ">", "X=1 ",
    "$env:X=", "é", "\u{1b}[1m", "\0",
];

/// Every name the shell model reads specially in a command's head, with a space after it, and
/// the words that close a body.
fn head_tokens() -> Vec<String> {
    let heads = HEADS.iter().map(|e| format!("{} ", e.name));
    heads.chain(CLOSERS.iter().map(|c| c.to_string())).collect()
}

fn command() -> impl Strategy<Value = String> {
    let token = prop_oneof![
        2 => prop::sample::select(ALPHABET).prop_map(String::from),
        1 => prop::sample::select(head_tokens()),
    ];
    prop::collection::vec(token, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn shell_like_input_never_panics(cmd in command()) {
        let t = Instant::now();
        let r = read_command(&cmd);
        prop_assert!(t.elapsed() < BUDGET);
        if !r.raw.trim().is_empty() {
            prop_assert_eq!(r.restrictive.first(), Some(r.raw.trim()));
        }
        let mut seen = std::collections::HashSet::new();
        prop_assert!(r.restrictive.iter().all(|x| seen.insert(x)));
    }

    #[test]
    fn arbitrary_strings_never_panic(cmd in any::<String>()) {
        let t = Instant::now();
        read_command(&cmd);
        prop_assert!(t.elapsed() < BUDGET);
    }

    #[test]
    fn arbitrary_argv_never_panics(argv in prop::collection::vec(command(), 0..6)) {
        let words: Vec<&str> = argv.iter().map(String::as_str).collect();
        let r = read_argv(&words);
        prop_assert!(r.restrictive.first().is_none_or(|f| f == r.raw.trim()));
    }
}
