#!/usr/bin/env bash
# Loading maps the weights instead of copying them.  Peak RSS of `interv generate`
# must stay within
#     weight bytes + KV cache (2 x layers x context x kv_dim x 4 bytes, one row)
#                  + 64 MiB fixed overhead (code, OpenBLAS/OpenMP, scratch, logits)
# for stories260K and for a 124M-parameter GPT-2-shaped f32 model written at test
# time (a sparse all-zero model.safetensors: values do not matter, and the forward
# pass touches every weight page, so RSS does grow by the weights' size).  A copy
# of the weights would add their size again and fail the bound.  The GPT-2 case
# also requires RSS >= 90% of the weights, so the measurement itself is checked.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
[ -x "$INTERV" ] || { echo "no $INTERV"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
export OMP_NUM_THREADS=2
MiB=$((1024 * 1024)); fails=0
peak_kb() { # command... -> prints peak RSS in KiB (the command's output goes to $tmp/out)
  python3 - "$@" <<'PY'
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:], stdout=open(sys.argv[0] and "/dev/null", "w"), stderr=subprocess.PIPE)
if r.returncode != 0:
    sys.stderr.write(r.stderr.decode(errors="replace")); sys.exit(1)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
PY
}
check() { # name peak_kb weights_bytes kv_bytes [min_bytes]
  local name=$1 kb=$2 w=$3 kv=$4 min=${5:-0}
  local peak=$((kb * 1024)) bound=$((w + kv + 64 * MiB))
  printf '%-12s peak %6d MiB  weights %5d MiB  kv %4d MiB  bound %5d MiB\n' "$name" $((peak / MiB)) $((w / MiB)) $((kv / MiB)) $((bound / MiB))
  if [ "$peak" -gt "$bound" ]; then echo "FAIL $name: peak RSS over the bound"; fails=$((fails + 1)); fi
  if [ "$peak" -lt "$min" ]; then echo "FAIL $name: peak RSS below $((min / MiB)) MiB: the weights were not touched?"; fails=$((fails + 1)); fi
}

M="$SHARED/models/stories260K/stories260K.bin"
if [ -f "$M" ]; then
  kb=$(peak_kb "$INTERV" generate --model "$M" --prompt "Once upon a time" --max-new 20) || { echo "FAIL stories260K: generate failed"; exit 1; }
  # dim 64, 5 layers, kv_dim 32, context 512
  check stories260K "$kb" "$(stat -c %s "$M")" $((2 * 5 * 512 * 32 * 4))
else
  echo "skip stories260K: not in $SHARED"
fi

# GPT-2 small shape: d 768, 12 layers, 12 heads, context 1024, vocab 50257, f32
python3 - "$tmp/gpt2" <<'PY'
import json, os, struct, sys
d, L, V, C = 768, 12, 50257, 1024
out = sys.argv[1]; os.makedirs(out)
shapes = {"wte.weight": [V, d], "wpe.weight": [C, d], "ln_f.weight": [d], "ln_f.bias": [d]}
for l in range(L):
    p = f"h.{l}."
    shapes.update({p + "ln_1.weight": [d], p + "ln_1.bias": [d], p + "ln_2.weight": [d], p + "ln_2.bias": [d],
                   p + "attn.c_attn.weight": [d, 3 * d], p + "attn.c_attn.bias": [3 * d],
                   p + "attn.c_proj.weight": [d, d], p + "attn.c_proj.bias": [d],
                   p + "mlp.c_fc.weight": [d, 4 * d], p + "mlp.c_fc.bias": [4 * d],
                   p + "mlp.c_proj.weight": [4 * d, d], p + "mlp.c_proj.bias": [d]})
hdr, off = {}, 0
for name in sorted(shapes):
    n = 1
    for x in shapes[name]: n *= x
    hdr[name] = {"dtype": "F32", "shape": shapes[name], "data_offsets": [off, off + 4 * n]}
    off += 4 * n
h = json.dumps(hdr).encode(); h += b" " * ((8 - len(h) % 8) % 8)
with open(os.path.join(out, "model.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h)
    f.truncate(8 + len(h) + off)  # sparse: zeros cost no disk
json.dump({"architectures": ["GPT2LMHeadModel"], "n_embd": d, "n_layer": L, "n_head": 12, "n_positions": C,
           "vocab_size": V, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new",
           "bos_token_id": 50256, "eos_token_id": 50256}, open(os.path.join(out, "config.json"), "w"))
# a byte-level vocabulary (the 256 byte tokens and one merge) so that text can be encoded
bs = list(range(33, 127)) + list(range(161, 173)) + list(range(174, 256)); cs = bs[:]; k = 0
for b in range(256):
    if b not in bs: bs.append(b); cs.append(256 + k); k += 1
vocab = {chr(c): i for i, c in enumerate(cs)}; vocab["He"] = 256
json.dump(vocab, open(os.path.join(out, "vocab.json"), "w"))
open(os.path.join(out, "merges.txt"), "w").write("#version: 0.2\nH e\n")
PY
st=$(stat -c %s "$tmp/gpt2/model.safetensors")
kb=$(peak_kb "$INTERV" generate --model "$tmp/gpt2" --prompt "Hello" --max-new 2) || { echo "FAIL gpt2-124M: generate failed"; exit 1; }
check gpt2-124M "$kb" "$st" $((2 * 12 * 1024 * 768 * 4)) $((st * 9 / 10))
[ "$fails" -eq 0 ]
