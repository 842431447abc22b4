//! Compiling policies (budget: an upstream-sized policy, ~950 patterns, in <= 2 s, bundle <= 4 MiB).
//!
//! Two workloads: our `policies/standard.yaml` as it is, and the generated upstream-sized policy of
//! `support/upstream_sized.rs` (48 policies, 84 rules, upstream's condition mix). Each is measured
//! as load (YAML -> checked policy) plus compile (-> bundle bytes); the bundle size is printed.
//!
//! `cargo bench --bench compile [-- FILTER]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/percentiles.rs"]
mod percentiles;
#[path = "support/upstream_sized.rs"]
mod upstream_sized;

use percentiles::{per_item, Summary};
use std::time::{Duration, Instant};

fn standard_yaml() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/standard.yaml");
    std::fs::read_to_string(path).expect("policies/standard.yaml is readable")
}

/// Loads and compiles `yaml`; returns the bundle size.
fn build(name: &str, yaml: &str) -> usize {
    let compiled = rampart_compiler::compile_str(name, yaml).expect("policy compiles");
    compiled.bytes.len()
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn standard() -> usize {
    build("standard.yaml", &standard_yaml())
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn upstream_sized() -> usize {
    build("upstream-sized.yaml", &upstream_sized::policy_yaml())
}

fn main() {
    let upstream = upstream_sized::policy_yaml();
    let standard_yaml = standard_yaml();
    for (name, yaml) in [("standard", &standard_yaml), ("upstream_sized", &upstream)] {
        let start = Instant::now();
        let size = build(name, yaml);
        println!(
            "{name}: {} bytes of YAML -> bundle {size} bytes ({:.2} MiB), first build {}",
            yaml.len(),
            size as f64 / (1 << 20) as f64,
            percentiles::human(start.elapsed())
        );
    }
    println!("upstream_sized: {} patterns", upstream_sized::PATTERNS);
    divan::main();
    if !percentiles::benchmarking() {
        return;
    }
    let mut out = Vec::new();
    for (name, yaml) in [("standard", &standard_yaml), ("upstream_sized", &upstream)] {
        if percentiles::selected(name) {
            let samples: Vec<Duration> = per_item(&[(); 1], 5, |_| build(name, yaml));
            out.push(Summary::from_samples(name, samples));
        }
    }
    percentiles::report(&out);
}
