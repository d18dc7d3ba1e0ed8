/* The pseudo-inverse of the unembedding, P = (W_U^T W_U)^{-1} W_U^T, held as the
 * Cholesky factor of the d x d Gram matrix (never the d x V matrix P itself: for
 * a 256k vocabulary that would be gigabytes).  The Gram matrix costs V d^2 flops,
 * so its factor is cached on disk, keyed by a hash of the weights. */
#include <cblas.h>
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "lens_internal.h"

#define GRAM_MAGIC "IVGRAM01"
#define GRAM_CHUNK 1024 /* rows of W_U converted per dsyrk call */

typedef struct gram_head {
    char magic[8];
    int64_t d, V;
    uint64_t hash;
} gram_head;

static float wu_elem(const iv_wmat *W, int64_t o, int64_t i) {
    int64_t k = W->layout == IV_OUT_IN ? o * W->stride + i : i * W->stride + o;
    if (W->dtype == IV_F32) return ((const float *)W->data)[k];
    uint16_t h = ((const uint16_t *)W->data)[k];
    return W->dtype == IV_BF16 ? iv_bf16_to_f32(h) : iv_f16_to_f32(h);
}

/* Row t of W_U (vocab x dim, as out x in) into f32. */
static void row_f32(const iv_wmat *W, int64_t t, float *r) {
    if (W->layout == IV_OUT_IN) {
        size_t es = iv_dtype_size(W->dtype);
        iv_to_f32(r, (const uint8_t *)W->data + (size_t)(t * W->stride) * es, W->dtype,
                  (size_t)W->in);
    } else {
        for (int64_t i = 0; i < W->in; i++) r[i] = wu_elem(W, t, i);
    }
}

void ivm_unembed_row(const iv_model *m, int32_t t, double *row) {
    const iv_wmat *W = &m->w.lm_head;
    for (int64_t i = 0; i < W->in; i++) row[i] = wu_elem(W, t, i);
}

/* 64-bit FNV-1a over the f32 values (word-wise), so the key does not depend on
 * the file's dtype or layout, only on the numbers. */
static uint64_t mix(uint64_t h, uint32_t w) {
    return (h ^ w) * 0x100000001b3ULL;
}

static void cache_path(char *buf, size_t n, const char *dir, uint64_t h, int64_t V, int64_t d) {
    snprintf(buf, n, "%s/wu-gram-%016llx-%lldx%lld.bin", dir, (unsigned long long)h,
             (long long)V, (long long)d);
}

static int load_cache(const char *path, int64_t d, int64_t V, uint64_t h, double *chol) {
    iv_mapped mp;
    if (iv_map_file(path, &mp, NULL) != 0) return -1;
    int ok = mp.size == sizeof(gram_head) + (size_t)(d * d) * sizeof(double);
    if (ok) {
        gram_head hd;
        memcpy(&hd, mp.data, sizeof hd);
        ok = !memcmp(hd.magic, GRAM_MAGIC, 8) && hd.d == d && hd.V == V && hd.hash == h;
        if (ok) memcpy(chol, mp.data + sizeof hd, (size_t)(d * d) * sizeof(double));
    }
    iv_unmap(&mp);
    return ok ? 0 : -1;
}

static void save_cache(const char *path, int64_t d, int64_t V, uint64_t h, const double *chol) {
    size_t n = sizeof(gram_head) + (size_t)(d * d) * sizeof(double);
    uint8_t *buf = malloc(n);
    if (!buf) return;
    gram_head hd;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.magic, GRAM_MAGIC, 8);
    hd.d = d;
    hd.V = V;
    hd.hash = h;
    memcpy(buf, &hd, sizeof hd);
    memcpy(buf + sizeof hd, chol, (size_t)(d * d) * sizeof(double));
    iv_write_atomic(path, buf, n, NULL); /* a cache that cannot be written is only slower */
    free(buf);
}

