#!/usr/bin/env bash
# --compute: a bad value and bf16 without AVX512-BF16 (forced with IV_ISA=avx2)
# give one line and a non-zero exit on every command that takes it; where the
# CPU has AVX512-BF16, generate / score / run work in bf16 compute and the
# greedy story of stories260K starts as in f32.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
M="$SHARED/models/stories260K/stories260K.bin"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'Once upon a time\nThe dog\n' > "$tmp/p.txt"
fail() { echo "FAIL: $*"; exit 1; }
one_line() { # $1: expected text; the command's stderr must be exactly one line holding it
  [ "$(wc -l < "$tmp/err")" -eq 1 ] && grep -q -- "$1" "$tmp/err" || { cat "$tmp/err"; fail "$2"; }
}
declare -a cmds=(
  "generate --model $M --prompt Hi --max-new 4"
  "score --model $M --text Hi"
  "run --model $M --method clean --prompts $tmp/p.txt --out $tmp/o.jsonl --max-new 4"
)
for c in "${cmds[@]}"; do
  # shellcheck disable=SC2086
  "$INTERV" $c --compute fp8 > /dev/null 2> "$tmp/err"; rc=$?
  [ $rc -ne 0 ] || fail "${c%% *} --compute fp8 exited 0"
  one_line "--compute" "${c%% *} --compute fp8"
  # shellcheck disable=SC2086
  IV_ISA=avx2 "$INTERV" $c --compute bf16 > /dev/null 2> "$tmp/err"; rc=$?
  [ $rc -ne 0 ] || fail "${c%% *} --compute bf16 without AVX512-BF16 exited 0"
  one_line "unavailable" "${c%% *} --compute bf16 without AVX512-BF16"
done
if ! grep -q avx512_bf16 /proc/cpuinfo 2>/dev/null; then echo "no AVX512-BF16 here: bf16 runs skipped"; exit 77; fi
"$INTERV" generate --model "$M" --prompt "Once upon a time" --max-new 20 > "$tmp/f32.txt" || fail "generate f32"
"$INTERV" generate --model "$M" --prompt "Once upon a time" --max-new 20 --compute bf16 > "$tmp/bf16.txt" || fail "generate bf16"
# the first words agree (bf16 rounding moves logits by ~1e-2; greedy may part later)
[ "$(head -c 40 "$tmp/f32.txt")" = "$(head -c 40 "$tmp/bf16.txt")" ] || { cat "$tmp/f32.txt" "$tmp/bf16.txt"; fail "bf16 story starts differently"; }
"$INTERV" score --model "$M" --text "The dog ran to the park." --compute bf16 > "$tmp/s.txt" || fail "score bf16"
grep -q "perplexity" "$tmp/s.txt" || fail "score bf16 printed no perplexity"
"$INTERV" run --model "$M" --method clean --prompts "$tmp/p.txt" --out "$tmp/o.jsonl" --max-new 8 --compute bf16 2> "$tmp/err" || { cat "$tmp/err"; fail "run bf16"; }
[ "$(wc -l < "$tmp/o.jsonl")" -eq 2 ] || fail "run bf16 wrote $(wc -l < "$tmp/o.jsonl") records, not 2"
echo ok
