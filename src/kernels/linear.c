/* iv_linear / iv_dot: chooses among the bandwidth-bound batch-1 kernels, the
 * register-tiled small-batch kernel, the packed GEMMs of the kernel table
 * (gemm_rows for OUT_IN, gemm_cols for IN_OUT) and SGEMM (see kernels.h). */
#include "interv/kernels.h"
#include "isa.h"
#include <cblas.h>
#include <limits.h>
#include <omp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN IVK_PAR_MIN /* see isa.h */
/* Output rows per parallel work item of the batch-1 / small-batch kernels. */
#define ROW_BLOCK 16
/* Batch size from which SGEMM beats the tiled kernel.  Measured (thread CPU
 * time, 1 thread, AVX-512 Xeon, 8192x2048): f32 tile 35 vs SGEMM 33 GFLOP/s at
 * B=24, 37 vs 38 at B=32; bf16 tile 54 vs convert+SGEMM 46 at B=64, 54 vs 57 at
 * B=128 (the conversion traffic is what the tile avoids). */
#ifndef GEMM_MIN_B_F32 /* overridable with -D for tuning runs */
#define GEMM_MIN_B_F32 32
#endif
#ifndef GEMM_MIN_B_HALF
#define GEMM_MIN_B_HALF 96
#endif
/* Batch sizes from which the packed GEMMs of the kernel table take over.
 * Measured (1 thread, weights from DRAM): IN_OUT 3072x768 (gemm_cols) beats
 * SGEMM from B=2 (f32 6.6 vs 3.5 GFLOP/s) to B=32 (57 vs 40).  OUT_IN
 * 3072x768 (GPT-2 c_fc), ms per call: the register tile (one pass over W,
 * cost rising with B) against gemm_rows (flat up to 16 rows, one vector of
 * batch rows): bf16 B=4 0.72 vs 0.78, B=5 0.79 vs 0.79, B=8 0.96-1.07 vs
 * 0.79-0.83, B=15 1.32-1.44 vs 0.78-0.80; f32 B=4 0.94 vs 0.91-0.96, B=8
 * 1.11-1.18 vs 0.97.  So gemm_rows from 5: per-step time then rises with the
 * batch with no slow middle range (the tile up to 15 made B=15 1.8x B=16). */
#define GEMM_MIN_B_OWN_IN_OUT 2
#ifndef GEMM_MIN_B_ROWS
#define GEMM_MIN_B_ROWS 5
#endif
/* f32 elements of one converted weight tile (per thread, stays in L2). */
#define TILE_ELEMS (64 * 1024)

float iv_dot(const float *x, const void *w, iv_dtype t, int64_t n) {
    return n > 0 ? ivk_cur()->dot(x, w, t, n) : 0.0f;
}

static void add_bias(float *y, int B, int64_t out, const float *bias) {
    if (!bias) return;
    for (int b = 0; b < B; b++)
        for (int64_t o = 0; o < out; o++) y[(int64_t)b * out + o] += bias[o];
}

/* y rows start as bias (or zero), for SGEMM with beta = 1. */
static void init_rows(float *y, int B, int64_t out, const float *bias) {
    for (int b = 0; b < B; b++) {
        if (bias) memcpy(y + (int64_t)b * out, bias, (size_t)out * sizeof(float));
        else memset(y + (int64_t)b * out, 0, (size_t)out * sizeof(float));
    }
}

/* Per-thread buffers, grown on demand and kept for later calls: the packed
 * weight chunk of each worker, and x transposed for gemm_rows (filled by the
 * calling thread, which is also worker 0: hence two).  Held under a pthread
 * key whose destructor frees them when the thread ends (OpenMP retires
 * workers when the thread count drops). */
