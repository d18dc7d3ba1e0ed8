#!/usr/bin/env bash
# Sweeps on more than one process give the cells of one process, byte for byte:
#   mpirun -np 3 interv-mpi sweep; a rank killed with SIGKILL mid-run, then a rerun
#   with -np 2; shards 1/2 and 2/2 run concurrently into one folder; and
#   `sweep --status` counts right at each stage.  Grid: stories260K, two methods
#   that train artifacts (steering, probe) plus the logit lens, two concepts, three
#   alphas, 12 prompts.  Skipped without Open MPI (interv-mpi or mpirun missing).
set -u
INTERV=${INTERV:-build/interv}; SHARED=$(cd "${SHARED:-../shared}" && pwd)
MPI_BIN="$(dirname "$INTERV")/interv-mpi"
command -v mpirun >/dev/null || { echo "mpirun not installed"; exit 77; }
[ -x "$MPI_BIN" ] || { echo "interv-mpi not built (no mpicc)"; exit 77; }
root=$PWD; tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
export INTERV_CACHE="$tmp/cache" OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
python3 - "$root/data/prompts/stories.csv" "$tmp/prompts.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
with open(sys.argv[2], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(rows[0][:4])
    for r in rows[1:5]: w.writerow(r[:4])
PY
cat > "$tmp/s.conf" <<EOF
models   = $SHARED/models/stories260K/stories260K.bin
layers   = 2
methods  = steering probe logit
concepts = dog ball
alphas   = 2 4 8
prompts  = $tmp/prompts.csv
concepts_file = $root/data/concepts.json
pairs_dir = $root/data/concepts
max_new  = 10
batch    = 6
EOF
N=22  # 2 clean + 2 logit bottleneck + 3 methods x 2 concepts x 3 alphas
status_total() { "$INTERV" sweep --status "$1" | awk '$1 == "total" {print $2, $3}'; }
same() { # same() A B: the two cell folders hold identical files
  [ "$(ls "$1" | wc -l)" -eq "$(ls "$2" | wc -l)" ] || return 1
  for f in "$1"/*.jsonl; do cmp -s "$f" "$2/$(basename "$f")" || return 1; done
}
"$INTERV" sweep --config "$tmp/s.conf" --out "$tmp/one" --threads 1 2>"$tmp/one.log" || { cat "$tmp/one.log"; fail "single process"; }
[ "$(ls "$tmp/one/cells" | wc -l)" -eq $N ] || fail "expected $N cells"
[ "$(status_total "$tmp/one")" = "$N 0" ] || fail "status after a full run: $(status_total "$tmp/one")"

# 1. three ranks
mpirun --oversubscribe -np 3 "$MPI_BIN" sweep --config "$tmp/s.conf" --out "$tmp/mpi" 2>"$tmp/mpi.log" || { cat "$tmp/mpi.log"; fail "mpirun -np 3"; }
same "$tmp/one/cells" "$tmp/mpi/cells" || fail "np 3 cells differ from one process"
grep -q "3 ranks, makespan .* scheduler efficiency" "$tmp/mpi.log" || { cat "$tmp/mpi.log"; fail "no efficiency line"; }
ls "$tmp/mpi/artifacts/stories260K" | grep -c 'safetensors$' | grep -qx 4 || fail "artifacts not trained exactly once each"

# 2. a rank killed with SIGKILL mid-run, then a rerun with another N
mpirun --oversubscribe -np 3 "$MPI_BIN" sweep --config "$tmp/s.conf" --out "$tmp/kill" >/dev/null 2>&1 &
job=$!
victim=""
# as soon as the first artifact is trained (cells follow within a second)
for _ in $(seq 1000); do
  c=$(ls "$tmp/kill/artifacts/stories260K" 2>/dev/null | grep -c 'safetensors$'); [ "$c" -ge 1 ] && break; sleep 0.01
done
# a rank, not mpirun (whose command line also names interv-mpi)
victim=$(pgrep -f "^[^ ]*interv-mpi sweep --config $tmp/s.conf --out $tmp/kill" | head -1)
[ -n "$victim" ] && kill -9 "$victim" 2>/dev/null
wait $job; rc=$?
sleep 0.5  # ranks that outlive mpirun would still be writing
pgrep -f "^[^ ]*interv-mpi sweep --config $tmp/s.conf --out $tmp/kill" >/dev/null && fail "ranks outlived the job"
before=$(ls "$tmp/kill/cells" | grep -c 'jsonl$')
if [ "$before" -lt $N ]; then
  [ $rc -ne 0 ] || fail "the job exited 0 after losing a rank"
else
  echo "note: the job finished before a rank could be killed"
fi
python3 -c "
import json,glob,sys
for f in glob.glob(sys.argv[1]+'/*.jsonl'):
    n = sum(1 for l in open(f) if json.loads(l))
    assert n == 12, (f, n)
" "$tmp/kill/cells" || fail "a partial cell after the kill"
ls "$tmp/kill/cells" | grep -v 'jsonl$' | while read -r f; do rm -f "$tmp/kill/cells/$f"; done  # temp files are not results
[ "$(status_total "$tmp/kill")" = "$before $((N - before))" ] || fail "status after the kill: $(status_total "$tmp/kill"), $before on disk"
mpirun --oversubscribe -np 2 "$MPI_BIN" sweep --config "$tmp/s.conf" --out "$tmp/kill" 2>"$tmp/rerun.log" || { cat "$tmp/rerun.log"; fail "rerun with np 2"; }
grep -q "$((N - before)) cells computed, $before already done" "$tmp/rerun.log" || { cat "$tmp/rerun.log"; fail "the rerun recomputed finished cells"; }
same "$tmp/one/cells" "$tmp/kill/cells" || fail "cells after kill + rerun differ"
[ "$(status_total "$tmp/kill")" = "$N 0" ] || fail "status after the rerun"

# 3. shards 1/2 and 2/2 at once into one folder
"$INTERV" sweep --config "$tmp/s.conf" --out "$tmp/shard" --shard 1/2 --threads 1 2>"$tmp/s1.log" &
p1=$!
"$INTERV" sweep --config "$tmp/s.conf" --out "$tmp/shard" --shard 2/2 --threads 1 2>"$tmp/s2.log" &
p2=$!
wait $p1 || { cat "$tmp/s1.log"; fail "shard 1/2"; }
wait $p2 || { cat "$tmp/s2.log"; fail "shard 2/2"; }
same "$tmp/one/cells" "$tmp/shard/cells" || fail "shard cells differ"
a=$(sed -n 's/.*: \([0-9]*\) cells computed.*/\1/p' "$tmp/s1.log"); b=$(sed -n 's/.*: \([0-9]*\) cells computed.*/\1/p' "$tmp/s2.log")
[ $((a + b)) -eq $N ] || fail "shards computed $a + $b cells, not $N (a cell computed twice or lost)"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "one shard did nothing ($a, $b)"
"$INTERV" sweep --config "$tmp/s.conf" --out "$tmp/x" --shard 3/2 2>"$tmp/err" && fail "--shard 3/2 accepted"
grep -q "K/N" "$tmp/err" || fail "bad --shard message: $(cat "$tmp/err")"
"$INTERV" sweep --status "$tmp/nothing" 2>"$tmp/err" && fail "--status on an empty folder accepted"
grep -q "config.txt missing" "$tmp/err" || fail "status message: $(cat "$tmp/err")"
echo "ok: np 3, kill + np 2 rerun ($before cells kept), shards 1/2 + 2/2: identical $N cells"
