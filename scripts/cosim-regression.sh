#!/usr/bin/env bash
# The full co-simulation regression: the shaped programs and N seeded random
# programs (default 100) on every co-simulation design point.  CI runs the
# same tests with 4 seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-100}"
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCLONESIM_COSIM_SEEDS="$N" >/dev/null
cmake --build build -j"${JOBS:-$(nproc)}"
cd build
ctest -L cosim --output-on-failure -j"${JOBS:-$(nproc)}"
