#!/usr/bin/env bash
# The reference study's file layout, run as it is, in both protocols:
# concept names with spaces, pairs files named "{concept}_pairs.csv", no concepts
# file (tests/data/paper).  Checks: every cell exists once per protocol; paper
# records say "protocol": "paper" and list their deviations; success follows each
# protocol's rule (recomputed here from the records' text); the interv forms are
# printed; the report opens with the cross-concept summary and shows both
# protocols side by side; `report --protocol paper` keeps one; resume skips all.
set -u
INTERV=${INTERV:-build/interv}; SHARED=$(cd "${SHARED:-../shared}" && pwd)
root=$PWD; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
export INTERV_CACHE="$tmp/cache"
cat > "$tmp/paper.conf" <<EOF
models   = $SHARED/models/stories260K/stories260K.bin
layers   = 2
methods  = logit steering probe
concepts = "big dog" "ice cream"
alphas.logit = 2 8
alphas.steering = 4 8
alphas.probe = 4 16
prompts  = $root/tests/data/paper/prompts.csv
pairs    = $root/tests/data/paper/{concept}_pairs.csv
max_new  = 12
batch    = 6
EOF
"$INTERV" sweep --config "$tmp/paper.conf" --out "$tmp/out" 2>"$tmp/a.log" || { cat "$tmp/a.log"; fail "interv sweep"; }
grep -q "concept 'big dog': forms big dog" "$tmp/a.log" || { cat "$tmp/a.log"; fail "forms not printed"; }
"$INTERV" sweep --config "$tmp/paper.conf" --out "$tmp/out" --protocol paper 2>"$tmp/b.log" || { cat "$tmp/b.log"; fail "paper sweep"; }
grep -q "substring 'ice cream' in prompt + continuation (paper)" "$tmp/b.log" || { cat "$tmp/b.log"; fail "paper rule not printed"; }
# per protocol: 2 clean + 2 logit bottleneck + 4 logit + 4 steering + 4 probe = 16
ni=$(ls "$tmp/out/cells" | grep -vc '_paper.jsonl$'); np=$(ls "$tmp/out/cells" | grep -c '_paper.jsonl$')
[ "$ni" -eq 16 ] && [ "$np" -eq 16 ] || fail "cells: $ni interv, $np paper (want 16 each)"
ls "$tmp/out/artifacts/stories260K" | grep -q '^probe-paper-big dog-L2' || fail "paper probe artifact missing"
ls "$tmp/out/artifacts/stories260K" | grep -q '^probe-big dog-L2' || fail "interv probe artifact missing"
cat "$tmp/out/cells"/*_paper.jsonl > "$tmp/paper.jsonl"
cat $(ls "$tmp/out/cells"/*.jsonl | grep -v '_paper.jsonl$') > "$tmp/interv.jsonl"
jq -e -s 'all(.[]; .protocol == "paper" and (.deviations | any(startswith("success: substring"))))' "$tmp/paper.jsonl" >/dev/null || fail "paper records"
jq -e -s 'all(.[]; .protocol == "interv" and (has("deviations") | not))' "$tmp/interv.jsonl" >/dev/null || fail "interv records"
jq -e -s 'map(select(.method == "logit" and .mode == "edit")) | all(.[]; .deviations | any(startswith("lens targets")))' "$tmp/paper.jsonl" >/dev/null || fail "lens deviation"
# success recomputed from the text: paper = substring of lower(prompt + continuation)
# (+ "dog" special case); interv = whole word "big dog"/"ice cream" in the continuation
python3 - "$tmp/paper.jsonl" "$tmp/interv.jsonl" <<'PY' || fail "success rule"
import json, re, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    t = (r["prompt"] + r["continuation"]).lower(); c = r["concept"].lower()
    want = c in t or ("dog" in c and "dog" in t)
    assert r["success"] == want, r
for line in open(sys.argv[2]):
    r = json.loads(line)
    want = re.search(r"(?<![\w])" + re.escape(r["concept"].lower()) + r"(?![\w])", r["continuation"].lower()) is not None
    assert r["success"] == want, r
PY
# the prompt alone names no concept here, so a paper success needs "dog" in the continuation
jq -e -s 'map(select(.success)) | all(.[]; (.continuation | ascii_downcase | contains("dog")) or (.continuation | ascii_downcase | contains("ice cream")))' "$tmp/paper.jsonl" >/dev/null || fail "paper successes"
# report: overview first, both protocols side by side, deviations listed
"$INTERV" report "$tmp/out" >/dev/null 2>&1 || fail "report"
H="$tmp/out/report.html"
s=$(grep -bo 'Summary over concepts' "$H" | head -1 | cut -d: -f1); g=$(grep -bo '<section class=group>' "$H" | head -1 | cut -d: -f1)
[ -n "$s" ] && [ -n "$g" ] && [ "$s" -lt "$g" ] || fail "the report does not open with the cross-concept summary"
grep -q 'The two protocols side by side' "$H" || fail "no side-by-side table"
grep -q 'Reference defects reproduced' "$H" || fail "no deviations section"
jq -e '.protocols_side_by_side | length == 3' "$tmp/out/report.json" >/dev/null || fail "side-by-side rows"
jq -e '[.cells[] | .protocol] | (map(select(. == "paper")) | length) == 16' "$tmp/out/report.json" >/dev/null || fail "report.json protocols"
"$INTERV" report "$tmp/out" --protocol paper --out "$tmp/p.html" >/dev/null 2>&1 || fail "report --protocol paper"
grep -q 'The two protocols side by side' "$tmp/p.html" && fail "filtered report still shows interv"
grep -q 'paper protocol' "$tmp/p.html" || fail "filtered report lacks paper groups"
"$INTERV" report "$tmp/out" --protocol nature 2>"$tmp/err" && fail "bad --protocol accepted"
grep -q "interv, paper or both" "$tmp/err" || fail "bad --protocol message"
# resume: nothing left to do in either protocol
"$INTERV" sweep --config "$tmp/paper.conf" --out "$tmp/out" --protocol paper 2>"$tmp/c.log" || fail "resume"
grep -q "0 cells computed, 16 already done" "$tmp/c.log" || { cat "$tmp/c.log"; fail "resume recomputed"; }
# bad configs: paper with a fixed-by-the-reference option, missing pairs file
sed 's/^batch .*/normed_lens = yes/' "$tmp/paper.conf" > "$tmp/bad.conf"
"$INTERV" sweep --config "$tmp/bad.conf" --out "$tmp/bad" --protocol paper 2>"$tmp/err" && fail "paper + normed_lens accepted"
grep -q "normed_lens" "$tmp/err" || fail "message: $(cat "$tmp/err")"
sed 's/"ice cream"/"hot tea"/' "$tmp/paper.conf" > "$tmp/bad2.conf"
"$INTERV" sweep --config "$tmp/bad2.conf" --out "$tmp/bad2" 2>"$tmp/err" && fail "missing pairs file accepted"
grep -q "hot tea_pairs.csv" "$tmp/err" || fail "missing pairs message: $(cat "$tmp/err")"
# the reference's own artifacts, given instead of trained: torch.save'd [1, d]
# steering vectors and proj.0.* probe state dicts, one file per concept
fix="$root/tests/fixtures/artifacts/steer"
mkdir -p "$tmp/vec"
for c in "big dog" "ice cream"; do
  cp "$fix/steering_d64.pt" "$tmp/vec/${c}_steering.pt"; cp "$fix/probe_d64.pt" "$tmp/vec/${c}_probe.pt"
