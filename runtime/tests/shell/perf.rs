//! A quick latency probe for `Reader::read_command` on typical agent commands. Not a gate (timed
//! tests are flaky on shared machines): run it by hand in release mode,
//! `cargo test --release -p rampart-runtime --test tests -- shell::perf --ignored --nocapture`.

use std::time::Instant;

use rampart_runtime::shell::Reader;

const COMMANDS: &[&str] = &[
    "git status",
    "git commit -m 'fix: x' && cargo test --workspace 2>&1 | tail -n 20",
    "npm install express && npm test | tee out.log",
    "cd /work/main && FOO=1 cargo build -p rampart-runtime --no-default-features 2>&1 | head -50",
    "find . -name '*.rs' -not -path './target/*' | xargs grep -n 'TODO' | sort | uniq -c",
    "rm -rf /tmp/build && mkdir -p /tmp/build && cd /tmp/build && cmake .. && make -j4",
    "python3 -c \"import json,sys; print(json.load(sys.stdin)['name'])\" < package.json",
];

#[test]
#[ignore = "benchmark: run by hand in release mode"]
fn read_command_latency() {
    let mut reader = Reader::new();
    for cmd in COMMANDS {
        let mut samples = Vec::with_capacity(20_000);
        let mut readings = 0;
        for _ in 0..20_000 {
            let t = Instant::now();
            readings = reader.read_command(cmd).restrictive.len();
            samples.push(t.elapsed().as_nanos());
        }
        samples.sort_unstable();
        let p = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize];
        println!(
            "{:>4} B  p50 {:>6} ns  p99 {:>6} ns  readings {:>2}  {cmd}",
            cmd.len(),
            p(0.5),
            p(0.99),
            readings
        );
    }
}
