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
#include <omp.h>
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

static int is_layernorm(const iv_model *m) { return iv_cfg_layernorm(&m->cfg); } /* GPT-2, GPT-NeoX */

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
        lapack_int info = LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', d, 1, L->lu, d, L->ipiv, y, d);
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
    if (!rc && (L->affC || L->affc)) { /* affine decoder: K P z' = C T^{-1}(P z') + c */
        int d = L->d;
        double *t = malloc(sizeof(double) * (size_t)d);
        if (!t) { free(y); return iv_errf(err, "out of memory"); }
        memcpy(t, y, sizeof(double) * (size_t)d);
        for (int i = 0; i < d; i++) {
            double v = L->affc ? L->affc[i] : 0.0;
            if (L->affC)
                for (int j = 0; j < d; j++) v += L->affC[(size_t)i * d + j] * t[j];
            else v += t[i];
            y[i] = v;
        }
        free(t);
    }
    if (!rc)
        for (int i = 0; i < L->d; i++) x[i] = (float)y[i];
    free(y);
    return rc;
}

/* y += X M^T in double, X: [n, d], M: [d, d] row-major (out x in), y: [n, d].
 * The rows are split over the OpenMP threads, each running a single-threaded
 * dgemm: OpenBLAS's own threads would fight the OpenMP workers that spin
 * between the model's parallel regions (a batch-32 tuned-lens step cost 7 ms
 * more than the logit lens's; the products are 2 n d^2 = 38 MFLOP). */
static void add_rows_times(const double *xd, int n, int d, const double *M, double *y) {
    int nb = openblas_get_num_threads();
    if (nb > 1) openblas_set_num_threads(1);
    int nt = n >= 4 ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), T = omp_get_num_threads(), r0 = n * t / T, r1 = n * (t + 1) / T;
        if (r1 > r0)
            cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, d, d, 1.0, xd + (size_t)r0 * d, d, M, d, 1.0,
                        y + (size_t)r0 * d, d);
    }
    if (nb > 1) openblas_set_num_threads(nb);
}

/* Y = X + X A^T + b for n rows in double, x: [n, d] -> y: [n, d]. */
static int translate_rows(const ivm_lens *L, const float *x, int n, double *y) {
    int d = L->d;
    for (size_t k = 0; k < (size_t)n; k++)
        for (int i = 0; i < d; i++) y[k * d + i] = x[k * d + i] + (L->b ? L->b[i] : 0.0);
    if (!L->A) return 0;
    double *xd = malloc(sizeof(double) * (size_t)n * d); /* [n, d] */
    if (!xd) return -1;
    for (size_t k = 0; k < (size_t)n * d; k++) xd[k] = x[k];
    add_rows_times(xd, n, d, L->A, y);
    free(xd);
    return 0;
}

/* Affine decoder base, y = X affC^T + affc (affC NULL = identity): [n, d]. */
static int affine_rows(const ivm_lens *L, const float *x, int n, double *y) {
    int d = L->d;
    for (size_t k = 0; k < (size_t)n; k++)
        for (int i = 0; i < d; i++) y[k * d + i] = (L->affc ? L->affc[i] : 0.0) + (L->affC ? 0.0 : x[k * d + i]);
    if (!L->affC) return 0;
    double *xd = malloc(sizeof(double) * (size_t)n * d); /* [n, d] */
    if (!xd) return -1;
    for (size_t k = 0; k < (size_t)n * d; k++) xd[k] = x[k];
    add_rows_times(xd, n, d, L->affC, y);
    free(xd);
    return 0;
}

/* X = T^{-1}(Y) in place for n rows, y: [n, d]: subtract b, then solve
 * (I + A) x = y for every row at once.  The rows of y, read column-major, are
 * the right-hand sides as LAPACK stores them, so the solve works in place (a
 * row-major call made LAPACKE transpose the d x d factors on every call). */