typedef struct {
    float *p; /* [cap] */
    size_t cap;
} grow_buf;
typedef struct {
    grow_buf pack, xt, xr;
} thread_bufs;
static pthread_key_t bufs_key;
static pthread_once_t bufs_once = PTHREAD_ONCE_INIT;
static int bufs_ok;
static void bufs_free(void *v) {
    thread_bufs *t = v;
    free(t->pack.p);
    free(t->xt.p);
    free(t->xr.p);
    free(t);
}
static void bufs_init(void) { bufs_ok = pthread_key_create(&bufs_key, bufs_free) == 0; }
static thread_bufs *bufs(void) {
    pthread_once(&bufs_once, bufs_init);
    if (!bufs_ok) return NULL;
    thread_bufs *t = pthread_getspecific(bufs_key);
    if (!t && (t = calloc(1, sizeof *t)) && pthread_setspecific(bufs_key, t)) {
        free(t);
        t = NULL;
    }
    return t;
}
static float *grow(grow_buf *g, size_t n) {
    if (n > g->cap) {
        free(g->p);
        g->p = malloc(n * sizeof(float));
        g->cap = g->p ? n : 0;
    }
    return g->p;
}
/* NULL when out of memory: callers fall back to kernels that need none */
static float *scratch(size_t n) {
    thread_bufs *t = bufs();
    return t ? grow(&t->pack, n) : NULL;
}
static float *scratch_xt(size_t n) {
    thread_bufs *t = bufs();
    return t ? grow(&t->xt, n) : NULL;
}
/* The calling thread's buffers for iv_linear_bf16 (see isa.h). */
void *ivk_buf_xt(size_t n) { return scratch_xt(n); }
void *ivk_buf_xr(size_t n) {
    thread_bufs *t = bufs();
    return t ? grow(&t->xr, n) : NULL;
}

/* IV_OUT_IN, B below the GEMM threshold: batch 1 splits the output rows into
 * one band per thread (4-accumulator dots, prefetching ahead); larger batches
 * hand out blocks of rows to the R x NB tile. */
static void rows_small(const ivk_ops *k, float *y, const float *x, int B, const iv_wmat *W) {
    const int64_t out = W->out, in = W->in, nblk = (out + ROW_BLOCK - 1) / ROW_BLOCK;
    const int par = out * in * B >= PAR_MIN;
    if (B == 1) { /* one contiguous band of rows per thread, so prefetching runs ahead unbroken */
        int nt = par ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            int t = omp_get_thread_num(), n = omp_get_num_threads();
            int64_t r0 = out * t / n, r1 = out * (t + 1) / n;
            if (r1 > r0) k->dots(y + r0, x, ivk_at(W->data, W->dtype, r0 * W->stride), W->dtype, W->stride, r1 - r0, in);
        }
        return;
    }
#pragma omp parallel for schedule(static) if (par)
    for (int64_t blk = 0; blk < nblk; blk++) {
        int64_t o0 = blk * ROW_BLOCK, nr = out - o0 < ROW_BLOCK ? out - o0 : ROW_BLOCK;
        const void *w0 = ivk_at(W->data, W->dtype, o0 * W->stride);
        k->mdot(y + o0, out, x, in, B, w0, W->dtype, W->stride, nr, in);
    }
}

/* IV_IN_OUT, batch 1: y[o] = sum_i x[i] W[i,o].  Rows of W are contiguous, so
 * each thread streams a contiguous band of input rows into its own partial sum
 * (thread 0 straight into y), then the partials are added. */
static void cols_b1(const ivk_ops *k, float *y, const float *x, const iv_wmat *W,
                    const float *bias) {
    const int64_t out = W->out, in = W->in;
    int nt = out * in >= PAR_MIN ? omp_get_max_threads() : 1;
    if ((int64_t)nt > in) nt = (int)in;
    float *part = nt > 1 ? calloc((size_t)(nt - 1) * (size_t)out, sizeof(float)) : NULL; /* [nt-1, out] */
    if (!part) nt = 1;
    init_rows(y, 1, out, bias);
#pragma omp parallel num_threads(nt) if (nt > 1)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        int64_t i0 = in * t / n, i1 = in * (t + 1) / n;
        float *acc = t == 0 ? y : part + (int64_t)(t - 1) * out;
        k->axpys(acc, x + i0, i1 - i0, ivk_at(W->data, W->dtype, i0 * W->stride), W->dtype,
                 W->stride, out);
    }
    for (int t = 1; t < nt; t++)
        for (int64_t o = 0; o < out; o++) y[o] += part[(int64_t)(t - 1) * out + o];
    free(part);
}

