#!/usr/bin/env bash
# Wall-clock percentiles of the evaluator by tool, two builds paired in one run.
#
# This VM's speed drifts 2-4x between windows, so a figure measured today beside one recorded last
# week says little. This runs the `evaluate` benchmark of an old build and of this one in turn
# (old, new, old, new, ...) and prints, for each tool, every round's p50/p90/p99 of both and the
# new/old ratio of each round's pair; the median ratio is the figure to quote.
#
# Usage: benches/paired_evaluate.sh OLD_REV [ROUNDS]   (default 5 rounds)
#   builds OLD_REV's evaluate benchmark in a worktree under target/paired/ and this tree's with
#   `cargo bench --no-run`; each binary reads its own tree's corpus and standard profile.
set -euo pipefail
cd "$(dirname "$0")/.."
old_rev=${1:?usage: benches/paired_evaluate.sh OLD_REV [ROUNDS]}
rounds=${2:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# bench_binary DIR: builds DIR's evaluate benchmark, prints its executable.
bench_binary() {
  (cd "$1" && RAMPART_SKIP_PRELOAD=1 cargo bench --bench evaluate --no-run \
    --message-format=json-render-diagnostics) >"$work/build.json"
  sed -n 's/.*"executable":"\([^"]*\/evaluate-[0-9a-f]*\)".*/\1/p' "$work/build.json" | tail -n 1
}

tree="target/paired/$(git rev-parse --short "$old_rev")"
[ -d "$tree" ] || git worktree add --detach "$tree" "$old_rev" >/dev/null
old=$(bench_binary "$tree")
new=$(bench_binary .)
for r in $(seq "$rounds"); do
  for side in old new; do
    bin=${!side}
    "$bin" --bench by_tool whole_corpus 2>/dev/null | grep -E '^(by_tool|whole_corpus)' |
      sed "s/^/$side $r /" >>"$work/rows"
  done
done

python3 - "$work/rows" "$old_rev" <<'PY'
import sys, statistics, collections
def us(text):
    n, unit = float(text[:-2]), text[-2:]
    return n * {"ns": 1e-3, "us": 1.0, "ms": 1e3}.get(unit, 1.0)
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    f = line.split()
    side, rnd, name = f[0], f[1], f[2]
    # name (N calls) n p50 unit p90 unit p99 unit ...
    vals = f[f.index("calls)") + 2:]
    p50, p90, p99 = (us(vals[i] + vals[i + 1]) for i in (0, 2, 4))
    rows[(name, rnd)][side] = (p50, p90, p99)
print(f"old: {sys.argv[2]}; new: this tree; each round runs old then new")
print(f"{'tool':<22} {'round':>5}  {'old p50/p90/p99 us':>24}  {'new p50/p90/p99 us':>24}  new/old p50 p90 p99")
ratios = collections.defaultdict(list)
for (name, rnd), sides in sorted(rows.items()):
    if "old" not in sides or "new" not in sides:
        continue
    o, n = sides["old"], sides["new"]
    r = [n[i] / o[i] for i in range(3)]
    ratios[name].append(r)
    fmt = lambda t: "/".join(f"{v:.2f}" for v in t)
    print(f"{name:<22} {rnd:>5}  {fmt(o):>24}  {fmt(n):>24}  {r[0]:.2f} {r[1]:.2f} {r[2]:.2f}")
print()
print("median new/old ratio over the rounds (p50, p90, p99):")
for name, rs in sorted(ratios.items()):
    med = [statistics.median(x[i] for x in rs) for i in range(3)]
    print(f"  {name:<22} {med[0]:.2f} {med[1]:.2f} {med[2]:.2f}")
PY
