/* AVX-512 batched GEMM for OUT_IN weights (W stored [out][in], as in every HF
 * Linear), over a range of output rows:
 *   y[b, o] = bias[o] + sum_i x[b, i] W[o, i].
 *
 * Why not the column-strip GEMM (gemm_avx512.c): that one vectorises over
 * outputs, so OUT_IN weights must be transposed while packing, and at batch
 * sizes of batched decoding the transposes cost as much as the multiply.
 * Here the batch is the vector dimension instead: x is handed over already
 * transposed (xt, see isa.h), a 12-row block of W is widened to f32 a chunk at
 * a time in row order (no transpose: a streaming copy), and a 12-row x 32-batch
 * register tile (24 accumulators) broadcasts one weight per row and k against
 * two vectors of xt.  Each W element is read from memory once per 32 batch
 * rows, with 2 FMAs per broadcast. */
#include "avx512_load.h"

#define RM 12 /* output rows per register tile */
#define RKC 256 /* inputs per packed chunk: 12 KiB of f32 in L1 (IVK_GEMM_ROWS_SCRATCH) */
#define GB IVK_XT_GROUP /* batch rows per group of xt: 32, two zmm */
#define XPD 16 /* k steps ahead that xt is prefetched (4 / 8 / 32 measured less) */
_Static_assert(GB == 32, "the register tile holds two vectors of batch rows");
_Static_assert(RM * RKC <= IVK_GEMM_ROWS_SCRATCH, "scratch holds one packed chunk");

/* wp[r][0..kc) = W[row0 + r, k0 .. k0 + kc) as f32 for r < nr, zero rows up to
 * RM (their results are never stored). */
T512 AI void pack_rows(float *wp, const void *w, iv_dtype t, int64_t ws, int64_t row0, int nr,
                       int64_t k0, int kc) {
    for (int r = 0; r < RM; r++) {
        float *d = wp + r * RKC;
        if (r >= nr) {
            for (int k = 0; k < kc; k += 16) _mm512_storeu_ps(d + k, _mm512_setzero_ps());
            continue;
        }
        int64_t base = (row0 + r) * ws + k0;
        int k = 0;
        for (; k + 16 <= kc; k += 16) _mm512_storeu_ps(d + k, ld(w, t, base + k));
        if (k < kc) {
            __mmask16 m = (__mmask16)((1u << (kc - k)) - 1);
            _mm512_storeu_ps(d + k, ldm(w, t, base + k, m));
        }
    }
}

/* acc[r][v] += sum_k wp[r][k] * xt[k][16 v .. 16 v + 16)  for r < RM, v < NV;
 * meanwhile `pf_lines` cache lines from each of RM rows (stride pf_stride)
 * are prefetched, spread over the k loop, and xt XPD steps ahead (past the
 * end of xt near its end: a prefetch never faults). */
T512 AI void tile(__m512 acc[RM][2], const float *wp, const float *xt, int kc, const int NV,
                  const char *pf, int64_t pf_stride, int pf_lines) {
    const int total = RM * pf_lines;
    int due = 0, row = 0, line = 0;
    for (int k = 0; k < kc; k++) {
        for (due += total; due >= kc; due -= kc) {
            _mm_prefetch(pf + row * pf_stride + 64 * line, _MM_HINT_T0);
            if (++row == RM) row = 0, line++;
        }
        /* xt streams from L2 (a chunk is 32 KiB, all of L1); without this
         * the tile waited on it a third of the time */
        _mm_prefetch((const char *)(xt + (k + XPD) * GB), _MM_HINT_T0);
        if (NV == 2) _mm_prefetch((const char *)(xt + (k + XPD) * GB + 16), _MM_HINT_T0);
        __m512 xa = _mm512_loadu_ps(xt + k * GB), xb = xa;
        if (NV == 2) xb = _mm512_loadu_ps(xt + k * GB + 16);
#pragma GCC unroll 12
        for (int r = 0; r < RM; r++) {
            __m512 wb = _mm512_set1_ps(wp[r * RKC + k]);
            acc[r][0] = _mm512_fmadd_ps(wb, xa, acc[r][0]);
            if (NV == 2) acc[r][1] = _mm512_fmadd_ps(wb, xb, acc[r][1]);
        }
    }
}

/* One tile's results: y[b0 + b, row0 + r] = bias + acc[r][b] for r < nr, b < nb. */
T512 AI void store_tile(float *y, int64_t ldy, __m512 acc[RM][2], int NV, int64_t row0, int nr, int nb,
                        const float *bias) {
    float tmp[RM][GB];
    for (int r = 0; r < RM; r++) {
        _mm512_storeu_ps(tmp[r], acc[r][0]);
        if (NV == 2) _mm512_storeu_ps(tmp[r] + 16, acc[r][1]);
    }
    for (int b = 0; b < nb; b++) {
        float *yr = y + b * ldy + row0;
        for (int r = 0; r < nr; r++) yr[r] = tmp[r][b] + (bias ? bias[row0 + r] : 0.0f);
    }
}

/* The whole k range of one 12-row block against up to SG batch groups of xt.
 * Each chunk of W is widened once and then multiplied with every group; a
 * group's accumulators are parked in `part` between chunks (24 stores and
 * loads per 12 x 32 x 256 tile).  Re-widening the chunk for each group
 * instead made B=128 15-25% slower (2 threads, f32 2304x768: 130 -> 173
 * GFLOP/s).  Slicing the inputs so that a slice of xt stays in L2 across
 * row blocks measured 0-8% slower at B=128/256. */
