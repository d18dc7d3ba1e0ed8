/* SAE encode/decode on the pyref fixtures (sae-lens nested and flat cfgs, TopK,
 * Gemma Scope params.npz) against numpy's expected features and reconstructions,
 * the edit formulas, and the automatic feature choice by decoder alignment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/method.h"
#include "interv/model.h"

#define FIX "tests/fixtures/methods/"
enum { N = 8, DI = 32, DS = 64 };

static iv_model *G; /* the GPT-2 fixture, dim 32 */
static float X[N * DI];

static void read_f32(const char *path, float *dst, size_t n) {
    iv_mapped mp;
    iv_err err;
    assert_int_equal(iv_map_file(path, &mp, &err), 0);
    assert_int_equal(mp.size, n * sizeof(float));
    memcpy(dst, mp.data, n * sizeof(float));
    iv_unmap(&mp);
}

static int setup(void **st) {
    (void)st;
    iv_err err;
    if (iv_model_load("tests/fixtures/models/gpt2", NULL, &G, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    if (G->cfg.dim != DI) return -1;
    iv_mapped mp;
    if (iv_map_file(FIX "inputs.bin", &mp, &err) || mp.size != sizeof X) return -1;
    memcpy(X, mp.data, sizeof X);
    iv_unmap(&mp);
    return 0;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(G);
    return 0;
}

static iv_method *make_sae(const char *art, int layer, iv_method_mode mode, int64_t feat, int keep,
                           float alpha) {
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_SAE;
    o.mode = mode;
    o.layer = layer;
    o.artifact = art;
    o.sae_feature = feat;
    o.keep_sae_error = keep;
    o.alpha = alpha;
    iv_method *mm = NULL;
    iv_err err;
    int rc = iv_method_create(G, &o, &mm, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    return mm;
}

static void check_fixture(const char *name, const char *art, int layer_opt, int layer_want) {
    char p[512];
    float ef[N * DS], ex[N * DI], f[DS], xh[DI];
    snprintf(p, sizeof p, FIX "%s/expected_f.bin", name);
    read_f32(p, ef, N * DS);
    snprintf(p, sizeof p, FIX "%s/expected_xhat.bin", name);
    read_f32(p, ex, N * DI);
    iv_method *mm = make_sae(art, layer_opt, IV_MMODE_BOTTLENECK, -1, 0, 1);
    assert_int_equal(iv_method_layer(mm), layer_want);
    assert_int_equal(iv_method_n_features(mm), DS);
    iv_err err;
    int active = 0;
    for (int r = 0; r < N; r++) {
        assert_int_equal(iv_method_encode(mm, X + r * DI, f, &err), 0);
        for (int j = 0; j < DS; j++) {
            assert_float_equal(f[j], ef[r * DS + j], 1e-4);
            assert_int_equal(f[j] > 0, ef[r * DS + j] > 0); /* the same active set */
            active += f[j] > 0;
        }
        assert_int_equal(iv_method_decode(mm, f, xh, &err), 0);
        for (int i = 0; i < DI; i++) assert_float_equal(xh[i], ex[r * DI + i], 1e-4);
        /* the bottleneck hook replaces x by the reconstruction */
        memcpy(xh, X + r * DI, sizeof xh);
        assert_int_equal(iv_method_apply(mm, xh, 0, &err), 0);
        for (int i = 0; i < DI; i++) assert_float_equal(xh[i], ex[r * DI + i], 1e-4);
    }
    assert_true(active > 0 && active < N * DS);
    double mean;
    int64_t cnt;
    iv_method_row_stats(mm, 0, &mean, &cnt);
    assert_int_equal(cnt, N);
    assert_true(mean > 0);
    iv_method_free(mm);
}

static void test_saelens_jumprelu_nested(void **st) { (void)st; check_fixture("saelens-jumprelu", FIX "saelens-jumprelu", -1, 1); }
static void test_saelens_standard_old(void **st) { (void)st; check_fixture("saelens-standard-old", FIX "saelens-standard-old", -1, 0); }
static void test_saelens_topk_nested(void **st) { (void)st; check_fixture("saelens-topk", FIX "saelens-topk", -1, 1); }
static void test_saelens_topk_old(void **st) { (void)st; check_fixture("saelens-topk-old", FIX "saelens-topk-old/sae_weights.safetensors", 1, 1); }
static void test_gemmascope_npz(void **st) { (void)st; check_fixture("gemmascope", FIX "gemmascope/params.npz", 1, 1); }

static void test_edit_formulas(void **st) {
    (void)st;
    const int k = 5;
    const float alpha = 2.5f;
    iv_method *bn = make_sae(FIX "saelens-jumprelu", -1, IV_MMODE_BOTTLENECK, -1, 0, 1);
    iv_method *ed = make_sae(FIX "saelens-jumprelu", -1, IV_MMODE_EDIT, k, 0, alpha);
    iv_method *ke = make_sae(FIX "saelens-jumprelu", -1, IV_MMODE_EDIT, k, 1, alpha);
    assert_int_equal(iv_method_sae_feature(ed), k);
    iv_err err;
    float f[DS], xr[DI], x1[DI], x2[DI], zero[DS] = {0}, e[DS] = {0}, d0[DI], dk[DI];
    e[k] = 1;
    assert_int_equal(iv_method_decode(bn, zero, d0, &err), 0);
    assert_int_equal(iv_method_decode(bn, e, dk, &err), 0); /* W_dec[k] + b_dec */
    for (int r = 0; r < N; r++) {
        const float *x = X + r * DI;
        assert_int_equal(iv_method_encode(bn, x, f, &err), 0);
        float mx = 0, fk = f[k];
        for (int j = 0; j < DS; j++) if (f[j] > mx) mx = f[j];
        f[k] = alpha * mx;
        assert_int_equal(iv_method_decode(bn, f, xr, &err), 0);
        memcpy(x1, x, sizeof x1);
        memcpy(x2, x, sizeof x2);
        assert_int_equal(iv_method_apply(ed, x1, -1, &err), 0);
        assert_int_equal(iv_method_apply(ke, x2, -1, &err), 0);
        for (int i = 0; i < DI; i++) {
            assert_float_equal(x1[i], xr[i], 1e-5);                                 /* D(f') */
            assert_float_equal(x2[i], x[i] + (alpha * mx - fk) * (dk[i] - d0[i]), 1e-5); /* x + D(f') - D(f) */
        }
    }
    iv_method_free(bn);
    iv_method_free(ed);
    iv_method_free(ke);
}

static void test_auto_feature_by_alignment(void **st) {
    (void)st;
    /* target token 7: the chosen feature is the one whose decoder row has the
     * largest cosine with W_U[7] */
    const int32_t tid = 7;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_SAE;
    o.mode = IV_MMODE_EDIT;
    o.artifact = FIX "saelens-topk";
    o.target_ids = &tid;
    o.n_target_ids = 1;
    iv_method *mm = NULL;
    iv_err err;
    assert_int_equal(iv_method_create(G, &o, &mm, &err), 0);
    iv_method *bn = make_sae(FIX "saelens-topk", -1, IV_MMODE_BOTTLENECK, -1, 0, 1);
    float e[DS] = {0}, zero[DS] = {0}, row[DI], d0[DI], u[DI];
    iv_to_f32(u, (const char *)G->w.lm_head.data + (size_t)tid * G->w.lm_head.stride * iv_dtype_size(G->w.lm_head.dtype),
              G->w.lm_head.dtype, DI);
    assert_int_equal(iv_method_decode(bn, zero, d0, &err), 0);
    int best = -1;
    double bc = -2;
    for (int k = 0; k < DS; k++) {
        memset(e, 0, sizeof e);
        e[k] = 1;
        assert_int_equal(iv_method_decode(bn, e, row, &err), 0);
        double dot = 0, a = 0, b = 0;
        for (int i = 0; i < DI; i++) {
            double w = row[i] - d0[i];
            dot += w * u[i]; a += w * w; b += (double)u[i] * u[i];
        }
        double c = dot / sqrt(a * b);
        if (c > bc) { bc = c; best = k; }
    }
    assert_int_equal(iv_method_sae_feature(mm), best);
    iv_feature_score *sc;
    int64_t n;
    assert_int_equal(iv_sae_rank_features(G, mm, NULL, &sc, &n, &err), 0);
    assert_int_equal(n, DS);
    assert_int_equal(sc[0].index, best);
    assert_float_equal(sc[0].alignment, bc, 1e-5);
    for (int64_t i = 1; i < n; i++) assert_true(sc[i - 1].score >= sc[i].score);
    free(sc);
    iv_method_free(mm);
    iv_method_free(bn);
}

static void test_layer_mismatch(void **st) {
    (void)st;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_SAE;
    o.mode = IV_MMODE_BOTTLENECK;
    o.layer = 0;
    o.artifact = FIX "saelens-jumprelu";
    iv_method *mm = NULL;
    iv_err err;
    assert_int_equal(iv_method_create(G, &o, &mm, &err), -1);
    assert_null(mm);
    assert_non_null(strstr(err.msg, "resid_post.1"));
    assert_non_null(strstr(err.msg, "saelens-jumprelu"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_saelens_jumprelu_nested),
        cmocka_unit_test(test_saelens_standard_old),
        cmocka_unit_test(test_saelens_topk_nested),
        cmocka_unit_test(test_saelens_topk_old),
        cmocka_unit_test(test_gemmascope_npz),
        cmocka_unit_test(test_edit_formulas),
        cmocka_unit_test(test_auto_feature_by_alignment),
        cmocka_unit_test(test_layer_mismatch),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
