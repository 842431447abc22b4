//! The glob lowering against the reference matchers.
//!
//! Every rule is decided by a DFA built from `lower(pattern, flavour)`, so that regex must mean
//! exactly what `rampart_runtime::glob` means. These tests compare the two on hand-written and
//! generated patterns and inputs, with each pattern alone in a DFA and many patterns sharing one
//! (queried with `which_overlapping_matches`, as the evaluator does). A faithful port of Go's
//! `filepath.Match` checks the reference itself.

use regex_automata::dfa::{dense, Automaton};
use regex_automata::{Input, PatternSet};

use rampart_compiler::lower::{
    dfa_builder, lower, lower_contains, lower_parts, Flavour, Lowered, Parts,
};
use rampart_runtime::eval::in_order;
use rampart_runtime::glob::{
    domain_form, filepath_match, match_domain_glob, match_glob, match_path_glob, parse_filepath,
    Elem,
};

const LIMIT: usize = 16 << 20;

// ---------------------------------------------------------------------------------------------
// Harness

fn reference(flavour: Flavour, pattern: &str, input: &str) -> bool {
    match flavour {
        Flavour::Command => match_glob(pattern, input),
        Flavour::Path => match_path_glob(pattern, input),
        Flavour::Domain => match_domain_glob(pattern, input),
    }
}

/// What the evaluator hands the DFA: paths with `\` as `/`, domains normalised.
fn dfa_input(flavour: Flavour, raw: &str) -> String {
    match flavour {
        Flavour::Command => raw.to_string(),
        Flavour::Path => raw.replace('\\', "/"),
        Flavour::Domain => domain_form(raw),
    }
}

enum Compiled {
    Always,
    Never,
    Dfa(Box<dense::DFA<Vec<u32>>>),
}

fn compile(pattern: &str, flavour: Flavour) -> Compiled {
    match lower(pattern, flavour) {
        Lowered::Always => Compiled::Always,
        Lowered::Never => Compiled::Never,
        Lowered::Regex(re) => match dfa_builder(LIMIT).build(&re) {
            Ok(dfa) => Compiled::Dfa(Box::new(dfa)),
            Err(e) => panic!("{pattern:?} lowered to {re:?}, which does not build: {e}"),
        },
    }
}

fn overlapping(dfa: &dense::DFA<Vec<u32>>, input: &str) -> PatternSet {
    let mut set = PatternSet::new(dfa.pattern_len());
    dfa.try_which_overlapping_matches(&Input::new(input), &mut set)
        .expect("a dense DFA without quit bytes cannot fail");
    set
}

fn lowered_matches(compiled: &Compiled, flavour: Flavour, input: &str) -> bool {
    match compiled {
        Compiled::Always => true,
        Compiled::Never => false,
        Compiled::Dfa(dfa) => !overlapping(dfa, &dfa_input(flavour, input)).is_empty(),
    }
}

/// Checks one pattern alone against `inputs`; returns the number of comparisons.
fn check_alone(pattern: &str, flavour: Flavour, inputs: &[String]) -> usize {
    let compiled = compile(pattern, flavour);
    for input in inputs {
        let want = reference(flavour, pattern, input);
        let got = lowered_matches(&compiled, flavour, input);
        assert_eq!(
            got,
            want,
            "{flavour:?} {pattern:?} on {input:?}: DFA says {got}, reference says {want} (regex {:?})",
            lower(pattern, flavour)
        );
    }
    inputs.len()
}

/// Checks each alternative of `pattern` that the evaluator decides by substring searches
/// (`Part::in_order`) against its own regex's DFA; returns the number of comparisons.
fn check_in_order(pattern: &str, flavour: Flavour, inputs: &[String]) -> usize {
    let Parts::Alts(parts) = lower_parts(pattern, flavour) else {
        return 0;
    };
    let mut compared = 0;
    for part in parts {
        let Some(order) = &part.in_order else {
            continue;
        };
        let dfa = dfa_builder(LIMIT).build(&part.regex).unwrap();
        let stored = order.encode();
        for input in inputs {
            let input = dfa_input(flavour, input);
            let want = !overlapping(&dfa, &input).is_empty();
            let got = in_order::matches(&stored, input.as_bytes());
            assert_eq!(
                got, want,
                "{flavour:?} {pattern:?} on {input:?}: pieces {order:?} say {got}, regex {:?} says {want}",
                part.regex
            );
        }
        compared += inputs.len();
    }
    compared
}

