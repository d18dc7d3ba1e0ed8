#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/Makefile, clang, into build-fuzz/) and runs each
# for FUZZ_SMOKE_SECONDS (default 30) from its seed corpus, two at a time.  Any
# crash, sanitizer report, leak or RSS blow-up fails the test and leaves the input
# in build-fuzz/smoke/<target>/.  Skipped (77) without clang or libFuzzer.
set -u
SECS=${FUZZ_SMOKE_SECONDS:-30}; FD=${FUZZ_DIR:-build-fuzz}
command -v clang >/dev/null || { echo "clang not installed"; exit 77; }
probe=$(mktemp -d); trap 'rm -rf "$probe"' EXIT
printf '#include <stdint.h>\n#include <stddef.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' > "$probe/p.c"
clang -fsanitize=fuzzer,address,undefined "$probe/p.c" -o "$probe/p" 2>/dev/null || { echo "clang cannot link libFuzzer (libclang-rt-dev missing)"; exit 77; }
make -s -f fuzz/Makefile FUZZ_DIR="$FD" -j2 >"$probe/build.log" 2>&1 || { tail -30 "$probe/build.log"; echo "fuzz build failed"; exit 1; }
targets=$(make -s -f fuzz/Makefile list)
dict_of() {
  case $1 in
    safetensors) echo safetensors;; st_index|config) echo config;; tokenizer_json|gpt2_vocab) echo tokenizer;;
    csv) echo csv;; npz) echo npz;; torchzip) echo pickle;; gguf) echo gguf;; sweep_config) echo sweep;; *) echo;;
  esac
}
one() {
  t=$1; w="$FD/smoke/$t"; rm -rf "$w" 2>/dev/null; mkdir -p "$w/corpus"
  d=$(dict_of "$t"); dopt=(); [ -n "$d" ] && dopt=(-dict=fuzz/dict/$d.dict)
  # the malloc cap sits above the parsers' own size caps (16 GiB): allocations they
  # allow are judged by RSS, not by their declared size
  "$FD/fuzz_$t" "${dopt[@]}" -max_total_time="$SECS" -rss_limit_mb=2048 -malloc_limit_mb=17000 -timeout=10 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$w/" "$w/corpus" "fuzz/corpus/$t" > "$w/log" 2>&1
  rc=$?
  ex=$(sed -n 's/^stat::number_of_executed_units: *//p' "$w/log" | tail -1)
  if [ $rc -eq 0 ]; then echo "ok   $t (${ex:-?} runs)"; else echo "FAIL $t (rc $rc)"; grep -m1 -A12 "ERROR\|runtime error" "$w/log"; fi
}
export -f one dict_of; export SECS FD
out=$(printf '%s\n' $targets | xargs -P 2 -I{} bash -c 'one {}')
printf '%s\n' "$out"
! printf '%s\n' "$out" | grep -q '^FAIL'
