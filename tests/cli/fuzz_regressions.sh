#!/usr/bin/env bash
# Replays every input in tests/bad/fuzz/<target>/ (inputs the fuzzers in fuzz/ once
# crashed on, or that once made them allocate gigabytes) through the interv command
# that reads that kind of file.  Each must either be accepted (exit 0) or fail with
# an exit status in 1..127 and exactly one stderr line naming the file.
set -u
INTERV=${INTERV:-build/interv}; SHARED=${SHARED:-../shared}
M="$SHARED/models/stories260K/stories260K.bin"
[ -x "$INTERV" ] || { echo "no $INTERV"; exit 77; }
[ -f "$M" ] || { echo "no stories260K in $SHARED"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf ',Home\n0,Once upon a time\n' > "$tmp/p.csv"
fails=0; n=0
# the part of a file before / after its first NUL byte (fuzz inputs of two files)
before_nul() { python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); sys.stdout.buffer.write(d.split(b"\0",1)[0])' "$1"; }
after_nul()  { python3 -c 'import sys; d=open(sys.argv[1],"rb").read().split(b"\0",1); sys.stdout.buffer.write(d[1] if len(d)>1 else b"")' "$1"; }
runm() { timeout 60 "$INTERV" run --model "$M" --concept dog --prompts "$tmp/p.csv" --out "$tmp/o.jsonl" --max-new 1 "$@"; }
for f in tests/bad/fuzz/*/*; do
  [ -f "$f" ] || continue
  t=$(basename "$(dirname "$f")"); w="$tmp/w"; rm -rf "$w"; mkdir -p "$w"
  case $t in
    safetensors) cp "$f" "$w/x.safetensors"; named=x.safetensors
      err=$(runm --method steering --layer 2 --artifact "$w/x.safetensors" 2>&1 >/dev/null);;
    st_index) cp tests/fixtures/models/llama/config.json tests/fixtures/models/llama/*.safetensors "$w/"
      cp "$f" "$w/model.safetensors.index.json"; named=w
      err=$(timeout 60 "$INTERV" info --model "$w" 2>&1 >/dev/null);;
    config) cp tests/fixtures/models/llama/*.safetensors tests/fixtures/models/llama/*.index.json "$w/"
      cp "$f" "$w/config.json"; named=w
      err=$(timeout 60 "$INTERV" info --model "$w" 2>&1 >/dev/null);;
    llama2c) cp "$f" "$w/model.bin"; named=model.bin
      err=$(timeout 60 "$INTERV" info --model "$w/model.bin" 2>&1 >/dev/null);;
    tok_llama2c) cp "$f" "$w/tok.bin"; named=tok.bin
      err=$(echo "Once upon a time" | timeout 60 "$INTERV" tokenize --tokenizer "$w/tok.bin" 2>&1 >/dev/null);;
    tokenizer_json) before_nul "$f" > "$w/tokenizer.json"; after_nul "$f" > "$w/text"; named=tokenizer.json
      [ -s "$w/text" ] || echo "Hello world" > "$w/text"
      err=$(timeout 60 "$INTERV" tokenize --tokenizer "$w/tokenizer.json" < "$w/text" 2>&1 >/dev/null);;
    gpt2_vocab) before_nul "$f" > "$w/vocab.json"; after_nul "$f" > "$w/merges.txt"; named=w
      err=$(echo "Hello world" | timeout 60 "$INTERV" tokenize --tokenizer "$w/vocab.json" 2>&1 >/dev/null);;
    csv) cp "$f" "$w/prompts.csv"; named=prompts.csv
      err=$(timeout 60 "$INTERV" run --model "$M" --method clean --concept dog --prompts "$w/prompts.csv" \
              --out "$tmp/o.jsonl" --max-new 1 2>&1 >/dev/null);;
    npz) cp "$f" "$w/params.npz"; named=params.npz
      err=$(runm --method sae --layer 2 --artifact "$w/params.npz" 2>&1 >/dev/null);;
    torchzip) printf '{"d_model": 64, "num_hidden_layers": 5}' > "$w/config.json"; cp "$f" "$w/params.pt"; named=params.pt
      err=$(runm --method tuned --layer 2 --artifact "$w" 2>&1 >/dev/null);;
    gguf) cp "$f" "$w/x.gguf"; named=x.gguf
      err=$(runm --method steering --layer 2 --artifact "$w/x.gguf" 2>&1 >/dev/null);;
    sweep_config) cp "$f" "$w/sweep.conf"; named=sweep.conf
      err=$(timeout 60 "$INTERV" sweep --config "$w/sweep.conf" --out "$tmp/sweep" 2>&1 >/dev/null);;
    *) echo "FAIL $f: unknown target $t"; fails=$((fails + 1)); continue;;
  esac
  rc=$?; n=$((n + 1))
  [ "$rc" -eq 0 ] && continue  # the input happened to be valid
  if [ "$rc" -ge 124 ]; then echo "FAIL $f: exit status $rc: $(printf '%s' "$err" | head -3)"; fails=$((fails + 1)); continue; fi
  if [ "$(printf '%s\n' "$err" | wc -l)" -ne 1 ]; then echo "FAIL $f: expected one line, got: $(printf '%s' "$err" | head -5)"; fails=$((fails + 1)); continue; fi
  case "$err" in *"$named"*) ;; *) echo "FAIL $f: message does not name the file ($named): $err"; fails=$((fails + 1));; esac
done
echo "$n inputs, $fails failures"
[ "$n" -gt 0 ] || exit 77
[ "$fails" -eq 0 ]
