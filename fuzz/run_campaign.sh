#!/usr/bin/env bash
# Fuzzing campaign: runs every built target for SECONDS (default 600) each, JOBS
# (default 2) at a time, on a working corpus in build-fuzz/corpus/<target> seeded
# from fuzz/corpus/<target>, with the target's dictionary.  Crashes land in
# build-fuzz/artifacts/<target>/; prints a table: target, seconds, executions,
# corpus size, findings.  Usage: bash fuzz/run_campaign.sh [targets...]
set -u
SECONDS_EACH=${SECONDS_EACH:-600}; JOBS=${JOBS:-2}; FD=${FUZZ_DIR:-build-fuzz}
targets=${*:-$(make -s -f fuzz/Makefile list)}
dict_of() {
  case $1 in
    safetensors) echo safetensors;; st_index|config) echo config;; tokenizer_json|gpt2_vocab) echo tokenizer;;
    csv) echo csv;; npz) echo npz;; torchzip) echo pickle;; gguf) echo gguf;; sweep_config) echo sweep;; *) echo;;
  esac
}
one() {
  t=$1; mkdir -p "$FD/corpus/$t" "$FD/artifacts/$t" "$FD/logs"
  d=$(dict_of "$t"); dopt=(); [ -n "$d" ] && dopt=(-dict=fuzz/dict/$d.dict)
  "$FD/fuzz_$t" "${dopt[@]}" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -malloc_limit_mb=${MALLOC_MB:-17000} -timeout=10 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$FD/artifacts/$t/" "$FD/corpus/$t" "fuzz/corpus/$t" \
    > "$FD/logs/$t.log" 2>&1
  echo "$t rc=$?"
}
export -f one dict_of; export SECONDS_EACH FD
printf '%s\n' $targets | xargs -P "$JOBS" -I{} bash -c 'one {}'
printf '%-16s %8s %12s %8s %s\n' target seconds execs corpus findings
for t in $targets; do
  log=$FD/logs/$t.log
  ex=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  tm=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  secs=$(( ${ex:-0} / (${tm:-1} > 0 ? ${tm:-1} : 1) ))
  cs=$(ls "$FD/corpus/$t" | wc -l)
  nf=$(ls "$FD/artifacts/$t" 2>/dev/null | wc -l)
  printf '%-16s %8s %12s %8s %s\n' "$t" "$secs" "${ex:-?}" "$cs" "$nf"
done
