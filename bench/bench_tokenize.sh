#!/usr/bin/env bash
# Encode throughput of interv vs the JavaScript reference tokenizers on the same
# corpus in the same run, and tokenizer load times (target: Gemma < 1 s).
# Usage: bench/bench_tokenize.sh [BUILD]   (run from the repository root; needs
# tests/tok/node_modules, which tests/cli/tok_reference.sh installs)
set -u
BUILD=${1:-${BUILD:-build}}
make -s BUILD="$BUILD" "$BUILD/bench/bench_tokenize" >/dev/null || exit 1
echo "== interv (C)"
c_out=$("$BUILD/bench/bench_tokenize" tests/tok/corpus.txt) || exit 1
echo "$c_out"
command -v node >/dev/null 2>&1 || { echo "node absent: no reference numbers"; exit 0; }
echo "== JavaScript reference (node $(node --version))"
js_out=$(node tests/tok/ref_encode.js --bench tests/tok/corpus.txt) || exit 1
echo "$js_out"
echo "== speed-up (wall-clock encode MB/s, interv / reference)"
while read -r name mbs; do
  ours=$(printf '%s\n' "$c_out" | awk -v n="$name" '$1 == n { for (i = 1; i <= NF; i++) if ($i == "encode") print $(i + 1) }')
  [ -n "$ours" ] && awk -v n="$name" -v a="$ours" -v b="$mbs" 'BEGIN { printf "%-8s %.1fx\n", n, a / b }'
done <<< "$js_out"
