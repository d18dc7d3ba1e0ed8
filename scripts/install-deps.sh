#!/usr/bin/env bash
# Installs the Debian packages interv builds and tests with, only those missing.
set -euo pipefail
PKGS=(build-essential pkg-config libopenblas-dev liblapacke-dev libjansson-dev libpcre2-dev
      libutf8proc-dev libcsv-dev libzip-dev libcmocka-dev libcairo2-dev)
[ "${1:-}" = "--test" ] && PKGS+=(nodejs npm chromium valgrind clang libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
