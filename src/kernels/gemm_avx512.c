/* AVX-512 packed GEMM for IN_OUT weights (W stored [in][out], as GPT-2's
 * Conv1D) over a range of output columns:  y[:, o0:o0+n] += x W[:, o0:o0+n].
 * (OUT_IN weights go to gemm_rows_avx512.c, which needs no transpose.)
 *
 * Why not SGEMM: at the batch sizes of batched decoding (8..64 rows) OpenBLAS
 * spends as long packing the weight matrix as multiplying, and bf16/f16 weights
 * first need an f32 copy.  Here each chunk of W (KC inputs x up to NC outputs,
 * any dtype) is converted once into an L2-resident f32 buffer
 * laid out as 16-column strips, p[strip][k][16]; an 8-row x 48-column register
 * tile (24 accumulators) then takes each 48-column group (L1-resident) through
 * all batch rows.  The inner loop does 3 vector loads and 8 broadcasts per 24
 * FMAs.  The next chunk's rows are prefetched meanwhile. */
#include "avx512_load.h"

#define SW 16 /* columns per packed strip (one zmm) */
/* Floats from one packed strip to the next: one cache line of padding, so the
 * three strips of a register tile (8 KiB apart otherwise) do not all land in
 * the same L1 sets (measured +15% on a hot 384x768 panel at B=32). */
#define PITCH(kc) ((int64_t)(kc) * SW + 16)
#define MR 8  /* batch rows per register tile */
#define NS 3  /* strips per register tile */

static inline __mmask16 lowmask(int n) { return (__mmask16)(n >= 16 ? 0xffff : (1u << n) - 1); }

/* Packs inputs k0..k0+kc of outputs o0..o0+nc into p[strip][k][16] (f32),
 * zero past nc.  W(o,i) is at i*stride + o, so each strip row is one (masked)
 * vector load. */
T512 AI void pack_t(float *p, const iv_wmat *W, iv_dtype t, int64_t k0, int kc, int64_t o0, int nc) {
    const int64_t ws = W->stride;
    const void *w = W->data;
    int full = nc / SW, rest = nc - full * SW;
    __mmask16 m = lowmask(rest);
    /* 16 rows at a time, strip by strip: 16 row streams in flight keep
     * more DRAM requests outstanding than one row after another (measured
     * at B=32, f32 3072x768: 44 -> 56 GFLOP/s; 768x3072: 34 -> 59) */
    int k = 0;
    for (; k + 16 <= kc; k += 16) {
        for (int s = 0; s < full; s++)
            for (int q = 0; q < 16; q++)
                _mm512_storeu_ps(p + s * PITCH(kc) + (k + q) * SW, ld(w, t, (k0 + k + q) * ws + o0 + s * SW));
        if (rest)
            for (int q = 0; q < 16; q++)
                _mm512_storeu_ps(p + full * PITCH(kc) + (k + q) * SW,
                                 ldm(w, t, (k0 + k + q) * ws + o0 + full * SW, m));
    }
    for (; k < kc; k++) {
        int64_t row = (k0 + k) * ws + o0;
        for (int s = 0; s < full; s++)
            _mm512_storeu_ps(p + s * PITCH(kc) + k * SW, ld(w, t, row + s * SW));
        if (rest) _mm512_storeu_ps(p + full * PITCH(kc) + k * SW, ldm(w, t, row + full * SW, m));
    }
}

/* Weight bytes to prefetch into L2: segment i (i < nseg) is `lines` cache
 * lines from base + i * stride. */
typedef struct {
    const char *base;
    int64_t stride;
    int lines, nseg;
} pf_span;

/* y[m, 16 s + j] += sum_k x[m, k] p[s][k][j]  for m < MRV, s < NSV (the last
 * strip masked by `last`).  Meanwhile the segments of `pf` are prefetched,
 * spread evenly over the k loop so the requests never pile up. */
T512 AI void ukernel(float *y, int64_t ldy, const float *x, int64_t ldx, const float *p, int kc,
                     __mmask16 last, pf_span pf, const int MRV, const int NSV) {
    __m512 acc[MR][NS];
#pragma GCC unroll 8
    for (int m = 0; m < MRV; m++)
#pragma GCC unroll 3
        for (int s = 0; s < NSV; s++) acc[m][s] = _mm512_setzero_ps();
    const int64_t ss = PITCH(kc);
    /* one line at a time (a burst of a whole row would queue behind the
     * limited miss buffers and stall the FMAs) */
    const int total = pf.nseg * pf.lines;
    int due = 0, line = 0;
    for (int k = 0; k < kc; k++) {
        for (due += total; due >= kc; due -= kc) {
            _mm_prefetch(pf.base + 64 * line, _MM_HINT_T1);
            if (++line == pf.lines) line = 0, pf.base += pf.stride;
        }
        __m512 w[NS];
#pragma GCC unroll 3
        for (int s = 0; s < NSV; s++) w[s] = _mm512_loadu_ps(p + s * ss + k * SW);
#pragma GCC unroll 8
        for (int m = 0; m < MRV; m++) {
            __m512 xb = _mm512_set1_ps(x[m * ldx + k]);
#pragma GCC unroll 3
            for (int s = 0; s < NSV; s++) acc[m][s] = _mm512_fmadd_ps(xb, w[s], acc[m][s]);
        }
    }
#pragma GCC unroll 8
    for (int m = 0; m < MRV; m++)
#pragma GCC unroll 3
        for (int s = 0; s < NSV; s++) {
            float *yp = y + m * ldy + s * SW;
            __mmask16 mk = s == NSV - 1 ? last : 0xffff;
            _mm512_mask_storeu_ps(yp, mk, _mm512_add_ps(_mm512_maskz_loadu_ps(mk, yp), acc[m][s]));
        }
}

