/* Logit lens and tuned lens behind one encoder/decoder:
 *   y = T(x) = x + A x + b          (identity for the logit lens)
 *   u = N(y)                         (final norm, "normed" variant only)
 *   z = W_U u
 * edit:       u' = u + sum_t (a w_t max_j z_j - z_t) P[:,t]   (= P z' exactly, since
 *             P W_U = I when W_U has full column rank)
 * bottleneck: u' = P z, computed in double in one pass over W_U
 * then y' = N^{-1}(u') with y's own statistics and x' = T^{-1}(y') by the LU
 * factors of I + A. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/kernels.h"
#include "lens_internal.h"

/* Statistics of the norm's input, kept to invert it. */
typedef struct norm_stats {
    double mean, scale;  /* LayerNorm: mean, std; RMSNorm: 0, rms */
} norm_stats;

static int is_layernorm(const iv_model *m) { return m->cfg.arch == IV_ARCH_GPT2; }

static void norm_fwd(const iv_model *m, double *y, int d, norm_stats *s) {
    const float *g = m->w.final_norm_w, *b = m->w.final_norm_b;
    double mean = 0, var = 0;
    if (is_layernorm(m)) {
        for (int i = 0; i < d; i++) mean += y[i];
        mean /= d;
    }
    for (int i = 0; i < d; i++) var += (y[i] - mean) * (y[i] - mean);
    s->mean = mean;
    s->scale = sqrt(var / d + m->cfg.norm_eps);
    for (int i = 0; i < d; i++)
        y[i] = (y[i] - mean) / s->scale * (g ? g[i] : 1.0) + (b ? b[i] : 0.0);
}

/* Inverse with the forward's statistics; a zero gain cannot be inverted, so that
 * coordinate keeps its original value y0. */
static void norm_inv(const iv_model *m, double *u, const double *y0, int d, const norm_stats *s) {
    const float *g = m->w.final_norm_w, *b = m->w.final_norm_b;
    for (int i = 0; i < d; i++) {
        double gi = g ? g[i] : 1.0;
        if (fabs(gi) < 1e-30) { u[i] = y0[i]; continue; }
        u[i] = (u[i] - (b ? b[i] : 0.0)) / gi * s->scale + s->mean;
    }
}

/* y = x + A x + b */
static void translate(const ivm_lens *L, const float *x, double *y) {
    int d = L->d;
    for (int i = 0; i < d; i++) y[i] = x[i] + (L->b ? L->b[i] : 0.0);
    if (L->A) {
        double *xd = malloc(sizeof(double) * (size_t)d);
        if (xd) {
            for (int i = 0; i < d; i++) xd[i] = x[i];
            cblas_dgemv(CblasRowMajor, CblasNoTrans, d, d, 1.0, L->A, d, xd, 1, 1.0, y, 1);
            free(xd);
        }
    }
}

/* x = T^{-1}(y) in place */
static int untranslate(const ivm_lens *L, double *y, iv_err *err) {
    int d = L->d;
    if (L->b)
        for (int i = 0; i < d; i++) y[i] -= L->b[i];
    if (L->lu) {
        lapack_int info = LAPACKE_dgetrs(LAPACK_ROW_MAJOR, 'N', d, 1, L->lu, d, L->ipiv, y, 1);
        if (info != 0) return iv_errf(err, "tuned lens: LU solve failed (info %d)", (int)info);
    }
    return 0;
}

static int64_t lens_nf(const iv_method *mm) { return ((const ivm_lens *)mm->impl)->V; }

/* z = W_U N(T(x)); u (optional) receives N(T(x)), st its norm statistics. */
static void forward(const iv_method *mm, const ivm_lens *L, const float *x, double *u,
                    norm_stats *st, float *z, float *uf) {
    translate(L, x, u);
    if (L->normed) norm_fwd(mm->m, u, L->d, st);
    for (int i = 0; i < L->d; i++) uf[i] = (float)u[i];
    iv_linear(z, uf, 1, &mm->m->w.lm_head, NULL);
}

static int lens_encode(iv_method *mm, const float *x, float *z, iv_err *err) {
    ivm_lens *L = mm->impl;
    double *u = malloc(sizeof(double) * (size_t)L->d);
    float *uf = malloc(sizeof(float) * (size_t)L->d);
    norm_stats st;
    if (!u || !uf) { free(u); free(uf); return iv_errf(err, "out of memory"); }
    forward(mm, L, x, u, &st, z, uf);
    free(u);
    free(uf);
    return 0;
}

static int lens_decode(iv_method *mm, const float *z, float *x, iv_err *err) {
    ivm_lens *L = mm->impl;
    double *y = malloc(sizeof(double) * (size_t)L->d);
    if (!y) return iv_errf(err, "out of memory");
    int rc = ivm_gram_pinv_apply(mm->m, &L->gram, z, y, err);
    if (!rc) rc = untranslate(L, y, err);
    if (!rc)
        for (int i = 0; i < L->d; i++) x[i] = (float)y[i];
    free(y);
    return rc;
}