/// Checks `patterns` sharing multi-pattern DFAs (split when a build hits the size limit);
/// returns the number of comparisons.
fn check_together(patterns: &[String], flavour: Flavour, inputs: &[String]) -> usize {
    let mut regexes = Vec::new();
    let mut owners = Vec::new();
    let mut compared = 0;
    for pattern in patterns {
        match lower(pattern, flavour) {
            Lowered::Regex(re) => {
                regexes.push(re);
                owners.push(pattern.as_str());
            }
            fixed => {
                let always = fixed == Lowered::Always;
                for input in inputs {
                    assert_eq!(
                        always,
                        reference(flavour, pattern, input),
                        "{pattern:?} on {input:?}"
                    );
                }
                compared += inputs.len();
            }
        }
    }
    compared + check_group(&regexes, &owners, flavour, inputs)
}

fn check_group(regexes: &[String], owners: &[&str], flavour: Flavour, inputs: &[String]) -> usize {
    if regexes.is_empty() {
        return 0;
    }
    let dfa = match dfa_builder(4 << 20).build_many(regexes) {
        Ok(dfa) => dfa,
        Err(e) if e.is_size_limit_exceeded() && regexes.len() > 1 => {
            let mid = regexes.len() / 2;
            return check_group(&regexes[..mid], &owners[..mid], flavour, inputs)
                + check_group(&regexes[mid..], &owners[mid..], flavour, inputs);
        }
        Err(e) => panic!("group {owners:?} does not build: {e}"),
    };
    for input in inputs {
        let set = overlapping(&dfa, &dfa_input(flavour, input));
        for (i, pattern) in owners.iter().enumerate() {
            let got = set.contains(regex_automata::PatternID::must(i));
            let want = reference(flavour, pattern, input);
            assert_eq!(
                got, want,
                "shared DFA, {flavour:?} {pattern:?} on {input:?}"
            );
        }
    }
    inputs.len() * owners.len()
}

// ---------------------------------------------------------------------------------------------
// Table: every verified example of reference §2.5, plus the Go behaviours we rely on (each Go
// case was run against Go 1.19's `filepath.Match`).

