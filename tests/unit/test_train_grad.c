/* Training maths without a model: Adam against its formula and on a quadratic,
 * the tuned-lens KL gradient against finite differences (RMSNorm, LayerNorm,
 * soft-capping), the probe's standardisation folding, the paragraph reader. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>
#include "interv/train.h"

static void adam_first_steps(void **st) {
    (void)st;
    iv_adam a;
    assert_int_equal(iv_adam_init(&a, 3, 0.1f, NULL), 0);
    float p[3] = {1, 2, 3}, g[3] = {0.5f, -2.0f, 0.0f};
    iv_adam_step(&a, p, g);
    /* step 1: m̂ = g, v̂ = g², so the move is lr·g/(|g|+ε) */
    assert_float_equal(p[0], 1 - 0.1f * 0.5f / (0.5f + 1e-8f), 1e-6);
    assert_float_equal(p[1], 2 + 0.1f, 1e-6);
    assert_float_equal(p[2], 3, 0);
    /* step 2 by the textbook formula in double */
    float g2[3] = {1.0f, 1.0f, 4.0f};
    double m[3], v[3], q[3] = {p[0], p[1], p[2]};
    for (int i = 0; i < 3; i++) {
        m[i] = 0.9 * (0.1 * g[i]) + 0.1 * g2[i];
        v[i] = 0.999 * (0.001 * g[i] * g[i]) + 0.001 * g2[i] * g2[i];
        q[i] -= 0.1 * (m[i] / (1 - 0.81)) / (sqrt(v[i] / (1 - 0.999 * 0.999)) + 1e-8);
    }
    iv_adam_step(&a, p, g2);
    for (int i = 0; i < 3; i++) assert_float_equal(p[i], q[i], 1e-5);
    iv_adam_free(&a);
}

static void adam_minimises_quadratic(void **st) {
    (void)st;
    enum { N = 5 };
    float c[N] = {1, -2, 3, 0.5f, -0.25f}, p[N] = {0}, g[N];
    iv_adam a;
    assert_int_equal(iv_adam_init(&a, N, 0.05f, NULL), 0);
    for (int s = 0; s < 2000; s++) {
        for (int i = 0; i < N; i++) g[i] = 2 * (i + 1) * (p[i] - c[i]);
        iv_adam_step(&a, p, g);
    }
    for (int i = 0; i < N; i++) assert_float_equal(p[i], c[i], 1e-3);
    iv_adam_free(&a);
}

/* Random small unembedding; p a random distribution per row. */
static void make_problem(iv_rng *r, iv_unembed *u, int d, int V, int ln, float cap, float **h, float **p,
                         int B, float **A, float **b) {
    memset(u, 0, sizeof *u);
    u->d = d; u->V = V; u->layernorm = ln; u->eps = 1e-5f; u->softcap = cap;
    u->g = malloc(d * sizeof(float));
    u->W = malloc((size_t)V * d * sizeof(float));
    if (ln) u->beta = malloc(d * sizeof(float));
    for (int i = 0; i < d; i++) { u->g[i] = 0.5f + (float)iv_rng_uniform(r); if (ln) u->beta[i] = 0.3f * iv_rng_normal(r); }
    for (int i = 0; i < V * d; i++) u->W[i] = iv_rng_normal(r);
    *h = malloc((size_t)B * d * sizeof(float));
    *p = malloc((size_t)B * V * sizeof(float));
    *A = malloc((size_t)d * d * sizeof(float));
    *b = malloc(d * sizeof(float));
    for (int i = 0; i < B * d; i++) (*h)[i] = 2 * iv_rng_normal(r);
    for (int i = 0; i < d * d; i++) (*A)[i] = 0.2f * iv_rng_normal(r);
    for (int i = 0; i < d; i++) (*b)[i] = 0.2f * iv_rng_normal(r);
    for (int k = 0; k < B; k++) {
        double s = 0;
        for (int v = 0; v < V; v++) s += (*p)[k * V + v] = expf(2 * iv_rng_normal(r));
        for (int v = 0; v < V; v++) (*p)[k * V + v] /= (float)s;
    }
}

