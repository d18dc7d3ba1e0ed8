/* iv_linear_bf16: the bf16 compute mode's matrix product (see kernels.h).
 * Rounds x to bf16 pairs once per call, then splits W's output rows over
 * threads: contiguous bands for small batches (the dots kernel streams whole
 * rows), a queue of 12-row blocks for the batched tile. */
#include "interv/kernels.h"
#include "isa.h"
#include <limits.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* Batch sizes: the AMX tile from AMX_MIN_B (its products cost nothing next
 * to reading W, but it streams W through 32 rows at a time: 1 thread, GPT-2
 * c_fc, 0.34-0.39 ms at B = 2..4 where the dots kernel took 0.29-0.34);
 * without AMX, the dots kernel below DOTS_MAX_B, then x rounded into the
 * default f32 kernels (a batched vdpbf16ps tile measured 0.65x of those:
 * vdpbf16ps retires at half the FMA rate here). */
#ifndef AMX_MIN_B
#define AMX_MIN_B 4
#endif
#define DOTS_MAX_B 16

/* Without the instructions, or for weights they do not take: x rounded,
 * then the default kernels (the same products; f32 sums in another order). */
static void fallback(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    size_t n = (size_t)B * (size_t)W->in;
    float *xr = ivk_buf_xr(n); /* [B, in] */
    if (!xr) { /* no memory: the reference needs none */
        iv_linear_bf16_ref(y, x, B, W, bias);
        return;
    }
    for (size_t i = 0; i < n; i++) xr[i] = iv_round_bf16(x[i]);
    iv_linear(y, xr, B, W, bias);
}

void iv_linear_bf16(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    const int64_t out = W->out, in = W->in, np = (in + 1) / 2;
    if (B <= 0 || out <= 0) return;
    if (!iv_kernels_bf16() || W->dtype != IV_BF16 || W->layout != IV_OUT_IN || in <= 0 || in > INT_MAX / 2) {
        fallback(y, x, B, W, bias);
        return;
    }
    const int amx = B >= AMX_MIN_B && ivk_amx();
    if (!amx && B >= DOTS_MAX_B) {
        fallback(y, x, B, W, bias);
        return;
    }
    const int64_t npp = amx ? (np + 15) / 16 * 16 : np; /* AMX reads pairs 16 at a time */
    uint32_t *xr = ivk_buf_xr((size_t)B * npp); /* [B][npp] pairs */
    uint32_t *xt = amx ? ivk_buf_xt((size_t)ivk_xt_size(B, npp)) : NULL; /* [ceil(B/32)][npp][32] */
    if (!xr || (amx && !xt)) {
        iv_linear_bf16_ref(y, x, B, W, bias);
        return;
    }
    ivk_bf16_round_rows(xr, npp, x, in, B, in);
    if (npp > np)
        for (int b = 0; b < B; b++) memset(xr + (int64_t)b * npp + np, 0, (size_t)(npp - np) * sizeof *xr);
    const int par = out * in * B >= IVK_PAR_MIN;
    if (!amx) { /* one contiguous band of rows per thread */
        int nt = par ? omp_get_max_threads() : 1;
#pragma omp parallel num_threads(nt) if (nt > 1)
        {
            int t = omp_get_thread_num(), n = omp_get_num_threads();
            int64_t r0 = out * t / n, r1 = out * (t + 1) / n;
            if (r1 > r0)
                ivk_bf16_dots_avx512(y + r0, out, xr, np, B, (const uint16_t *)W->data + r0 * W->stride, W->stride,
                                     r1 - r0, in);
        }
        if (bias)
            for (int b = 0; b < B; b++)
                for (int64_t o = 0; o < out; o++) y[(int64_t)b * out + o] += bias[o];
        return;
    }
    ivk_pack_xt_avx512((float *)xt, (const float *)xr, npp, B, npp); /* moves 32-bit words only */
    int nt = par ? omp_get_max_threads() : 1;
    int64_t per = nt > 1 ? ((out + 4 * nt - 1) / (4 * nt) + 31) / 32 * 32 : out; /* ~4 blocks per thread */
    const int64_t nr = (out + per - 1) / per;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt) if (nt > 1 && nr > 1)
    for (int64_t t = 0; t < nr; t++) {
        int64_t o0 = t * per, n = out - o0 < per ? out - o0 : per;
        ivk_bf16_rows_amx(y, out, xt, npp, B, W, o0, n, bias);
    }
}