const TABLE: &[(Flavour, &str, &str, bool)] = {
    use Flavour::{Command as C, Domain as D, Path as P};
    &[
        // MatchGlob step 1: empty pattern; step 2: `*` alone matches even the empty input.
        (C, "", "", false),
        (C, "", "x", false),
        (C, "*", "", true),
        (C, "*", "a/b\\c\nd", true),
        // Step 4: a literal prefix before the final `*`, crossing `/`.
        (C, "rm -rf /*", "rm -rf /etc/passwd", true),
        (C, "rm -rf /*", "rm -rf \\etc", true),
        (C, "rm *", "rm a\nrm -rf /", true),
        (C, "sudo *", "sudo", false),
        // Step 5: in-order substrings, unanchored, `?`/`[` literal.
        (C, "*.env", "cat foo.envx", true),
        (C, "*.env", "cat foo.en", false),
        (
            C,
            "*curl*webhook.site",
            "curl https://webhook.site.evil.com/x",
            true,
        ),
        (C, "*curl*webhook.site", "webhook.site curl", false),
        (C, "*a?", "xa?y", true),
        (C, "*a?", "xab", false),
        (C, "*[x]", "[x]", true),
        (C, "*[x]", "x", false),
        // Step 6: Go's filepath.Match.
        (C, "echo * x", "echo a/b x", false),
        (C, "echo * x", "echo a\\b x", false),
        (C, "echo * x", "echo ab x", true),
        (C, "echo * x", "echo a\nb x", true),
        (C, "git * --force*", "git push origin/main --force", false),
        (C, "git * --force*", "git push origin --force", true),
        (C, "git * --force*", "git * --force-with-lease", true),
        (C, "[a-z]x", "bx", true),
        (C, "[a-z]x", "Bx", false),
        (C, "[!x]", "!", true),
        (C, "[!x]", "y", false),
        (C, "[^x]", "y", true),
        (C, "[^x]", "/", true),
        (C, "[^x]", "\\", true),
        (C, "a[/]b", "a\\b", true),
        (C, "?", "é", true),
        (C, "?", "/", false),
        (C, "?", "\\", false),
        (C, "?", "ab", false),
        (C, "a\\*b", "a/xb", true),
        (C, "a\\*b", "a*b", false),
        (C, "a[", "a[", false),
        // Our one deliberate difference from Go (see the runtime's module docs): Go says false.
        (C, "a*[^x]*b", "ac/b", true),
        // Step 7: case and whitespace are literal.
        (C, "GIT *", "git status", false),
        (C, "rm -rf /", "rm  -rf /", false),
        (C, "halt", "halt ", false),
        (C, "halt", "halt", true),
        // Step 3: `**`.
        (C, "/etc/**", "/etc", false),
        (C, "/etc/**", "/etc/", true),
        (C, "/etc/**", "/etc/a/b", true),
        (C, "rm -rf ~/**", "rm -rf ~", false),
        (C, "rm -rf ~/**", "rm -rf ~/x", true),
        (
            C,
            "dd **of=/dev/sd**",
            "dd if=/dev/zero of=/dev/sda bs=1M",
            true,
        ),
        (C, "dd **of=/dev/sd**", "dd of=/dev/nvme0n1", false),
        (C, "**/.env", ".env", true),
        (C, "**/.env", "x\\.env", true),
        (C, "a/**/b/**/c/**", "a/b/c/d", false),
        (C, "**[!x]", "a!", true),
        (C, "**[^x]", "a/", false),
        // Path globs: always the `**` matcher.
        (P, "**/.ssh/id_*", "~/.ssh/id_rsa", true),
        (P, "**/.ssh/id_*", "~/.ssh/id_rsa.pub", true),
        (P, "**/.ssh/id_*", "/home/u/.ssh/id_rsa/x", false),
        (P, "**/.ssh/id_*", ".ssh/id_ed25519", true),
        (P, "**/.env", ".env", true),
        (P, "**/.env", "a/.env", true),
        (P, "**/.env", "a.env", false),
        (P, "/etc/**", "/etc", false),
        (P, "/etc/**", "/etc/shadow", true),
        (P, "/etc/*", "/etc/a/b", false),
        (P, "*", "a", true),
        (P, "*", "/a", false),
        (P, "[^x]", "/", false),
        (P, "[!x]", "!", true),
        (P, "?", "é", true),
        (P, "a/**/b", "a/b", false),
        (P, "a/**/b", "a/x/y/b", true),
        (P, "**\\.ssh\\*", "C:\\Users\\u\\.ssh\\id", true),
        (P, "[a", "[a", false),
        // Domain globs.
        (D, "*.ngrok.io", "a.b.ngrok.io", true),
        (D, "*.ngrok.io", "ngrok.io", false),
        (D, "evil.com", "EVIL.com.", true),
        (D, "evil.com", " evil.com ", true),
        (D, "Evil.COM", "evil.com", true),
        (D, "evil.com", "evil.com..", false),
        (D, "\\*.com", "*.com", true),
        (D, "\\*.com", "a.com", false),
        (D, "[]a]", "a", false),
        // Go steps `*` by bytes: after it, `?` may match one continuation byte.
        (D, "*??", "€", true),
        (D, "*??", "é", false),
        (D, "*[^é]", "é", true),
    ]
};

