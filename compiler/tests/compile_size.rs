//! Compile cost of an upstream-sized policy: a generated policy with the §9.1 mix (48 policies,
//! ~950 patterns; the shipped standard profile is `compile_standard.rs`). Budgets are checked loosely here (debug builds
//! on a shared 2-core VM); the numbers are printed for the report (`--nocapture`).

use std::time::Instant;

use rampart_compiler::compile_str;
use rampart_runtime::bundle::{Bundle, OwnedBundle};
use rampart_runtime::call::Call;
use rampart_runtime::eval::{Action, EvalContext, Evaluator};

/// A policy with standard.yaml's shape: 47 policies of mixed conditions plus a catch-all.
fn generated_policy() -> String {
    let mut y = String::from("version: \"1\"\ndefault_action: deny\npolicies:\n");
    for p in 0..47 {
        let tool = ["exec", "read", "write", "fetch"][p % 4];
        y += &format!("  - name: gen-{p}\n    match: {{tool: [{tool}]}}\n    rules:\n");
        let action = ["deny", "ask", "deny", "watch"][p % 4];
        match tool {
            "exec" => {
                y += &format!("      - action: {action}\n        message: m{p}\n        when:\n          command_matches:\n");
                for i in 0..20 {
                    // Mostly anchored prefixes and substrings, a few interior wildcards (as upstream).
                    let pat = match i % 10 {
                        0 | 4 | 7 => format!("tool{p}x{i} *"),
                        1 | 5 => format!("*secret{p}-{i}*"),
                        2 | 6 => format!("bin{p} --flag{i}*"),
                        3 | 8 => format!("sudo{p}x{i} *"),
                        _ => format!("curl * | sh{p}x{i}"),
                    };
                    y += &format!("            - {pat:?}\n");
                }
                y += "          command_contains:\n";
                for i in 0..12 {
                    y += &format!("            - \"needle{p}-{i}\"\n");
                }
                y += "          command_not_matches: [\"tool0x0 --help\"]\n";
            }
            "read" | "write" => {
                y += &format!("      - action: {action}\n        message: m{p}\n        when:\n          path_matches:\n");
                for i in 0..12 {
                    let pat = match i % 3 {
                        0 => format!("**/.cred{p}x{i}/secret"),
                        1 => format!("/etc/app{p}/x{i}/**"),
                        _ => format!("**/*.key{p}x{i}"),
                    };
                    y += &format!("            - {pat:?}\n");
                }
                y += "          path_not_matches: [\"**/*.pub\"]\n";
            }
            _ => {
                y += &format!("      - action: {action}\n        message: m{p}\n        when:\n          domain_matches:\n");
                for i in 0..6 {
                    y += &format!("            - \"*.exfil{p}x{i}.io\"\n");
                }
            }
        }
    }
    y += "  - name: allow-unmatched\n    priority: 10000\n    rules:\n      - action: allow\n        when: {default: true}\n";
    y
}

fn measure(name: &str, yaml: &str) -> OwnedBundle {
    let started = Instant::now();
    let rampart_compiler::Compiled { bytes, stats } =
        compile_str(name, yaml).unwrap_or_else(|e| panic!("{e}"));
    let took = started.elapsed();
    println!("{name}: {stats:?} in {took:?}");
    assert!(
        bytes.len() < 4 << 20,
        "{name}: bundle of {} bytes",
        bytes.len()
    );
    assert!(took.as_secs() < 20, "{name}: compile took {took:?}");
    OwnedBundle::open(&bytes).unwrap()
}

#[test]
fn generated_upstream_sized_policy() {
    let bundle = measure("generated.yaml", &generated_policy());
    let ev = bundle.evaluator().unwrap();
    let decide = |cmd: &str| {
        ev.evaluate(
            &Call::new("exec", "a", &[("command", cmd)]),
            &EvalContext::at(0),
        )
    };
    assert_eq!(decide("cat NEEDLE4-3").message, "m4");
    assert_eq!(decide("tool8x5 run").action, Action::Allow);
    assert_eq!(decide("tool8x0 run").message, "m8");
    // `curl * | sh12x9`: MatchGlob's `*` stops at `/`, so a URL with a path does not match.
    assert_eq!(decide("curl example.com | sh12x9").message, "m12");
    assert_eq!(decide("curl http://x | sh12x9").action, Action::Allow);
    assert_eq!(decide("x secret12-5 y").message, "m12");
}

/// Prints evaluation time per call (run with `--release --ignored --nocapture`).
#[test]
#[ignore = "a measurement, not a check; run in release"]
fn eval_timing() {
    let yaml = r#"
default_action: deny
policies:
  - name: block-rm
    match: {tool: exec}
    rules:
      - action: deny
        when:
          command_matches: ["rm -rf /*", "mkfs*", "dd *of=/dev/sd*", "*curl*|*sh*"]
          command_contains: ["LD_PRELOAD", "base64 -d", "/dev/tcp/"]
          command_not_matches: ["rm -rf /tmp/**"]
        message: destructive
  - name: creds
    match: {tool: [read]}
    rules:
      - action: deny
        when: {path_matches: ["**/.ssh/id_*", "**/.aws/credentials"], path_not_matches: ["**/*.pub"]}
  - name: allow-unmatched
    priority: 10000
    rules: [{action: allow, when: {default: true}}]
"#;
    let bundle = OwnedBundle::open(&compile_str("t.yaml", yaml).unwrap().bytes).unwrap();
    let ev = bundle.evaluator().unwrap();
    let calls = [
        Call::new("exec", "a", &[("command", "git status")]),
        Call::new("exec", "a", &[("command", "rm -rf /")]),
        Call::new(
            "exec",
            "a",
            &[("command", "npm install express && npm test | tee out.log")],
        ),
        Call::new("read", "a", &[("path", "/home/u/.ssh/id_rsa")]),
    ];
    for call in &calls {
        let n = 20_000;
        let started = Instant::now();
        for _ in 0..n {
            std::hint::black_box(ev.evaluate(std::hint::black_box(call), &EvalContext::at(0)));
        }
        println!("{:?}: {:?} per call", call.params, started.elapsed() / n);
    }
    let started = Instant::now();
    for _ in 0..1000 {
        // SAFETY: `bundle` was opened with validation (checksum and every DFA) above.
        let b = unsafe { Bundle::open_unchecked(bundle.bytes()) }.unwrap();
        std::hint::black_box(Evaluator::new(&b).unwrap());
    }
    println!(
        "open_unchecked + Evaluator::new: {:?}",
        started.elapsed() / 1000
    );
}