#define UK(M) \
    (ns == 3 ? ukernel(y, ldy, x, ldx, p, kc, last, pf, M, 3) \
     : ns == 2 ? ukernel(y, ldy, x, ldx, p, kc, last, pf, M, 2) : ukernel(y, ldy, x, ldx, p, kc, last, pf, M, 1))

T512 static void ukernel_any(float *y, int64_t ldy, const float *x, int64_t ldx, const float *p, int kc,
                             __mmask16 last, pf_span pf, int mr, int ns) {
    switch (mr) {
    case 8: UK(8); break;
    case 7: UK(7); break;
    case 6: UK(6); break;
    case 5: UK(5); break;
    case 4: UK(4); break;
    case 3: UK(3); break;
    case 2: UK(2); break;
    default: UK(1); break;
    }
}
#undef UK

T512 static void pack512(float *p, const iv_wmat *W, int64_t k0, int kc, int64_t o0, int nc) {
    if (W->dtype == IV_F32) pack_t(p, W, IV_F32, k0, kc, o0, nc);
    else if (W->dtype == IV_BF16) pack_t(p, W, IV_BF16, k0, kc, o0, nc);
    else pack_t(p, W, IV_F16, k0, kc, o0, nc);
}

/* The raw weights of one packed chunk (inputs k0..k0+kc, outputs o0..o0+nc)
 * as prefetch segments: one per row of W that the chunk touches.  Fetched a
 * line per k step while the previous chunk is multiplied, the next pack finds
 * them in L2 (measured at B=32, 1 thread: bf16 3072x768 IN_OUT 67 -> 75
 * GFLOP/s). */
static pf_span chunk_span(const iv_wmat *W, int64_t k0, int kc, int64_t o0, int nc) {
    const int64_t es = W->dtype == IV_F32 ? 4 : 2;
    pf_span f = {W->data, W->stride * es, 0, 0};
    if (kc <= 0 || nc <= 0) return f;
    /* +1 line per row: a row need not start on a line */
    f.base = (const char *)W->data + (k0 * W->stride + o0) * es;
    f.nseg = kc;
    f.lines = (int)((nc * es + 63) / 64) + 1;
    return f;
}

/* See isa.h (gemm_cols).  Chunks run panel by panel, inputs in steps of KC;
 * while one chunk is multiplied the next one's weights are prefetched. */
T512 void ivk_gemm_cols_avx512(float *y, int64_t ldy, const float *x, int64_t ldx, int B,
                              const iv_wmat *W, int64_t o0, int64_t ncols, float *p) {
    const int64_t in = W->in;
    for (int64_t c = 0; c < ncols; c += IVK_GEMM_NC)
        for (int64_t k0 = 0; k0 < in; k0 += IVK_GEMM_KC) {
            int nc = (int)(ncols - c < IVK_GEMM_NC ? ncols - c : IVK_GEMM_NC);
            int kc = (int)(in - k0 < IVK_GEMM_KC ? in - k0 : IVK_GEMM_KC);
            pack512(p, W, k0, kc, o0 + c, nc);
            /* the chunk after this one */
            int64_t nk0 = k0 + kc, nc0 = c;
            if (nk0 >= in) nk0 = 0, nc0 = c + IVK_GEMM_NC;
            pf_span next = {0};
            if (nc0 < ncols) {
                int nnc = (int)(ncols - nc0 < IVK_GEMM_NC ? ncols - nc0 : IVK_GEMM_NC);
                next = chunk_span(W, nk0, (int)(in - nk0 < IVK_GEMM_KC ? in - nk0 : IVK_GEMM_KC), o0 + nc0, nnc);
            }
            const int nbg = (B + MR - 1) / MR, ncg = (nc + NS * SW - 1) / (NS * SW), calls = nbg * ncg;
            int ci = 0;
            for (int c0 = 0; c0 < nc; c0 += NS * SW) {
                int cols = nc - c0 < NS * SW ? nc - c0 : NS * SW, ns = (cols + SW - 1) / SW;
                __mmask16 last = lowmask(cols - (ns - 1) * SW);
                for (int b0 = 0; b0 < B; b0 += MR, ci++) {
                    int mr = B - b0 < MR ? B - b0 : MR;
                    int s0 = (int)((int64_t)next.nseg * ci / calls), s1 = (int)((int64_t)next.nseg * (ci + 1) / calls);
                    pf_span mine = next;
                    if (next.nseg) mine.base += s0 * next.stride, mine.nseg = s1 - s0;
                    ukernel_any(y + b0 * ldy + o0 + c + c0, ldy, x + b0 * ldx + k0, ldx,
                                p + (c0 / SW) * PITCH(kc), kc, last, mine, mr, ns);
                }
            }
        }
}
