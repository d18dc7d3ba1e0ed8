#!/usr/bin/env bash
# Every command feeds a prompt as the tokenizer's own post-processor writes it:
# GPT-2's byte-level tokenizer adds no BOS, so `run` (which used to force one),
# `sweep` and `generate` must continue the same tokens and print the same text.
# The GPT-2 fixture (vocab 96) gets a byte-level tokenizer.json written here:
# the 95 printable ASCII bytes (space as the byte-level "Ġ") and <|endoftext|>.
set -u
INTERV=${INTERV:-build/interv}
root=$PWD; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
command -v jq >/dev/null || { echo "no jq"; exit 77; }
cp -r "$root/tests/fixtures/models/gpt2" "$tmp/g2"
python3 - "$tmp/g2/tokenizer.json" <<'PY'
import json, sys
vocab = {}
for b in range(32, 127):
    vocab["\u0120" if b == 32 else chr(b)] = len(vocab)
vocab["<|endoftext|>"] = 95
tok = {
    "version": "1.0",
    "truncation": None, "padding": None,
    "added_tokens": [{"id": 95, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                      "rstrip": False, "normalized": True, "special": True}],
    "normalizer": None,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
    "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
    "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
    "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
              "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "vocab": vocab, "merges": []},
}
json.dump(tok, open(sys.argv[1], "w"))
PY
ids=$(echo "the cat sat" | "$INTERV" tokenize --tokenizer "$tmp/g2/tokenizer.json") || fail "tokenize"
case " $ids " in *" 95 "*) fail "the byte-level tokenizer added a special token: $ids";; esac
printf 'idx,A\n0,the cat sat\n1,a dog ran\n' > "$tmp/p.csv"
"$INTERV" run --model "$tmp/g2" --method clean --prompts "$tmp/p.csv" --max-new 8 --out "$tmp/run.jsonl" 2>"$tmp/err" || { cat "$tmp/err"; fail "run"; }
cat > "$tmp/s.conf" <<EOF
models   = $tmp/g2
layers   = 1
methods  = prompting
concepts = dog
prompts  = $tmp/p.csv
max_new  = 8
batch    = 2
prompt_template = {concept}:
EOF
"$INTERV" sweep --config "$tmp/s.conf" --out "$tmp/sw" 2>"$tmp/err" || { cat "$tmp/err"; fail "sweep"; }
jq -r .continuation "$tmp/run.jsonl" > "$tmp/a.txt"
jq -r .continuation "$tmp/sw/cells/"*_clean_*.jsonl > "$tmp/b.txt"
cmp -s "$tmp/a.txt" "$tmp/b.txt" || { paste "$tmp/a.txt" "$tmp/b.txt"; fail "run and sweep continue differently"; }
g=$("$INTERV" generate --model "$tmp/g2" --prompt "the cat sat" --max-new 8 2>/dev/null) || fail "generate"
[ "$g" = "the cat sat$(head -1 "$tmp/a.txt")" ] || fail "generate printed '$g', run continued '$(head -1 "$tmp/a.txt")'"
echo "ok: run, sweep and generate continue the same tokens (no BOS for GPT-2)"
