#!/usr/bin/env bash
# The performance gates of CI: deterministic, so they cannot flake.
#
# Speed is gated in instructions, counted by `valgrind --tool=callgrind`: the same binary on the same
# input executes the same instructions however busy the machine is. Each count is the difference
# between a run doing N operations and a run doing 0 (benches/gate.rs does identical set-up in
# both), divided by N, so process start-up and set-up cancel out. Sizes are gated in bytes; compile
# time, the one wall-clock gate, has a limit several times the measured value.
#
# Limits live in benches/limits.txt (about 30-50% over the measured value, so a 2x slowdown fails).
# Usage:
#   benches/gates.sh                    build what is needed, measure, print a table, exit 1 on a violation
#   GATE_SELFTEST=1 benches/gates.sh    evaluate every call twice (gate --repeat 2): the eval gate must go red
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)

# Build scripts (build.rs compiles the built-in profiles) are unoptimised in release by default, and
# DFA determinisation unoptimised takes minutes; the dev profile already sets this in Cargo.toml.
export CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL="${CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL:-2}"
# Counting needs no debug info, and leaving it out takes about a fifth off the clean release build
# that dominates this script's time in CI (instruction counts are unchanged by it). For
# callgrind_annotate by function and line, run with CARGO_PROFILE_RELEASE_DEBUG=1.
export CARGO_PROFILE_RELEASE_DEBUG="${CARGO_PROFILE_RELEASE_DEBUG:-0}"
# Absolute: the hook gate runs the binary from a scratch directory.
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
limits=benches/limits.txt
corpus=benches/corpus/calls.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

command -v valgrind >/dev/null || { echo "gates: valgrind is required (apt-get install valgrind)" >&2; exit 1; }

echo "gates: building the gate binary (release)"
cargo build --release --bench gate --message-format=json-render-diagnostics >"$work/build.json"
gate=$(sed -n 's/.*"executable":"\([^"]*\/gate-[0-9a-f]*\)".*/\1/p' "$work/build.json" | tail -n 1)
[ -x "$gate" ] || { echo "gates: could not find the gate executable in cargo's output" >&2; exit 1; }

failures=()
rows=()

limit_of() {
  local value
  value=$(awk -v name="$1" '$1 == name { print $2 }' "$limits")
  [ -n "$value" ] || { echo "gates: no limit named $1 in $limits" >&2; exit 1; }
  echo "$value"
}

# record NAME MEASURED UNIT WHAT: compares against the limit, keeps a table row.
record() {
  local name=$1 measured=$2 unit=$3 what=$4 limit status
  limit=$(limit_of "$name")
  if [ "$measured" -le "$limit" ]; then status=ok; else status=FAIL; fi
  rows+=("$(printf '%-34s %14s %14s  %-6s %-5s %s' "$name" "$measured" "$limit" "$unit" "$status" "$what")")
  if [ "$status" = FAIL ]; then
    failures+=("$name ($what): measured $measured $unit, allowed $limit $unit")
  fi
}

# instructions ARGS...: user-space instructions of one gate run under callgrind.
instructions() {
  local log="$work/callgrind.log"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$gate" "$@" >/dev/null 2>"$log" || {
    cat "$log" >&2
    echo "gates: gate $* failed under valgrind" >&2
    exit 1
  }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n 1
}

# per_op N ARGS_BEFORE_N -- ARGS_AFTER_N: (instructions with N - instructions with 0) / N.
per_op() {
  local n=$1 before=() after=() with without
  shift
  while [ "$1" != -- ]; do before+=("$1"); shift; done
  shift
  after=("$@")
  with=$(instructions "${before[@]}" "$n" "${after[@]}")
  without=$(instructions "${before[@]}" 0 "${after[@]}")
  echo $(((with - without) / n))
}

echo "gates: compiling the standard profile and the upstream-sized policy"
std=$("$gate" compile policies/standard.yaml "$work/standard.bin")
up=$("$gate" compile --upstream-sized "$work/upstream.bin")
field() { echo "$1" | sed -n "s/.*$2=\([0-9]*\).*/\1/p"; }
std_bytes=$(field "$std" bytes) std_ms=$(field "$std" millis)
up_bytes=$(field "$up" bytes) up_ms=$(field "$up" millis)
record standard_bundle_bytes "$std_bytes" bytes "bundle size, policies/standard.yaml"
record upstream_bundle_bytes "$up_bytes" bytes "bundle size, upstream-sized generated policy"
record standard_compile_ms "$std_ms" ms "load + compile, policies/standard.yaml (wall clock)"
record upstream_compile_ms "$up_ms" ms "load + compile, upstream-sized policy (wall clock)"

