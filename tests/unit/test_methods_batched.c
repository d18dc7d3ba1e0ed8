/* Batched hooks against the per-row path, for every method and mode:
 *   1. iv_method_apply_batch on n rows == iv_method_apply row by row (bit for
 *      bit where the arithmetic is the same: steering, probe; otherwise within
 *      1e-5 of the row's largest value), edit sizes too;
 *   2. iv_generate at batch 3 (prompts of different lengths prefilled together,
 *      rows finishing at different steps and refilled) == batch 1, token for
 *      token, with the same overall edit statistics; with the hook at the last
 *      position and at every position.
 * Models: the GPT-2 fixture (LayerNorm) and the Llama fixture (RMSNorm), dim 32,
 * vocab 96.  Steering and probe artifacts are written by the savers into a
 * temporary folder; lens and SAE artifacts are the committed pyref fixtures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "interv/kernels.h"
#include "interv/method.h"
#include "interv/model.h"
#include "interv/train.h"

#define FIX "tests/fixtures/methods/"
enum { NR = 8 };

static iv_model *G, *L; /* GPT-2 and Llama fixtures, dim 32 */
static char TMP[] = "/tmp/test_methods_batched.XXXXXX";
static char STEER[256], PROBE[256];
static const int32_t TGT[2] = {5, 17};

static uint64_t rnd(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}
static float urand(uint64_t *s) { return (float)((double)(rnd(s) >> 11) / 9007199254740992.0 * 2 - 1); }