static void check_kl_grad(int ln, float cap) {
    enum { d = 6, V = 11, B = 4 };
    iv_rng r = {42 + ln * 7 + (cap > 0)};
    iv_unembed u;
    float *h, *p, *A, *b;
    make_problem(&r, &u, d, V, ln, cap, &h, &p, B, &A, &b);
    float gA[d * d], gb[d];
    double kl = iv_lens_kl_grad(&u, h, p, B, A, b, gA, gb);
    assert_true(kl > 0);
    /* central differences in double-ish precision: step 1e-3 on float params */
    const float eps = 1e-3f;
    double worst = 0;
    for (int i = 0; i < d * d + d; i++) {
        float *x = i < d * d ? &A[i] : &b[i - d * d], x0 = *x;
        *x = x0 + eps;
        double lp = iv_lens_kl_grad(&u, h, p, B, A, b, NULL, NULL);
        *x = x0 - eps;
        double lm = iv_lens_kl_grad(&u, h, p, B, A, b, NULL, NULL);
        *x = x0;
        double fd = (lp - lm) / (2 * eps), an = i < d * d ? gA[i] : gb[i - d * d];
        double e = fabs(fd - an) / (fabs(fd) + fabs(an) + 1e-2);
        if (e > worst) worst = e;
    }
    printf("kl grad (%s%s): kl %.4f, worst relative error %.2e\n", ln ? "layernorm" : "rmsnorm",
           cap > 0 ? ", softcap" : "", kl, worst);
    assert_true(worst < 1e-2);
    /* zero translator = logit lens of h itself */
    memset(A, 0, sizeof(float) * d * d); memset(b, 0, sizeof(float) * d);
    float z[B * V];
    iv_unembed_logits(&u, h, B, z);
    double ref = 0;
    for (int k = 0; k < B; k++) {
        double mx = -1e30, se = 0;
        for (int v = 0; v < V; v++) if (z[k * V + v] > mx) mx = z[k * V + v];
        for (int v = 0; v < V; v++) se += exp(z[k * V + v] - mx);
        for (int v = 0; v < V; v++) ref += p[k * V + v] * (log(p[k * V + v]) - (z[k * V + v] - mx - log(se)));
    }
    assert_float_equal(iv_lens_kl_grad(&u, h, p, B, A, b, NULL, NULL), ref / B, 1e-4);
    iv_unembed_free(&u);
    free(h); free(p); free(A); free(b);
}

static void kl_grad_rmsnorm(void **st) { (void)st; check_kl_grad(0, 0); }
static void kl_grad_layernorm(void **st) { (void)st; check_kl_grad(1, 0); }
static void kl_grad_softcap(void **st) { (void)st; check_kl_grad(0, 3.0f); }

/* Separable data with very different feature scales: the folded raw weights must
 * classify raw data as well as the standardised fit does. */
static void probe_folds_standardisation(void **st) {
    (void)st;
    enum { N = 200, D = 4 };
    static float x[N * D];
    int y[N], tr[N];
    iv_rng r = {7};
    for (int i = 0; i < N; i++) {
        y[i] = i % 2;
        tr[i] = i < 160;
        x[i * D + 0] = 1000 + 50 * iv_rng_normal(&r) + (y[i] ? 120 : -120);  /* large scale, informative */
        x[i * D + 1] = 0.001f * iv_rng_normal(&r);                            /* tiny, noise */
        x[i * D + 2] = 5 + iv_rng_normal(&r);                                 /* noise */
        x[i * D + 3] = -3;                                                    /* constant */
    }
    iv_probe_opts o = iv_probe_defaults();
    o.steps = 300;
    iv_probe p;
    assert_int_equal(iv_probe_fit(x, y, tr, N, D, &o, &p, NULL), 0);
    assert_true(p.train_acc >= 0.95f);
    assert_true(p.test_acc >= 0.95f);
    assert_int_equal(p.n_train, 160);
    assert_int_equal(p.n_test, 40);
    /* decision boundary on raw x0 sits near the class midpoint 1000 */
    double boundary = -(p.b + p.w[2] * 5 + p.w[3] * -3) / p.w[0];
    assert_true(fabs(boundary - 1000) < 30);
    assert_true(p.w[0] > 0);
    iv_probe_free(&p);
}

static void paragraphs(void **st) {
    (void)st;
    char path[] = "/tmp/interv_test_paraXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *s = "\n\nOne day a cat.\r\nIt sat.  \n \t\n\nTwo.\n\n\n";
    assert_int_equal(write(fd, s, strlen(s)), (int)strlen(s));
    close(fd);
    iv_texts t;
    assert_int_equal(iv_texts_read_paragraphs(path, &t, NULL), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.s[0], "One day a cat.\r\nIt sat.");
    assert_string_equal(t.s[1], "Two.");
    iv_texts_free(&t);
    fd = open(path, O_WRONLY | O_TRUNC);
    assert_int_equal(write(fd, "\n \n", 3), 3);
    close(fd);
    iv_err e;
    assert_int_equal(iv_texts_read_paragraphs(path, &t, &e), -1);
    assert_non_null(strstr(e.msg, "no texts"));
    unlink(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adam_first_steps),        cmocka_unit_test(adam_minimises_quadratic),
        cmocka_unit_test(kl_grad_rmsnorm),         cmocka_unit_test(kl_grad_layernorm),
        cmocka_unit_test(kl_grad_softcap),         cmocka_unit_test(probe_folds_standardisation),
        cmocka_unit_test(paragraphs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
