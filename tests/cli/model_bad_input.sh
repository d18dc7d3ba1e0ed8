#!/usr/bin/env bash
# Every malformed model in tests/bad/models gets one clear line naming the file and
# the problem, and a non-zero exit that is not a signal.  Controls load fine.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
dir=tests/bad/models; fails=0; n=0
check() { # name rc stderr expect
  local name=$1 rc=$2 err=$3 expect=$4
  n=$((n + 1))
  if [ -z "$expect" ]; then
    [ "$rc" -eq 0 ] || { echo "FAIL $name: control should load (rc $rc): $err"; fails=$((fails + 1)); }
    return
  fi
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL $name: rc $rc"; fails=$((fails + 1)); return; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then echo "FAIL $name: expected one line, got: $err"; fails=$((fails + 1)); return; fi
  case "$err" in *"$expect"*) ;; *) echo "FAIL $name: message lacks '$expect': $err"; fails=$((fails + 1)); return;; esac
  case "$err" in *"$(basename "$name")"*) ;; *) echo "FAIL $name: message does not name the file: $err"; fails=$((fails + 1));; esac
}
for f in "$dir"/*; do
  case "$f" in *.expect) continue;; esac
  err=$("$INTERV" info --model "$f" 2>&1 >/dev/null); rc=$?
  check "$f" "$rc" "$err" "$(cat "$f.expect")"
done
# tokenizer that does not fit the model
tok="$SHARED/models/stories260K/tok512.bin"
err=$("$INTERV" info --model "$dir/l2c_ok_control.bin" --tokenizer "$tok" 2>&1 >/dev/null); rc=$?
check "tok512.bin" "$rc" "$err" "tokenizer has 512 tokens but the model's vocabulary is 16"
# truncated tokenizer
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
head -c 3000 "$tok" > "$tmp/tok_cut.bin"
err=$("$INTERV" info --model "$dir/l2c_ok_control.bin" --tokenizer "$tmp/tok_cut.bin" 2>&1 >/dev/null); rc=$?
check "tok_cut.bin" "$rc" "$err" "truncated at token"
# folders without config.json: no checkpoint, or more than one
mkdir -p "$tmp/empty_folder" "$tmp/two_ckpts"
cp "$dir/l2c_ok_control.bin" "$tmp/two_ckpts/a.bin"; cp "$dir/l2c_ok_control.bin" "$tmp/two_ckpts/b.bin"
err=$("$INTERV" info --model "$tmp/empty_folder" 2>&1 >/dev/null); rc=$?
check "empty_folder" "$rc" "$err" "neither config.json (Hugging Face) nor a llama2.c .bin checkpoint"
err=$("$INTERV" info --model "$tmp/two_ckpts" 2>&1 >/dev/null); rc=$?
check "two_ckpts" "$rc" "$err" "no config.json and 2 .bin checkpoints"
# prompt longer than the context (stories260K: 512 positions)
long=$(printf 'the dog ran %.0s' $(seq 400))
err=$("$INTERV" generate --model "$SHARED/models/stories260K/stories260K.bin" --prompt "$long" --max-new 4 2>&1 >/dev/null); rc=$?
check "stories260K.bin" "$rc" "$err" "longer than the context of 512"
echo "$n cases, $fails failures"
[ "$fails" -eq 0 ]
