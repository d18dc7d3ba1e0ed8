/* AVX512-BF16 kernels of the opt-in bf16 compute mode (iv_linear_bf16):
 *   y[b, o] = bias[o] + sum_i bf16(x[b, i]) W[o, i]
 * for bf16 weights stored [out][in].  vdpbf16ps multiplies pairs of bf16
 * (exact in f32) and adds both products into one f32 lane, so the
 * accumulation is f32 as in the default path; only x is rounded.
 *
 * Activations are rounded once per call into pairs (one 32-bit word holds
 * inputs 2k and 2k+1).  The dots kernel serves batch 1 (and every small
 * batch where AMX is missing): a row of W is loaded 32 inputs at a time and
 * multiplied against each batch row's pairs (every lane useful), then
 * reduced; W is read once for up to 16 batch rows.  Batched products go to
 * the AMX tiles (gemm_bf16_amx.c): on the CPU measured here vdpbf16ps
 * retires one per two cycles against two f32 FMAs per cycle, so a batched
 * vdpbf16ps tile (the f32 gemm_rows tile with W broadcast in pairs) ran at
 * 0.65x the default f32 path and was dropped. */
#include "avx512_load.h"
#include <string.h>

#define TBF __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,fma,f16c")))

/* xr[b*ldr + k/2] = bf16(x[b, k]) | bf16(x[b, k+1]) << 16 for k < in (pairs
 * past the end padded with 0).  ldr >= ceil(in / 2).  RNE with subnormal
 * inputs flushed to zero, as vcvtneps2bf16 does. */
TBF void ivk_bf16_round_rows(uint32_t *xr, int64_t ldr, const float *x, int64_t ldx, int B, int64_t in) {
    for (int b = 0; b < B; b++) {
        const float *xs = x + (int64_t)b * ldx;
        uint16_t *d = (uint16_t *)(xr + (int64_t)b * ldr);
        int64_t k = 0;
        for (; k + 16 <= in; k += 16)
            _mm256_storeu_si256((__m256i *)(d + k), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(xs + k)));
        if (k < in) {
            int n = (int)(in - k), ne = (n + 1) & ~1; /* the odd pad element converts from 0 */
            __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps((__mmask16)((1u << n) - 1), xs + k));
            _mm256_mask_storeu_epi16(d + k, (__mmask16)((1u << ne) - 1), h);
        }
    }
}

/* ---- small batches ---------------------------------------------------------- */

/* y[b*ldy + r] = sum_k xb[b][k] W[r][k] for r < nr, b < NB: each 32-input
 * vector of a W row serves NB batch rows.  The row `ah` ahead is
 * prefetched as this one is read. */
TBF AI void dots_nb(float *y, int64_t ldy, const uint16_t *xb, int64_t ldxb, const uint16_t *w, int64_t ws,
                    int64_t nr, int64_t in, const int NB) {
    const int64_t rb = ws * 2, ah = rb >= 6144 ? 1 : (6144 + rb - 1) / rb;
    for (int64_t r = 0; r < nr; r++) {
        const uint16_t *row = w + r * ws;
        const char *pf = (const char *)(r + ah < nr ? row + ah * ws : row);
        __m512 acc[16];
#pragma GCC unroll 16
        for (int b = 0; b < NB; b++) acc[b] = _mm512_setzero_ps();
        int64_t k = 0;
        for (; k + 32 <= in; k += 32) {
            _mm_prefetch(pf + 2 * k, _MM_HINT_T0);
            __m512bh wv = (__m512bh)_mm512_loadu_si512(row + k);
#pragma GCC unroll 16
            for (int b = 0; b < NB; b++)
                acc[b] = _mm512_dpbf16_ps(acc[b], wv, (__m512bh)_mm512_loadu_si512(xb + b * ldxb + k));
        }
        if (k < in) {
            __mmask32 m = (__mmask32)((1ull << (in - k)) - 1);
            __m512bh wv = (__m512bh)_mm512_maskz_loadu_epi16(m, row + k);
#pragma GCC unroll 16
            for (int b = 0; b < NB; b++)
                acc[b] = _mm512_dpbf16_ps(acc[b], wv, (__m512bh)_mm512_maskz_loadu_epi16(m, xb + b * ldxb + k));
        }
#pragma GCC unroll 16
        for (int b = 0; b < NB; b++) y[b * ldy + r] = _mm512_reduce_add_ps(acc[b]);
    }
}

/* See isa.h (ivk_bf16_dots_avx512). */
TBF void ivk_bf16_dots_avx512(float *y, int64_t ldy, const uint32_t *xr, int64_t ldr, int B, const void *w,
                              int64_t ws, int64_t nr, int64_t in) {
    const uint16_t *xb = (const uint16_t *)xr, *wb = w;
    const int64_t ldxb = 2 * ldr;
    switch (B) {
#define C(N) case N: dots_nb(y, ldy, xb, ldxb, wb, ws, nr, in, N); break;
        C(1) C(2) C(3) C(4) C(5) C(6) C(7) C(8) C(9) C(10) C(11) C(12) C(13) C(14) C(15) C(16)
#undef C
    default: /* callers pass at most 16; larger batches in groups of 16 */
        for (int b0 = 0; b0 < B; b0 += 16)
            ivk_bf16_dots_avx512(y + (int64_t)b0 * ldy, ldy, xr + (int64_t)b0 * ldr, ldr, B - b0 < 16 ? B - b0 : 16,
                                 w, ws, nr, in);
    }
}

