/* The reference study's tuned lens (--protocol paper) against PyTorch: translator
 * L on resid_post.L, no final norm, decoder = torch.linalg.pinv of the augmented
 * (d+1) x V map with the constant column dropped (scripts/make_tuned_paper_fixture.py
 * on the GPT-2 test model).  Encode, bottleneck, edit at two strengths and decode
 * must agree; the affine factorisation is also checked against its closed form. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/io.h"
#include "interv/method.h"
#include "interv/train.h"
#include "methods/tuned_paper.h"

#define FIX "tests/fixtures/tuned_paper/"

static iv_model *G;
static iv_safetensors ST;

static int setup(void **s) {
    (void)s;
    iv_err err;
    if (iv_model_load("tests/fixtures/models/gpt2", NULL, &G, &err)) { fprintf(stderr, "%s\n", err.msg); return -1; }
    if (iv_st_open(FIX "cases.safetensors", &ST, &err)) { fprintf(stderr, "%s\n", err.msg); return -1; }
    setenv("INTERV_CACHE", "/tmp/interv-test-cache", 0);
    return 0;
}

static int teardown(void **s) {
    (void)s;
    iv_st_close(&ST);
    iv_model_free(G);
    return 0;
}

static const float *tensor(const char *name, int64_t rows, int64_t cols) {
    const iv_st_tensor *t = iv_st_find(&ST, name);
    assert_non_null(t);
    assert_int_equal(t->dtype, IV_F32);
    assert_int_equal(t->nbytes, sizeof(float) * (size_t)(rows * cols));
    return t->data;
}

static iv_method *make(int layer, iv_method_mode mode, float alpha, iv_protocol proto) {
    static const int32_t tgt[2] = {17, 42};
    static const float w[2] = {2.0f, 1.0f};
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_TUNED;
    o.mode = mode;
    o.alpha = alpha;
    o.layer = layer;
    o.artifact = FIX "lens";
    o.target_ids = tgt;
    o.target_weights = w;
    o.n_target_ids = 2;
    o.protocol = proto;
    iv_method *mm = NULL;
    iv_err err;
    int rc = iv_method_create(G, &o, &mm, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    return mm;
}

/* max |a - b| over n, relative to max |b| */
static double rel_diff(const float *a, const float *b, int n) {
    double dm = 0, bm = 0;
    for (int i = 0; i < n; i++) {
        if (fabs(a[i] - b[i]) > dm) dm = fabs(a[i] - b[i]);
        if (fabs(b[i]) > bm) bm = fabs(b[i]);
    }
    return bm > 0 ? dm / bm : dm;
}

static void matches_pytorch(void **s) {
    (void)s;
    int d = G->cfg.dim, V = G->cfg.vocab_size, N = 6;
    assert_true(d <= 64 && V <= 128);
    const float *x = tensor("x", N, d);
    float xe[64], z[128];
    iv_err err;
    for (int L = 0; L < 2; L++) {
        char name[64];
        double worst[4] = {0, 0, 0, 0}; /* encode, bottleneck, edit, decode */
        iv_method *bn = make(L, IV_MMODE_BOTTLENECK, 1.0f, IV_PROTOCOL_PAPER);
        snprintf(name, sizeof name, "z.%d", L);
        const float *zr = tensor(name, N, V);
        snprintf(name, sizeof name, "bottleneck.%d", L);
        const float *br = tensor(name, N, d);
        for (int r = 0; r < N; r++) {
            assert_int_equal(iv_method_encode(bn, x + (size_t)r * d, z, &err), 0);
            double e = rel_diff(z, zr + (size_t)r * V, V);
            if (e > worst[0]) worst[0] = e;
            memcpy(xe, x + (size_t)r * d, sizeof(float) * (size_t)d);
            assert_int_equal(iv_method_apply(bn, xe, -1, &err), 0);
            e = rel_diff(xe, br + (size_t)r * d, d);
            if (e > worst[1]) worst[1] = e;
        }
        float xb[6 * 64];
        memcpy(xb, x, sizeof(float) * (size_t)N * d);
        assert_int_equal(iv_method_apply_batch(bn, xb, N, NULL, &err), 0);
        double eb = rel_diff(xb, br, N * d);
        if (eb > worst[1]) worst[1] = eb;
        iv_method_free(bn);
        for (int a = 2; a <= 6; a += 4) {
            iv_method *ed = make(L, IV_MMODE_EDIT, (float)a, IV_PROTOCOL_PAPER);
            snprintf(name, sizeof name, "edit.%d.a%d", L, a);
            const float *er = tensor(name, N, d);
            for (int r = 0; r < N; r++) {
                memcpy(xe, x + (size_t)r * d, sizeof(float) * (size_t)d);
                assert_int_equal(iv_method_apply(ed, xe, -1, &err), 0);
                double e = rel_diff(xe, er + (size_t)r * d, d);
                if (e > worst[2]) worst[2] = e;
            }
            /* all rows in one batched call (what the hook does) */
            float xb[6 * 64];
            memcpy(xb, x, sizeof(float) * (size_t)N * d);
            assert_int_equal(iv_method_apply_batch(ed, xb, N, NULL, &err), 0);
            double e = rel_diff(xb, er, N * d);
            if (e > worst[2]) worst[2] = e;
            if (a == 2) { /* decode of the edited logits */
                snprintf(name, sizeof name, "zedit.%d.a2", L);
                const float *zp = tensor(name, N, V);
                for (int r = 0; r < N; r++) {
                    assert_int_equal(iv_method_decode(ed, zp + (size_t)r * V, xe, &err), 0);
                    double e = rel_diff(xe, er + (size_t)r * d, d);
                    if (e > worst[3]) worst[3] = e;
                }
            }
            iv_method_free(ed);
        }
        printf("  L=%d max rel diff: encode %.2g  bottleneck %.2g  edit %.2g  decode %.2g\n", L, worst[0],
               worst[1], worst[2], worst[3]);
        for (int k = 0; k < 4; k++) assert_true(worst[k] <= 1e-4);
    }
    /* the reference's bottleneck is not the identity (b != 0): it moves x */
    const float *br = tensor("bottleneck.1", N, d);
    assert_true(rel_diff(x, br, d) > 0.05);
}