#[test]
fn table_reference_and_lowering() {
    for &(flavour, pattern, input, want) in TABLE {
        assert_eq!(
            reference(flavour, pattern, input),
            want,
            "reference: {flavour:?} {pattern:?} on {input:?}"
        );
        let compiled = compile(pattern, flavour);
        assert_eq!(
            lowered_matches(&compiled, flavour, input),
            want,
            "DFA: {flavour:?} {pattern:?} on {input:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Generators: a small deterministic PRNG and pattern/input vocabularies.

struct Rng(u64);

impl Rng {
    /// splitmix64
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

const COMMAND_TOKENS: &[&str] = &[
    "*",
    "*",
    "**",
    "?",
    "a",
    "b",
    "/",
    "\\",
    ".",
    " ",
    "é",
    "€",
    "[a-c]",
    "[^a]",
    "[!x]",
    "[/]",
    "[^/]",
    "[\\]",
    "x",
    "-",
    "[",
    "]",
    "\n",
    "ab",
    "rm -rf ",
    "curl ",
    "[^é]",
    "[^\u{FFFD}]",
    "^",
];
const PATH_TOKENS: &[&str] = &[
    "**/", "**", "*", "*", "?", "/", "/", ".", "a", "b", ".ssh", "id_", "[a-c]", "[^a]", "[!.]",
    "é", "\\", "[", "]", "x", "[]", "[^]", "-", "\n",
];
const DOMAIN_TOKENS: &[&str] = &[
    "*",
    "*",
    "?",
    ".",
    ".",
    "a",
    "b",
    "com",
    "io",
    "[a-c]",
    "[^a]",
    "\\.",
    "\\*",
    "A",
    "é",
    "É",
    " ",
    "-",
    "[",
    "[^.]",
    "/",
    "[\\]]",
    "[^\u{FFFD}]",
];
const INPUT_CHARS: &[&str] = &[
    "a", "b", "c", "x", "/", "/", "\\", ".", " ", "é", "€", "𝄞", "-", "!", "^", "[", "]", "*", "?",
    "\n", "A", "\u{FFFD}",
];

fn tokens(flavour: Flavour) -> &'static [&'static str] {
    match flavour {
        Flavour::Command => COMMAND_TOKENS,
        Flavour::Path => PATH_TOKENS,
        Flavour::Domain => DOMAIN_TOKENS,
    }
}

fn random_pattern(rng: &mut Rng, flavour: Flavour) -> String {
    let n = 1 + rng.below(6);
    (0..n).map(|_| rng.pick(tokens(flavour))).collect()
}

fn random_input(rng: &mut Rng) -> String {
    let n = rng.below(10);
    (0..n).map(|_| rng.pick(INPUT_CHARS)).collect()
}

/// An input shaped like `pattern` (wildcards filled in, classes replaced by a character), so
/// that a good share of comparisons are positive.
fn instantiate(rng: &mut Rng, pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' => {
                for _ in 0..rng.below(4) {
                    out.push_str(rng.pick(INPUT_CHARS));
                }
            }
            '?' => out.push_str(rng.pick(INPUT_CHARS)),
            '[' => {
                let body: String = chars.by_ref().take_while(|&c| c != ']').collect();
                let options: Vec<char> = body.chars().filter(|c| *c != '^').collect();
                match options.get(rng.below(options.len() + 1)) {
                    Some(&c) => out.push(c),
                    None => out.push_str(rng.pick(INPUT_CHARS)),
                }
            }
            '\\' if rng.below(2) == 0 => out.push('/'),
            _ => out.push(c),
        }
    }
    match rng.below(6) {
        0 => out.push_str(rng.pick(INPUT_CHARS)),
        1 => out = format!("{}{out}", rng.pick(INPUT_CHARS)),
        2 => out = out.to_uppercase(),
        3 => out.push('.'),
        _ => {}
    }
    out
}