calls=$(grep -c . "$corpus")
repeat=1
if [ "${GATE_SELFTEST:-}" = 1 ]; then
  repeat=2
  echo "gates: SELF-TEST: every call is evaluated twice; eval_instructions_per_call must FAIL"
fi
echo "gates: counting instructions under callgrind"
eval_instr=$(per_op "$calls" eval "$work/standard.bin" "$corpus" -- --repeat "$repeat")
record eval_instructions_per_call "$eval_instr" instr \
  "evaluate, mean over the $calls corpus calls, standard profile"
exec_cmds=$(grep -c '"tool":"exec"' "$corpus")
shell_instr=$(per_op "$exec_cmds" shell "$corpus" --)
record shell_instructions_per_command "$shell_instr" instr \
  "Reader::read_command, one reader kept, mean over the $exec_cmds corpus commands"
plain_cmds=$(field "$("$gate" shell "$corpus" 0 --plain-bytes)" selected)
plain_instr=$(per_op "$plain_cmds" shell "$corpus" -- --plain-bytes)
record shell_plain_instructions_per_command "$plain_instr" instr \
  "Reader::read_command, one reader kept, mean over the $plain_cmds corpus commands of words and operators only"
plain_cold_instr=$(per_op "$plain_cmds" shell "$corpus" -- --plain-bytes --cold)
record shell_plain_cold_instructions_per_command "$plain_cold_instr" instr \
  "read_command, a new reader for each command (a process deciding once), same $plain_cmds commands"
open_instr=$(per_op 50 open "$work/standard.bin" --)
record open_unchecked_instructions "$open_instr" instr \
  "Bundle::open_unchecked + Evaluator::new, standard profile"
validated_instr=$(per_op 1 open "$work/standard.bin" -- --validated)
record open_validated_instructions "$validated_instr" instr \
  "Bundle::open (sha256 + DFA validation) + Evaluator::new"

# driver_instructions PRELOAD N: instructions of benches/support/exec_driver.c making N execve
# calls, with librampart.so preloaded (PRELOAD=1) or not. The environment is fixed, so the count is.
driver_instructions() {
  local log="$work/driver.log" preload=()
  # Absolute, as `rampart preload` sets it (a relative path costs the library a realpath).
  [ "$1" = 1 ] && preload=("LD_PRELOAD=$(realpath "$lib")")
  env -i HOME="$work/home" RAMPART_POLICY="$work/standard.bin" "${preload[@]}" \
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$work/exec_driver" "$2" \
    >/dev/null 2>"$log" || {
    cat "$log" >&2
    echo "gates: exec_driver $2 failed under valgrind" >&2
    exit 1
  }
  sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n 1
}

# The preload's per-process and per-exec costs in instructions (the wall-clock budgets are
# measured by `cargo bench --bench process`; page faults, ~2.8 us each for an anonymous page on
# the reference machine, are not counted here).
preload_gates() {
  cc -O2 -o "$work/exec_driver" benches/support/exec_driver.c
  mkdir -p "$work/home"
  local bare loaded first steady
  bare=$(driver_instructions 0 0)
  loaded=$(driver_instructions 1 0)
  first=$(driver_instructions 1 1)
  steady=$(driver_instructions 1 11)
  record preload_load_instructions $((loaded - bare)) instr \
    "librampart.so loaded and initialised, no exec (loader + constructor)"
  record preload_first_exec_instructions $((first - loaded)) instr \
    "first execve decision of a process (evaluator built, DFAs loaded)"
  record preload_steady_exec_instructions $(((steady - first) / 10)) instr \
    "a later execve decision of the same process"
}

# build.rs put the preload library next to the release binaries while building the gate binary.
lib="$target/release/librampart.so"
if [ -f "$lib" ]; then
  # Loaded size (text + data + bss): the file also carries the release profile's debug info.
  so_bytes=$(size "$lib" | awk 'NR == 2 { print $4 }')
  record preload_so_loaded_bytes "$so_bytes" bytes "text+data+bss of librampart.so"
  needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')
  preload_gates
