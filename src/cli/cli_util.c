#include "cli/cli_util.h"
#include "interv/kernels.h"
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

iv_model *cli_load_model(const char *cmd, const char *path, const char *tok_path) {
    iv_model *m = NULL;
    iv_err err = {{0}};
    if (!path) { fprintf(stderr, "interv %s: --model is required\n", cmd); return NULL; }
    if (iv_model_load(path, tok_path, &m, &err) != 0) {
        fprintf(stderr, "interv %s: %s\n", cmd, err.msg);
        return NULL;
    }
    return m;
}

int cli_compute(const char *cmd, const char *mode) {
    if (!mode) return IV_COMPUTE_F32;
    int c = iv_compute_parse(mode);
    if (c < 0) {
        fprintf(stderr, "interv %s: --compute: expected f32 or bf16, got '%s'\n", cmd, mode);
        return -1;
    }
    if (c == IV_COMPUTE_BF16 && !iv_kernels_bf16()) {
        fprintf(stderr, "interv %s: --compute bf16 is unavailable: it needs AVX512-BF16, which this CPU (or IV_ISA) does not give\n", cmd);
        return -1;
    }
    return c;
}

int cli_set_compute(const char *cmd, iv_model *m, int c) {
    iv_err err = {{0}};
    if (c == IV_COMPUTE_F32 || iv_model_set_compute(m, (iv_compute)c, &err) == 0) return 0;
    fprintf(stderr, "interv %s: %s\n", cmd, err.msg);
    return -1;
}

void cli_set_threads(int n) {
    if (n > 0) iv_kernels_set_threads(n);
}

int cli_parse_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "interv %s: %s expects an integer in [%ld, %ld], got '%s'\n", cmd, opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_float(const char *cmd, const char *opt, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v)) {
        fprintf(stderr, "interv %s: %s expects a number, got '%s'\n", cmd, opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_read_lines(const char *cmd, const char *path, char ***lines) {
    FILE *f = fopen(path, "r");
    if (!f) { fprintf(stderr, "interv %s: %s: %s\n", cmd, path, strerror(errno)); return -1; }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n = 0, room = 16;
    char **out = malloc((size_t)room * sizeof *out);
    while ((len = getline(&line, &cap, f)) >= 0) {
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0) continue;
        if (n == room) { room *= 2; out = realloc(out, (size_t)room * sizeof *out); }
        out[n++] = strdup(line);
    }
    free(line);
    fclose(f);
    if (n == 0) { fprintf(stderr, "interv %s: %s: no prompts in the file\n", cmd, path); free(out); return -1; }
    *lines = out;
    return n;
}

void cli_free_lines(char **lines, int n) {
    for (int i = 0; i < n; i++) free(lines[i]);
    free(lines);
}
