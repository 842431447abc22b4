#!/usr/bin/env bash
# Builds the rampart that users install: DIR/rampart and DIR/librampart.so (default target/dist).
#
# Why not plain `cargo build --release`: every tool call of a hooked agent starts a `rampart hook`
# process, so starting this binary is paid per call. Dynamically linked and position-independent,
# the loader maps libc, binds its symbols and applies about 11,000 relocations, each page of the
# binary's pointer tables copied on write before main runs; on the VM measured, those fresh pages,
# not instructions, are what a start costs. Linked statically at a fixed address there is no
# loader and nothing to relocate. What that buys and what it gives up (the binary's own ASLR;
# the heap, the stack and every mapping stay randomised) is measured in benches/RESULTS.md
# ("rampart hook"). A static binary also cannot have LD_PRELOAD or LD_LIBRARY_PATH from the
# agent's environment loaded into the process that decides the agent's calls.
#
# The flags are passed to the binary's own compilation only (`cargo rustc`): given as RUSTFLAGS
# they would reach proc-macro crates, which cannot be linked statically. Dependencies are shared
# with `cargo build --release`; a later `cargo build --release` relinks target/release/rampart
# dynamically, which is why the result is copied to DIR.
#
# Usage: scripts/dist.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/dist}
json=$(mktemp)
trap 'rm -f "$json"' EXIT

cargo rustc --release --bin rampart --message-format=json-render-diagnostics \
  -- -C target-feature=+crt-static -C relocation-model=static >"$json"
bin=$(sed -n 's/.*"executable":"\([^"]*\/rampart\)".*/\1/p' "$json" | tail -n 1)
[ -x "$bin" ] || { echo "dist: could not find the rampart executable in cargo's output" >&2; exit 1; }
if ! readelf -lW "$bin" | grep -q 'Elf file type is EXEC' || readelf -lW "$bin" | grep -q INTERP; then
  echo "dist: $bin is not a static position-dependent executable" >&2
  exit 1
fi

mkdir -p "$out"
install -m 0755 "$bin" "$out/rampart"
library="$(dirname "$bin")/librampart.so"
if [ -f "$library" ]; then
  install -m 0755 "$library" "$out/librampart.so"
else
  echo "dist: no librampart.so beside $bin; \`rampart preload\` will say where it looked" >&2
fi
echo "dist: $out/rampart ($(du -h "$out/rampart" | cut -f1), static)"
