/* libFuzzer target: the sweep configuration parser (include/interv/sweep.h), both
 * through the file loader and on the text directly; every list that loads must
 * hold what its count says. */
#include "fuzz_util.h"
#include "interv/sweep.h"

static void check(const iv_sweep_config *c) {
    for (int i = 0; i < c->n_models; i++) (void)strlen(c->models[i]);
    for (int i = 0; i < c->n_concepts; i++) (void)strlen(c->concepts[i]);
    volatile double s = 0;
    for (int i = 0; i < c->n_layers; i++) s += c->layers[i];
    for (int i = 0; i < c->n_methods; i++) s += (int)c->methods[i];
    for (int k = IV_METHOD_CLEAN; k <= IV_METHOD_PROBE; k++) {
        int n = -1;
        const double *a = iv_sweep_alphas(c, (iv_method_kind)k, &n);
        if (n < 0) abort();
        for (int i = 0; i < n; i++) s += a[i];
    }
    const char *strs[] = {c->prompts, c->concepts_file, c->pairs_dir, c->corpus, c->heldout,
                          c->judge, c->judge_template, c->prompt_template};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        if (strs[i]) (void)strlen(strs[i]);
    (void)s;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "sweep.conf", d, n);
    iv_sweep_config c;
    iv_err err = {{0}};
    if (iv_sweep_config_load(path, &c, &err) != 0) {
        fz_check_msg(err.msg);
    } else {
        check(&c);
        iv_sweep_config_free(&c);
    }
    /* the text up to its first NUL, as a string */
    char *text = malloc(n + 1);
    memcpy(text, d, n);
    text[n] = 0;
    iv_sweep_config c2;
    err.msg[0] = 0;
    if (iv_sweep_config_parse(text, "fuzz.conf", fz_scratch(), &c2, &err) != 0) {
        fz_check_msg(err.msg);
    } else {
        check(&c2);
        iv_sweep_config_free(&c2);
    }
    free(text);
    return 0;
}
