//! The shell model's readings alone (budget: p50 <= 1 us for typical 40-200 byte commands).
//!
//! `read_command_into` reuses its buffers, as the evaluator's hot loop does; `read_argv_into` is the
//! preload's entry (argv words from execve). Commands are the corpus's exec commands by length.
//!
//! `cargo bench --bench shell [-- FILTER]`

#[path = "support/fixture.rs"]
mod fixture;
#[path = "support/percentiles.rs"]
mod percentiles;

use divan::counter::{BytesCount, ItemsCount};
use divan::Bencher;
use fixture::commands;
use percentiles::{per_item, Summary};
use rampart_runtime::shell::{read_argv_into, read_command_into, CommandReadings};

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

#[divan::bench(args = ["short_under_40B", "typical_40_200B", "long_over_200B"])]
fn read_command(bencher: Bencher, name: &str) {
    let cmds = class(name);
    let bytes: usize = cmds.iter().map(|c| c.len()).sum();
    let mut out = CommandReadings::default();
    bencher
        .counter(ItemsCount::new(cmds.len()))
        .counter(BytesCount::new(bytes))
        .bench_local(|| {
            for cmd in &cmds {
                read_command_into(cmd, &mut out);
            }
            out.restrictive.len()
        });
}

#[divan::bench]
fn read_argv(bencher: Bencher) {
    let argv = [
        "cargo",
        "test",
        "-p",
        "rampart-runtime",
        "--release",
        "--",
        "shell::tests",
    ];
    let mut out = CommandReadings::default();
    bencher.bench_local(|| {
        read_argv_into(&argv, &mut out);
        out.restrictive.len()
    });
}

fn main() {
    divan::main();
    if !percentiles::benchmarking() {
        return;
    }
    let mut out = Vec::new();
    let mut readings = CommandReadings::default();
    for (name, _, _) in CLASSES {
        let cmds = class(name);
        let label = format!("read_command/{name} ({} cmds)", cmds.len());
        if percentiles::selected(&label) {
            let samples = per_item(&cmds, 20_000 / cmds.len(), |cmd| {
                read_command_into(cmd, &mut readings);
                readings.restrictive.len()
            });
            out.push(Summary::from_samples(&label, samples));
        }
    }
    percentiles::report(&out);
}
