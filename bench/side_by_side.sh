#!/usr/bin/env bash
# interv vs PyTorch on the same workload in one invocation, runs interleaved:
# random-weight GPT-2-small shape, 210 prompts (4..19 tokens) x 30 new tokens,
# greedy, batch 32, clean and with the logit-lens edit at layer 9; plus batch-1
# decode ms/token clean and edit. Each figure is the best of REPS runs (batch 1:
# the run's median step). interv: $BUILD/bench/bench_intervene; PyTorch:
# bench/bench_torch_intervene.py under Debian's /usr/bin/python3.
# Usage: bench/side_by_side.sh [--bf16] [--reps N] [--prompts P] [--new N]
#   --bf16 adds a bf16 pass (interv --bf16 --compute bf16; torch bf16 weights and
#   activations) after the f32 one.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=${PY:-/usr/bin/python3}
REPS=2 PROMPTS=210 NEW=30 BF16=0 THREADS=2
while [ $# -gt 0 ]; do
    case $1 in
        --bf16) BF16=1 ;;
        --reps) REPS=$2; shift ;;
        --prompts) PROMPTS=$2; shift ;;
        --new) NEW=$2; shift ;;
        *) echo "usage: $0 [--bf16] [--reps N] [--prompts P] [--new N]" >&2; exit 2 ;;
    esac
    shift
done
IV=$BUILD/bench/bench_intervene
[ -x "$IV" ] || { echo "side_by_side: $IV missing (make BUILD=$BUILD bench)" >&2; exit 1; }
if [ -n "${OPENBLAS_CORETYPE+x}" ]; then
    echo "OPENBLAS_CORETYPE was '$OPENBLAS_CORETYPE': unset for both stacks"
    unset OPENBLAS_CORETYPE
else
    echo "OPENBLAS_CORETYPE is unset for both stacks"
fi
echo "host: $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg); threads $THREADS for both"
echo "workload: $PROMPTS prompts x $NEW new tokens, batch 32, greedy, logit-lens edit at layer 9" \
     "(alpha 4, targets 1000 and 20000, weight 1), best of $REPS interleaved runs"
echo "PyTorch: OMP_WAIT_POLICY=PASSIVE for f32 (OpenBLAS threads), ACTIVE for bf16 (oneDNN), each its faster setting"
echo "PyTorch gets interv's cheap edit form x' = x + sum_t (z'_t - z_t) P[:,t], P = pinv(W_U) columns precomputed once"
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
T0=$(date +%s)

# interv's table row "| logit | clean | edit | r | B clean | edit | r | B1 ms | B1 edit ms | r |"
interv_run() {  # dtype extra-args...
    local dt=$1; shift
    "$IV" --method logit --threads $THREADS --prompts "$PROMPTS" --new "$NEW" --batch 32 --reps 1 "$@" |
        awk -F'|' -v dt="$dt" '$2 ~ /logit/ {
            gsub(/ /, ""); sub(/\(.*/, "", $3); sub(/\(.*/, "", $4)
            printf "RESULT stack=interv dtype=%s kind=workload clean=%s edit=%s\n", dt, $3, $4
            if ($9 + 0 > 0) printf "RESULT stack=interv dtype=%s kind=b1 clean=%s edit=%s\n", dt, $9, $10 }'
}
# PyTorch's f32 linear layers run in OpenBLAS's own pthreads while its OpenMP
# workers spin between parallel regions: on 2 cores they fight (64 prompts,
# f32: 114 tok/s clean by default, 295 with OMP_WAIT_POLICY=PASSIVE, 196 with
# OPENBLAS_NUM_THREADS=1).  bf16 goes through oneDNN on the OpenMP workers,
# where spinning pays (713 default, 545 passive).  Each dtype gets its better one.
torch_run() {  # dtype extra-args...
    local dt=$1; shift
    local wait=ACTIVE
    [ "$dt" = f32 ] && wait=PASSIVE
    OMP_WAIT_POLICY=$wait "$PY" bench/bench_torch_intervene.py --dtype "$dt" --threads $THREADS --prompts "$PROMPTS" --new "$NEW" \
        --batch 32 --reps 1 "$@" | grep '^RESULT'
}

DTYPES=f32
[ "$BF16" = 1 ] && DTYPES="f32 bf16"
for dt in $DTYPES; do
    ivargs=()
    [ "$dt" = bf16 ] && ivargs=(--bf16 --compute bf16)
    for r in $(seq 1 "$REPS"); do
        b1=(--no-b1)
        [ "$r" = "$REPS" ] && b1=()   # batch 1 once, in the last round
        interv_run "$dt" "${ivargs[@]}" "${b1[@]}" | tee -a "$OUT"
        torch_run "$dt" "${b1[@]}" | tee -a "$OUT"
        echo "# $dt round $r done, $(( $(date +%s) - T0 )) s, load $(cut -d' ' -f1 /proc/loadavg)"
    done
done

echo
echo "| stack | dtype | B=32 clean tok/s | B=32 edit tok/s | edit/clean | B=1 clean ms/tok | B=1 edit ms/tok | edit/clean |"
echo "|---|---|---|---|---|---|---|---|"
awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
       k = f["stack"] SUBSEP f["dtype"]; seen[k] = 1
       if (f["kind"] == "workload") { if (f["clean"] > wc[k]) wc[k] = f["clean"]; if (f["edit"] > we[k]) we[k] = f["edit"] }
       else { bc[k] = f["clean"]; be[k] = f["edit"] } }
     END { n = split("interv f32,torch f32,interv bf16,torch bf16", order, ",")
       for (i = 1; i <= n; i++) { split(order[i], p, " "); k = p[1] SUBSEP p[2]; if (!(k in seen)) continue
         name = (p[1] == "torch") ? "PyTorch" : "interv"
         printf "| %s | %s | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n", name,
           p[2], wc[k], we[k], (wc[k] > 0) ? we[k] / wc[k] : 0, bc[k], be[k], (bc[k] > 0) ? be[k] / bc[k] : 0 } }' "$OUT"
echo
echo "total $(( $(date +%s) - T0 )) s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
