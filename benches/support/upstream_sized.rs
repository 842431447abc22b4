//! A generated policy the size and shape of upstream's standard.yaml (reference §9.1).
//!
//! Why generate one: our own `policies/standard.yaml` changes as the profile evolves, while the
//! compile budget ("an upstream-sized policy, ~950 patterns, <= 2 s, <= 4 MiB") is about a fixed
//! workload. This module writes that workload: 48 policies, 84 rules (deny 60, ask 19, watch 3,
//! allow 2), and upstream's condition mix — 474 command_matches, 273 command_contains, 126
//! path_matches, 46 command_not_matches, 20 path_not_matches, 14 command_env_assignments, 26
//! response_matches, 14 domain_matches, one call_count and one `default: true` catch-all at
//! priority 10000.
//!
//! The command globs follow the shape mix of the shipped profiles (about 39% leading `*` with
//! interior pieces, 27% `**`, 26% trailing `*` prefixes, the rest `filepath.Match` and exact), built
//! from real command and target words rather than random strings, so the automata have the shared
//! prefixes and overlaps a real policy has. Everything is a pure function of the counts: no
//! randomness, so every run compiles the same text.
//!
//! Included with `#[path]` by the compile benchmark and the gate binary.

#![allow(dead_code)] // included by several benchmarks, each using part of it

use std::fmt::Write as _;

const COMMANDS: [&str; 40] = [
    "curl",
    "wget",
    "nc",
    "ssh",
    "scp",
    "rsync",
    "python3",
    "perl",
    "ruby",
    "node",
    "bash",
    "sh",
    "zsh",
    "base64",
    "openssl",
    "dd",
    "mkfs",
    "chmod",
    "chown",
    "crontab",
    "systemctl",
    "iptables",
    "docker",
    "kubectl",
    "aws",
    "gcloud",
    "az",
    "terraform",
    "git",
    "npm",
    "pip",
    "cargo",
    "tar",
    "zip",
    "sudo",
    "su",
    "kill",
    "pkill",
    "mount",
    "useradd",
];
const TARGETS: [&str; 30] = [
    "/etc/passwd",
    "/etc/shadow",
    ".ssh/id_",
    "authorized_keys",
    ".aws/credentials",
    ".kube/config",
    ".docker/config.json",
    ".netrc",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    ".gnupg",
    "/dev/tcp/",
    "/dev/sd",
    "/boot/",
    "/var/lib/",
    ".bashrc",
    ".zshrc",
    ".profile",
    "/etc/cron",
    "/etc/sudoers",
    "ld.so.preload",
    ".rampart",
    "id_rsa",
    "id_ed25519",
    "webhook.site",
    "ngrok",
    "pastebin",
    "169.254.169.254",
    "metadata.google",
];
const FLAGS: [&str; 20] = [
    "-rf",
    "--force",
    "-e",
    "-c",
    "--exec",
    "-x",
    "--upload-file",
    "-d @",
    "--data-binary",
    "-o /tmp/",
    "| sh",
    "| bash",
    "--privileged",
    "--no-preserve-root",
    "-R 777",
    "--decode",
    "-i >&",
    "eval",
    "--system",
    "--global",
];
const DIRS: [&str; 14] = [
    ".ssh",
    ".aws",
    ".kube",
    ".docker",
    ".gnupg",
    ".config/gcloud",
    ".azure",
    ".password-store",
    ".mozilla/firefox",
    ".config/google-chrome",
    ".local/share/keyrings",
    ".terraform.d",
    ".vault-token.d",
    ".rampart",
];
const FILES: [&str; 9] = [
    "id_rsa",
    "id_ed25519",
    "credentials",
    "config",
    "token",
    "secrets.json",
    "key.pem",
    "Login Data",
    "cookies.sqlite",
];
const EXTENSIONS: [&str; 10] = [
    "pem", "key", "p12", "pfx", "ppk", "kdbx", "jks", "keystore", "asc", "gpg",
];
const ENV_NAMES: [&str; 14] = [
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "DYLD_LIBRARY_PATH",
    "BASH_ENV",
    "ENV",
    "PROMPT_COMMAND",
    "RAMPART_*",
    "NODE_OPTIONS",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PERL5OPT",
    "RUBYOPT",
];
const DOMAINS: [&str; 7] = [
    "webhook.site",
    "ngrok.io",
    "pastebin.com",
    "transfer.sh",
    "requestbin.net",
    "pipedream.net",
    "burpcollaborator.net",
];
const SECRET_WORDS: [&str; 13] = [
    "api", "access", "secret", "private", "auth", "session", "bearer", "client", "db", "aws",
    "github", "slack", "stripe",
];

