#!/usr/bin/env bash
# Installs the Debian packages interv builds and tests with, only those missing.
#   scripts/install-deps.sh          build dependencies
#   scripts/install-deps.sh --test   plus the tools the tests use
set -euo pipefail
missing=()
# libraries: by Debian package
for p in build-essential pkg-config libopenblas-dev liblapacke-dev libjansson-dev libpcre2-dev \
         libutf8proc-dev libcsv-dev libzip-dev libcmocka-dev libcairo2-dev; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${1:-}" = "--test" ]; then
  # tools: by command, since node/npm may come from outside Debian's packages
  need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
  need node nodejs; need npm npm; need chromium chromium; need valgrind valgrind; need clang clang
  need python3 python3; need jq jq
  # Open MPI: interv-mpi and the cluster tests (tests/cli/sweep_mpi.sh)
  for p in libopenmpi-dev openmpi-bin; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
