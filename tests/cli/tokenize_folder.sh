#!/usr/bin/env bash
# interv tokenize --tokenizer FOLDER finds the tokenizer inside the folder
# (tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe, tok*.bin)
# and gives the same ids as naming the file; a folder with none gives one line
# naming the folder and a non-zero exit.
set -u
cd "$(dirname "$0")/../.." || exit 1
INTERV=${INTERV:-$PWD/build/interv}
SHARED=${SHARED:-$(cd .. && pwd)/shared}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
text=$'Hello world\nthe cat sat on the mat'

# same_ids FOLDER FILE: ids from the folder equal ids from the file (and are not empty)
same_ids() {
  local a b
  a=$(printf '%s\n' "$text" | "$INTERV" tokenize --tokenizer "$1" 2>&1) || { echo "FAIL: $1: $a"; fail=1; return; }
  b=$(printf '%s\n' "$text" | "$INTERV" tokenize --tokenizer "$2" 2>&1) || { echo "FAIL: $2: $b"; fail=1; return; }
  if [ "$a" != "$b" ] || [ -z "$(printf '%s' "$a" | tr -d ' \n')" ]; then
    echo "FAIL: $1 gives '$a', the file gives '$b'"; fail=1
  else echo "ok: $(basename "$1") -> $(printf '%s' "$a" | head -1)"; fi
}

# a byte-level tokenizer.json small enough to write here
mkdir -p "$tmp/hf"
cat > "$tmp/hf/tokenizer.json" <<'EOF'
{"model": {"type": "BPE", "vocab": {"H": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7,
  "t": 8, "h": 9, "c": 10, "a": 11, "s": 12, "n": 13, "m": 14, "He": 15, "ll": 16, "Hell": 17,
  "Hello": 18, "Ġw": 19, "th": 20, "the": 21, "Ġthe": 22},
  "merges": ["H e", "l l", "He ll", "Hell o", "Ġ w", "t h", "th e", "Ġ the"]},
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false},
 "decoder": {"type": "ByteLevel"}}
EOF
same_ids "$tmp/hf" "$tmp/hf/tokenizer.json"

# GPT-2 pairs: vocab.json + merges.txt, encoder.json + vocab.bpe
mkdir -p "$tmp/gpt2" "$tmp/enc"
vocab='{"H": 0, "e": 1, "l": 2, "o": 3, "\u0120": 4, "w": 5, "r": 6, "d": 7, "t": 8, "h": 9, "c": 10, "a": 11, "s": 12, "n": 13, "m": 14, "He": 15, "ll": 16, "Hell": 17, "Hello": 18}'
merges=$'#version: 0.2\nH e\nl l\nHe ll\nHell o'
printf '%s\n' "$vocab" > "$tmp/gpt2/vocab.json"; printf '%s\n' "$merges" > "$tmp/gpt2/merges.txt"
printf '%s\n' "$vocab" > "$tmp/enc/encoder.json"; printf '%s\n' "$merges" > "$tmp/enc/vocab.bpe"
same_ids "$tmp/gpt2" "$tmp/gpt2/vocab.json"
same_ids "$tmp/enc" "$tmp/enc/encoder.json"

# llama2.c: the first tok*.bin in the folder
tokbin=$SHARED/models/stories260K/tok512.bin
if [ -f "$tokbin" ]; then
  mkdir -p "$tmp/l2c"; cp "$tokbin" "$tmp/l2c/"
  same_ids "$tmp/l2c" "$tokbin"
  same_ids "$SHARED/models/stories260K" "$tokbin"
fi

# a folder with no tokenizer: one line naming it, non-zero exit (both flags)
mkdir -p "$tmp/none"; touch "$tmp/none/config.json"
for flag in --tokenizer --model; do
  out=$(echo hi | "$INTERV" tokenize $flag "$tmp/none" 2>&1); rc=$?
  if [ $rc -eq 0 ] || [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ] || [[ "$out" != *"$tmp/none"*"no tokenizer"* ]]; then
    echo "FAIL: $flag empty folder: rc=$rc, '$out'"; fail=1
  else echo "ok: $flag empty folder: $out"; fi
done
[ $fail -eq 0 ] && echo "tokenize_folder: all ok"
exit $fail
