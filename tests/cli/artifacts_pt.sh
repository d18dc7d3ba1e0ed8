#!/usr/bin/env bash
# The reference study's artifacts load unchanged through `interv run`: a steering
# vector saved with torch.save of a [1, d] tensor and a probe state dict
# (proj.0.weight / proj.0.bias) give exactly the records of the same vectors in
# interv's safetensors layout; the format is told by content, not by the name;
# wrong layouts are refused with one line naming the file.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
model="$SHARED/models/stories260K/stories260K.bin"
[ -f "$model" ] || { echo "no $model"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
fix=tests/fixtures/artifacts/steer
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export INTERV_CACHE="$tmp/cache"
cat > "$tmp/p.csv" <<'CSV'
,Home,Park
0,"One day, Tom went into the kitchen and saw a",Lily and her mom walked to the
CSV
fail() { echo "FAIL: $*"; exit 1; }
run() { local out=$1; shift
  "$INTERV" run --model "$model" --prompts "$tmp/p.csv" --max-new 12 --concept dog --layer 2 --out "$tmp/$out.jsonl" "$@" 2>"$tmp/err" || fail "$out: $(cat "$tmp/err")"; }
run clean --method clean
run st-pt --method steering --alpha 4 --artifact "$fix/steering_d64.pt"
run st-st --method steering --alpha 4 --artifact "$fix/steering_d64.safetensors"
cp "$fix/steering_d64.pt" "$tmp/renamed.safetensors"          # a zip whatever its name
run st-renamed --method steering --alpha 4 --artifact "$tmp/renamed.safetensors"
run pr-pt --method probe --alpha 8 --artifact "$fix/probe_d64.pt"
run pr-st --method probe --alpha 8 --artifact "$fix/probe_d64.safetensors"
for pair in "st-pt st-st" "st-renamed st-st" "pr-pt pr-st"; do
  set -- $pair
  cmp -s "$tmp/$1.jsonl" "$tmp/$2.jsonl" || fail "$1 and $2 records differ"
done
for f in st-pt pr-pt; do
  jq -e -s 'length == 2 and all(.[]; .edit_size > 0.1 and .mode == "edit")' "$tmp/$f.jsonl" >/dev/null || fail "$f: edit sizes"
  jq -r .continuation "$tmp/$f.jsonl" | cmp -s - <(jq -r .continuation "$tmp/clean.jsonl") && fail "$f changed nothing"
done
# refused layouts: one line, naming the file and the problem, no output written
check() { # name artifact method expect
  local err rc
  err=$("$INTERV" run --model "$model" --prompts "$tmp/p.csv" --max-new 3 --concept dog --layer 2 --method "$3" --artifact "$2" --out "$tmp/bad.jsonl" 2>&1 >/dev/null); rc=$?
  { [ "$rc" -ne 0 ] && [ "$rc" -lt 128 ]; } || fail "$1: rc $rc: $err"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$1: not one line: $err"
  case "$err" in *"$2"*"$4"*) ;; *) fail "$1: lacks file or '$4': $err";; esac
  [ -e "$tmp/bad.jsonl" ] && fail "$1: wrote output"
  echo "ok $1: $err"
}
check dim "$fix/steering.pt" steering "artifact for another model"
check dict-as-steering "$fix/probe_d64.pt" steering "holds 2"
check vector-as-probe "$fix/steering_d64.pt" probe 'needs "proj.0.weight"'
check mlp-probe "$fix/bad_probe_mlp.pt" probe 'tensor "proj.2.weight"'
echo "ok: torch.save steering and probe files give the same records as safetensors"
