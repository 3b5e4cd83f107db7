#!/usr/bin/env bash
# One command on a fresh machine: install the Debian packages, build, and run
# the main job on the embedded default design point (clone-28nm): a tiled,
# double-buffered GEMM with DMA, functional and cycle-accurate, with its
# statistics (out/gemm.json) and Perfetto timeline (out/gemm.trace.json).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p out
./build/clonesim hw show clone-28nm
echo
./build/clonesim sim examples/gemm.s \
  --dram-random 0x40000000:2048:1 --dram-random 0x0:8192:2 \
  --json out/gemm.json --trace out/gemm.trace.json
echo
echo "statistics: out/gemm.json   timeline: out/gemm.trace.json (open in https://ui.perfetto.dev)"
