//! Opening the standard bundle (budget: <= 10 us in a new process).
//!
//! - `validated`: `Bundle::open` (sha256 of the payload and `from_bytes` of every DFA), what the
//!   server and CLI do once per load;
//! - `unchecked`: `Bundle::open_unchecked`, header and section table only;
//! - `unchecked_evaluator`: the above plus `Evaluator::new` (program decode, DFA views): everything
//!   the preload must do before its first decision;
//! - `mmap_unchecked_evaluator`: the same from a fresh `mmap` of the file each time (syscalls and
//!   the page faults of the touched pages included), the closest in-process stand-in for a new
//!   process's constructor.
//!
//! `cargo bench --bench open [-- FILTER]`
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

use divan::Bencher;
use fixture::standard_bundle;
use percentiles::{per_item, Summary};
use rampart_runtime::bundle::Bundle;
use rampart_runtime::eval::Evaluator;
use std::path::PathBuf;

fn bytes() -> &'static [u8] {
    standard_bundle().bytes()
}

fn validated() -> usize {
    Bundle::open(bytes()).expect("valid").sections().len()
}

fn unchecked() -> usize {
    // SAFETY: the bytes were compiled by this process and validated in `main`.
    unsafe { Bundle::open_unchecked(bytes()) }
        .expect("valid")
        .sections()
        .len()
}

fn unchecked_evaluator() -> usize {
    // SAFETY: as in `unchecked`.
    let bundle = unsafe { Bundle::open_unchecked(bytes()) }.expect("valid");
    Evaluator::new(&bundle)
        .expect("evaluator")
        .program()
        .field_count()
}

fn bundle_file() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-bench-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("standard.bin");
    std::fs::write(&path, bytes()).expect("write bundle");
    path
}

fn mmap_unchecked_evaluator(path: &PathBuf) -> usize {
    let file = std::fs::File::open(path).expect("open bundle");
    // SAFETY: the file is private to this benchmark and never modified while mapped.
    let map = unsafe { memmap2::Mmap::map(&file) }.expect("mmap");
    // SAFETY: the file holds the validated standard bundle.
    let bundle = unsafe { Bundle::open_unchecked(&map) }.expect("valid");
    let evaluator = Evaluator::new(&bundle).expect("evaluator");
    evaluator.program().field_count()
}

#[divan::bench(name = "validated")]
fn bench_validated() -> usize {
    validated()
}

#[divan::bench(name = "unchecked")]
fn bench_unchecked() -> usize {
    unchecked()
}

#[divan::bench(name = "unchecked_evaluator")]
fn bench_unchecked_evaluator() -> usize {
    unchecked_evaluator()
}

#[divan::bench(name = "mmap_unchecked_evaluator")]
fn bench_mmap(bencher: Bencher) {
    let path = bundle_file();
    bencher.bench(|| mmap_unchecked_evaluator(&path));
}

fn main() {
    let _ = validated();
    println!("standard bundle: {} bytes", bytes().len());
    divan::main();
    if !percentiles::benchmarking() {
        return;
    }
    let path = bundle_file();
    let cases: [(&str, usize, &dyn Fn() -> usize); 4] = [
        ("validated", 300, &validated),
        ("unchecked", 20_000, &unchecked),
        ("unchecked_evaluator", 5_000, &unchecked_evaluator),
        ("mmap_unchecked_evaluator", 5_000, &|| {
            mmap_unchecked_evaluator(&path)
        }),
    ];
    let mut out = Vec::new();
    for (name, rounds, op) in cases {
        if percentiles::selected(name) {
            out.push(Summary::from_samples(
                name,
                per_item(&[(); 1], rounds, |_| op()),
            ));
        }
    }
    percentiles::report(&out);
    let _ = std::fs::remove_dir_all(path.parent().expect("dir"));
}
