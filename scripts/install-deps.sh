#!/usr/bin/env bash
# Installs every Debian package clonesim needs to build, test and run.
# Called by the README's set-up commands and by .ci/run.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libsystemc-dev
  verilator
  libyaml-cpp-dev
  libcli11-dev
  catch2
  nlohmann-json3-dev
  python3                  # scripts/rtl-mutation.py
  yosys                    # clonesim rtl synth: synthesis of the generated RTL
  qflow-tech-osu018        # its liberty file with cell areas (0.18 um)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