static int fits_int(const iv_wmat *W, int B) {
    return W->out <= INT_MAX && W->in <= INT_MAX && W->stride <= INT_MAX && B <= INT_MAX;
}

/* f32 weights: one SGEMM, OpenBLAS threads it.  y starts as the bias. */
static void gemm_f32(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    init_rows(y, B, W->out, bias);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, W->layout == IV_OUT_IN ? CblasTrans : CblasNoTrans, B,
                (int)W->out, (int)W->in, 1.0f, x, (int)W->in, W->data, (int)W->stride, 1.0f, y,
                (int)W->out);
}

/* bf16/f16 weights: OpenMP threads each convert a tile of output rows/columns to
 * f32 in their own scratch and run a single-threaded SGEMM on it, so conversion
 * and multiply overlap across threads without two thread pools fighting. */
static void gemm_half(const ivk_ops *k, float *y, const float *x, int B, const iv_wmat *W,
                      const float *bias) {
    const int64_t out = W->out, in = W->in;
    int64_t tw = TILE_ELEMS / in; /* output rows (or columns) per tile */
    tw = tw < 16 ? 16 : tw > 256 ? 256 : tw & ~(int64_t)15;
    const int64_t ntile = (out + tw - 1) / tw;
    init_rows(y, B, out, bias);
    int nb = openblas_get_num_threads();
    if (nb > 1) openblas_set_num_threads(1);
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t ti = 0; ti < ntile; ti++) {
        int64_t o0 = ti * tw, n = out - o0 < tw ? out - o0 : tw;
        float *s = scratch((size_t)(tw * in)); /* OUT_IN: [n, in]; IN_OUT: [in, n] */
        if (!s) { /* no memory: the tiled kernel needs none */
            float *tmp = y + o0; /* accumulate on top of the bias */
            for (int b = 0; b < B; b++)
                for (int64_t r = 0; r < n; r++) {
                    float d = 0;
                    if (W->layout == IV_OUT_IN)
                        d = k->dot(x + (int64_t)b * in, ivk_at(W->data, W->dtype, (o0 + r) * W->stride),
                                   W->dtype, in);
                    else
                        for (int64_t i = 0; i < in; i++) {
                            float wv;
                            k->cvt(&wv, ivk_at(W->data, W->dtype, i * W->stride + o0 + r), W->dtype, 1);
                            d += x[(int64_t)b * in + i] * wv;
                        }
                    tmp[(int64_t)b * out + r] += d;
                }
            continue;
        }
        if (W->layout == IV_OUT_IN) {
            for (int64_t r = 0; r < n; r++)
                k->cvt(s + r * in, ivk_at(W->data, W->dtype, (o0 + r) * W->stride), W->dtype, in);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, (int)n, (int)in, 1.0f, x, (int)in,
                        s, (int)in, 1.0f, y + o0, (int)out);
        } else {
            for (int64_t i = 0; i < in; i++)
                k->cvt(s + i * n, ivk_at(W->data, W->dtype, i * W->stride + o0), W->dtype, n);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, (int)n, (int)in, 1.0f, x, (int)in,
                        s, (int)n, 1.0f, y + o0, (int)out);
        }
    }
    if (nb > 1) openblas_set_num_threads(nb);
}

/* Packed GEMM: each thread takes one range of columns (a multiple of 48, the
 * register tile's width) and packs its own chunks of W.  One wide range per
 * thread rather than several narrow ones from a queue: for IN_OUT weights the
 * range width is the length of each contiguous read from a row of W
 * (measured, 2 threads, B=32: f32 768x3072 99 -> 123 GFLOP/s, bf16 2304x768
 * 135 -> 154, B=128 bf16 768x3072 156 -> 174). */
