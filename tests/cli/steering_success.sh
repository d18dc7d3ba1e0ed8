#!/usr/bin/env bash
# For each default concept, a steering vector trained on its pairs raises the
# success rate on the default prompts above the clean model's (alpha 8, layer 2).
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
M="$SHARED/models/stories260K/stories260K.bin"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rate() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1])]; print('%.3f' % (sum(x['success'] for x in r)/len(r)))" "$1"; }
fails=0
for c in dog cat ball bird; do
  "$INTERV" train steering --model "$M" --layer 2 --pairs "data/concepts/$c.csv" --out "$tmp/$c.safetensors" >/dev/null 2>&1 || { echo "FAIL: train $c"; exit 1; }
  common=(--model "$M" --concept "$c" --concepts data/concepts.json --layer 2 --prompts data/prompts/stories.csv --batch 50)
  "$INTERV" run "${common[@]}" --method clean --out "$tmp/$c-clean.jsonl" 2>/dev/null || { echo "FAIL: clean run $c"; exit 1; }
  "$INTERV" run "${common[@]}" --method steering --artifact "$tmp/$c.safetensors" --alpha 8 --out "$tmp/$c-steer.jsonl" 2>/dev/null || { echo "FAIL: steering run $c"; exit 1; }
  a=$(rate "$tmp/$c-clean.jsonl"); b=$(rate "$tmp/$c-steer.jsonl")
  echo "$c: clean $a  steering(alpha 8) $b"
  python3 -c "import sys; sys.exit(0 if float(sys.argv[2]) > float(sys.argv[1]) else 1)" "$a" "$b" || { echo "FAIL: steering does not beat clean for $c"; fails=$((fails + 1)); }
done
[ $fails -eq 0 ]