#define SG 8 /* batch groups per widened chunk: `part` is 12 KiB on the stack */
T512 AI void block_t(float *y, int64_t ldy, const float *xt, int B, const iv_wmat *W, iv_dtype t,
                     int64_t row0, int nr, const float *bias, float *wp) {
    const int64_t in = W->in, ws = W->stride, es = t == IV_F32 ? 4 : 2;
    const int ng = (B + GB - 1) / GB;
    __m512 part[SG][RM][2];
    for (int64_t k0 = 0; k0 < in; k0 += RKC) {
        int kc = (int)(in - k0 < RKC ? in - k0 : RKC);
        pack_rows(wp, W->data, t, ws, row0, nr, k0, kc);
        /* prefetch the next chunk of these rows, or the first chunk of the
         * next block (none when that block runs past the matrix), during the
         * first group's tile */
        int64_t nk0 = k0 + kc, nrow = row0;
        if (nk0 >= in) nk0 = 0, nrow = row0 + RM;
        int nkc = (int)(in - nk0 < RKC ? in - nk0 : RKC);
        const char *pf = (const char *)W->data + (nrow * ws + nk0) * es;
        int lines = nrow + RM <= W->out ? (int)((nkc * es + 63) / 64) + 1 : 0; /* +1: rows need not start on a line */
        for (int g = 0; g < ng; g++) {
            int nb = B - g * GB < GB ? B - g * GB : GB, NV = nb > 16 ? 2 : 1;
            const float *xg = xt + (int64_t)g * in * GB + k0 * GB;
            __m512 acc[RM][2];
            for (int r = 0; r < RM; r++) {
                acc[r][0] = k0 ? part[g][r][0] : _mm512_setzero_ps();
                acc[r][1] = k0 ? part[g][r][1] : _mm512_setzero_ps();
            }
            if (NV == 2) tile(acc, wp, xg, kc, 2, pf, ws * es, g ? 0 : lines);
            else tile(acc, wp, xg, kc, 1, pf, ws * es, g ? 0 : lines);
            if (k0 + kc < in)
                for (int r = 0; r < RM; r++) part[g][r][0] = acc[r][0], part[g][r][1] = acc[r][1];
            else
                store_tile(y + (int64_t)g * GB * ldy, ldy, acc, NV, row0, nr, nb, bias);
        }
    }
}

/* Batch rows in super-blocks of SG groups: W is read from memory once per
 * super-block (256 batch rows). */
T512 static void rows_dtype(float *y, int64_t ldy, const float *xt, int B, const iv_wmat *W, iv_dtype t,
                            int64_t o0, int64_t n, const float *bias, float *wp) {
    for (int64_t r0 = o0; r0 < o0 + n; r0 += RM) {
        int nr = (int)(o0 + n - r0 < RM ? o0 + n - r0 : RM);
        for (int b0 = 0; b0 < B; b0 += SG * GB) {
            int nb = B - b0 < SG * GB ? B - b0 : SG * GB;
            block_t(y + (int64_t)b0 * ldy, ldy, xt + (int64_t)(b0 / GB) * W->in * GB, nb, W, t, r0, nr, bias, wp);
        }
    }
}

/* See isa.h (gemm_rows). */
T512 void ivk_gemm_rows_avx512(float *y, int64_t ldy, const float *xt, int B, const iv_wmat *W,
                               int64_t o0, int64_t n, const float *bias, float *p) {
    if (W->dtype == IV_F32) rows_dtype(y, ldy, xt, B, W, IV_F32, o0, n, bias, p);
    else if (W->dtype == IV_BF16) rows_dtype(y, ldy, xt, B, W, IV_BF16, o0, n, bias, p);
    else rows_dtype(y, ldy, xt, B, W, IV_F16, o0, n, bias, p);
}

/* See pack_xt and ivk_xt_size (isa.h): 16 x 16 blocks of x, transposed in
 * registers. */
T512 void ivk_pack_xt_avx512(float *xt, const float *x, int64_t ldx, int B, int64_t in) {
    for (int g = 0; g * GB < B; g++) {
        float *d = xt + (int64_t)g * in * GB; /* [in][GB] */
        for (int j0 = 0; j0 < GB; j0 += 16) {
            int nb = B - g * GB - j0; /* rows of x in this block */
            nb = nb < 0 ? 0 : nb > 16 ? 16 : nb;
            const float *xs = x + (int64_t)(g * GB + j0) * ldx;
            for (int64_t i0 = 0; i0 < in; i0 += 16) {
                int ni = in - i0 < 16 ? (int)(in - i0) : 16;
                __mmask16 m = (__mmask16)(ni == 16 ? 0xffff : (1u << ni) - 1);
                __m512 r[16];
                for (int j = 0; j < 16; j++)
                    r[j] = j < nb ? _mm512_maskz_loadu_ps(m, xs + j * ldx + i0) : _mm512_setzero_ps();
                transpose16(r);
                for (int q = 0; q < ni; q++) _mm512_storeu_ps(d + (i0 + q) * GB + j0, r[q]);
            }
        }
    }
}