done
sed -e 's/^methods .*/methods = steering probe/' "$tmp/paper.conf" > "$tmp/given.conf"
printf 'artifact.steering = %s\nartifact.probe = %s\n' "$tmp/vec/{concept}_steering.pt" "$tmp/vec/{concept}_probe.pt" >> "$tmp/given.conf"
"$INTERV" sweep --config "$tmp/given.conf" --out "$tmp/given" --protocol paper 2>"$tmp/g.log" || { cat "$tmp/g.log"; fail "sweep with given artifacts"; }
[ ! -d "$tmp/given/artifacts" ] || fail "given artifacts were trained again"
[ "$(ls "$tmp/given/cells" | wc -l)" -eq 10 ] || fail "given artifacts: $(ls "$tmp/given/cells" | wc -l) cells, want 10"
"$INTERV" run --model "$SHARED/models/stories260K/stories260K.bin" --prompts "$root/tests/data/paper/prompts.csv" \
  --method steering --artifact "$tmp/vec/big dog_steering.pt" --concept "big dog" --layer 2 --alpha 8 --max-new 12 \
  --batch 6 --protocol paper --out "$tmp/run.jsonl" 2>/dev/null || fail "run with the .pt vector"
jq -r .continuation "$tmp/run.jsonl" | cmp -s - <(jq -r .continuation "$tmp/given/cells/"*steering_big-dog_a8_edit*) || fail "sweep and run differ on the given vector"
sed 's/_steering.pt/_missing.pt/' "$tmp/given.conf" > "$tmp/given-bad.conf"
"$INTERV" sweep --config "$tmp/given-bad.conf" --out "$tmp/gb" 2>"$tmp/err" && fail "a missing given artifact accepted"
grep -q "artifact.steering: .*big dog_missing.pt" "$tmp/err" || fail "missing artifact message: $(cat "$tmp/err")"
# a judge (stories260K itself: it does not answer with scores, so the mass is low
# and each cell warns once): interv reads the expected score and records the
# mass; paper reads the first digit of a greedy 2-token answer / 10 with its own
# template, and takes perplexity under the judge of the character-joined text
head -3 "$root/tests/data/paper/prompts.csv" > "$tmp/p3.csv"
cat > "$tmp/judge.conf" <<EOF
models   = $SHARED/models/stories260K/stories260K.bin
layers   = 2
methods  = logit
concepts = "big dog"
alphas   = 8
bottleneck = no
prompts  = $tmp/p3.csv
max_new  = 6
batch    = 6
judge    = $SHARED/models/stories260K/stories260K.bin
judge_template = $root/data/judge/coherence.txt
EOF
"$INTERV" sweep --config "$tmp/judge.conf" --out "$tmp/j" 2>"$tmp/j.log" || { cat "$tmp/j.log"; fail "judge sweep"; }
grep -q "warning: cell .*judge: 6 of 6 records gave the score tokens less than 0.5" "$tmp/j.log" || { cat "$tmp/j.log"; fail "no judge-mass warning"; }
cat "$tmp/j/cells"/*.jsonl > "$tmp/ji.jsonl"
jq -e -s 'all(.[]; .coherence >= 1 and .coherence <= 10 and .judge_mass > 0 and .judge_mass < 0.5 and (.judge_dist | length) == 10 and .cont_tokens >= 0)' "$tmp/ji.jsonl" >/dev/null || fail "interv judge records"
sed '/^judge_template/d' "$tmp/judge.conf" > "$tmp/judge-paper.conf"
"$INTERV" sweep --config "$tmp/judge-paper.conf" --out "$tmp/j" 2>"$tmp/err" && fail "a judge without a template accepted under interv"
grep -q "needs a 'judge_template'" "$tmp/err" || fail "message: $(cat "$tmp/err")"
"$INTERV" sweep --config "$tmp/judge-paper.conf" --out "$tmp/j" --protocol paper 2>"$tmp/jp.log" || { cat "$tmp/jp.log"; fail "paper judge sweep"; }
cat "$tmp/j/cells"/*_paper.jsonl > "$tmp/jp.jsonl"
jq -e -s 'all(.[]; (.coherence == null or (.coherence >= 0 and .coherence <= 0.9)) and .judge_mass == null and (has("cont_tokens") | not) and .perplexity > 0 and (.deviations | any(startswith("coherence: the first character"))) and (.deviations | any(startswith("perplexity: under the judge"))))' "$tmp/jp.jsonl" >/dev/null || { head -c 1500 "$tmp/jp.jsonl"; fail "paper judge records"; }
echo "ok: 16 + 16 cells, success rules recomputed, report side by side; judge in both protocols"