/// Condition counts of upstream's standard.yaml (reference §9.1).
const COMMAND_MATCHES: usize = 474;
const COMMAND_CONTAINS: usize = 273;
const PATH_MATCHES: usize = 126;
const COMMAND_NOT_MATCHES: usize = 46;
const PATH_NOT_MATCHES: usize = 20;
const RESPONSE_MATCHES: usize = 26;
const COMMAND_MATCH_RULES: usize = 44;
const CONTAINS_RULES: usize = 22;
const PATH_RULES: usize = 11;
const EXEC_POLICIES: usize = 37;

/// The pattern count of [`policy_yaml`], for reports (every list entry counts once).
pub const PATTERNS: usize = COMMAND_MATCHES
    + COMMAND_CONTAINS
    + PATH_MATCHES
    + COMMAND_NOT_MATCHES
    + PATH_NOT_MATCHES
    + ENV_NAMES.len()
    + RESPONSE_MATCHES
    + 2 * DOMAINS.len();

/// The `i`-th command glob, cycling through upstream's shapes.
fn command_glob(i: usize) -> String {
    let cmd = COMMANDS[i % COMMANDS.len()];
    let target = TARGETS[(i / COMMANDS.len() + i) % TARGETS.len()];
    let flag = FLAGS[(i / 7) % FLAGS.len()];
    match i % 23 {
        0..=8 => format!("*{cmd}*{target}*"),
        9..=14 => format!("{cmd} **{target}**"),
        15..=20 => format!("{cmd} {flag} {i}*"),
        21 => format!("{cmd} * {target}"),
        _ => format!("{cmd} {flag} {target}"),
    }
}

fn contains_literal(i: usize) -> String {
    let cmd = COMMANDS[i % COMMANDS.len()];
    let flag = FLAGS[(i / COMMANDS.len() + i) % FLAGS.len()];
    format!("{cmd} {flag}").to_lowercase()
}

fn path_glob(i: usize) -> String {
    let dir = DIRS[i % DIRS.len()];
    let file = FILES[(i / DIRS.len()) % FILES.len()];
    let ext = EXTENSIONS[i % EXTENSIONS.len()];
    match i % 4 {
        0 => format!("**/{dir}/{file}"),
        1 => format!("~/{dir}/**/{file}*"),
        2 => format!("**/{dir}{i}/*.{ext}"),
        _ => format!("/etc/{file}{i}"),
    }
}

fn response_regex(i: usize) -> String {
    let word = SECRET_WORDS[i % SECRET_WORDS.len()];
    match i % 2 {
        0 => format!(r"(?i){word}[_-]?(key|token|secret)\s*[:=]\s*\S{{16,}}"),
        _ => format!(r"(?i)ignore (all )?previous {word} instructions"),
    }
}

