/* Every method through its hook on the model-zoo fixtures of issue 14
 * (Qwen2, Qwen3, Mistral, GPT-NeoX, OLMo-2, Phi-3, Gemma-3;
 * scripts/make_zoo_fixtures.py): hooks and methods are architecture-blind, so
 * each must (1) change the greedy continuations when it edits and (2) give
 * token-for-token the same continuations at batch 3 as at batch 1, with the
 * same number of edited positions.  The lens/SAE artifacts are the committed
 * dim-32 method fixtures, so they run on the dim-32 zoo models; steering and
 * probe artifacts are written at each model's dim. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "interv/method.h"
#include "interv/model.h"
#include "interv/train.h"

#define FIX "tests/fixtures/methods/"
static const char *MODELS[] = {"qwen2", "qwen3", "mistral", "neox", "neox-sequential", "olmo2", "phi3", "gemma3"};
#define NMODELS (sizeof MODELS / sizeof *MODELS)
static char TMP[] = "/tmp/test_zoo_methods.XXXXXX";
static const int32_t TGT[2] = {5, 17};

typedef struct cfg {
    const char *name;
    iv_method_kind kind;
    const char *artifact; /* NULL: none; "S"/"P": the steering / probe file written here */
    int layer, normed;
    int64_t feature;
} cfg;

static const cfg CFGS[] = {
    {"logit", IV_METHOD_LOGIT, NULL, 1, 0, -1},
    {"logit normed", IV_METHOD_LOGIT, NULL, 1, 1, -1},
    {"tuned", IV_METHOD_TUNED, FIX "tuned-lens", 0, 0, -1},
    {"sae topk", IV_METHOD_SAE, FIX "saelens-topk", 1, 0, 3},
    {"steering", IV_METHOD_STEERING, "S", 1, 0, -1},
    {"probe", IV_METHOD_PROBE, "P", 1, 0, -1},
};
#define NCFG (sizeof CFGS / sizeof *CFGS)

enum { NP = 4, STEPS = 12 };
static const int32_t P0[] = {12, 59, 16, 25, 24, 55, 93}, P1[] = {47, 84}, P2[] = {5, 84, 67, 2}, P3[] = {90};
static const int32_t *const PROMPTS[NP] = {P0, P1, P2, P3};
static const int PLEN[NP] = {7, 2, 4, 1};

static int setup(void **st) {
    (void)st;
    if (!mkdtemp(TMP)) return -1;
    setenv("INTERV_CACHE", TMP, 1);
    return 0;
}

static int teardown(void **st) {
    (void)st;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    return system(cmd) == 0 ? 0 : -1;
}

static iv_method *make(const iv_model *m, const cfg *c, const char *artifact) {
    iv_method_opts o = iv_method_defaults();
    o.kind = c->kind;
    o.mode = IV_MMODE_EDIT;
    o.layer = c->layer;
    o.artifact = artifact;
    o.normed = c->normed;
    o.sae_feature = c->feature;
    o.alpha = c->kind == IV_METHOD_STEERING || c->kind == IV_METHOD_PROBE ? 40.f : 2.5f;
    o.at = IV_AT_LAST;
    o.target_ids = TGT;
    o.n_target_ids = 2;
    iv_method *mm = NULL;
    iv_err err;
    if (iv_method_create(m, &o, &mm, &err)) fail_msg("%s %s: %s", m->cfg.arch_name, c->name, err.msg);
    return mm;
}

static void gen(const iv_model *m, iv_method *mm, int batch, int32_t **out, int *n_out) {
    iv_gen_opts g = iv_gen_defaults();
    g.steps = STEPS;
    g.batch = batch;
    g.stop_at_eos = 0;
    iv_hooks hs = {.n = 0};
    iv_err err;
    if (mm) assert_int_equal(iv_method_install(mm, &hs, &err), 0);
    if (iv_generate(m, PROMPTS, PLEN, NP, &g, mm ? &hs : NULL, out, n_out, &err)) fail_msg("%s", err.msg);
}

static void one_model(const char *name) {
    char dir[128], steer[300], probe[300];
    snprintf(dir, sizeof dir, "tests/fixtures/models/%s", name);
    iv_model *m = NULL;
    iv_err err;
    if (iv_model_load(dir, NULL, &m, &err)) fail_msg("%s", err.msg);
    int d = m->cfg.dim;
    float *v = malloc(sizeof(float) * (size_t)d);
    uint64_t s = 99;
    for (int i = 0; i < d; i++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        v[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2 - 1);
    }
    snprintf(steer, sizeof steer, "%s/%s-steer.safetensors", TMP, name);
    snprintf(probe, sizeof probe, "%s/%s-probe.safetensors", TMP, name);
    iv_probe p = {.dim = d, .w = v, .b = 0.25f};
    if (iv_steering_save(steer, v, d, 1, "dog", 0, 4, &err) || iv_probe_save(probe, &p, 1, "dog", 0, &err))
        fail_msg("%s", err.msg);
    int32_t *oc[NP];
    int nc[NP];
    gen(m, NULL, 3, oc, nc);
    for (size_t i = 0; i < NCFG; i++) {
        const cfg *c = &CFGS[i];
        const char *art = !c->artifact ? NULL : !strcmp(c->artifact, "S") ? steer : !strcmp(c->artifact, "P") ? probe
                                                                               : c->artifact;
        if (d != 32 && art && art != steer && art != probe) continue; /* dim-32 artifacts */
        iv_method *a = make(m, c, art), *b = make(m, c, art);
        int32_t *oa[NP], *ob[NP];
        int na[NP], nb[NP], same = 1;
        gen(m, a, 3, oa, na);
        gen(m, b, 1, ob, nb);
        for (int q = 0; q < NP; q++) {
            assert_int_equal(na[q], STEPS - PLEN[q] + 1);
            if (na[q] != nb[q] || memcmp(oa[q], ob[q], sizeof(int32_t) * (size_t)na[q]))
                fail_msg("%s %s: prompt %d generates differently at batch 3 and batch 1", name, c->name, q);
            same &= !memcmp(oa[q], oc[q], sizeof(int32_t) * (size_t)na[q]);
            free(oa[q]);
            free(ob[q]);
        }
        if (same && c->kind != IV_METHOD_PROBE) fail_msg("%s %s: every continuation is the clean one", name, c->name);
        double ma, mb;
        int64_t ca, cb;
        iv_method_edit_stats(a, &ma, &ca);
        iv_method_edit_stats(b, &mb, &cb);
        assert_int_equal(ca, cb);
        assert_true(ca > 0);
        if (!(fabs(ma - mb) <= 1e-5 * fmax(mb, 1e-12) + 1e-7)) fail_msg("%s %s: mean edit %g vs %g", name, c->name, ma, mb);
        iv_method_free(a);
        iv_method_free(b);
    }
    for (int q = 0; q < NP; q++) free(oc[q]);
    free(v);
    iv_model_free(m);
}

static void test_methods_on_zoo(void **st) {
    (void)st;
    for (size_t i = 0; i < NMODELS; i++) one_model(MODELS[i]);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_methods_on_zoo)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
