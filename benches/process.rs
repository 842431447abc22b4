//! Whole processes: what a user waits for, start-up included.
//!
//! - `rampart check` over the corpus (calls/s), and one-call `rampart check` processes (the
//!   per-process cost of the CLI with the embedded standard profile);
//! - the preload's added cost per spawned process (budget <= 60 us): `/bin/true` spawned with and
//!   without `LD_PRELOAD=librampart.so` and `RAMPART_POLICY` pointing at the compiled standard
//!   bundle, interleaved so that drift of the machine hits both sides alike, and reported as the
//!   median of the paired differences;
//! - its added cost per intercepted exec (budget <= 5 us over the load): `env /bin/true` the same
//!   way. That is two preloaded processes and one decision (the first in its process, so the
//!   evaluator is built too), so the exec's share is the env difference less twice the true one;
//! - `rampart hook` end to end, one Claude Code `PreToolUse` payload per process, audit record
//!   included (budget: p50 at most 0.5 ms more than starting a trivial binary), paired with
//!   `/bin/true` run on the same stdin; the build users install (`scripts/dist.sh` puts it in
//!   `target/dist`, or `RAMPART_BIN`) and the one cargo built run in the same rounds.
//!
//! The preload part needs `target/release/librampart.so`, which build.rs puts there; skipped with
//! a note when it is missing (`RAMPART_SKIP_PRELOAD=1`, or its build failed).
//!
//! `cargo bench --bench process [-- FILTER]`
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up: a panic stops the run"
)]

#[path = "support/percentiles.rs"]
mod percentiles;

use percentiles::{human, Summary};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const RAMPART: &str = env!("CARGO_BIN_EXE_rampart");

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A scratch HOME and working directory, so `rampart` uses the embedded standard profile.
fn scratch() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rampart-bench-process-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

fn rampart(scratch: &Path, args: &[&str]) -> Command {
    in_scratch(Path::new(RAMPART), scratch, args)
}

/// `program` with `args`, run in `scratch` with `scratch` as HOME.
fn in_scratch(program: &Path, scratch: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(scratch).env("HOME", scratch).args(args);
    cmd
}

/// Runs `cmd` with `input` on stdin, returning the time and stdout.
fn run_with_input(mut cmd: Command, input: &[u8]) -> (Duration, Vec<u8>) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().expect("wait");
    let elapsed = start.elapsed();
    writer.join().expect("writer").expect("write stdin");
    assert!(out.status.success(), "{cmd:?} failed");
    (elapsed, out.stdout)
}

fn check_throughput(scratch: &Path) -> Vec<Summary> {
    let corpus = std::fs::read(repo_path("benches/corpus/calls.jsonl")).expect("corpus");
    let lines = corpus.iter().filter(|&&b| b == b'\n').count();
    let big: Vec<u8> = corpus.repeat(20);
    let mut runs = Vec::new();
    for _ in 0..5 {
        let (t, out) = run_with_input(rampart(scratch, &["check"]), &big);
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), lines * 20);
        runs.push(t);
    }
    runs.sort();
    let median = runs[runs.len() / 2];
    println!(
        "rampart check, {} calls per process: median {} -> {:.0} calls/s (process start included)",
        lines * 20,
        human(median),
        (lines * 20) as f64 / median.as_secs_f64()
    );
    let one = corpus
        .split(|&b| b == b'\n')
        .next()
        .expect("a line")
        .to_vec();
    let samples: Vec<Duration> = (0..200)
        .map(|_| run_with_input(rampart(scratch, &["check"]), &one).0)
        .collect();
    vec![Summary::from_samples(
        "rampart check, one call per process",
        samples,
    )]
}

fn spawn(argv: &[&str], preload: Option<(&Path, &Path)>) -> Duration {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..]).env_remove("LD_PRELOAD");
    if let Some((lib, policy)) = preload {
        cmd.env("LD_PRELOAD", lib).env("RAMPART_POLICY", policy);
    }
    let start = Instant::now();
    let status = cmd.status().expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success());
    elapsed
}

fn preload_overhead(scratch: &Path) -> Vec<Summary> {
    let lib = Path::new(RAMPART).with_file_name("librampart.so");
    if !lib.exists() {
        println!("preload: {} not built; skipped", lib.display());
        return Vec::new();
    }
    let policy = scratch.join("standard.bin");
    let standard = repo_path("policies/standard.yaml");
    let status = rampart(scratch, &["compile", standard.to_str().expect("utf-8")])
        .arg("-o")
        .arg(&policy)
        .stdout(Stdio::null())
        .status()
        .expect("rampart compile");
    assert!(status.success(), "rampart compile failed");
    let preload = Some((lib.as_path(), policy.as_path()));
    let mut out = Vec::new();
    let mut added = Vec::new();
    for (name, argv) in [
        ("/bin/true", &["/bin/true"][..]),
        ("env /bin/true", &["/usr/bin/env", "/bin/true"][..]),
    ] {
        let (mut plain, mut preloaded) = (Vec::new(), Vec::new());
        for _ in 0..100 {
            spawn(argv, None);
            spawn(argv, preload);
        }
        for _ in 0..2_000 {
            plain.push(spawn(argv, None));
            preloaded.push(spawn(argv, preload));
        }
        added.push(paired_median_us(&plain, &preloaded));
        let plain = Summary::from_samples(&format!("spawn {name}"), plain);
        let with = Summary::from_samples(
            &format!("spawn {name}, LD_PRELOAD librampart.so"),
            preloaded,
        );
        out.extend([plain, with]);
    }
    if let [process, env] = added[..] {
        println!("preload added cost per spawned process (median of paired differences): {process:.1} us");
        println!(
            "preload added cost per intercepted exec (env difference - 2 x process): {:.1} us",
            env - 2.0 * process
        );
    }
    out
}

