//! Percentiles from per-iteration samples.
//!
//! divan reports the fastest, slowest, median and mean sample, but the budgets in DESIGN.md are
//! p50 and p99 of single operations. So each benchmark also runs a plain loop that times every
//! operation on its own with `Instant` (a vDSO clock read here, about 20-30 ns, which is included in
//! every sample and printed so the reader can discount it) and reports the distribution.

#![allow(dead_code)] // included by several benchmarks, each using part of it

use std::time::{Duration, Instant};

/// The distribution of one benchmark's per-operation times.
pub struct Summary {
    pub name: String,
    pub samples: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Operations per second over the whole run (total operations / total time).
    pub per_sec: f64,
}

impl Summary {
    /// Sorts `samples` (per-operation durations) and summarises them.
    pub fn from_samples(name: &str, mut samples: Vec<Duration>) -> Summary {
        samples.sort_unstable();
        let total: Duration = samples.iter().sum();
        let at = |q: f64| {
            let rank = ((samples.len() as f64 - 1.0) * q).round() as usize;
            samples.get(rank).copied().unwrap_or_default()
        };
        Summary {
            name: name.to_string(),
            samples: samples.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            max: samples.last().copied().unwrap_or_default(),
            per_sec: samples.len() as f64 / total.as_secs_f64().max(1e-12),
        }
    }

    pub fn print_header() {
        println!(
            "{:<48} {:>8} {:>10} {:>10} {:>10} {:>10} {:>14}",
            "percentiles (per operation)", "n", "p50", "p90", "p99", "max", "ops/s"
        );
    }

    pub fn print(&self) {
        println!(
            "{:<48} {:>8} {:>10} {:>10} {:>10} {:>10} {:>14}",
            self.name,
            self.samples,
            human(self.p50),
            human(self.p90),
            human(self.p99),
            human(self.max),
            format!("{:.0}", self.per_sec)
        );
    }
}

/// `1.23 us`, `456 ns`, `7.8 ms`.
pub fn human(d: Duration) -> String {
    let ns = d.as_nanos() as f64;
    if ns < 1_000.0 {
        format!("{ns:.0} ns")
    } else if ns < 1_000_000.0 {
        format!("{:.2} us", ns / 1e3)
    } else if ns < 1e9 {
        format!("{:.2} ms", ns / 1e6)
    } else {
        format!("{:.2} s", ns / 1e9)
    }
}

/// Times `op` on each input in turn, `rounds` times over the inputs, one sample per call, after
/// one untimed warm-up round.
pub fn per_item<T, R>(inputs: &[T], rounds: usize, mut op: impl FnMut(&T) -> R) -> Vec<Duration> {
    for input in inputs {
        std::hint::black_box(op(input));
    }
    let mut samples = Vec::with_capacity(inputs.len() * rounds);
    for _ in 0..rounds {
        for input in inputs {
            let start = Instant::now();
            std::hint::black_box(op(std::hint::black_box(input)));
            samples.push(start.elapsed());
        }
    }
    samples
}

/// The cost of one empty timed sample, to print beside the results.
pub fn timer_overhead() -> Duration {
    let samples = per_item(&[(); 1], 10_000, |_| ());
    Summary::from_samples("timer", samples).p50
}

/// Whether this process was started by `cargo bench` (which passes `--bench`) rather than in test
/// mode by `cargo test --benches` (which runs every benchmark once and wants no report).
pub fn benchmarking() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// The positional filters given on the command line (`cargo bench --bench evaluate -- corpus`).
/// Values of divan's options (`--sample-count 20`) are not filters.
pub fn selected(name: &str) -> bool {
    const FLAGS: [&str; 6] = [
        "--bench",
        "--test",
        "--list",
        "--exact",
        "--ignored",
        "--include-ignored",
    ];
    let mut filters = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if FLAGS.contains(&arg.as_str()) || (arg.starts_with('-') && arg.contains('=')) {
            continue;
        }
        if arg.starts_with('-') {
            args.next();
            continue;
        }
        filters.push(arg);
    }
    filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()))
}

/// Prints a table of summaries with the timer overhead line.
pub fn report(summaries: &[Summary]) {
    if summaries.is_empty() {
        return;
    }
    println!();
    Summary::print_header();
    for s in summaries {
        s.print();
    }
    println!(
        "(each sample includes one clock read, p50 {})",
        human(timer_overhead())
    );
}
