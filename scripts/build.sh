#!/usr/bin/env bash
# Configure and build clonesim (Release) in ./build.  Used by quickstart.sh
# and test.sh; set JOBS to change the parallelism (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
