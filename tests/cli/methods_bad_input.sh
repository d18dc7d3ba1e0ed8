#!/usr/bin/env bash
# interv run with bad method inputs: one clear line naming the file (or the
# option) and the problem, and a non-zero exit that is not a signal.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
model="$SHARED/models/stories260K/stories260K.bin"
[ -f "$model" ] || { echo "no $model"; exit 77; }
fix=tests/fixtures/methods
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export INTERV_CACHE="$tmp/cache"
printf 'Once upon a time\n' > "$tmp/p.txt"
fails=0
check() { # name expect1 expect2 -- args...
  local name=$1 e1=$2 e2=$3; shift 4
  local err rc
  err=$("$INTERV" run --model "$model" --prompts "$tmp/p.txt" --out "$tmp/o.jsonl" --max-new 3 "$@" 2>&1 >/dev/null); rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL $name: rc $rc: $err"; fails=$((fails + 1)); return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then echo "FAIL $name: expected one line: $err"; fails=$((fails + 1)); return; fi
  case "$err" in "interv run: "*"$e1"*) ;; *) echo "FAIL $name: lacks '$e1': $err"; fails=$((fails + 1)); return;; esac
  case "$err" in *"$e2"*) ;; *) echo "FAIL $name: lacks '$e2': $err"; fails=$((fails + 1)); return;; esac
  [ -e "$tmp/o.jsonl" ] && { echo "FAIL $name: wrote output"; fails=$((fails + 1)); }
  echo "ok $name: $err"
}
# the SAE fixtures have d_in 32, stories260K has dim 64
check dmodel-sae "artifact for another model" "cfg.json" -- --method sae --concept dog --artifact "$fix/saelens-jumprelu"
check dmodel-npz "artifact for another model" "params.npz" -- --method sae --concept dog --layer 1 --artifact "$fix/gemmascope/params.npz"
# a safetensors file without the tensor the method needs
check missing-tensor 'missing tensor "direction"' "sae_weights.safetensors" -- --method steering --concept dog --layer 1 --artifact "$fix/saelens-topk/sae_weights.safetensors"
check missing-lens "no such tuned-lens" "nowhere" -- --method tuned --concept dog --layer 1 --artifact "$tmp/nowhere"
# unknown SAE architecture
mkdir "$tmp/gated"; cp "$fix/saelens-jumprelu/sae_weights.safetensors" "$tmp/gated/"
sed 's/"architecture": "jumprelu"/"architecture": "gated-mystery"/' "$fix/saelens-jumprelu/cfg.json" > "$tmp/gated/cfg.json"
check unknown-arch 'unknown SAE architecture "gated-mystery"' "cfg.json" -- --method sae --concept dog --artifact "$tmp/gated"
# unsupported activation normalisation
mkdir "$tmp/norm"; cp "$fix/saelens-jumprelu/sae_weights.safetensors" "$tmp/norm/"
sed 's/"normalize_activations": "none"/"normalize_activations": "expected_average_only_in"/' "$fix/saelens-jumprelu/cfg.json" > "$tmp/norm/cfg.json"
check unsupported-norm 'unsupported' "cfg.json" -- --method sae --concept dog --artifact "$tmp/norm"
# concept that tokenises to nothing
check empty-concept "tokenises to nothing" "concept" -- --method logit --concept "   " --layer 1
# layer out of range (stories260K has 5 layers)
check layer-range "out of range" "--layer" -- --method logit --concept dog --layer 9
check layer-range-steer "out of range" "--layer" -- --method steering --concept dog --layer 5 --artifact "$fix/saelens-topk/sae_weights.safetensors"
check no-method "--method must be" "clean" -- --method lasso --concept dog
check bad-prompts "cannot open" "missing.csv" -- --method clean --prompts "$tmp/missing.csv"
[ "$fails" -eq 0 ] || exit 1
