#!/usr/bin/env bash
# Runs every unit test binary given as arguments (cmocka) and every CLI test
# script in tests/cli/*.sh, then prints one closing line "N passed, N failed".
# A CLI script exits 0 (pass), 77 (skip) or anything else (fail).
set -u
BUILD=${BUILD:-build}
export BUILD INTERV="$PWD/$BUILD/interv" SHARED="${SHARED:-$(cd .. && pwd)/shared}"
pass=0; fail=0; skip=0; failed=()
for t in "$@"; do
  out=$("$t" 2>&1); rc=$?
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
  pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
  if [ $rc -ne 0 ]; then
    [ -z "$f" ] && fail=$((fail + 1))
    failed+=("$t"); printf '%s\n' "$out" | tail -40
  fi
  printf '%-40s %s\n' "$(basename "$t")" "$([ $rc -eq 0 ] && echo "ok (${p:-0})" || echo FAIL)"
done
# Under the sanitizer build these would measure the sanitizer, not interv (RSS,
# valgrind), cannot work with it (an outside program linking the sanitized
# library) or repeat work the plain run already did (fuzz smoke); Open MPI keeps
# allocations until exit that LeakSanitizer would report as its own (sweep_mpi).
NOT_SANITIZED="fuzz_smoke.sh valgrind_memcheck.sh peak_rss.sh install_pkgconfig.sh sweep_mpi.sh"
for s in tests/cli/*.sh; do
  [ -e "$s" ] || continue
  if [ -n "${IV_SANITIZED:-}" ] && [[ " $NOT_SANITIZED " == *" $(basename "$s") "* ]]; then
    skip=$((skip + 1)); printf '%-40s skipped under sanitizers\n' "$(basename "$s")"; continue
  fi
  t0=$(date +%s)
  out=$(bash "$s" 2>&1); rc=$?
  dt=$(( $(date +%s) - t0 ))
  if [ $rc -eq 0 ]; then pass=$((pass + 1)); r=ok
  elif [ $rc -eq 77 ]; then skip=$((skip + 1)); r="skipped: $(printf '%s\n' "$out" | tail -1)"
  else fail=$((fail + 1)); failed+=("$s"); r=FAIL; printf '%s\n' "$out" | tail -40; fi
  printf '%-40s %-10s %4ss\n' "$(basename "$s")" "$r" "$dt"
done
[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
