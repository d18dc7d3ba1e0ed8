#!/usr/bin/env bash
# `interv info` on the model-zoo fixtures (scripts/make_zoo_fixtures.py) names the
# architecture, its block features and its hook points; a config.json key that
# changes the numbers but is not implemented is refused with one line naming it.
set -u
INTERV=${INTERV:-build/interv}
command -v python3 >/dev/null || { echo "no python3"; exit 77; }
fix=tests/fixtures/models
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { # folder, then lines that must appear in `info`
  local m=$1; shift
  "$INTERV" info --model "$fix/$m" > "$tmp/out" 2>"$tmp/err" || fail "$m: $(cat "$tmp/err")"
  for l in "$@"; do grep -qF -- "$l" "$tmp/out" || fail "$m: no '$l' in: $(cat "$tmp/out")"; done
}
expect qwen2 "architecture  Qwen2ForCausalLM" "q/k/v biases" "hook points   embed, resid_post.0 .. resid_post.1"
expect qwen2-tied-swa "sliding       window 5 on 1 of 2 layers" "(tied)"
expect qwen3 "architecture  Qwen3ForCausalLM" "q/k RMSNorm per head" "head_dim 12"
expect mistral "architecture  MistralForCausalLM" "sliding       window 5 on 2 of 2 layers"
expect neox "architecture  GPTNeoXForCausalLM" "LayerNorm norms, parallel attention+MLP residual" "rotary dims   4 of 16 per head"
expect neox-sequential "sequential residual" "(tied)"
expect olmo2 "architecture  Olmo2ForCausalLM" "q/k RMSNorm over the projection"
expect phi3 "architecture  Phi3ForCausalLM" "rotary dims   6 of 8 per head" "sliding       window 6 on 2 of 2 layers"
expect gemma3-bf16 "architecture  Gemma3ForCausalLM" "sliding       window 4 on 2 of 3 layers" "rope local    theta 10" \
  "hook points   embed, resid_post.0 .. resid_post.2" "embed 6.9375"
# refusals: one line naming the key, non-zero exit
refused() { # folder, jq edit, expected text
  rm -rf "$tmp/m"; cp -r "$fix/$1" "$tmp/m"
  python3 -c "import json,sys; p='$tmp/m/config.json'; c=json.load(open(p)); $2; json.dump(c, open(p,'w'))"
  if "$INTERV" info --model "$tmp/m" > /dev/null 2>"$tmp/err"; then fail "$1: $2 accepted"; fi
  [ "$(wc -l < "$tmp/err")" -eq 1 ] || fail "$1: not one line: $(cat "$tmp/err")"
  grep -qF -- "$3" "$tmp/err" || fail "$1: '$3' not in: $(cat "$tmp/err")"
}
refused phi3 "c['rope_scaling']={'type':'longrope','short_factor':[1]*3,'long_factor':[1]*3}" 'rope_scaling.type="longrope" is not supported'
refused neox "c['rope_scaling']={'type':'dynamic','factor':2.0}" 'rope_scaling.type="dynamic" is not supported'
refused gemma3 "c['rope_scaling']={'rope_type':'yarn','factor':2.0}" 'rope_scaling.rope_type="yarn" is not supported'
refused qwen3 "c['layer_types']=['sliding_attention']" 'layer_types=["sliding_attention"] is not supported'
echo ok
