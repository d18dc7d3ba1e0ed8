#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, runs the default
# sweep (six methods x four concepts x five strengths, clean and bottleneck
# baselines, perplexity as fluency) on stories260K or the model given, and writes
# the HTML report.  Resumable: rerunning continues where a killed run stopped.
#   ./run.sh [MODEL] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/install-deps.sh
make -s -j"$(nproc)" all >/dev/null
MODEL=${1:-../shared/models/stories260K/stories260K.bin}
NAME=$(basename "${MODEL%/}"); NAME=${NAME%.bin}
OUT=${2:-out/$NAME}
start=$(date +%s)
./build/interv sweep --config configs/stories260K.conf --model "$MODEL" --out "$OUT" --report >/dev/null
echo "report: $OUT/report.html  (tables: $OUT/report.csv, $OUT/report.json; $(( $(date +%s) - start )) s)"
