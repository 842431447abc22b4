//! The shell model's readings alone (budget: p50 <= 1 us for typical 40-200 byte commands).
//!
//! Two paths run in production, and both are measured. A process that decides many commands (a
//! server thread, `rampart check` over a stream) keeps one `shell::Reader` and reads every
//! command with it (`read_command`); a process that decides once (the preload, a hook) reads its
//! command with a new reader (`read_command_cold`, and `read_argv`, the preload's entry: argv
//! words from execve). Commands are the corpus's exec commands by length.
//!
//! `cargo bench --bench shell [-- FILTER]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/fixture.rs"]
mod fixture;
#[path = "support/percentiles.rs"]
mod percentiles;

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use fixture::commands;
use percentiles::{per_item, Summary};
use rampart_runtime::shell::{read_argv, read_command, Reader};

/// Length classes of the corpus's commands.
const CLASSES: [(&str, usize, usize); 3] = [
    ("short_under_40B", 0, 39),
    ("typical_40_200B", 40, 200),
    ("long_over_200B", 201, usize::MAX),
];

fn class(name: &str) -> Vec<&'static str> {
    let (_, lo, hi) = CLASSES.iter().find(|c| c.0 == name).expect("known class");
    commands(*lo..=*hi)
}

fn bench_class(bencher: Bencher, name: &str, mut read: impl FnMut(&str) -> usize) {
    let cmds = class(name);
    let bytes: usize = cmds.iter().map(|c| c.len()).sum();
    bencher
        .counter(ItemsCount::new(cmds.len()))
        .counter(BytesCount::new(bytes))
        .bench_local(|| cmds.iter().map(|cmd| read(cmd)).sum::<usize>());
}

/// One reader for every command, as a process deciding many calls keeps.
#[divan::bench(args = ["short_under_40B", "typical_40_200B", "long_over_200B"])]
fn read_command_reused(bencher: Bencher, name: &str) {
    let mut reader = Reader::new();
    bench_class(bencher, name, |cmd| {
        reader.read_command(cmd).restrictive.len()
    });
}

/// A new reader for each command, as a process deciding once makes.
#[divan::bench(args = ["short_under_40B", "typical_40_200B", "long_over_200B"])]
fn read_command_cold(bencher: Bencher, name: &str) {
    bench_class(bencher, name, |cmd| read_command(cmd).restrictive.len());
}

/// The preload's reading of an exec's argv, with a new reader as each decision there has.
#[divan::bench]
fn read_argv_cold(bencher: Bencher) {
    let argv = [
        "cargo",
        "test",
        "-p",
        "rampart-runtime",
        "--release",
        "--",
        "shell::tests",
    ];
    bencher.bench_local(|| read_argv(&argv).restrictive.len());
}

fn main() {
    divan::main();
    if !percentiles::benchmarking() {
        return;
    }
    let mut out = Vec::new();
    let mut reader = Reader::new();
    for (name, _, _) in CLASSES {
        let cmds = class(name);
        let rounds = 20_000 / cmds.len();
        let label = format!("read_command_reused/{name} ({} cmds)", cmds.len());
        if percentiles::selected(&label) {
            let samples = per_item(&cmds, rounds, |cmd| {
                reader.read_command(cmd).restrictive.len()
            });
            out.push(Summary::from_samples(&label, samples));
        }
        let label = format!("read_command_cold/{name} ({} cmds)", cmds.len());
        if percentiles::selected(&label) {
            let samples = per_item(&cmds, rounds, |cmd| read_command(cmd).restrictive.len());
            out.push(Summary::from_samples(&label, samples));
        }
    }
    percentiles::report(&out);
}
