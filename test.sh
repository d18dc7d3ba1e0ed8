#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-deps.sh --test
make -j"$(nproc)" all
make test