fn hand_written(flavour: Flavour) -> Vec<String> {
    let mut patterns: Vec<&str> = TABLE
        .iter()
        .filter(|t| t.0 == flavour)
        .map(|t| t.1)
        .collect();
    patterns.extend(match flavour {
        Flavour::Command => &[
            "rm -rf /*",
            "*.env",
            "*curl*webhook.site",
            "echo * x",
            "git * --force*",
            "/etc/**",
            "**/.ssh/id_*",
            "**/.env",
            "[a-z]x",
            "[^x]",
            "[!x]",
            "?",
            "dd **of=/dev/sd**",
            "C:\\Users\\*",
            "*\\x*",
            "a\\b",
            "***",
            "****",
            "*****x",
            "**/**",
            "***/x",
            "**/",
            "x**",
            "[]",
            "[^]",
            "a*b*c",
            "*a*b*",
            "é?*",
            "curl * | sh",
            "sudo *",
            "*/dev/tcp/*",
            "git push --force*",
            "[a-c]*[^a]",
            "a*[/]*b",
            "*??",
            "a[\u{FFFD}]b",
            "a?*?",
        ][..],
        Flavour::Path => &[
            "/etc/**",
            "**/.ssh/id_*",
            "**/.env",
            "~/.aws/**/credentials",
            "**/*.pem",
            "/etc/*",
            "**",
            "**/**",
            "**/",
            "*/**",
            "**a",
            "a**",
            "[]",
            "[^]",
            "[a-]",
            "**/[!.]*",
            "?*?",
            "/a/b",
            "\\etc\\**",
        ][..],
        Flavour::Domain => &[
            "*.ngrok.io",
            "evil.com",
            "*.EVIL.com.",
            "[a-c]*.io",
            "*",
            "",
            "?",
            "*.",
            "evil.com..",
            " Evil.Com ",
            "İ.com",
            "*??",
            "*[^é]",
            "[\\]]a",
            "a*[^x]*b",
            "*.*.io",
            "a\\",
        ][..],
    });
    patterns.into_iter().map(String::from).collect()
}

fn corpus(rng: &mut Rng, flavour: Flavour, generated: usize) -> Vec<String> {
    let mut patterns = hand_written(flavour);
    patterns.extend((0..generated).map(|_| random_pattern(rng, flavour)));
    patterns
}

// ---------------------------------------------------------------------------------------------
// Differential tests

/// Comparisons made: of whole patterns, and of in-order alternatives with their regexes.
fn differential(flavour: Flavour, seed: u64, generated: usize) -> (usize, usize) {
    let mut rng = Rng(seed);
    let patterns = corpus(&mut rng, flavour, generated);
    let (mut compared, mut in_order) = (0, 0);
    for group in patterns.chunks(32) {
        let mut inputs: Vec<String> = (0..120).map(|_| random_input(&mut rng)).collect();
        for pattern in group {
            inputs.extend((0..6).map(|_| instantiate(&mut rng, pattern)));
        }
        for pattern in group {
            compared += check_alone(pattern, flavour, &inputs);
            in_order += check_in_order(pattern, flavour, &inputs);
        }
        compared += check_together(group, flavour, &inputs);
    }
    (compared, in_order)
}

#[test]
fn command_globs_lower_exactly() {
    let (compared, in_order) = differential(Flavour::Command, 1, 700);
    assert!(compared > 200_000, "only {compared} comparisons");
    assert!(in_order > 5_000, "only {in_order} in-order comparisons");
}

#[test]
fn path_globs_lower_exactly() {
    let (compared, in_order) = differential(Flavour::Path, 2, 400);
    assert!(compared > 100_000, "only {compared} comparisons");
    assert!(in_order > 10_000, "only {in_order} in-order comparisons");
}

#[test]
fn domain_globs_lower_exactly() {
    let (compared, _) = differential(Flavour::Domain, 3, 400);
    assert!(compared > 100_000, "only {compared} comparisons");
}

#[test]
fn generated_inputs_hit_both_answers() {
    // Guards the generators: a differential test that only ever sees "no match" proves little.
    let mut rng = Rng(4);
    for flavour in [Flavour::Command, Flavour::Path, Flavour::Domain] {
        let patterns = corpus(&mut rng, flavour, 200);
        let mut hits = 0;
        let mut total = 0;
        for pattern in &patterns {
            for _ in 0..20 {
                let input = instantiate(&mut rng, pattern);
                hits += usize::from(reference(flavour, pattern, &input));
                total += 1;
            }
        }
        assert!(
            hits * 10 > total,
            "{flavour:?}: only {hits} of {total} instantiated inputs match"
        );
    }
}