else
  needed="no library (build.rs did not build $lib)"
fi
# One `rampart hook` process, whole (loader, start-up, policy, decision, audit record), less a
# `/bin/true`. The budget is wall-clock (benches/process.rs, paired with /bin/true); this count
# catches a regression in what the process executes (page faults are not counted).
hook_gate() {
  local bin="$target/release/rampart" home="$work/hook-home" log="$work/hook.log" hook bare
  mkdir -p "$home"
  printf '%s' '{"session_id":"gate","transcript_path":"/tmp/t.jsonl","permission_mode":"default","hook_event_name":"PreToolUse","tool_name":"Bash","tool_input":{"command":"git status"},"tool_use_id":"toolu_01GATE"}' >"$work/pre.json"
  # The first record creates the audit trail; the count is of a record appended to a chain.
  (cd "$work" && env -i HOME="$home" "$bin" hook <"$work/pre.json" >/dev/null)
  (cd "$work" && env -i HOME="$home" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
    "$bin" hook <"$work/pre.json" >/dev/null 2>"$log") || {
    cat "$log" >&2
    echo "gates: rampart hook failed under valgrind" >&2
    exit 1
  }
  hook=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/true 2>"$log"
  bare=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  record hook_process_instructions $((hook - bare)) instr \
    "a rampart hook process (Claude Code PreToolUse, Bash, standard profile, audit record) less /bin/true"
}
hook_gate

# minor_faults HOME STDIN PROGRAM ARGS...: the fewest page faults of five runs of PROGRAM (in
# $work, with only HOME set), as the kernel counted them for that child alone: posix_spawn, so no
# copy-on-write of a forking parent, and wait4.
minor_faults() {
  (cd "$work" && python3 - "$@" <<'PY'
import os, sys
home, stdin, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
def faults():
    actions = [(os.POSIX_SPAWN_OPEN, 0, stdin, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]
    pid = os.posix_spawn(argv[0], argv, {"HOME": home}, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{argv} failed: {status}")
    return usage.ru_minflt + usage.ru_majflt
print(min(faults() for _ in range(5)))
PY
  )
}

# The build users install (scripts/dist.sh: static, position-dependent), one hook process in page
# faults less /bin/true's. The hook budget is wall clock, and on the VM measured fresh pages, not
# instructions, were the cost: what kept the cargo build's hook 0.7 ms over budget was ~90 more faults (the
# loader, relocations copied on write), not instructions. The cargo build's count is shown beside.
installed_gate() {
  local home="$work/hook-home" installed cargo_build bare
  # Before dist.sh, which relinks target/release/rampart statically (cargo rustc).
  cargo_build=$(minor_faults "$home" "$work/pre.json" "$target/release/rampart" hook)
  scripts/dist.sh "$target/dist" >/dev/null
  installed=$(minor_faults "$home" "$work/pre.json" "$target/dist/rampart" hook)
  bare=$(minor_faults "$home" "$work/pre.json" /bin/true)
  record hook_installed_page_faults $((installed - bare)) faults \
    "a hook process of the installed build less /bin/true (cargo build's: $((cargo_build - bare)))"
}
installed_gate

if [ "$needed" = "libc.so.6" ]; then
  rows+=("$(printf '%-34s %14s %14s  %-6s %-5s %s' preload_needed "$needed" libc.so.6 "" ok "DT_NEEDED of librampart.so")")
else
  rows+=("$(printf '%-34s %14s %14s  %-6s %-5s %s' preload_needed "${needed:-none}" libc.so.6 "" FAIL "DT_NEEDED of librampart.so")")
  failures+=("preload_needed (DT_NEEDED of librampart.so): measured [$needed], allowed exactly [libc.so.6]")
fi

echo
printf '%-34s %14s %14s  %-6s %-5s %s\n' gate measured limit unit status what
for row in "${rows[@]}"; do echo "$row"; done
echo
echo "gates: $(($(date +%s) - started)) s in total"
if [ "${#failures[@]}" -gt 0 ]; then
  for f in "${failures[@]}"; do echo "GATE FAILED: $f" >&2; done
  exit 1
fi
echo "gates: all ${#rows[@]} gates passed"