static int untranslate_rows(const ivm_lens *L, double *y, int n, iv_err *err) {
    int d = L->d;
    if (L->b)
        for (size_t k = 0; k < (size_t)n; k++)
            for (int i = 0; i < d; i++) y[k * d + i] -= L->b[i];
    if (!L->lu) return 0;
    int nb = openblas_get_num_threads(); /* one thread: see add_rows_times */
    if (nb > 1) openblas_set_num_threads(1);
    lapack_int info = LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', d, n, L->lu, d, L->ipiv, y, d);
    if (nb > 1) openblas_set_num_threads(nb);
    if (info != 0) return iv_errf(err, "tuned lens: LU solve failed (info %d)", (int)info);
    return 0;
}

/* Rows of z = W_U u computed per product: about 32 MB of logits at a time. */
static int z_chunk(int V, int n) {
    long c = (32L << 20) / ((long)V * (long)sizeof(float));
    if (c < 16) c = 16;
    return c < n ? (int)c : n;
}

/* max_j z[j]: a max reduction the compiler may vectorise (the maximum does
 * not depend on the order, so the result is the scalar loop's). */
static float row_max(const float *z, int n) {
    float m = z[0];
#pragma omp simd reduction(max : m)
    for (int j = 1; j < n; j++) m = z[j] > m ? z[j] : m;
    return m;
}

/* The edit's target moves for n rows: dl[r, t] = a w_t max_j z_rj - z_rt, with
 * z = W_U u from one [rows, d] x [d, V] product per chunk of rows; only the
 * row maxima and the target logits are kept.  u: [n, d] doubles; dl: [n, n_tgt]. */
static int edit_deltas(const iv_method *mm, const ivm_lens *L, const double *u, int n, double *dl,
                       iv_err *err) {
    int d = L->d, V = L->V, nt = mm->n_tgt, cz = z_chunk(V, n);
    float *uf = malloc(sizeof(float) * (size_t)cz * d); /* [cz, d] */
    float *z = malloc(sizeof(float) * (size_t)cz * V);  /* [cz, V] */
    if (!uf || !z) { free(uf); free(z); return iv_errf(err, "out of memory"); }
    for (int r0 = 0; r0 < n; r0 += cz) {
        int nr = n - r0 < cz ? n - r0 : cz;
        for (size_t k = 0; k < (size_t)nr * d; k++) uf[k] = (float)u[(size_t)r0 * d + k];
        if (mm->m->compute == IV_COMPUTE_BF16) iv_linear_bf16(z, uf, nr, &mm->m->w.lm_head, NULL); /* as the model multiplies */
        else iv_linear(z, uf, nr, &mm->m->w.lm_head, NULL);
#pragma omp parallel for schedule(static) if (nr > 1)
        for (int r = 0; r < nr; r++) {
            const float *zr = z + (size_t)r * V;
            float zmax = row_max(zr, V);
            for (int t = 0; t < nt; t++)
                dl[(size_t)(r0 + r) * nt + t] = (double)mm->alpha * mm->tgt_w[t] * zmax - zr[mm->tgt_ids[t]];
        }
    }
    free(uf);
    free(z);
    return 0;
}

/* The unnormed lens's edit directions in x: T^{-1}(T(x) + sum_t dl_t p_t) =
 * x + sum_t dl_t (I + A)^{-1} p_t, since T is affine; so the per-step solve
 * becomes one solve per target, made once.  NULL when out of memory or the
 * solve fails (the caller then takes the general path). */
static const double *edit_dirs(const iv_method *mm, ivm_lens *L) {
    if (!L->lu) return L->pcol;
    if (L->qcol) return L->qcol;
    int d = L->d, nt = mm->n_tgt;
    double *q = malloc(sizeof(double) * (size_t)nt * d); /* [n_tgt, d] */
    if (!q) return NULL;
    memcpy(q, L->pcol, sizeof(double) * (size_t)nt * d);
    if (LAPACKE_dgetrs(LAPACK_COL_MAJOR, 'N', d, nt, L->lu, d, L->ipiv, q, d) != 0) { free(q); return NULL; }
    return L->qcol = q;
}

/* x: [n, d] in place.  u = N(T(x)) per row; the edit moves u along the target
 * columns of P only (u' = u + sum_t dl_t P[:,t], never a V-wide product); the
 * bottleneck takes the double round trip P W_U u of all rows at once; then
 * N^{-1} with each row's own statistics and T^{-1} for all rows at once.  The
 * affine decoder (affC/affc) replaces N^{-1}/T^{-1}: x' = C x + c (+ sum_t dl_t pcol_t). */