static int lens_apply(iv_method *mm, float *x, iv_err *err) {
    ivm_lens *L = mm->impl;
    int d = L->d, rc = 0;
    double *u = malloc(sizeof(double) * (size_t)d * 3); /* u, y0 (pre-norm), u' */
    float *uf = malloc(sizeof(float) * (size_t)d);
    float *z = malloc(sizeof(float) * (size_t)L->V); /* [V] */
    if (!u || !uf || !z) { rc = iv_errf(err, "out of memory"); goto out; }
    double *y0 = u + d, *up = u + 2 * d;
    norm_stats st = {0, 1};
    translate(L, x, y0);
    memcpy(u, y0, sizeof(double) * (size_t)d);
    if (L->normed) norm_fwd(mm->m, u, d, &st);
    if (mm->mode == IV_MMODE_BOTTLENECK) {
        if ((rc = ivm_gram_roundtrip(mm->m, &L->gram, u, up, err))) goto out;
    } else {
        for (int i = 0; i < d; i++) uf[i] = (float)u[i];
        iv_linear(z, uf, 1, &mm->m->w.lm_head, NULL);
        float zmax = z[0];
        for (int j = 1; j < L->V; j++)
            if (z[j] > zmax) zmax = z[j];
        memcpy(up, u, sizeof(double) * (size_t)d);
        for (int t = 0; t < mm->n_tgt; t++) {
            double delta = (double)mm->alpha * mm->tgt_w[t] * zmax - z[mm->tgt_ids[t]];
            const double *p = L->pcol + (size_t)t * d;
            for (int i = 0; i < d; i++) up[i] += delta * p[i];
        }
    }
    if (L->affC || L->affc) { /* x' = C x + c + (up - u): the affine decoder */
        for (int i = 0; i < d; i++) {
            double cx = L->affc ? L->affc[i] : 0.0;
            if (L->affC)
                for (int j = 0; j < d; j++) cx += L->affC[(size_t)i * d + j] * x[j];
            else cx += x[i];
            up[i] = mm->mode == IV_MMODE_BOTTLENECK ? cx : cx + (up[i] - u[i]);
        }
        for (int i = 0; i < d; i++) x[i] = (float)up[i];
        goto out;
    }
    if (L->normed) norm_inv(mm->m, up, y0, d, &st);
    if ((rc = untranslate(L, up, err))) goto out;
    for (int i = 0; i < d; i++) x[i] = (float)up[i];
out:
    free(u);
    free(uf);
    free(z);
    return rc;
}

void ivm_lens_destroy(void *impl) {
    ivm_lens *L = impl;
    if (!L) return;
    ivm_gram_free(&L->gram);
    free(L->A);
    free(L->b);
    free(L->lu);
    free(L->ipiv);
    free(L->pcol);
    free(L->affC);
    free(L->affc);
    free(L);
}

static const ivm_ops lens_ops = {lens_nf, lens_encode, lens_decode, lens_apply, ivm_lens_destroy};

int ivm_lens_finish(iv_method *mm, ivm_lens *L, const iv_method_opts *o, iv_err *err) {
    mm->ops = &lens_ops;
    mm->impl = L;
    L->d = mm->dim;
    L->V = mm->m->cfg.vocab_size;
    L->normed = L->normed || o->normed;
    if (L->normed && !mm->m->w.final_norm_w)
        return iv_errf(err, "%s: --normed needs the model's final norm, which it lacks",
                       mm->m->path ? mm->m->path : "model");
    if (L->normed && (L->affC || L->affc))
        return iv_errf(err, "%s: the affine decoder is for the unnormed tuned lens",
                       o->artifact ? o->artifact : "tuned lens");
    if (ivm_gram_get(mm->m, o->cache_dir, &L->gram, err)) return -1;
    if (L->gram.V != L->V)
        return iv_errf(err, "lm_head rows (%d) != vocab_size (%d)", L->gram.V, L->V);
    int d = L->d;
    if (L->A) {
        L->lu = malloc(sizeof(double) * (size_t)d * d);
        L->ipiv = malloc(sizeof(int) * (size_t)d);
        if (!L->lu || !L->ipiv) return iv_errf(err, "out of memory");
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) L->lu[i * d + j] = L->A[i * d + j] + (i == j);
        lapack_int info = LAPACKE_dgetrf(LAPACK_ROW_MAJOR, d, d, L->lu, d, L->ipiv);
        if (info != 0)
            return iv_errf(err, "%s: I + A of the translator is singular (LU info %d)",
                           o->artifact ? o->artifact : "tuned lens", (int)info);
    }
    if (mm->n_tgt > 0) {
        L->pcol = malloc(sizeof(double) * (size_t)mm->n_tgt * d);
        if (!L->pcol) return iv_errf(err, "out of memory");
        for (int t = 0; t < mm->n_tgt; t++)
            if (ivm_gram_pinv_col(mm->m, &L->gram, mm->tgt_ids[t], L->pcol + (size_t)t * d, err))
                return -1;
    }
    return 0;
}

int ivm_lens_create_logit(iv_method *mm, const iv_method_opts *o, iv_err *err) {
    ivm_lens *L = calloc(1, sizeof *L);
    if (!L) return iv_errf(err, "out of memory");
    if (mm->layer < 0) {
        free(L);
        return iv_errf(err, "logit lens: --layer is required");
    }
    return ivm_lens_finish(mm, L, o, err);
}