/* The default protocol reads translator L+1 with the final norm: other logits */
static void protocol_changes_the_lens(void **s) {
    (void)s;
    int d = G->cfg.dim, V = G->cfg.vocab_size;
    const float *x = tensor("x", 6, d);
    const float *zr = tensor("z.0", 6, V);
    float z[128];
    iv_err err;
    iv_method *mm = make(0, IV_MMODE_BOTTLENECK, 1.0f, IV_PROTOCOL_INTERV);
    assert_int_equal(iv_method_encode(mm, x, z, &err), 0);
    assert_true(rel_diff(z, zr, V) > 0.05);
    iv_method_free(mm);
}

static void normed_refused(void **s) {
    (void)s;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_TUNED;
    o.layer = 0;
    o.alpha = 2.0f;
    o.artifact = FIX "lens";
    static const int32_t tgt[1] = {17};
    o.target_ids = tgt;
    o.n_target_ids = 1;
    o.normed = 1;
    o.protocol = IV_PROTOCOL_PAPER;
    iv_method *mm = NULL;
    iv_err err = {{0}};
    assert_int_not_equal(iv_method_create(G, &o, &mm, &err), 0);
    assert_null(mm);
    assert_non_null(strstr(err.msg, "--normed does not apply under --protocol paper"));
    o.kind = IV_METHOD_LOGIT;
    o.artifact = NULL;
    memset(&err, 0, sizeof err);
    assert_int_not_equal(iv_method_create(G, &o, &mm, &err), 0);
    assert_null(mm);
    assert_non_null(strstr(err.msg, "--normed does not apply under --protocol paper"));
}

/* C, c, K against the closed form K = (I+A)^T S^{-1}, S = (I+A)(I+A)^T + b b^T
 * (S^{-1} by Gauss-Jordan here), and C = I when b = 0 */
static void affine_closed_form(void **s) {
    (void)s;
    enum { D = 7 };
    double A[D * D], b[D], K[D * D], C[D * D], c[D], M[D * D], S[D * 2 * D];
    iv_rng r = {9};
    for (int i = 0; i < D * D; i++) A[i] = 0.3 * iv_rng_normal(&r);
    for (int i = 0; i < D; i++) b[i] = iv_rng_normal(&r);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) M[i * D + j] = A[i * D + j] + (i == j);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double v = b[i] * b[j];
            for (int k = 0; k < D; k++) v += M[i * D + k] * M[j * D + k];
            S[i * 2 * D + j] = v;
            S[i * 2 * D + D + j] = i == j;
        }
    for (int p = 0; p < D; p++) { /* Gauss-Jordan (S is SPD: no pivoting needed) */
        double piv = S[p * 2 * D + p];
        for (int j = 0; j < 2 * D; j++) S[p * 2 * D + j] /= piv;
        for (int i = 0; i < D; i++) {
            if (i == p) continue;
            double f = S[i * 2 * D + p];
            for (int j = 0; j < 2 * D; j++) S[i * 2 * D + j] -= f * S[p * 2 * D + j];
        }
    }
    assert_int_equal(ivm_tuned_paper_affine(D, A, b, K, C, c, NULL), 0);
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++) {
            double k = 0;
            for (int m = 0; m < D; m++) k += M[m * D + i] * S[m * 2 * D + D + j];
            assert_float_equal(K[i * D + j], k, 1e-10);
        }
    for (int i = 0; i < D; i++) {
        double ci = 0;
        for (int m = 0; m < D; m++) ci += K[i * D + m] * b[m];
        assert_float_equal(c[i], ci, 1e-10);
    }
    double off = 0;
    for (int i = 0; i < D * D; i++) off = fmax(off, fabs(C[i] - (i % (D + 1) == 0)));
    assert_true(off > 1e-3);  /* not the identity with b != 0 */
    assert_int_equal(ivm_tuned_paper_affine(D, A, NULL, K, C, c, NULL), 0);
    for (int i = 0; i < D * D; i++) assert_float_equal(C[i], (i % (D + 1) == 0), 1e-10);
    for (int i = 0; i < D; i++) assert_float_equal(c[i], 0, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(affine_closed_form),
        cmocka_unit_test(matches_pytorch),
        cmocka_unit_test(protocol_changes_the_lens),
        cmocka_unit_test(normed_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
