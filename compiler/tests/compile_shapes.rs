//! Measurement (not a check): which lowered shapes of the standard profile are expensive as DFAs.
//! Run with `cargo test -p rampart-compiler --test compile_shapes -- --ignored --nocapture`.

use std::time::Instant;

use rampart_compiler::load::load_str;
use rampart_compiler::lower::{dfa_builder, lower, Flavour, Lowered};

fn patterns() -> Vec<(&'static str, String, Flavour)> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../policies/standard.yaml");
    let yaml = std::fs::read_to_string(path).unwrap();
    let set = load_str("standard.yaml", &yaml).unwrap();
    let mut out = Vec::new();
    for p in &set.policies {
        for r in &p.rules {
            let w = &r.when;
            for g in w.command_matches.iter().chain(&w.command_not_matches) {
                out.push(("command", g.value.clone(), Flavour::Command));
            }
            for g in w.path_matches.iter().chain(&w.path_not_matches) {
                out.push(("path", g.value.clone(), Flavour::Path));
            }
            for g in &w.domain_matches {
                out.push(("domain", g.value.clone(), Flavour::Domain));
            }
            for g in &w.url_matches {
                out.push(("url", g.value.clone(), Flavour::Command));
            }
        }
    }
    out
}

#[test]
#[ignore = "a measurement"]
fn expensive_shapes() {
    let mut by_field: std::collections::BTreeMap<&str, Vec<String>> = Default::default();
    for (field, pat, flavour) in patterns() {
        let Lowered::Regex(re) = lower(&pat, flavour) else {
            continue;
        };
        let started = Instant::now();
        let dfa = dfa_builder(64 << 20).build(&re);
        let took = started.elapsed();
        let size = dfa.as_ref().map_or(0, |d| d.memory_usage());
        if took.as_millis() > 5 || size > 64 << 10 {
            println!("{field:8} {took:>10.2?} {size:>9}  {pat:?} -> {re}");
        }
        by_field.entry(field).or_default().push(re);
    }
    for (field, res) in &by_field {
        println!("{field}: {} regexes", res.len());
    }
}