/// YAML double-quoted scalar.
fn q(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One rule: its action and the `when:` body lines (already indented for a rule).
struct Rule {
    action: &'static str,
    when: Vec<(String, Vec<String>)>,
}

impl Rule {
    fn write(&self, out: &mut String, index: usize) {
        let _ = writeln!(out, "      - action: {}", self.action);
        let _ = writeln!(out, "        when:");
        for (key, items) in &self.when {
            if key == "call_count" || key == "default" {
                let _ = writeln!(out, "          {key}: {}", items.join(""));
                continue;
            }
            let _ = writeln!(out, "          {key}:");
            for item in items {
                let _ = writeln!(out, "            - {}", q(item));
            }
        }
        let _ = writeln!(
            out,
            "        message: {}",
            q(&format!("generated rule {index}"))
        );
    }
}

/// Splits `total` items into `parts` nearly equal consecutive ranges.
fn split(total: usize, parts: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    (0..parts).map(move |k| (k * total / parts)..((k + 1) * total / parts))
}

fn exec_rules() -> Vec<Rule> {
    let mut not_matches = split(COMMAND_NOT_MATCHES, 6);
    let mut rules: Vec<Rule> = split(COMMAND_MATCHES, COMMAND_MATCH_RULES)
        .enumerate()
        .map(|(k, range)| {
            let action = match k {
                43 => "allow",
                40 | 41 => "watch",
                k if k % 4 == 0 => "ask",
                _ => "deny",
            };
            let mut when = vec![(
                "command_matches".to_string(),
                range.map(command_glob).collect(),
            )];
            if k % 7 == 1 {
                if let Some(r) = not_matches.next() {
                    let cmd = |i: usize| COMMANDS[(i * 3) % COMMANDS.len()];
                    let excl = r.map(|i| format!("{} --help*", cmd(i))).collect();
                    when.push(("command_not_matches".to_string(), excl));
                }
            }
            Rule { action, when }
        })
        .collect();
    rules.extend(
        split(COMMAND_CONTAINS, CONTAINS_RULES)
            .enumerate()
            .map(|(k, range)| Rule {
                action: if k % 4 == 0 { "ask" } else { "deny" },
                when: vec![(
                    "command_contains".to_string(),
                    range.map(contains_literal).collect(),
                )],
            }),
    );
    let (deny_env, watch_env) = ENV_NAMES.split_at(9);
    for (action, names) in [("deny", deny_env), ("watch", watch_env)] {
        let names = names.iter().map(|n| n.to_string()).collect();
        rules.push(Rule {
            action,
            when: vec![("command_env_assignments".to_string(), names)],
        });
    }
    rules
}

fn path_rules() -> Vec<Rule> {
    let mut excl = split(PATH_NOT_MATCHES, 3);
    split(PATH_MATCHES, PATH_RULES)
        .enumerate()
        .map(|(k, range)| {
            let mut when = vec![("path_matches".to_string(), range.map(path_glob).collect())];
            if k % 4 == 0 {
                if let Some(r) = excl.next() {
                    let ex = r
                        .map(|i| format!("**/*{i}.{}", ["pub", "example"][i % 2]))
                        .collect();
                    when.push(("path_not_matches".to_string(), ex));
                }
            }
            Rule {
                action: if k % 5 == 4 { "ask" } else { "deny" },
                when,
            }
        })
        .collect()
}

fn write_policy(out: &mut String, name: &str, tools: &str, priority: u32, rules: &[&Rule]) {
    let _ = writeln!(out, "  - name: {name}");
    let _ = writeln!(out, "    priority: {priority}");
    if !tools.is_empty() {
        let _ = writeln!(out, "    match:\n      tool: {tools}");
    }
    let _ = writeln!(out, "    rules:");
    for (k, rule) in rules.iter().enumerate() {
        rule.write(out, k);
    }
}

/// The whole policy file.
pub fn policy_yaml() -> String {
    let mut out = String::from("version: \"1\"\ndefault_action: deny\npolicies:\n");
    let exec = exec_rules();
    for p in 0..EXEC_POLICIES {
        let mine: Vec<&Rule> = exec.iter().skip(p).step_by(EXEC_POLICIES).collect();
        write_policy(&mut out, &format!("exec-{p:02}"), "exec", 100, &mine);
    }
    let paths = path_rules();
    let path_tools = [
        "read",
        "[read, edit]",
        "write",
        "[write, edit]",
        "read",
        "[read, mcp-destructive]",
        "[write, edit]",
    ];
    for (p, tools) in path_tools.iter().enumerate() {
        let mine: Vec<&Rule> = paths.iter().skip(p).step_by(path_tools.len()).collect();
        write_policy(&mut out, &format!("paths-{p}"), tools, 100, &mine);
    }
    let domains: Vec<String> = DOMAINS
        .iter()
        .flat_map(|d| [d.to_string(), format!("*.{d}")])
        .collect();
    let exfil = Rule {
        action: "deny",
        when: vec![("domain_matches".to_string(), domains)],
    };
    write_policy(
        &mut out,
        "exfil-domains",
        "[fetch, web_fetch, http, browser]",
        100,
        &[&exfil],
    );
    let rate = Rule {
        action: "ask",
        when: vec![(
            "call_count".to_string(),
            vec!["{gte: 100, window: 1h}".to_string()],
        )],
    };
    write_policy(&mut out, "fetch-rate", "[fetch, web_fetch]", 100, &[&rate]);
    let leaks: Vec<Rule> = split(RESPONSE_MATCHES, 2)
        .map(|range| Rule {
            action: "deny",
            when: vec![(
                "response_matches".to_string(),
                range.map(response_regex).collect(),
            )],
        })
        .collect();
    write_policy(
        &mut out,
        "response-leaks",
        "[read, fetch, web_fetch, exec]",
        100,
        &leaks.iter().collect::<Vec<_>>(),
    );
    let catch_all = Rule {
        action: "allow",
        when: vec![("default".to_string(), vec!["true".to_string()])],
    };
    write_policy(&mut out, "allow-unmatched", "", 10000, &[&catch_all]);
    out
}