int ivm_gram_get(const iv_model *m, const char *cache_dir, ivm_gram *g, iv_err *err) {
    memset(g, 0, sizeof *g);
    const iv_wmat *W = &m->w.lm_head;
    int64_t V = W->out, d = W->in;
    const char *mp = m->path ? m->path : "model";
    if (!W->data || V <= 0 || d <= 0) return iv_errf(err, "%s: the model has no unembedding", mp);
    if (d != m->cfg.dim) return iv_errf(err, "%s: lm_head width %lld != dim %d", mp, (long long)d, m->cfg.dim);
    if (V < d)
        return iv_errf(err, "%s: vocabulary (%lld) smaller than dim (%lld): W_U has no left inverse",
                       mp, (long long)V, (long long)d);
    g->d = (int)d;
    g->V = (int)V;
    g->chol = calloc((size_t)(d * d), sizeof(double));
    double *blk = malloc(sizeof(double) * (size_t)(GRAM_CHUNK * d)); /* [GRAM_CHUNK, d] */
    float *row = malloc(sizeof(float) * (size_t)d);                  /* [d] */
    if (!g->chol || !blk || !row) {
        free(blk); free(row); ivm_gram_free(g);
        return iv_errf(err, "%s: out of memory for the Gram matrix", mp);
    }
    /* hash pass (cheap) */
    uint64_t h = 0xcbf29ce484222325ULL;
    h = mix(mix(h, (uint32_t)V), (uint32_t)d);
    for (int64_t t = 0; t < V; t++) {
        row_f32(W, t, row);
        for (int64_t i = 0; i < d; i++) {
            uint32_t u;
            memcpy(&u, &row[i], 4);
            h = mix(h, u);
        }
    }
    char *dir = ivm_cache_dir(cache_dir);
    char path[4096];
    if (dir) {
        cache_path(path, sizeof path, dir, h, V, d);
        free(dir);
        if (load_cache(path, d, V, h, g->chol) == 0) {
            free(blk); free(row);
            return 0;
        }
    } else path[0] = 0;
    /* G = sum over chunks of B^T B, in double */
    for (int64_t t0 = 0; t0 < V; t0 += GRAM_CHUNK) {
        int64_t nr = V - t0 < GRAM_CHUNK ? V - t0 : GRAM_CHUNK;
        for (int64_t r = 0; r < nr; r++) {
            row_f32(W, t0 + r, row);
            for (int64_t i = 0; i < d; i++) blk[r * d + i] = row[i];
        }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)nr, 1.0, blk, (int)d, 1.0,
                    g->chol, (int)d);
    }
    free(blk);
    free(row);
    lapack_int info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'U', (lapack_int)d, g->chol, (lapack_int)d);
    if (info != 0) {
        ivm_gram_free(g);
        return iv_errf(err, "%s: W_U^T W_U is not positive definite (Cholesky info %d): the "
                            "unembedding is rank-deficient, no pseudo-inverse by Cholesky",
                       mp, (int)info);
    }
    for (int64_t i = 0; i < d; i++) /* keep only R: dpotrs reads the upper triangle */
        for (int64_t j = 0; j < i; j++) g->chol[i * d + j] = 0;
    if (path[0]) save_cache(path, d, V, h, g->chol);
    return 0;
}

void ivm_gram_free(ivm_gram *g) {
    free(g->chol);
    g->chol = NULL;
}

int ivm_gram_solve(const ivm_gram *g, double *y, iv_err *err) {
    lapack_int info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, 'U', g->d, 1, g->chol, g->d, y, 1);
    if (info != 0) return iv_errf(err, "Cholesky solve failed (info %d)", (int)info);
    return 0;
}

int ivm_gram_pinv_col(const iv_model *m, const ivm_gram *g, int32_t t, double *p, iv_err *err) {
    if (t < 0 || t >= g->V) return iv_errf(err, "token %d outside the vocabulary", (int)t);
    ivm_unembed_row(m, t, p);
    return ivm_gram_solve(g, p, err);
}


