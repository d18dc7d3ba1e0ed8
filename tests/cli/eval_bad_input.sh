#!/usr/bin/env bash
# Bad evaluation inputs at the CLI: ragged or empty prompt CSVs, invalid UTF-8,
# malformed result records, and an unwritable output folder each give one clear
# line naming the file (and line), and a non-zero exit, never a crash.
set -u
: "${INTERV:?}"
SHARED=${SHARED:-$(cd .. && pwd)/shared}
MODEL=$SHARED/models/stories260K/stories260K.bin
T=$(mktemp -d); trap 'chmod -R u+w "$T"; rm -rf "$T"' EXIT
fails=0
# expect NAME NEEDLE CMD...: non-zero exit (not a signal), stderr contains NEEDLE
expect() {
  local name=$1 needle=$2; shift 2
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ $rc -eq 0 ] || [ $rc -ge 128 ]; then echo "FAIL $name: exit $rc"; fails=$((fails+1)); return; fi
  if ! grep -qF -- "$needle" "$T/err"; then echo "FAIL $name: stderr lacks '$needle': $(cat "$T/err")"; fails=$((fails+1)); fi
}

# Report inputs (always available: cmd_report is ours).
mkdir -p "$T/bad/cells"
printf '{"model":"m","layer":1,"method":"sae","concept":"dog","alpha":1,"mode":"edit","prompt_index":0,"prompt":"p","continuation":"c","success":true}\n{"model":"m",\n' > "$T/bad/cells/x.jsonl"
expect "report bad json" "x.jsonl:2: invalid JSON" "$INTERV" report "$T/bad"
printf '{"model":"m","layer":1,"method":"sae","concept":"dog","alpha":1,"mode":"sideways","prompt_index":0,"prompt":"p","continuation":"c","success":true}\n' > "$T/bad/cells/x.jsonl"
expect "report bad mode" "x.jsonl:1: mode \"sideways\"" "$INTERV" report "$T/bad"
mkdir -p "$T/none"
expect "report no results" "no results" "$INTERV" report "$T/none"
printf '{"model":"m","layer":1,"method":"sae","concept":"dog","alpha":1,"mode":"edit","prompt_index":0,"prompt":"p","continuation":"c","success":true}\n' > "$T/bad/cells/x.jsonl"
expect "report missing out dir" "$T/nodir/r.html" "$INTERV" report "$T/bad" --out "$T/nodir/r.html"
if [ "$(id -u)" -ne 0 ]; then
  mkdir "$T/ro"; chmod 555 "$T/ro"
  expect "report read-only out" "$T/ro/r.html" "$INTERV" report "$T/bad" --out "$T/ro/r.html"
fi
expect "report bad option" "--coh-tol" "$INTERV" report "$T/bad" --coh-tol abc
"$INTERV" report "$T/bad" >/dev/null 2>&1 || { echo "FAIL: a one-record folder should report"; fails=$((fails+1)); }

# Prompt files through `interv run` (the first command that reads them).
if "$INTERV" run --help >/dev/null 2>&1 && [ -f "$MODEL" ]; then
  run() { "$INTERV" run --model "$MODEL" --method clean --prompts "$1" --out "$T/o.jsonl"; }
  printf 'i,A,B\n0,a,b\n1,"x,y"\n' > "$T/ragged.csv"
  expect "ragged csv" "ragged.csv: line 3: ragged row" run "$T/ragged.csv"
  : > "$T/empty.csv"
  expect "empty csv" "empty.csv: empty file" run "$T/empty.csv"
  printf 'i,A\n0,\n1,  \n' > "$T/noprompt.csv"
  expect "no prompts" "noprompt.csv: no prompts" run "$T/noprompt.csv"
  printf 'i,A\n0,ok\n1,bad \xff\n' > "$T/utf8.csv"
  expect "invalid utf8" "utf8.csv: line 3: invalid UTF-8" run "$T/utf8.csv"
  printf 'i,A\n0,"never closed\n' > "$T/quote.csv"
  expect "unterminated quote" "quote.csv: line 2: unterminated" run "$T/quote.csv"
  printf 'i,A\n0,Once upon a time\n' > "$T/ok.csv"
  expect "unwritable run output" "$T/nodir/o.jsonl" "$INTERV" run --model "$MODEL" --method clean --prompts "$T/ok.csv" --out "$T/nodir/o.jsonl"
  # A judge template without placeholders, where a command takes one.
  if "$INTERV" run --help 2>/dev/null | grep -q -- '--judge-template'; then
    printf 'Rate this: {prompt}\nScore:' > "$T/tmpl.txt"
    expect "judge template" "no {continuation} placeholder" "$INTERV" run --model "$MODEL" --method clean \
      --prompts "$T/ok.csv" --out "$T/o.jsonl" --judge "$MODEL" --judge-template "$T/tmpl.txt"
  fi
else
  echo "note: interv run not built; prompt-file checks skipped"
fi
[ $fails -eq 0 ] || exit 1
echo ok