static int setup(void **st) {
    (void)st;
    iv_err err;
    if (iv_model_load("tests/fixtures/models/gpt2", NULL, &G, &err) ||
        iv_model_load("tests/fixtures/models/llama", NULL, &L, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    if (!mkdtemp(TMP)) return -1;
    int d = G->cfg.dim;
    float v[64];
    uint64_t s = 99;
    for (int i = 0; i < d; i++) v[i] = urand(&s);
    snprintf(STEER, sizeof STEER, "%s/steer.safetensors", TMP);
    snprintf(PROBE, sizeof PROBE, "%s/probe.safetensors", TMP);
    iv_probe p = {.dim = d, .w = v, .b = 0.25f};
    if (iv_steering_save(STEER, v, d, 1, "dog", 0, 4, &err) || iv_probe_save(PROBE, &p, 1, "dog", 0, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    setenv("INTERV_CACHE", TMP, 1); /* the Gram factors of the fixtures */
    return 0;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(G);
    iv_model_free(L);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", TMP);
    return system(cmd) == 0 ? 0 : -1;
}

/* one configuration of a method */
typedef struct cfg {
    const char *name;
    iv_method_kind kind;
    const char *artifact;
    int layer, normed, keep, exact;
    int64_t feature;
} cfg;

static const cfg CFGS[] = {
    {"logit", IV_METHOD_LOGIT, NULL, 1, 0, 0, 0, -1},
    {"logit normed", IV_METHOD_LOGIT, NULL, 1, 1, 0, 0, -1},
    {"tuned", IV_METHOD_TUNED, FIX "tuned-lens", 0, 0, 0, 0, -1},
    {"sae standard", IV_METHOD_SAE, FIX "saelens-standard-old", 0, 0, 0, 0, 3},
    {"sae standard keep", IV_METHOD_SAE, FIX "saelens-standard-old", 0, 0, 1, 0, 3},
    {"sae jumprelu", IV_METHOD_SAE, FIX "saelens-jumprelu", 1, 0, 0, 0, 3},
    {"sae jumprelu keep", IV_METHOD_SAE, FIX "saelens-jumprelu", 1, 0, 1, 0, 3},
    {"sae topk", IV_METHOD_SAE, FIX "saelens-topk", 1, 0, 0, 0, 3},
    {"sae topk keep", IV_METHOD_SAE, FIX "saelens-topk", 1, 0, 1, 0, 3},
    {"steering", IV_METHOD_STEERING, STEER, 1, 0, 0, 1, -1},
    {"probe", IV_METHOD_PROBE, PROBE, 1, 0, 0, 1, -1},
};
#define NCFG (sizeof CFGS / sizeof *CFGS)

static iv_method *make(const iv_model *m, const cfg *c, iv_method_mode mode, iv_hook_at at) {
    iv_method_opts o = iv_method_defaults();
    o.kind = c->kind;
    o.mode = mode;
    o.layer = c->layer;
    o.artifact = c->artifact;
    o.normed = c->normed;
    o.keep_sae_error = c->keep;
    o.sae_feature = c->feature;
    o.alpha = 2.5f;
    o.at = at;
    o.target_ids = TGT;
    o.n_target_ids = 2;
    iv_method *mm = NULL;
    iv_err err;
    if (iv_method_create(m, &o, &mm, &err)) fail_msg("%s: %s", c->name, err.msg);
    return mm;
}

/* residual-like rows: the model's own resid_post at the method's layer */
typedef struct { float *x; int n, d; } grab;
static int grab_hook(void *u, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    (void)layer; (void)rows; (void)pos;
    grab *g = u;
    for (int k = 0; k < n && g->n < NR; k++, g->n++) memcpy(g->x + (size_t)g->n * dim, x + (size_t)k * dim, sizeof(float) * (size_t)dim);
    return 0;
}

static void residuals(const iv_model *m, int layer, float *x /* [NR, d] */) {
    static const int32_t toks[NR] = {12, 59, 16, 25, 24, 55, 93, 47};
    iv_err err;
    grab g = {x, 0, m->cfg.dim};
    iv_hooks hs = {.n = 0};
    assert_int_equal(iv_hooks_add(&hs, layer, IV_AT_ALL, grab_hook, &g, &err), 0);
    iv_state *s = iv_state_new(m, 1, NR, &err);
    float *lg = malloc(sizeof(float) * (size_t)m->cfg.vocab_size);
    const int32_t *tp = toks;
    int n = NR;
    assert_int_equal(iv_forward(m, s, &tp, &n, &hs, lg, NULL, &err), 0);
    assert_int_equal(g.n, NR);
    free(lg);
    iv_state_free(s);
}

/* max |a - b| over a row <= tol * max |b| of that row (0 tol: bit for bit) */
static void assert_rows_close(const char *what, const float *a, const float *b, int n, int d, double tol) {
    for (int k = 0; k < n; k++) {
        double mx = 0, diff = 0;
        for (int i = 0; i < d; i++) {
            mx = fmax(mx, fabs(b[(size_t)k * d + i]));
            diff = fmax(diff, fabs((double)a[(size_t)k * d + i] - b[(size_t)k * d + i]));
        }
        if (tol == 0 ? memcmp(a + (size_t)k * d, b + (size_t)k * d, sizeof(float) * (size_t)d) != 0
                     : diff > tol * mx)
            fail_msg("%s: row %d differs by %g (max |x| %g)", what, k, diff, mx);
    }
}

static void check_apply(const iv_model *m, const cfg *c, iv_method_mode mode) {
    int d = m->cfg.dim;
    char what[128];
    snprintf(what, sizeof what, "%s %s %s", m->cfg.arch_name, c->name, iv_method_mode_name(mode));
    float x[NR * 64], xb[NR * 64], xr[NR * 64];
    residuals(m, c->layer, x);
    iv_method *batched = make(m, c, mode, IV_AT_LAST), *single = make(m, c, mode, IV_AT_LAST);
    iv_err err;
    int rows[NR];
    for (int k = 0; k < NR; k++) rows[k] = k;
    memcpy(xb, x, sizeof(float) * (size_t)NR * d);
    memcpy(xr, x, sizeof(float) * (size_t)NR * d);
    assert_int_equal(iv_method_apply_batch(batched, xb, NR, rows, &err), 0);
    for (int k = 0; k < NR; k++) assert_int_equal(iv_method_apply(single, xr + (size_t)k * d, k, &err), 0);
    assert_rows_close(what, xb, xr, NR, d, c->exact ? 0 : 1e-5);
    /* the edit did something (a bottleneck may give x back: P W_U = I) */
    if (mode == IV_MMODE_EDIT && !memcmp(xb, x, sizeof(float) * (size_t)NR * d)) fail_msg("%s: x unchanged", what);
    double ma, mb;
    int64_t na, nb;
    iv_method_edit_stats(batched, &ma, &na);
    iv_method_edit_stats(single, &mb, &nb);
    assert_int_equal(na, NR);
    assert_int_equal(nb, NR);
    assert_true(fabs(ma - mb) <= 1e-5 * fmax(mb, 1e-12) + (c->exact ? 0 : 1e-7));
    for (int k = 0; k < NR; k++) {
        iv_method_row_stats(batched, k, &ma, &na);
        iv_method_row_stats(single, k, &mb, &nb);
        assert_int_equal(na, 1);
        assert_int_equal(nb, 1);
        if (c->exact) assert_true(ma == mb);
        else assert_true(fabs(ma - mb) <= 1e-5 * fmax(mb, 1e-12) + 1e-7);
    }
    iv_method_free(batched);
    iv_method_free(single);
}

static void test_apply_batch_equals_rows(void **st) {
    (void)st;
    for (size_t i = 0; i < NCFG; i++) {
        check_apply(G, &CFGS[i], IV_MMODE_EDIT);
        check_apply(G, &CFGS[i], IV_MMODE_BOTTLENECK);
    }
    /* RMSNorm: the normed logit lens inverts rms(x) per row */
    check_apply(L, &CFGS[0], IV_MMODE_EDIT);
    check_apply(L, &CFGS[1], IV_MMODE_EDIT);
    check_apply(L, &CFGS[1], IV_MMODE_BOTTLENECK);
}

/* ---- SAE encoder under --compute bf16 ----------------------------------------------- */
/* With the model in bf16 compute, the SAE's encoder is a bf16 product too: the
 * AVX512-BF16 kernels give what the portable path gives (x rounded to bf16,
 * the same bf16 weights, f32 sums in another order) and differ from the f32
 * encoder by bf16 rounding only. */
static void test_sae_bf16_compute(void **st) {
    (void)st;
    if (!iv_kernels_bf16()) { fprintf(stderr, "skipped: this CPU has no AVX512-BF16\n"); skip(); }
    iv_model *GB;
    iv_err err;
    if (iv_model_load("tests/fixtures/models/gpt2", NULL, &GB, &err)) fail_msg("%s", err.msg);
    assert_int_equal(iv_model_set_compute(GB, IV_COMPUTE_BF16, &err), 0);
    int d = G->cfg.dim, rows[NR], moved = 0;
    for (int k = 0; k < NR; k++) rows[k] = k;
    for (size_t c = 0; c < NCFG; c++) {
        if (CFGS[c].kind != IV_METHOD_SAE) continue;
        float x[NR * 64], a32[NR * 64], abf[NR * 64], aref[NR * 64];
        residuals(G, CFGS[c].layer, x);
        iv_method *m32 = make(G, &CFGS[c], IV_MMODE_EDIT, IV_AT_LAST), *mbf = make(GB, &CFGS[c], IV_MMODE_EDIT, IV_AT_LAST);
        memcpy(a32, x, sizeof x);
        memcpy(abf, x, sizeof x);
        memcpy(aref, x, sizeof x);
        assert_int_equal(iv_method_apply_batch(m32, a32, NR, rows, &err), 0);
        assert_int_equal(iv_method_apply_batch(mbf, abf, NR, rows, &err), 0);
        iv_kernels_set_bf16(0);
        int rc = iv_method_apply_batch(mbf, aref, NR, rows, &err);
        iv_kernels_set_bf16(1);
        assert_int_equal(rc, 0);
        char what[96];
        snprintf(what, sizeof what, "%s, bf16 kernels vs portable", CFGS[c].name);
        assert_rows_close(what, abf, aref, NR, d, 1e-5);
        snprintf(what, sizeof what, "%s, bf16 vs f32 encoder", CFGS[c].name);
        assert_rows_close(what, abf, a32, NR, d, 3e-2);
        moved |= memcmp(abf, a32, sizeof(float) * (size_t)NR * d) != 0;
        iv_method_free(m32);
        iv_method_free(mbf);
    }
    if (!moved) fail_msg("bf16 compute left every SAE edit bit for bit as the f32 one: the encoder is not bf16");
    iv_model_free(GB);
}

/* ---- generation: batch 3 vs batch 1 ---------------------------------------------- */
enum { NP = 5 };
static const int32_t P0[] = {12, 59, 16, 25, 24, 55, 93}, P1[] = {47, 84}, P2[] = {5, 84, 67, 2},
                     P3[] = {90}, P4[] = {1, 35, 12, 59, 16};
static const int32_t *const PROMPTS[NP] = {P0, P1, P2, P3, P4};
static const int PLEN[NP] = {7, 2, 4, 1, 5};

static void gen(const iv_model *m, iv_method *mm, int batch, int32_t **out, int *n_out) {
    iv_gen_opts g = iv_gen_defaults();
    g.steps = 14; /* total length: the 7-token prompt gets 8 new tokens, the 1-token one 14 */
    g.batch = batch;
    g.stop_at_eos = 0;
    iv_hooks hs = {.n = 0};
    iv_err err;
    assert_int_equal(iv_method_install(mm, &hs, &err), 0);
    assert_int_equal(hs.n, 1);
    if (iv_generate(m, PROMPTS, PLEN, NP, &g, &hs, out, n_out, &err)) fail_msg("%s", err.msg);
}

static void check_generate(const iv_model *m, const cfg *c, iv_method_mode mode, iv_hook_at at) {
    char what[160];
    snprintf(what, sizeof what, "%s %s %s at %s", m->cfg.arch_name, c->name, iv_method_mode_name(mode),
             at == IV_AT_ALL ? "all" : "last");
    iv_method *a = make(m, c, mode, at), *b = make(m, c, mode, at);
    int32_t *oa[NP], *ob[NP];
    int na[NP], nb[NP];
    gen(m, a, 3, oa, na);
    gen(m, b, 1, ob, nb);
    if (mode == IV_MMODE_EDIT && c->kind != IV_METHOD_PROBE) { /* the edit steers: not the clean text */
        iv_gen_opts g = iv_gen_defaults();
        g.steps = 14;
        g.batch = 3;
        g.stop_at_eos = 0;
        int32_t *oc[NP];
        int nc[NP], same = 1;
        iv_err err;
        assert_int_equal(iv_generate(m, PROMPTS, PLEN, NP, &g, NULL, oc, nc, &err), 0);
        for (int p = 0; p < NP; p++) {
            same &= nc[p] == na[p] && !memcmp(oc[p], oa[p], sizeof(int32_t) * (size_t)nc[p]);
            free(oc[p]);
        }
        if (same) fail_msg("%s: the edit left every continuation as the clean one", what);
    }
    for (int p = 0; p < NP; p++) {
        assert_int_equal(na[p], 14 - PLEN[p] + 1);
        if (na[p] != nb[p] || memcmp(oa[p], ob[p], sizeof(int32_t) * (size_t)na[p]))
            fail_msg("%s: prompt %d generates differently at batch 3 and batch 1", what, p);
        free(oa[p]);
        free(ob[p]);
    }
    double ma, mb;
    int64_t ca, cb, want = 0;
    for (int p = 0; p < NP; p++) want += at == IV_AT_ALL ? PLEN[p] + (14 - PLEN[p]) : 14 - PLEN[p] + 1;
    iv_method_edit_stats(a, &ma, &ca);
    iv_method_edit_stats(b, &mb, &cb);
    if (ca != want || cb != want) fail_msg("%s: %lld / %lld edited positions, want %lld", what, (long long)ca, (long long)cb, (long long)want);
    if (!(fabs(ma - mb) <= 1e-5 * fmax(mb, 1e-12) + 1e-7)) fail_msg("%s: mean edit %g vs %g", what, ma, mb);
    /* batch 3: the rows used are 0..2; batch 1: only row 0 */
    int64_t rc = 0, r;
    for (int k = 0; k < 3; k++) { iv_method_row_stats(a, k, NULL, &r); rc += r; }
    assert_int_equal(rc, want);
    iv_method_row_stats(b, 0, NULL, &r);
    assert_int_equal(r, want);
    iv_method_free(a);
    iv_method_free(b);
}

static void test_generate_batched_equals_batch1(void **st) {
    (void)st;
    for (size_t i = 0; i < NCFG; i++) {
        check_generate(G, &CFGS[i], IV_MMODE_EDIT, IV_AT_LAST);
        if (CFGS[i].kind != IV_METHOD_STEERING && CFGS[i].kind != IV_METHOD_PROBE)
            check_generate(G, &CFGS[i], IV_MMODE_BOTTLENECK, IV_AT_LAST);
    }
    check_generate(G, &CFGS[0], IV_MMODE_EDIT, IV_AT_ALL);
    check_generate(G, &CFGS[2], IV_MMODE_EDIT, IV_AT_ALL);
    check_generate(G, &CFGS[5], IV_MMODE_EDIT, IV_AT_ALL);
    check_generate(G, &CFGS[9], IV_MMODE_EDIT, IV_AT_ALL);
    check_generate(L, &CFGS[1], IV_MMODE_EDIT, IV_AT_LAST);
    check_generate(L, &CFGS[0], IV_MMODE_BOTTLENECK, IV_AT_ALL);
}

/* ---- iv_generate's per-step distributions (rows' softmaxes run in parallel) ------ */
enum { NSTEP = 14 };
typedef struct { double p[NP][NSTEP]; int calls[NP]; int bad; } step_log;
static void log_step(void *u, int prompt, int step, const float *probs, int vocab) {
    step_log *l = u;
    if (prompt < 0 || prompt >= NP || step < 0 || step >= NSTEP || step != l->calls[prompt]) { l->bad++; return; }
    double sum = 0;
    for (int i = 0; i < vocab; i++) sum += probs[i];
    if (fabs(sum - 1) > 1e-4) l->bad++;
    l->p[prompt][step] = probs[TGT[0]] + 2.0 * probs[TGT[1]];
    l->calls[prompt]++;
}

/* Batch 3 with 2 threads (the rows' softmaxes in parallel, the callbacks in
 * row order) reports, for every prompt and step, the distribution batch 1
 * reports; greedy and sampled (temperature 0.8, top-p 0.9) continuations match. */
static void test_generate_step_probs(void **st) {
    (void)st;
    iv_kernels_set_threads(2);
    for (int sampled = 0; sampled < 2; sampled++) {
        step_log la, lb;
        int32_t *oa[NP], *ob[NP];
        int na[NP], nb[NP];
        for (int k = 0; k < 2; k++) {
            step_log *l = k ? &lb : &la;
            memset(l, 0, sizeof *l);
            iv_gen_opts g = iv_gen_defaults();
            g.steps = NSTEP;
            g.batch = k ? 1 : 3;
            g.stop_at_eos = 0;
            g.temperature = sampled ? 0.8f : 0;
            g.top_p = sampled ? 0.9f : 1;
            g.seed = 7;
            g.on_step = log_step;
            g.user = l;
            iv_err err;
            if (iv_generate(G, PROMPTS, PLEN, NP, &g, NULL, k ? ob : oa, k ? nb : na, &err)) fail_msg("%s", err.msg);
        }
        assert_int_equal(la.bad, 0);
        assert_int_equal(lb.bad, 0);
        for (int p = 0; p < NP; p++) {
            assert_int_equal(la.calls[p], NSTEP - PLEN[p] + 1);
            assert_int_equal(lb.calls[p], la.calls[p]);
            for (int k = 0; k < la.calls[p]; k++)
                if (!(fabs(la.p[p][k] - lb.p[p][k]) <= 1e-5 * lb.p[p][k] + 1e-9))
                    fail_msg("%s: prompt %d step %d: %.9g at batch 3, %.9g at batch 1", sampled ? "sampled" : "greedy", p,
                             k, la.p[p][k], lb.p[p][k]);
            if (na[p] != nb[p] || memcmp(oa[p], ob[p], sizeof(int32_t) * (size_t)na[p]))
                fail_msg("%s: prompt %d continues differently at batch 3", sampled ? "sampled" : "greedy", p);
            free(oa[p]);
            free(ob[p]);
        }
    }
}

/* ---- the hook interface itself ---------------------------------------------------- */
typedef struct { int calls, n_total, bad; } seen;
static int count_hook(void *u, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    (void)layer; (void)x; (void)dim;
    seen *s = u;
    s->calls++;
    s->n_total += n;
    for (int k = 1; k < n; k++) /* token order: by row, then by position */
        if (rows[k] < rows[k - 1] || (rows[k] == rows[k - 1] && pos[k] != pos[k - 1] + 1)) s->bad++;
    return 0;
}

/* One call per forward for each hook, with all its positions: at the last
 * position of each row n = rows fed; at all positions n = every token. */
static void test_one_call_per_forward(void **st) {
    (void)st;
    iv_err err;
    seen last = {0}, all = {0};
    iv_hooks hs = {.n = 0};
    assert_int_equal(iv_hooks_add(&hs, 1, IV_AT_LAST, count_hook, &last, &err), 0);
    assert_int_equal(iv_hooks_add(&hs, 0, IV_AT_ALL, count_hook, &all, &err), 0);
    iv_state *s = iv_state_new(G, 3, 16, &err);
    float *lg = malloc(sizeof(float) * 3 * (size_t)G->cfg.vocab_size);
    const int32_t *rows[3] = {P0, P1, P4};
    int n[3] = {7, 0, 5};
    assert_int_equal(iv_forward(G, s, rows, n, &hs, lg, NULL, &err), 0);
    assert_int_equal(last.calls, 1);
    assert_int_equal(last.n_total, 2);
    assert_int_equal(all.calls, 1);
    assert_int_equal(all.n_total, 12);
    assert_int_equal(last.bad + all.bad, 0);
    free(lg);
    iv_state_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_call_per_forward),
        cmocka_unit_test(test_apply_batch_equals_rows),
        cmocka_unit_test(test_generate_batched_equals_batch1),
        cmocka_unit_test(test_generate_step_probs),
        cmocka_unit_test(test_sae_bf16_compute),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
