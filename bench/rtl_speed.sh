#!/usr/bin/env bash
# RTL (Verilator) against SystemC model speed on the same program, each in its
# own process: simulated cycles per wall second.  Usage:
#   bench/rtl_speed.sh [BUILD_DIR] [PROGRAM]
# The default program is DRAM-bound: 64 loads of 32 KiB on edge-small.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
prog="${2:-}"
if [ -z "$prog" ]; then
  # a DRAM-bound stream: 64 loads of 32 KiB into alternating banks
  prog="$(mktemp --suffix=.s)"
  for i in $(seq 0 63); do
    printf 'load dram=0x%x sram=0x%x bytes=32768\n' $((i * 32768)) $(((i % 2) * 32768))
  done > "$prog"
  echo halt >> "$prog"
fi
bin="$build/cosim_edge-small"
[ -x "$bin" ] || { echo "rtl_speed: $bin not built (cmake --build $build --target cosim_edge-small)" >&2; exit 1; }
run() { "$bin" "$prog" --only "$1" | awk '/^SPEED/ {print $3, $5}'; }
read -r rc rw < <(run rtl)
read -r fc fw < <(run model)
read -r tc tw < <(run model-timing)
[ "$rc" = "$fc" ] && [ "$rc" = "$tc" ] || { echo "rtl_speed: cycle counts differ: rtl $rc, model $fc, timing $tc" >&2; exit 1; }
printf "program: %s on edge-small, %s cycles (RTL time excludes the SRAM read-back)\n\n" "$(basename "$prog")" "$rc"
printf "%-28s %12s %14s %10s\n" "simulator" "wall s" "cycles/s" "vs RTL"
awk -v c="$rc" -v rw="$rw" -v fw="$fw" -v tw="$tw" 'BEGIN {
  printf "%-28s %12.4f %14.3e %9.1fx\n", "RTL (Verilator, -O3)", rw, c/rw, 1
  printf "%-28s %12.4f %14.3e %9.1fx\n", "SystemC model, functional", fw, c/fw, rw/fw
  printf "%-28s %12.4f %14.3e %9.1fx\n", "SystemC model, timing-only", tw, c/tw, rw/tw
  printf "\ntarget: timing-only model >= 100x the RTL: %s\n", (rw/tw >= 100 ? "met" : "NOT met")
}'
