#!/usr/bin/env bash
# A sweep killed with SIGKILL mid-way and resumed produces exactly the cell files
# of an uninterrupted run, recomputes no finished cell, leaves no partial file;
# the report holds every cell.  Bad configs fail with one clear line.
set -u
INTERV=${INTERV:-build/interv}; SHARED=$(cd "${SHARED:-../shared}" && pwd)
root=$PWD; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
python3 - "$root/data/prompts/stories.csv" "$tmp/prompts.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0][:3])
    for r in rows[1:5]: w.writerow(r[:3])
PY
cat > "$tmp/sweep.conf" <<EOF2
models        = $SHARED/models/stories260K/stories260K.bin
layers        = 2
methods       = logit steering prompting
concepts      = dog ball
alphas.logit  = 0.5 2
alphas.steering = 4 8
prompts       = $tmp/prompts.csv
concepts_file = $root/data/concepts.json
pairs_dir     = $root/data/concepts
max_new       = 12
batch         = 3
EOF2
export INTERV_CACHE="$tmp/cache"
"$INTERV" sweep --config "$tmp/sweep.conf" --out "$tmp/full" 2>"$tmp/full.log" || { cat "$tmp/full.log"; fail "uninterrupted sweep"; }
n=$(ls "$tmp/full/cells" | wc -l)
[ "$n" -eq 14 ] || fail "expected 14 cells (2 clean, 2 logit bottleneck, 4 logit, 4 steering, 2 prompting), got $n"
# interrupted: kill -9 as soon as a few cells exist, then resume
"$INTERV" sweep --config "$tmp/sweep.conf" --out "$tmp/part" 2>/dev/null &
pid=$!
for _ in $(seq 400); do
  c=$(ls "$tmp/part/cells" 2>/dev/null | grep -c 'jsonl$'); [ "$c" -ge 5 ] && break; sleep 0.02
done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
before=$(ls "$tmp/part/cells" | grep -c 'jsonl$')
[ "$before" -lt 14 ] || echo "note: the sweep finished before it could be killed"
ls "$tmp/part/cells" | grep -v 'jsonl$' | while read -r f; do rm -f "$tmp/part/cells/$f"; done  # stray temp files are not results
"$INTERV" sweep --config "$tmp/sweep.conf" --out "$tmp/part" 2>"$tmp/resume.log" || { cat "$tmp/resume.log"; fail "resume"; }
grep -q "$((14 - before)) cells computed, $before already done" "$tmp/resume.log" || { cat "$tmp/resume.log"; fail "resume recomputed finished cells"; }
for f in "$tmp/full/cells"/*.jsonl; do
  cmp -s "$f" "$tmp/part/cells/$(basename "$f")" || fail "cell $(basename "$f") differs after resume"
done
[ "$(ls "$tmp/part/cells" | wc -l)" -eq 14 ] || fail "extra files after resume"
# every line is a complete JSON record
python3 -c "
import json,glob,sys
for f in glob.glob(sys.argv[1]+'/*.jsonl'):
    for l in open(f): json.loads(l)
" "$tmp/part/cells" || fail "corrupt JSONL"
# the report has every cell
"$INTERV" report "$tmp/part" >/dev/null 2>&1 || fail "report"
for f in "$tmp/part/cells"/*.jsonl; do
  id=$(basename "$f" .jsonl); grep -q "$id" "$tmp/part/report.html" || fail "report lacks cell $id"
done
# bad configs: one line, non-zero exit, nothing computed is lost
bad() { # name, config text, expected substring
  printf '%s\n' "$2" > "$tmp/$1.conf"
  err=$("$INTERV" sweep --config "$tmp/$1.conf" --out "$tmp/part" 2>&1 >/dev/null); rc=$?
  { [ $rc -ne 0 ] && [ $rc -lt 128 ]; } || fail "$1: rc $rc"
  case "$err" in *"$3"*) ;; *) fail "$1: message lacks '$3': $err";; esac
}
base=$(grep -v '^methods\|^concepts \|^concepts=' "$tmp/sweep.conf")
bad unknown_method "$base
methods = logit telepathy
concepts = dog" "unknown method 'telepathy'"
bad unknown_concept "$base
methods = logit
concepts = dog unicorn" "unknown concept 'unicorn'"
bad unknown_key "$base
methods = logit
concepts = dog
colour = blue" "unknown key 'colour'"
bad bad_alpha "$base
methods = logit
concepts = dog
alphas = 1 two" "bad value for alphas"
printf 'x\n' > "$tmp/empty.csv"
bad empty_prompts "$(echo "$base" | sed "s|^prompts .*|prompts = $tmp/empty.csv|")
methods = logit
concepts = dog" "empty.csv"
mkdir -p "$tmp/ro" && chmod 555 "$tmp/ro"
if [ "$(id -u)" -ne 0 ]; then
  err=$("$INTERV" sweep --config "$tmp/sweep.conf" --out "$tmp/ro/x" 2>&1); [ $? -ne 0 ] || fail "unwritable output accepted"
fi
[ "$(ls "$tmp/part/cells" | wc -l)" -eq 14 ] || fail "a failed run lost finished cells"
echo "sweep: 14 cells, killed after $before and resumed identically; report has every cell; bad configs rejected"
