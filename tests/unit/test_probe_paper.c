/* The reference study's probe recipe (--protocol paper) against PyTorch: the same
 * data, split, initial weights and batch order as scripts/make_probe_paper_fixture.py
 * (nn.Linear + Sigmoid, BCELoss + 0.3 L1, Adam with weight_decay 0.1, betas 0.9/0.95,
 * ReduceLROnPlateau(factor 0.75, patience 0) on the test loss, 50 epochs) must give
 * the same learning-rate schedule, test losses and final w, b.  Then the stratified
 * split and the recipe without a plan. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/io.h"
#include "interv/train.h"

#define FIX "tests/fixtures/probe_paper/"

/* tensor `name` of the fixture as malloc'd floats; *n its element count */
static float *load(const iv_safetensors *st, const char *name, int64_t *n) {
    const iv_st_tensor *t = iv_st_find(st, name);
    assert_non_null(t);
    assert_int_equal(t->dtype, IV_F32);
    float *v = malloc(t->nbytes);
    assert_non_null(v);
    memcpy(v, t->data, t->nbytes);
    *n = (int64_t)(t->nbytes / sizeof(float));
    return v;
}

static void check_case(const char *file) {
    iv_safetensors st;
    iv_err err = {{0}};
    assert_int_equal(iv_st_open(file, &st, &err), 0);
    int64_t nx, n, d, nord, nlr, ntl, nw, nb, ntr_;
    float *x = load(&st, "x", &nx), *yf = load(&st, "y", &n), *trf = load(&st, "is_train", &ntr_);
    float *w0 = load(&st, "w0", &d), *ordf = load(&st, "order", &nord);
    float *lr_ref = load(&st, "lr", &nlr), *tl_ref = load(&st, "test_loss", &ntl);
    float *w_ref = load(&st, "w", &nw), *b_ref = load(&st, "b", &nb);
    assert_int_equal(nx, n * d);
    assert_int_equal(nw, d);
    assert_int_equal(nlr, IV_PROBE_PAPER_EPOCHS);
    int *y = malloc(n * sizeof(int)), *tr = malloc(n * sizeof(int)), ntr = 0;
    for (int i = 0; i < n; i++) { y[i] = yf[i] > 0.5f; tr[i] = trf[i] > 0.5f; ntr += tr[i]; }
    assert_int_equal(nord, (int64_t)IV_PROBE_PAPER_EPOCHS * ntr);
    int32_t *order = malloc(nord * sizeof(int32_t));
    for (int64_t i = 0; i < nord; i++) order[i] = (int32_t)ordf[i];
    double lr[IV_PROBE_PAPER_EPOCHS], tl[IV_PROBE_PAPER_EPOCHS];
    iv_probe_paper_plan plan = {.w0 = w0, .order = order, .lr_used = lr, .test_loss = tl};
    iv_probe p;
    assert_int_equal(iv_probe_paper_fit(x, y, tr, (int)n, (int)d, 1, &plan, &p, &err), 0);
    double wmax = 0, dw = 0, dtl = 0;
    for (int e = 0; e < IV_PROBE_PAPER_EPOCHS; e++) {
        assert_true(fabs(lr[e] - lr_ref[e]) <= 1e-6 * lr_ref[e]);  /* same schedule */
        double r = fabs(tl[e] - tl_ref[e]) / tl_ref[e];
        if (r > dtl) dtl = r;
    }
    for (int j = 0; j < d; j++) {
        if (fabs(w_ref[j]) > wmax) wmax = fabs(w_ref[j]);
        if (fabs(p.w[j] - w_ref[j]) > dw) dw = fabs(p.w[j] - w_ref[j]);
    }
    double db = fabs(p.b - b_ref[0]);
    printf("  %s: max|w| %.5f  max|dw| %.3g  |db| %.3g  max rel d(test loss) %.3g  final lr %.4g\n",
           file, wmax, dw, db, dtl, lr[IV_PROBE_PAPER_EPOCHS - 1]);
    assert_true(wmax > 0.01);
    assert_true(dw <= 1e-4 * wmax);
    assert_true(db <= 1e-4 * wmax);
    assert_true(dtl <= 1e-5);
    assert_int_equal(p.n_train, ntr);
    assert_int_equal(p.n_test, n - ntr);
    iv_probe_free(&p);
    free(x); free(yf); free(trf); free(w0); free(ordf); free(lr_ref); free(tl_ref); free(w_ref);
    free(b_ref); free(y); free(tr); free(order);
    iv_st_close(&st);
}

