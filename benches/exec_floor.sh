#!/usr/bin/env bash
# The floor under the preload's per-exec budget (issue 6: <= 5 us per intercepted exec): what any
# LD_PRELOAD library pays to map a bundle and record a decision in a fresh process, with no
# evaluation at all (support/exec_floor.c), against one that forwards execve untouched. Each
# variant spawns a program that execs /bin/true; support/spawn_pairs.c interleaves the variants
# and prints the median of the paired differences.
#
# benches/exec_floor.sh [SPAWNS]   (default 3000 per variant; needs cc and a compiled bundle,
#                                   which it makes with target/release/rampart if present)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bundle="$work/standard.bin"
rampart=${RAMPART:-target/release/rampart}
if [ -x "$rampart" ]; then
  "$rampart" compile policies/standard.yaml -o "$bundle" >/dev/null
else
  head -c 4096 /dev/urandom >"$bundle" # the floor reads one page; any file will do
fi
cc -O2 -o "$work/spawn_pairs" benches/support/spawn_pairs.c
printf '#include <unistd.h>\nextern char **environ;\nint main(void) { char *a[] = {"true", 0}; execve("/bin/true", a, environ); return 1; }\n' >"$work/exec_true.c"
cc -O2 -o "$work/exec_true" "$work/exec_true.c"
for steps in 0 1 2 3; do
  cc -shared -fPIC -O2 -DSTEPS=$steps -DFLOOR_BUNDLE="\"$bundle\"" \
    -DFLOOR_SPOOL="\"$work/spool.jsonl\"" -o "$work/floor$steps.so" benches/support/exec_floor.c -ldl
done
echo "per exec, over a library that forwards execve (steps: 1 map the bundle, 2 record, 3 both):"
"$work/spawn_pairs" "$n" "$work/exec_true" \
  "LD_PRELOAD=$work/floor0.so" "LD_PRELOAD=$work/floor1.so" "LD_PRELOAD=$work/floor2.so" \
  "LD_PRELOAD=$work/floor3.so"
