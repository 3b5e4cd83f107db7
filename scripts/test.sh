#!/usr/bin/env bash
# One command on a fresh machine: install the Debian packages, build, and run
# the whole test suite (Catch2 under CTest).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure -j"${JOBS:-$(nproc)}"
