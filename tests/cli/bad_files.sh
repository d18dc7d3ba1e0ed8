#!/usr/bin/env bash
# Every malformed file in tests/bad/<kind>/ (written by scripts/make_bad_files.py;
# models are checked by model_bad_input.sh) is fed to the interv command that reads
# its kind.  Each must fail with an exit status in 1..127 (no signal, no hang) and
# exactly one line on stderr that names the file and contains the case's .expect
# substring.  A kind whose command is not built yet is skipped.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
M="$SHARED/models/stories260K/stories260K.bin"
[ -x "$INTERV" ] || { echo "no $INTERV"; exit 77; }
[ -f "$M" ] || { echo "no stories260K in $SHARED"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf ',Home\n0,Once upon a time\n' > "$tmp/p.csv"
fails=0; n=0; skipped=""
has() { "$INTERV" "$1" --help >/dev/null 2>&1; }
run_case() { # kind path -> runs the command, sets rc and err
  local kind=$1 f=$2 in=$2
  case $kind in
    tokenizers) [ -d "$f" ] && in="$f/vocab.json"
      err=$(echo "Once upon a time" | timeout 30 "$INTERV" tokenize --tokenizer "$in" 2>&1 >/dev/null);;
    csv) err=$(timeout 30 "$INTERV" run --model "$M" --method clean --concept dog --prompts "$f" \
                 --out "$tmp/o.jsonl" --max-new 1 2>&1 >/dev/null);;
    steering|npz|torch)
      local meth=steering; [ "$kind" = npz ] && meth=sae; [ "$kind" = torch ] && meth=tuned
      err=$(timeout 30 "$INTERV" run --model "$M" --method $meth --artifact "$f" --layer 2 --concept dog \
              --prompts "$tmp/p.csv" --out "$tmp/o.jsonl" --max-new 1 2>&1 >/dev/null);;
    sweep) err=$(timeout 30 "$INTERV" sweep --config "$f" --out "$tmp/sweep" 2>&1 >/dev/null);;
    concepts) err=$(timeout 30 "$INTERV" run --model "$M" --method clean --concept dog --concepts "$f" \
                      --prompts "$tmp/p.csv" --out "$tmp/o.jsonl" --max-new 1 2>&1 >/dev/null);;
    jsonl) err=$(timeout 30 "$INTERV" report "$f" --out "$tmp/r.html" 2>&1 >/dev/null);;
  esac
  rc=$?
}
cmd_of() { case $1 in tokenizers) echo tokenize;; sweep) echo sweep;; jsonl) echo report;; *) echo run;; esac; }
for dir in tests/bad/*/; do
  kind=$(basename "$dir")
  case $kind in models|fuzz) continue;; esac
  has "$(cmd_of "$kind")" || { skipped="$skipped $kind"; continue; }
  for f in "$dir"*; do
    case "$f" in *.expect) continue;; esac
    [ -f "$f.expect" ] || continue
    expect=$(cat "$f.expect"); n=$((n + 1)); name=$(basename "$f")
    run_case "$kind" "$f"
    if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then
      echo "FAIL $kind/$name: exit status $rc: $(printf '%s' "$err" | head -3)"; fails=$((fails + 1)); continue
    fi
    if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then
      echo "FAIL $kind/$name: expected one line, got: $(printf '%s' "$err" | head -5)"; fails=$((fails + 1)); continue
    fi
    case "$err" in *"$name"*) ;; *) echo "FAIL $kind/$name: message does not name the file: $err"; fails=$((fails + 1)); continue;; esac
    case "$err" in *"$expect"*) ;; *) echo "FAIL $kind/$name: message lacks '$expect': $err"; fails=$((fails + 1));; esac
  done
done
[ -n "$skipped" ] && echo "skipped kinds (command missing):$skipped"
echo "$n cases, $fails failures"
[ "$n" -gt 0 ] || exit 77
[ "$fails" -eq 0 ]