/* x = sum_v c_v W_U[v]^T in double, one parallel pass over W_U, with c_v = z[v]
 * (z given) or c_v = W_U[v].u (the round trip P W_U u).  Then x = G^{-1} x. */
static int accumulate_solve(const iv_model *m, const ivm_gram *g, const float *z, const double *u,
                            double *x, iv_err *err) {
    const iv_wmat *W = &m->w.lm_head;
    int d = g->d, V = g->V, fail = 0;
    for (int i = 0; i < d; i++) x[i] = 0;
#pragma omp parallel
    {
        float *row = malloc(sizeof(float) * (size_t)d);   /* [d] */
        double *acc = calloc((size_t)d, sizeof(double));  /* [d] this thread's partial sum */
        if (!row || !acc) {
#pragma omp atomic write
            fail = 1;
        } else {
#pragma omp for schedule(static)
            for (int v = 0; v < V; v++) {
                row_f32(W, v, row);
                double c = 0;
                if (z) c = z[v];
                else
                    for (int i = 0; i < d; i++) c += (double)row[i] * u[i];
                if (c != 0)
                    for (int i = 0; i < d; i++) acc[i] += c * row[i];
            }
#pragma omp critical(ivm_gram_accumulate)
            for (int i = 0; i < d; i++) x[i] += acc[i];
        }
        free(row);
        free(acc);
    }
    if (fail) return iv_errf(err, "out of memory");
    return ivm_gram_solve(g, x, err);
}

int ivm_gram_pinv_apply(const iv_model *m, const ivm_gram *g, const float *z, double *x,
                        iv_err *err) {
    return accumulate_solve(m, g, z, NULL, x, err);
}

int ivm_gram_roundtrip(const iv_model *m, const ivm_gram *g, const double *u, double *x,
                       iv_err *err) {
    return accumulate_solve(m, g, NULL, u, x, err);
}

/* X = X G^{-1} for n rows, X: [n, d]: G = R^T R, so X R^{-1} R^{-T}, two
 * triangular solves from the right (no transposes of X). */
static void solve_rows(const ivm_gram *g, double *X, int n) {
    int d = g->d;
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasNoTrans, CblasNonUnit, n, d, 1.0, g->chol, d, X, d);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, n, d, 1.0, g->chol, d, X, d);
}

int ivm_gram_roundtrip_rows(const iv_model *m, const ivm_gram *g, const double *u, int n, double *x,
                            iv_err *err) {
    /* one row: the single pass over W_U (dot and axpy per W_U row) beats two
     * products per chunk (GPT-2 small, 1 thread: ~150 vs ~200 ms) */
    if (n == 1) return accumulate_solve(m, g, NULL, u, x, err);
    const iv_wmat *W = &m->w.lm_head;
    int d = g->d, V = g->V;
    double *blk = malloc(sizeof(double) * (size_t)GRAM_CHUNK * d); /* [GRAM_CHUNK, d] rows of W_U */
    double *c = malloc(sizeof(double) * (size_t)n * GRAM_CHUNK);   /* [n, GRAM_CHUNK] W_U u per row */
    float *row = malloc(sizeof(float) * (size_t)d);                /* [d] */
    if (!blk || !c || !row) {
        free(blk); free(c); free(row);
        return iv_errf(err, "out of memory");
    }
    memset(x, 0, sizeof(double) * (size_t)n * d);
    for (int t0 = 0; t0 < V; t0 += GRAM_CHUNK) {
        int nr = V - t0 < GRAM_CHUNK ? V - t0 : GRAM_CHUNK;
        for (int r = 0; r < nr; r++) {
            row_f32(W, t0 + r, row);
            for (int i = 0; i < d; i++) blk[(size_t)r * d + i] = row[i];
        }
        /* c = U blk^T: [n, nr]; x += c blk: [n, d] */
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, nr, d, 1.0, u, d, blk, d, 0.0, c, nr);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, d, nr, 1.0, c, nr, blk, d, 1.0, x, d);
    }
    free(blk); free(c); free(row);
    solve_rows(g, x, n);
    return 0;
}
