#!/usr/bin/env bash
# `make install PREFIX=...` gives a library that an outside program finds through
# pkg-config, links and uses to load stories260K.
set -eu
SHARED=${SHARED:-../shared}; BUILD=${BUILD:-build}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
make -s install BUILD="$BUILD" PREFIX="$tmp/prefix" >/dev/null
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
cat > "$tmp/use.c" <<'C'
#include <interv/model.h>
#include <stdio.h>
int main(int argc, char **argv) {
    iv_model *m; iv_err e;
    if (argc < 2 || iv_model_load(argv[1], NULL, &m, &e)) { puts(e.msg); return 1; }
    printf("%lld %s\n", (long long)iv_model_n_params(m), m->cfg.arch_name);
    iv_model_free(m);
    return 0;
}
C
# shellcheck disable=SC2046
gcc "$tmp/use.c" -o "$tmp/use" $(pkg-config --cflags --libs interv)
out=$(LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/use" "$SHARED/models/stories260K/stories260K.bin")
[ "$out" = "260032 llama2.c" ] || { echo "FAIL: got '$out'"; exit 1; }
echo "installed library works through pkg-config"