static int lens_apply(iv_method *mm, float *x, int n, iv_err *err) {
    ivm_lens *L = mm->impl;
    int d = L->d, nt = mm->n_tgt, rc = 0;
    int affine = L->affC || L->affc, edit = mm->mode != IV_MMODE_BOTTLENECK;
    size_t nd = (size_t)n * d;
    double *u = malloc(sizeof(double) * nd * 3);                  /* u, y0 (pre-norm), u': each [n, d] */
    norm_stats *st = malloc(sizeof(norm_stats) * (size_t)n);       /* [n] */
    double *dl = malloc(sizeof(double) * (size_t)n * (nt ? nt : 1)); /* [n, n_tgt] */
    if (!u || !st || !dl) { rc = iv_errf(err, "out of memory"); goto out; }
    double *y0 = u + nd, *up = u + 2 * nd;
    if (affine && !edit) { /* bottleneck x' = C x + c: no encoder needed */
        if (affine_rows(L, x, n, up)) { rc = iv_errf(err, "out of memory"); goto out; }
        goto store;
    }
    if (translate_rows(L, x, n, y0)) { rc = iv_errf(err, "out of memory"); goto out; }
    const double *q = edit && !affine && !L->normed && nt > 0 ? edit_dirs(mm, L) : NULL;
    if (q) { /* x' = x + sum_t dl_t q_t (see edit_dirs) */
        if ((rc = edit_deltas(mm, L, y0, n, dl, err))) goto out;
#pragma omp parallel for schedule(static) if (n > 1)
        for (int k = 0; k < n; k++) {
            float *xr = x + (size_t)k * d;
            for (int i = 0; i < d; i++) {
                double v = xr[i];
                for (int t = 0; t < nt; t++) v += dl[(size_t)k * nt + t] * q[(size_t)t * d + i];
                xr[i] = (float)v;
            }
        }
        goto out;
    }
    memcpy(u, y0, sizeof(double) * nd);
    for (int k = 0; k < n; k++) {
        st[k] = (norm_stats){0, 1};
        if (L->normed) norm_fwd(mm->m, u + (size_t)k * d, d, &st[k]);
    }
    if (!edit) {
        if ((rc = ivm_gram_roundtrip_rows(mm->m, &L->gram, u, n, up, err))) goto out;
    } else {
        if ((rc = edit_deltas(mm, L, u, n, dl, err))) goto out;
        if (affine) {
            if (affine_rows(L, x, n, up)) { rc = iv_errf(err, "out of memory"); goto out; }
        } else memcpy(up, u, sizeof(double) * nd);
        for (int k = 0; k < n; k++)
            for (int t = 0; t < nt; t++) {
                double delta = dl[(size_t)k * nt + t];
                const double *p = L->pcol + (size_t)t * d;
                double *o = up + (size_t)k * d;
                for (int i = 0; i < d; i++) o[i] += delta * p[i];
            }
        if (affine) goto store;
    }
    if (L->normed)
        for (int k = 0; k < n; k++) norm_inv(mm->m, up + (size_t)k * d, y0 + (size_t)k * d, d, &st[k]);
    if ((rc = untranslate_rows(L, up, n, err))) goto out;
store:
    for (size_t k = 0; k < nd; k++) x[k] = (float)up[k];
out:
    free(u);
    free(st);
    free(dl);
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
    free(L->qcol);
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
        for (int i = 0; i < d; i++) /* column-major I + A: the solves then need no transposes */
            for (int j = 0; j < d; j++) L->lu[(size_t)j * d + i] = L->A[i * d + j] + (i == j);
        lapack_int info = LAPACKE_dgetrf(LAPACK_COL_MAJOR, d, d, L->lu, d, L->ipiv);
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
    if (o->normed && o->protocol == IV_PROTOCOL_PAPER) { /* the reference's lens is raw */
        free(L);
        return iv_errf(err, "logit lens: --normed does not apply under --protocol paper (its logit lens "
                            "reads the raw residual, no final norm)");
    }
    return ivm_lens_finish(mm, L, o, err);
}
