#!/usr/bin/env bash
# Memcheck (valgrind) on `interv generate` with stories260K and on one `interv run`
# (logit lens, bottleneck, 3 prompts): no memory errors and no definite leaks.
# "Possibly lost" blocks are OpenMP/OpenBLAS thread pools and do not count.
# Valgrind cannot run AVX-512 code, and the default build uses -march=native, so the
# binary checked here is a portable build in $VG_BUILD (default build-valgrind;
# built by this test, incrementally).  Set INTERV_VG to check another binary.
set -u
SHARED=${SHARED:-../shared}; VG_BUILD=${VG_BUILD:-build-valgrind}
M="$SHARED/models/stories260K/stories260K.bin"
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 77; }
[ -f "$M" ] || { echo "no stories260K in $SHARED"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ -z "${INTERV_VG:-}" ]; then
  make -s BUILD="$VG_BUILD" OPT="-O2 -g" -j2 "$VG_BUILD/interv" >"$tmp/build.log" 2>&1 \
    || { tail -20 "$tmp/build.log"; echo "build of $VG_BUILD failed"; exit 1; }
  INTERV_VG="$VG_BUILD/interv"
fi
export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=1
fails=0
vg() { # name, command...
  local name=$1; shift
  valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 \
    --log-file="$tmp/$name.vg" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  if [ $rc -ne 0 ]; then
    echo "FAIL $name: exit $rc"; cat "$tmp/$name.err" | tail -5; grep -v "^==[0-9]*== *$" "$tmp/$name.vg" | head -60
    fails=$((fails + 1))
  elif grep -q "definitely lost: [1-9]\|Invalid \|uninitialised" "$tmp/$name.vg"; then
    echo "FAIL $name: valgrind report"; head -60 "$tmp/$name.vg"; fails=$((fails + 1))
  else
    echo "ok   $name ($(wc -c < "$tmp/$name.out") bytes of output)"
  fi
}
vg generate "$INTERV_VG" generate --model "$M" --prompt "Once upon a time" --max-new 20
[ -s "$tmp/generate.out" ] || { echo "FAIL generate: no output"; fails=$((fails + 1)); }
if "$INTERV_VG" run --help >/dev/null 2>&1; then
  printf ',Home,Park\n0,Once upon a time,The dog ran to the\n1,Lily saw a,\n' > "$tmp/p.csv"
  vg run "$INTERV_VG" run --model "$M" --method logit --mode bottleneck --concept dog --layer 2 --alpha 1 \
     --prompts "$tmp/p.csv" --out "$tmp/o.jsonl" --max-new 5
  [ "$(wc -l < "$tmp/o.jsonl" 2>/dev/null || echo 0)" -eq 3 ] || { echo "FAIL run: expected 3 records"; fails=$((fails + 1)); }
else
  echo "skip run: interv run not built"
fi
[ "$fails" -eq 0 ]