/// The median of `with[i] - plain[i]` in microseconds: each pair ran back to back, so the
/// machine's drift over the run (this VM's bare spawn moves by 30% from one minute to the next)
/// cancels within a pair, where a difference of the two medians carries it.
fn paired_median_us(plain: &[Duration], with: &[Duration]) -> f64 {
    let mut diffs: Vec<f64> = plain
        .iter()
        .zip(with)
        .map(|(p, w)| w.as_secs_f64() * 1e6 - p.as_secs_f64() * 1e6)
        .collect();
    diffs.sort_by(f64::total_cmp);
    diffs[diffs.len() / 2]
}

/// One Claude Code `PreToolUse` payload per `rampart hook` process (the embedded standard
/// profile, the audit record included), each paired with a trivial binary (`/bin/true`) given
/// the same stdin, so the budget's "more than starting a trivial binary" is a paired difference.
/// The build users install (`scripts/dist.sh`, or `RAMPART_BIN`) runs in the same rounds as the
/// one cargo built, so the two are compared on the same machine at the same moment.
fn hook(scratch: &Path) -> Vec<Summary> {
    let mut builds = vec![("cargo build --release".to_string(), PathBuf::from(RAMPART))];
    let installed = std::env::var_os("RAMPART_BIN")
        .map(PathBuf::from)
        .or_else(|| Some(repo_path("target/dist/rampart")).filter(|p| p.exists()));
    match installed {
        Some(bin) => builds.insert(0, (format!("installed build, {}", bin.display()), bin)),
        None => println!("rampart hook: no target/dist/rampart (scripts/dist.sh) or RAMPART_BIN; measuring the cargo build only"),
    }
    let payload = scratch.join("pre-tool-use.json");
    let input = format!(
        r#"{{"session_id":"bench","transcript_path":"/tmp/t.jsonl","cwd":"{}","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{{"command":"git status","description":"Show the working tree status"}},"tool_use_id":"toolu_01BENCH"}}"#,
        scratch.display()
    );
    std::fs::write(&payload, input).expect("payload");
    let run = |program: &Path, args: &[&str]| {
        let mut cmd = in_scratch(program, scratch, args);
        cmd.stdin(std::fs::File::open(&payload).expect("payload"));
        timed(cmd)
    };
    // Each hook is paired with the /bin/true run right after it: a process start pays for what the
    // one before it left behind (pages to free, caches to refill), so each build gets its own pairs.
    let round = |pairs: &mut [(Vec<Duration>, Vec<Duration>)]| {
        for ((_, bin), (hooks, trues)) in builds.iter().zip(pairs.iter_mut()) {
            hooks.push(run(bin, &["hook"]));
            trues.push(run(Path::new("/bin/true"), &[]));
        }
    };
    let mut pairs = vec![(Vec::new(), Vec::new()); builds.len()];
    for _ in 0..50 {
        round(&mut pairs);
    }
    for (hooks, trues) in &mut pairs {
        hooks.clear();
        trues.clear();
    }
    for _ in 0..2_000 {
        round(&mut pairs);
    }
    let mut out = Vec::new();
    for ((label, _), (hooks, trues)) in builds.iter().zip(pairs) {
        let mut added: Vec<Duration> = hooks
            .iter()
            .zip(&trues)
            .map(|(h, t)| h.saturating_sub(*t))
            .collect();
        added.sort();
        println!(
            "rampart hook ({label}) added cost over /bin/true (paired differences): p50 {}, p99 {}",
            human(added[added.len() / 2]),
            human(added[added.len() * 99 / 100])
        );
        out.push(Summary::from_samples(
            &format!("rampart hook ({label})"),
            hooks,
        ));
        out.push(Summary::from_samples(
            "/bin/true after it, same stdin",
            trues,
        ));
    }
    out
}

/// Runs `cmd` to its end with stdout and stderr discarded; how long it took.
fn timed(mut cmd: Command) -> Duration {
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let status = cmd.status().expect("spawn");
    let elapsed = start.elapsed();
    assert!(status.success(), "{cmd:?} failed");
    elapsed
}

fn main() {
    if !percentiles::benchmarking() {
        return;
    }
    let scratch = scratch();
    let mut out = Vec::new();
    if percentiles::selected("check") {
        out.extend(check_throughput(&scratch));
    }
    if percentiles::selected("preload") {
        out.extend(preload_overhead(&scratch));
    }
    if percentiles::selected("hook") {
        out.extend(hook(&scratch));
    }
    percentiles::report(&out);
    let _ = std::fs::remove_dir_all(&scratch);
}
