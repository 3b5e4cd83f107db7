#!/usr/bin/env bash
# One command on a fresh machine: install the Debian packages, build, and run
# the main job on the embedded default design point (clone-28nm) and model
# (Llama-2-7B, W4A8 with group-128 scales): a 16-token prompt's prefill and
# three decode steps compiled and simulated cycle by cycle (timing mode),
# reported as TTFT, TPOT, tokens/s, utilisation and DRAM bandwidth
# (out/run.json), then the tiny model run functionally and checked bit for
# bit against the golden interpreter.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
mkdir -p out
./build/clonesim hw show clone-28nm
echo
./build/clonesim run --json out/run.json
echo
./build/clonesim run --model tiny --prompt 16 --gen 8 --mode functional -q --json out/run-tiny.json
echo
echo "run figures: out/run.json (Llama-2-7B, timing), out/run-tiny.json (tiny, functional)"
