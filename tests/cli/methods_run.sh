#!/usr/bin/env bash
# interv run on stories260K: the logit-lens bottleneck reproduces the clean
# generations exactly with edit size < 1e-4; a logit-lens edit toward "dog" makes
# continuations mention dogs; prompting changes the model input but the records
# keep the original prompt; every record carries the fields of the results format.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
model="$SHARED/models/stories260K/stories260K.bin"
[ -f "$model" ] || { echo "no $model"; exit 77; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export INTERV_CACHE="$tmp/cache"
cat > "$tmp/p.csv" <<'CSV'
,Home,Park
0,"One day, Tom went into the kitchen and saw a",Lily and her mom walked to the
1,Lily had a small red,"Once upon a time, there was a"
CSV
run() { "$INTERV" run --model "$model" --prompts "$tmp/p.csv" --max-new 30 --batch 3 "$@" 2>"$tmp/err" || { cat "$tmp/err"; exit 1; }; }
run --method clean --out "$tmp/clean.jsonl"
run --method logit --concept dog --layer 2 --mode bottleneck --out "$tmp/bn.jsonl"
run --method logit --concept dog --layer 2 --mode bottleneck --normed --at all --out "$tmp/bnn.jsonl"
run --method logit --concept dog --layer 2 --alpha 1.5 --target-weights 2,1 --out "$tmp/edit.jsonl"
run --method logit --concept dog --layer 2 --alpha 1.5 --protocol paper --out "$tmp/paper.jsonl"
run --method prompting --concept dog --out "$tmp/prompt.jsonl"
fail() { echo "FAIL: $*"; exit 1; }
[ "$(wc -l < "$tmp/clean.jsonl")" -eq 4 ] || fail "expected 4 records"
for f in clean bn bnn edit prompt; do
  jq -e 'has("prompt") and has("category") and has("continuation") and has("edit_size") and has("target_prob") and has("success")' "$tmp/$f.jsonl" >/dev/null || fail "$f: missing fields"
done
jq -r .continuation "$tmp/clean.jsonl" > "$tmp/c.txt"
[ "$(jq -r .category "$tmp/clean.jsonl" | tr '\n' ' ')" = "Home Park Home Park " ] || fail "categories"
for f in bn bnn; do
  jq -r .continuation "$tmp/$f.jsonl" | cmp -s - "$tmp/c.txt" || fail "$f: bottleneck changed the generations"
  jq -e -s 'all(.[]; .edit_size < 1e-4 and .edit_size >= 0 and .mode == "bottleneck" and .layer == 2)' "$tmp/$f.jsonl" >/dev/null || fail "$f: edit size"
done
jq -e -s 'all(.[]; .edit_size == 0 and .mode == "clean")' "$tmp/clean.jsonl" >/dev/null || fail "clean edit size"
# the edit: real edits, more dogs than clean, higher target probability
jq -e -s 'all(.[]; .edit_size > 0.05 and .alpha == 1.5 and .mode == "edit")' "$tmp/edit.jsonl" >/dev/null || fail "edit sizes"
ns=$(jq -s 'map(select(.success)) | length' "$tmp/edit.jsonl")
nc=$(jq -s 'map(select(.success)) | length' "$tmp/clean.jsonl")
[ "$ns" -gt "$nc" ] || fail "edit successes $ns not above clean $nc"
jq -e -s '(map(.target_prob) | add) > 0' "$tmp/edit.jsonl" >/dev/null || fail "target prob"
tp_e=$(jq -s 'map(.target_prob) | add' "$tmp/edit.jsonl"); tp_c=$(jq -s 'map(.target_prob) | add' "$tmp/clean.jsonl")
jq -n -e "$tp_e > $tp_c" >/dev/null || fail "target prob $tp_e not above clean $tp_c"
# paper protocol: on this vocabulary "dog" is the two tokens "d" "og" with or
# without a leading space, so the reference's targets (2a, a) are the interv
# targets with --target-weights 2,1: the same generations, scored the paper's way
jq -r .continuation "$tmp/paper.jsonl" | cmp -s - <(jq -r .continuation "$tmp/edit.jsonl") || fail "paper targets differ"
jq -e -s 'all(.[]; .protocol == "paper" and (.deviations | length) >= 2)' "$tmp/paper.jsonl" >/dev/null || fail "paper records lack protocol/deviations"
jq -e -s 'all(.[]; .protocol == "interv" and (has("deviations") | not))' "$tmp/edit.jsonl" >/dev/null || fail "interv records"
"$INTERV" run --model "$model" --prompts "$tmp/p.csv" --method logit --concept dog --layer 2 --protocol paper --normed --out "$tmp/x.jsonl" 2>"$tmp/err" && fail "paper + --normed accepted"
grep -q "drop --normed" "$tmp/err" || fail "paper + --normed message: $(cat "$tmp/err")"
# prompting: original prompts recorded, continuations differ from clean
jq -r .prompt "$tmp/prompt.jsonl" | cmp -s - <(jq -r .prompt "$tmp/clean.jsonl") || fail "prompting rewrote the recorded prompt"
jq -r .continuation "$tmp/prompt.jsonl" | cmp -s - "$tmp/c.txt" && fail "prompting changed nothing"
echo "ok: clean $nc/4, logit edit $ns/4 successes"