#[test]
fn contains_alternation_matches_substrings() {
    let mut rng = Rng(5);
    let words: &[&str] = &[
        "curl",
        "Wget",
        "nc -e",
        "é",
        "/dev/tcp",
        "a.b",
        "x|y",
        "[z]",
        "base64 -d",
    ];
    for round in 0..60 {
        let n = 1 + rng.below(4);
        let literals: Vec<&str> = (0..n).map(|_| rng.pick(words)).collect();
        let ci = round % 2 == 0;
        let re = lower_contains(&literals, ci);
        let dfa = dfa_builder(LIMIT)
            .build(&re)
            .expect("contains regex builds");
        for _ in 0..200 {
            let mut input = random_input(&mut rng);
            if rng.below(3) == 0 {
                input.push_str(&rng.pick(&literals).to_uppercase());
            }
            let want = if ci {
                let lower_input = input.to_ascii_lowercase();
                literals
                    .iter()
                    .any(|l| lower_input.contains(&l.to_ascii_lowercase()))
            } else {
                literals.iter().any(|l| input.contains(l))
            };
            assert_eq!(
                !overlapping(&dfa, &input).is_empty(),
                want,
                "{literals:?} ci={ci} on {input:?}"
            );
        }
    }
    let never = dfa_builder(LIMIT)
        .build(&lower_contains(&[], false))
        .expect("builds");
    assert!(overlapping(&never, "anything").is_empty());
}

// ---------------------------------------------------------------------------------------------
// The reference's `filepath_match` against a line-by-line port of Go's `path/filepath.Match`.

/// Go's `filepath.Match` (Go 1.19, separator `/`), `Err` for `ErrBadPattern`.
fn go_match(mut pattern: &[u8], mut name: &[u8]) -> Result<bool, ()> {
    'pattern: while !pattern.is_empty() {
        let (star, chunk, rest) = go_scan_chunk(pattern);
        pattern = rest;
        if star && chunk.is_empty() {
            return Ok(!name.contains(&b'/'));
        }
        let first = go_match_chunk(chunk, name);
        if let Ok(Some(t)) = first {
            if t.is_empty() || !pattern.is_empty() {
                name = t;
                continue;
            }
        }
        first?;
        if star {
            let mut i = 0;
            while i < name.len() && name[i] != b'/' {
                if let Some(t) = go_match_chunk(chunk, &name[i + 1..])? {
                    if !pattern.is_empty() || t.is_empty() {
                        name = t;
                        continue 'pattern;
                    }
                }
                i += 1;
            }
        }
        while !pattern.is_empty() {
            let (_, chunk, rest) = go_scan_chunk(pattern);
            pattern = rest;
            go_match_chunk(chunk, b"")?;
        }
        return Ok(false);
    }
    Ok(name.is_empty())
}

fn go_scan_chunk(mut pattern: &[u8]) -> (bool, &[u8], &[u8]) {
    let mut star = false;
    while pattern.first() == Some(&b'*') {
        pattern = &pattern[1..];
        star = true;
    }
    let mut in_range = false;
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'\\' if i + 1 < pattern.len() => i += 1,
            b'[' => in_range = true,
            b']' => in_range = false,
            b'*' if !in_range => break,
            _ => {}
        }
        i += 1;
    }
    (star, &pattern[..i], &pattern[i..])
}

fn go_match_chunk<'a>(mut chunk: &[u8], mut s: &'a [u8]) -> Result<Option<&'a [u8]>, ()> {
    let mut failed = false;
    while !chunk.is_empty() {
        if !failed && s.is_empty() {
            failed = true;
        }
        match chunk[0] {
            b'[' => {
                let mut r = 0;
                if !failed {
                    let (rune, n) = go_decode(s);
                    r = rune;
                    s = &s[n..];
                }
                chunk = &chunk[1..];
                let mut negated = false;
                if chunk.first() == Some(&b'^') {
                    negated = true;
                    chunk = &chunk[1..];
                }
                let mut matched = false;
                let mut nrange = 0;
                loop {
                    if chunk.first() == Some(&b']') && nrange > 0 {
                        chunk = &chunk[1..];
                        break;
                    }
                    let (lo, rest) = go_get_esc(chunk)?;
                    chunk = rest;
                    let mut hi = lo;
                    if chunk[0] == b'-' {
                        let (h, rest) = go_get_esc(&chunk[1..])?;
                        hi = h;
                        chunk = rest;
                    }
                    if lo <= r && r <= hi {
                        matched = true;
                    }
                    nrange += 1;
                }
                if matched == negated {
                    failed = true;
                }
            }
            b'?' => {
                if !failed {
                    if s[0] == b'/' {
                        failed = true;
                    }
                    let (_, n) = go_decode(s);
                    s = &s[n..];
                }
                chunk = &chunk[1..];
            }
            c => {
                let c = if c == b'\\' {
                    chunk = &chunk[1..];
                    *chunk.first().ok_or(())?
                } else {
                    c
                };
                if !failed {
                    if c != s[0] {
                        failed = true;
                    }
                    s = &s[1..];
                }
                chunk = &chunk[1..];
            }
        }
    }
    Ok(if failed { None } else { Some(s) })
}