static void matches_pytorch_separable(void **s) { (void)s; check_case(FIX "separable.safetensors"); }
static void matches_pytorch_plateau(void **s) { (void)s; check_case(FIX "plateau.safetensors"); }
static void matches_pytorch_lr_floor(void **s) { (void)s; check_case(FIX "floor.safetensors"); }

/* 0.2 of the rows to test, each label in proportion, seeded and reproducible */
static void split_is_stratified(void **s) {
    (void)s;
    enum { N = 50 };
    int y[N], a[N], b[N], c[N];
    for (int i = 0; i < N; i++) y[i] = i < 25;
    assert_int_equal(iv_probe_paper_split(y, N, IV_PROBE_PAPER_SEED, a, NULL), 0);
    assert_int_equal(iv_probe_paper_split(y, N, IV_PROBE_PAPER_SEED, b, NULL), 0);
    assert_int_equal(iv_probe_paper_split(y, N, 1, c, NULL), 0);
    int tr[2] = {0, 0}, same = 1, diff = 0;
    for (int i = 0; i < N; i++) { tr[y[i]] += a[i]; same &= a[i] == b[i]; diff += a[i] != c[i]; }
    assert_int_equal(tr[0], 20);  /* n_test = 10: 5 of each label */
    assert_int_equal(tr[1], 20);
    assert_true(same);
    assert_true(diff > 0);
    /* odd sizes: 7 test of 33 (ceil 6.6); 26 train split 13.4/12.6 -> 13 + 13 */
    int y2[33], t2[33], n1 = 0, n0 = 0;
    for (int i = 0; i < 33; i++) y2[i] = i % 2;
    assert_int_equal(iv_probe_paper_split(y2, 33, 5, t2, NULL), 0);
    for (int i = 0; i < 33; i++) { n1 += t2[i] && y2[i]; n0 += t2[i] && !y2[i]; }
    assert_int_equal(n0 + n1, 26);
    assert_true(abs(n0 - 13) <= 1 && abs(n1 - 13) <= 1);
    iv_err err = {{0}};
    int y3[4] = {1, 1, 1, 0}, t3[4];
    assert_int_not_equal(iv_probe_paper_split(y3, 4, 5, t3, &err), 0);
    assert_non_null(strstr(err.msg, "each label"));
}

/* The protocol switch in iv_probe_fit runs the recipe (raw weights, drawn init) */
static void fit_dispatches_on_protocol(void **s) {
    (void)s;
    enum { N = 60, D = 6 };
    float x[N * D];
    int y[N], tr[N];
    iv_rng r = {3};
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        for (int j = 0; j < D; j++) x[i * D + j] = iv_rng_normal(&r) + (j == 0 ? (y[i] ? 3.0f : -3.0f) : 0.0f);
    }
    assert_int_equal(iv_probe_paper_split(y, N, IV_PROBE_PAPER_SEED, tr, NULL), 0);
    iv_probe_opts o = iv_probe_defaults();
    o.protocol = IV_PROTOCOL_PAPER;
    iv_probe p, q;
    assert_int_equal(iv_probe_fit(x, y, tr, N, D, &o, &p, NULL), 0);
    assert_int_equal(iv_probe_paper_fit(x, y, tr, N, D, o.seed, NULL, &q, NULL), 0);
    for (int j = 0; j < D; j++) assert_float_equal(p.w[j], q.w[j], 0);
    assert_true(p.w[0] > 0.05f);           /* the informative feature wins */
    for (int j = 1; j < D; j++) assert_true(fabsf(p.w[j]) < p.w[0]);
    assert_true(p.test_acc >= 0.9f);
    iv_probe_free(&p);
    iv_probe_free(&q);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matches_pytorch_separable),
        cmocka_unit_test(matches_pytorch_plateau),
        cmocka_unit_test(matches_pytorch_lr_floor),
        cmocka_unit_test(split_is_stratified),
        cmocka_unit_test(fit_dispatches_on_protocol),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