static void gemm_own(const ivk_ops *k, float *y, const float *x, int B, const iv_wmat *W,
                     const float *bias) {
    const int64_t out = W->out;
    int nt = out * W->in * B >= PAR_MIN ? omp_get_max_threads() : 1;
    int64_t per = nt > 1 ? ((out + nt - 1) / nt + 47) / 48 * 48 : out;
    const int64_t nr = (out + per - 1) / per;
    init_rows(y, B, out, bias);
    int oom = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1 && nr > 1) reduction(| : oom)
    for (int64_t t = 0; t < nr; t++) {
        int64_t o0 = t * per, n = out - o0 < per ? out - o0 : per;
        float *p = scratch(IVK_GEMM_SCRATCH); /* one packed chunk */
        if (!p) { oom = 1; continue; }
        k->gemm_cols(y, out, x, W->in, B, W, o0, n, p);
    }
    if (!oom) return;
    /* no scratch: start over with the kernel that needs none */
    for (int b = 0; b < B; b++) cols_b1(k, y + (int64_t)b * out, x + (int64_t)b * W->in, W, bias);
}

/* OUT_IN weights, batch-vectorised (gemm_rows): x is transposed once, then
 * threads take blocks of output rows from a shared queue, about four per
 * thread so that a thread slowed by a busy core does not hold up the rest
 * (rows of W are read whole here, so narrower ranges cost nothing: measured
 * the same as one range per thread). */
static void gemm_rows_own(const ivk_ops *k, float *y, const float *x, int B, const iv_wmat *W,
                          const float *bias) {
    const int64_t out = W->out, in = W->in;
    float *xt = scratch_xt((size_t)ivk_xt_size(B, in)); /* [ceil(B/32)][in][32] */
    int oom = !xt;
    if (xt) {
        k->pack_xt(xt, x, in, B, in);
        int nt = out * in * B >= PAR_MIN ? omp_get_max_threads() : 1;
        int64_t per = nt > 1 ? ((out + 4 * nt - 1) / (4 * nt) + 11) / 12 * 12 : out;
        const int64_t nr = (out + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1 && nr > 1) reduction(| : oom)
        for (int64_t t = 0; t < nr; t++) {
            int64_t o0 = t * per, n = out - o0 < per ? out - o0 : per;
            float *p = scratch(IVK_GEMM_ROWS_SCRATCH); /* one packed chunk of 12 rows */
            if (!p) { oom = 1; continue; }
            k->gemm_rows(y, out, xt, B, W, o0, n, bias, p);
        }
    }
    if (!oom) return;
    rows_small(k, y, x, B, W); /* no memory: the kernels that need none */
    add_bias(y, B, out, bias);
}

void iv_linear(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    const int64_t out = W->out, in = W->in;
    if (B <= 0 || out <= 0) return;
    if (in <= 0) {
        init_rows(y, B, out, bias);
        return;
    }
    const ivk_ops *k = ivk_cur();
    if (W->layout == IV_OUT_IN && k->gemm_rows && B >= GEMM_MIN_B_ROWS && fits_int(W, B)) {
        gemm_rows_own(k, y, x, B, W, bias);
        return;
    }
    if (W->layout == IV_IN_OUT && k->gemm_cols && B >= GEMM_MIN_B_OWN_IN_OUT && fits_int(W, B)) {
        gemm_own(k, y, x, B, W, bias);
        return;
    }
    const int gemm_min = W->dtype == IV_F32 ? GEMM_MIN_B_F32 : GEMM_MIN_B_HALF;
    /* IV_IN_OUT has no small-batch tile: any B > 1 goes to SGEMM. */
    /* small matrices stay in our kernels: SGEMM's thread start-up dominates them */
    const int gemm = (B >= gemm_min || (W->layout == IV_IN_OUT && B > 1)) && out * in >= PAR_MIN / 16 && fits_int(W, B);
    if (gemm && W->dtype == IV_F32) gemm_f32(y, x, B, W, bias);
    else if (gemm) gemm_half(k, y, x, B, W, bias);
    else if (W->layout == IV_OUT_IN) {
        rows_small(k, y, x, B, W);
        add_bias(y, B, out, bias);
    } else if (B == 1) cols_b1(k, y, x, W, bias);
    else /* small IV_IN_OUT matrices, or sizes that overflow SGEMM's int arguments */
        for (int b = 0; b < B; b++) cols_b1(k, y + (int64_t)b * out, x + (int64_t)b * in, W, bias);
}