fn go_get_esc(chunk: &[u8]) -> Result<(u32, &[u8]), ()> {
    let mut chunk = chunk;
    if chunk.is_empty() || chunk[0] == b'-' || chunk[0] == b']' {
        return Err(());
    }
    if chunk[0] == b'\\' {
        chunk = &chunk[1..];
        if chunk.is_empty() {
            return Err(());
        }
    }
    let (r, n) = go_decode(chunk);
    if r == 0xFFFD && n == 1 {
        return Err(());
    }
    let rest = &chunk[n..];
    if rest.is_empty() {
        return Err(());
    }
    Ok((r, rest))
}

/// `utf8.DecodeRune`: a character, or U+FFFD and one byte where none starts.
fn go_decode(s: &[u8]) -> (u32, usize) {
    for len in 1..=4.min(s.len()) {
        if let Ok(text) = std::str::from_utf8(&s[..len]) {
            if let Some(c) = text.chars().next() {
                return (u32::from(c), len);
            }
        }
    }
    (0xFFFD, 1)
}

/// Go commits to the leftmost match of a chunk between two `*`; only a class that can match `/`
/// makes that differ from the glob's plain meaning (the runtime documents this difference).
fn go_commitment_matters(pattern: &str) -> bool {
    let Some(elems) = parse_filepath(pattern) else {
        return false;
    };
    let chunks: Vec<&[Elem]> = elems.split(|e| *e == Elem::Star).collect();
    let inner = chunks.len().saturating_sub(1);
    chunks.iter().take(inner).skip(1).any(|chunk| {
        chunk
            .iter()
            .any(|e| matches!(e, Elem::Class(c) if c.accepts('/')))
    })
}

#[test]
fn filepath_match_agrees_with_go() {
    let mut rng = Rng(6);
    let mut differences = 0;
    let mut compared = 0;
    let mut patterns = corpus(&mut rng, Flavour::Domain, 1500);
    patterns.extend(
        corpus(&mut rng, Flavour::Command, 1500)
            .into_iter()
            .filter(|p| !p.contains("**")),
    );
    for pattern in &patterns {
        for i in 0..60 {
            let input = if i % 2 == 0 {
                random_input(&mut rng)
            } else {
                instantiate(&mut rng, pattern)
            };
            let go = go_match(pattern.as_bytes(), input.as_bytes()).unwrap_or(false);
            let ours = filepath_match(pattern, &input);
            compared += 1;
            if go != ours {
                assert!(
                    go_commitment_matters(pattern),
                    "{pattern:?} on {input:?}: Go {go}, ours {ours}"
                );
                assert!(
                    ours && !go,
                    "only Go's commitment may make Go say no where we say yes"
                );
                differences += 1;
            }
        }
    }
    assert!(compared > 100_000);
    // The documented difference, and that the port really is Go's (these are Go 1.19's answers).
    assert_eq!(go_match(b"a*[^x]*b", b"ac/b"), Ok(false));
    assert!(filepath_match("a*[^x]*b", "ac/b"));
    assert_eq!(go_match("*??".as_bytes(), "€".as_bytes()), Ok(true));
    assert_eq!(go_match(b"[]a]", b"a"), Err(()));
    assert!(
        differences < compared / 100,
        "{differences} differences in {compared}"
    );
}
