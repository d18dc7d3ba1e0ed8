#!/usr/bin/env bash
# interv train: usage errors, and small real runs of each kind on stories260K
# whose outputs are checked by reading them back (safetensors header, JSON files).
set -u
: "${INTERV:?}" "${SHARED:?}"
M="$SHARED/models/stories260K/stories260K.bin"
[ -r "$M" ] || { echo "stories260K not found"; exit 77; }
[ -r data/concepts/dog.csv ] && [ -r data/corpus/stories.txt ] || { echo "data files not found"; exit 77; }
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$INTERV" train --help | grep -q 'tuned-lens' || fail "--help"
"$INTERV" train bogus --model "$M" --out "$T/x" 2>"$T/err" && fail "unknown kind accepted"
grep -q '^interv train: unknown kind' "$T/err" || fail "unknown kind message: $(cat "$T/err")"
"$INTERV" train steering --model "$M" --out "$T/x" 2>"$T/err" && fail "missing --pairs accepted"
grep -q 'needs --pairs' "$T/err" || fail "missing pairs message"
"$INTERV" train probe --model "$M" --layer 9 --pairs data/concepts/dog.csv --out "$T/x" 2>"$T/err" && fail "bad layer accepted"
grep -q 'out of range' "$T/err" || fail "bad layer message: $(cat "$T/err")"
printf 'pos_prompt,neg_prompt\n"only one cell",\n' > "$T/bad.csv"
"$INTERV" train steering --model "$M" --layer 1 --pairs "$T/bad.csv" --out "$T/x" 2>"$T/err" && fail "bad pairs accepted"
grep -q '^interv train: cannot read pairs' "$T/err" || fail "bad pairs message: $(cat "$T/err")"

head -13 data/concepts/dog.csv > "$T/dog.csv"
"$INTERV" train steering --model "$M" --layer 2 --pairs "$T/dog.csv" --out "$T/dog.safetensors" \
  --gguf "$T/dog.gguf" > "$T/out" || fail "steering run"
grep -q 'steering dog layer 2: 12 pairs' "$T/out" || fail "steering summary: $(cat "$T/out")"
head -c 400 "$T/dog.safetensors" | grep -q '"direction"' || fail "no direction tensor"
head -c 400 "$T/dog.safetensors" | grep -q '"interv_method":"steering"' || fail "no steering metadata"
head -c 4 "$T/dog.gguf" | grep -q GGUF || fail "gguf magic"
grep -q 'direction.2' "$T/dog.gguf" || fail "gguf tensor name"

"$INTERV" train probe --model "$M" --layer 0 --pairs data/concepts/dog.csv --out "$T/p.safetensors" \
  --seed 1 > "$T/out" || fail "probe run"
acc=$(sed -n 's/.*test_acc \([0-9.]*\).*/\1/p' "$T/out")
awk -v a="$acc" 'BEGIN{exit !(a >= 0.75)}' || fail "probe test accuracy $acc"
head -c 600 "$T/p.safetensors" | grep -q '"test_acc"' || fail "probe metadata"
head -c 600 "$T/p.safetensors" | grep -q '"protocol":"interv"' || fail "probe protocol metadata"

# --protocol paper: the reference recipe (stratified split by sentence: 13 pairs = 26
# sentences, ceil(5.2) = 6 test), recorded in the metadata; its fixed knobs refused
head -14 data/concepts/dog.csv > "$T/dog13.csv"
"$INTERV" train probe --model "$M" --layer 2 --pairs "$T/dog13.csv" --out "$T/pp.safetensors" \
  --protocol paper > "$T/out" || fail "paper probe run"
grep -q 'probe dog13 layer 2 (paper recipe): .*(20) .*(6)' "$T/out" || fail "paper probe summary: $(cat "$T/out")"
head -c 600 "$T/pp.safetensors" | grep -q '"protocol":"paper"' || fail "paper probe protocol metadata"
head -c 600 "$T/pp.safetensors" | grep -q '"l1":"0.3"' || fail "paper probe l1 metadata"
"$INTERV" train probe --model "$M" --layer 2 --pairs "$T/dog13.csv" --out "$T/x" --protocol paper --lr 0.1 \
  2>"$T/err" && fail "paper probe accepted --lr"
grep -q 'fixes the probe recipe' "$T/err" || fail "paper --lr message: $(cat "$T/err")"
"$INTERV" train sae --model "$M" --layer 1 --corpus data/corpus/stories.txt --out "$T/x" --protocol paper \
  2>"$T/err" && fail "paper sae accepted"
grep -q 'has no sae recipe' "$T/err" || fail "paper sae message: $(cat "$T/err")"
"$INTERV" train probe --model "$M" --layer 2 --pairs "$T/dog13.csv" --out "$T/x" --protocol nope \
  2>"$T/err" && fail "unknown protocol accepted"
grep -q "unknown --protocol 'nope'" "$T/err" || fail "unknown protocol message: $(cat "$T/err")"

awk 'BEGIN{RS="";ORS="\n\n"} NR<=12' data/corpus/stories.txt > "$T/c.txt"
"$INTERV" train tuned-lens --model "$M" --corpus "$T/c.txt" --steps 40 --out "$T/lens" > "$T/out" || fail "tuned lens run"
[ -s "$T/lens/params.safetensors" ] && grep -q '"final_norm": true' "$T/lens/config.json" || fail "lens folder"
# every layer's tuned KL below its logit KL
awk 'NF==3 && $1 ~ /^[0-9]+$/ { n++; if (!($3 < $2)) bad=1 } END { exit !(n == 5 && !bad) }' "$T/out" \
  || fail "tuned lens KL table: $(cat "$T/out")"

"$INTERV" train sae --model "$M" --layer 1 --corpus "$T/c.txt" --k 8 --d-sae 128 --steps 100 --out "$T/sae" \
  > "$T/out" || fail "sae run"
grep -q '"architecture": "topk"' "$T/sae/cfg.json" && grep -q '"k": 8' "$T/sae/cfg.json" \
  && grep -q 'blocks.1.hook_resid_post' "$T/sae/cfg.json" || fail "sae cfg: $(cat "$T/sae/cfg.json")"
for n in W_enc W_dec b_enc b_dec; do head -c 600 "$T/sae/sae_weights.safetensors" | grep -q "\"$n\"" || fail "sae tensor $n"; done
l0=$(sed -n 's/.*L0 \([0-9.]*\).*/\1/p' "$T/out")
awk -v a="$l0" 'BEGIN{exit !(a > 0 && a <= 8)}' || fail "sae L0: $(cat "$T/out")"
exit 0
