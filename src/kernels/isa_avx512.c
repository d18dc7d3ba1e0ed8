/* AVX-512 kernels (f32 / bf16 / f16 weights, f32 activations).  Function-level
 * target attributes keep the rest of the library free of -mavx512 flags; the
 * dispatcher only uses this table when the CPU reports every feature below. */
#include "avx512_load.h"

T512 AI float dot_t(const float *x, const void *w, int64_t n, iv_dtype t) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t k = 0;
    for (; k + 64 <= n; k += 64) {
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), ld(w, t, k), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), ld(w, t, k + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 32), ld(w, t, k + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 48), ld(w, t, k + 48), a3);
    }
    for (; k + 16 <= n; k += 16) a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), ld(w, t, k), a0);
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), ldm(w, t, k, m), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* dot_t that also prefetches the same span of another row (pf), for the
 * batch-1 row loop: the hardware streamer alone leaves ~10% of the bandwidth
 * unused on rows of 1.5-4 KiB. */
T512 AI float dot_pf_t(const float *x, const void *w, int64_t n, iv_dtype t, const char *pf) {
    const int64_t es = t == IV_F32 ? 4 : 2;
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t k = 0;
    for (; k + 64 <= n; k += 64) {
        for (int64_t b = 0; b < 64 * es; b += 64) _mm_prefetch(pf + k * es + b, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), ld(w, t, k), a0);
        a1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 16), ld(w, t, k + 16), a1);
        a2 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 32), ld(w, t, k + 32), a2);
        a3 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k + 48), ld(w, t, k + 48), a3);
    }
    for (; k + 16 <= n; k += 16) {
        _mm_prefetch(pf + k * es, _MM_HINT_T0);
        a0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + k), ld(w, t, k), a0);
    }
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        a1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + k), ldm(w, t, k, m), a1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
}

/* Rows ahead to prefetch: about 6 KiB (measured best for 1.5-4 KiB rows). */
static inline int64_t rows_ahead(int64_t ws_bytes) {
    return ws_bytes >= 6144 ? 1 : (6144 + ws_bytes - 1) / ws_bytes;
}

T512 AI void dots_t(float *y, const float *x, const void *w, iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    const int64_t es = t == IV_F32 ? 4 : 2, ah = rows_ahead(ws * es);
    for (int64_t r = 0; r < nr; r++) {
        const char *row = (const char *)w + r * ws * es;
        /* past the last row: prefetch this row again (prefetching never faults,
         * but the address must stay inside the object) */
        const char *pf = r + ah < nr ? row + ah * ws * es : row;
        y[r] = dot_pf_t(x, row, n, t, pf);
    }
}

T512 static void dots512(float *y, const float *x, const void *w, iv_dtype t, int64_t ws, int64_t nr,
                         int64_t n) {
    if (t == IV_F32) dots_t(y, x, w, IV_F32, ws, nr, n);
    else if (t == IV_BF16) dots_t(y, x, w, IV_BF16, ws, nr, n);
    else dots_t(y, x, w, IV_F16, ws, nr, n);
}

T512 static float dot512(const float *x, const void *w, iv_dtype t, int64_t n) {
    if (t == IV_F32) return dot_t(x, w, n, IV_F32);
    if (t == IV_BF16) return dot_t(x, w, n, IV_BF16);
    return dot_t(x, w, n, IV_F16);
}

/* R weight rows x NB batch rows register tile over k in [0, n): each weight
 * vector is loaded and converted once and reused for NB activation rows.  The
 * partial sums stay vectors in part[r][b] (in L1) so the k range can be split
 * into chunks whose activations fit in L1; they are reduced once at the end. */
T512 AI void tile(__m512 (*part)[8], const float *x, int64_t ldx, const void *w, iv_dtype t,
                  int64_t ws, int64_t n, int first, const int R, const int NB) {
    __m512 acc[2][8];
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int b = 0; b < NB; b++) acc[r][b] = first ? _mm512_setzero_ps() : part[r][b];
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) {
        __m512 wv[2];
#pragma GCC unroll 2
        for (int r = 0; r < R; r++) wv[r] = ld(w, t, r * ws + k);
#pragma GCC unroll 8
        for (int b = 0; b < NB; b++) {
            __m512 xv = _mm512_loadu_ps(x + b * ldx + k);
#pragma GCC unroll 2
            for (int r = 0; r < R; r++) acc[r][b] = _mm512_fmadd_ps(xv, wv[r], acc[r][b]);
        }
    }
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        __m512 wv[2];
#pragma GCC unroll 2
        for (int r = 0; r < R; r++) wv[r] = ldm(w, t, r * ws + k, m);
#pragma GCC unroll 8
        for (int b = 0; b < NB; b++) {
            __m512 xv = _mm512_maskz_loadu_ps(m, x + b * ldx + k);
#pragma GCC unroll 2
            for (int r = 0; r < R; r++) acc[r][b] = _mm512_fmadd_ps(xv, wv[r], acc[r][b]);
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 8
        for (int b = 0; b < NB; b++) part[r][b] = acc[r][b];
}

/* Activation columns per chunk: 8 rows x 512 floats = 16 KiB of x in L1. */
#define KC 512
/* Weight rows whose partial sums are kept at once. */
#define RB 16

T512 AI void mdot_t(float *y, int64_t ldy, const float *x, int64_t ldx, int nb, const void *w,
                    iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    const int64_t es = t == IV_F32 ? 4 : 2;
    __m512 part[RB][8];
    int g;
    for (int b0 = 0; b0 < nb; b0 += g) {
        int rem = nb - b0;
        g = rem >= 8 ? 8 : rem; /* one pass over W for up to 8 rows (a 4+2+1 split read W 3 times for 7) */
        const float *xb = x + b0 * ldx;
        for (int64_t r0 = 0; r0 < nr; r0 += RB) {
            int64_t nrb = nr - r0 < RB ? nr - r0 : RB;
            for (int64_t k0 = 0; k0 < n; k0 += KC) {
                int64_t kn = n - k0 < KC ? n - k0 : KC;
                int first = k0 == 0;
                for (int64_t r = 0; r < nrb; r += 2) {
                    const void *wr = (const char *)w + ((r0 + r) * ws + k0) * es;
                    __m512 (*p)[8] = part + r;
                    int two = r + 1 < nrb;
#define TILE(R, NB) tile(p, xb + k0, ldx, wr, t, ws, kn, first, R, NB)
                    switch (g) {
#define G(N) case N: if (two) TILE(2, N); else TILE(1, N); break;
                        G(1) G(2) G(3) G(4) G(5) G(6) G(7) default: if (two) TILE(2, 8); else TILE(1, 8);
#undef G
                    }
#undef TILE
                }
            }
            for (int64_t r = 0; r < nrb; r++)
                for (int b = 0; b < g; b++)
                    y[(b0 + b) * ldy + r0 + r] = _mm512_reduce_add_ps(part[r][b]);
        }
    }
}

T512 static void mdot512(float *y, int64_t ldy, const float *x, int64_t ldx, int nb, const void *w,
                         iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    if (t == IV_F32) mdot_t(y, ldy, x, ldx, nb, w, IV_F32, ws, nr, n);
    else if (t == IV_BF16) mdot_t(y, ldy, x, ldx, nb, w, IV_BF16, ws, nr, n);
    else mdot_t(y, ldy, x, ldx, nb, w, IV_F16, ws, nr, n);
}

/* acc[j] += sum_r a[r] w[r*ws + j]: rows four at a time so acc is loaded and
 * stored once per four weight vectors. */
T512 AI void axpys_t(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t, int64_t ws,
                     int64_t n) {
    const int64_t es = t == IV_F32 ? 4 : 2;
    int64_t r = 0;
    for (; r + 4 <= nr; r += 4) {
        __m512 a0 = _mm512_set1_ps(a[r]), a1 = _mm512_set1_ps(a[r + 1]);
        __m512 a2 = _mm512_set1_ps(a[r + 2]), a3 = _mm512_set1_ps(a[r + 3]);
        int64_t o0 = r * ws, o1 = o0 + ws, o2 = o1 + ws, o3 = o2 + ws, j = 0;
        /* the group of four rows two groups ahead (the same group at the end):
         * short rows defeat the hardware streamer (measured 8.6 -> 10.6 GB/s
         * on GPT-2's 3072x768 bf16 c_proj) */
        const char *pf = (const char *)w + (r + 12 <= nr ? o0 + 8 * ws : o0) * es;
        const int64_t pstep = 64 / (16 * es); /* j steps per cache line */
        for (; j + 16 <= n; j += 16) {
            if ((j / 16) % pstep == 0) {
                const char *q = pf + j * es;
                _mm_prefetch(q, _MM_HINT_T0);
                _mm_prefetch(q + ws * es, _MM_HINT_T0);
                _mm_prefetch(q + 2 * ws * es, _MM_HINT_T0);
                _mm_prefetch(q + 3 * ws * es, _MM_HINT_T0);
            }
            __m512 s = _mm512_loadu_ps(acc + j);
            s = _mm512_fmadd_ps(a0, ld(w, t, o0 + j), s);
            s = _mm512_fmadd_ps(a1, ld(w, t, o1 + j), s);
            s = _mm512_fmadd_ps(a2, ld(w, t, o2 + j), s);
            s = _mm512_fmadd_ps(a3, ld(w, t, o3 + j), s);
            _mm512_storeu_ps(acc + j, s);
        }
        if (j < n) {
            __mmask16 m = (__mmask16)((1u << (n - j)) - 1);
            __m512 s = _mm512_maskz_loadu_ps(m, acc + j);
            s = _mm512_fmadd_ps(a0, ldm(w, t, o0 + j, m), s);
            s = _mm512_fmadd_ps(a1, ldm(w, t, o1 + j, m), s);
            s = _mm512_fmadd_ps(a2, ldm(w, t, o2 + j, m), s);
            s = _mm512_fmadd_ps(a3, ldm(w, t, o3 + j, m), s);
            _mm512_mask_storeu_ps(acc + j, m, s);
        }
    }
    for (; r < nr; r++) {
        __m512 a0 = _mm512_set1_ps(a[r]);
        int64_t o0 = r * ws, j = 0;
        for (; j + 16 <= n; j += 16)
            _mm512_storeu_ps(acc + j, _mm512_fmadd_ps(a0, ld(w, t, o0 + j), _mm512_loadu_ps(acc + j)));
        if (j < n) {
            __mmask16 m = (__mmask16)((1u << (n - j)) - 1);
            __m512 s = _mm512_fmadd_ps(a0, ldm(w, t, o0 + j, m), _mm512_maskz_loadu_ps(m, acc + j));
            _mm512_mask_storeu_ps(acc + j, m, s);
        }
    }
}

T512 static void axpys512(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t,
                          int64_t ws, int64_t n) {
    if (t == IV_F32) axpys_t(acc, a, nr, w, IV_F32, ws, n);
    else if (t == IV_BF16) axpys_t(acc, a, nr, w, IV_BF16, ws, n);
    else axpys_t(acc, a, nr, w, IV_F16, ws, n);
}

T512 AI void cvt_t(float *dst, const void *src, iv_dtype t, int64_t n) {
    int64_t k = 0;
    for (; k + 16 <= n; k += 16) _mm512_storeu_ps(dst + k, ld(src, t, k));
    if (k < n) {
        __mmask16 m = (__mmask16)((1u << (n - k)) - 1);
        _mm512_mask_storeu_ps(dst + k, m, ldm(src, t, k, m));
    }
}

T512 static void cvt512(float *dst, const void *src, iv_dtype t, int64_t n) {
    if (t == IV_F32) cvt_t(dst, src, IV_F32, n);
    else if (t == IV_BF16) cvt_t(dst, src, IV_BF16, n);
    else cvt_t(dst, src, IV_F16, n);
}

/* Attention scores with the query held in HV registers, four keys per pass. */
T512 AI void scores_t(float *sc, const float *q, const float *k, int64_t ldk, int n, float scale,
                      const int HV) {
    __m512 qv[16];
#pragma GCC unroll 16
    for (int v = 0; v < HV; v++) qv[v] = _mm512_loadu_ps(q + 16 * v);
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        const float *k0 = k + t * ldk;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
#pragma GCC unroll 16
        for (int v = 0; v < HV; v++) {
            a0 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k0 + 16 * v), a0);
            a1 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k0 + ldk + 16 * v), a1);
            a2 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k0 + 2 * ldk + 16 * v), a2);
            a3 = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k0 + 3 * ldk + 16 * v), a3);
        }
        sc[t] = scale * _mm512_reduce_add_ps(a0);
        sc[t + 1] = scale * _mm512_reduce_add_ps(a1);
        sc[t + 2] = scale * _mm512_reduce_add_ps(a2);
        sc[t + 3] = scale * _mm512_reduce_add_ps(a3);
    }
    for (; t < n; t++) {
        __m512 a = _mm512_setzero_ps();
#pragma GCC unroll 16
        for (int v = 0; v < HV; v++) a = _mm512_fmadd_ps(qv[v], _mm512_loadu_ps(k + t * ldk + 16 * v), a);
        sc[t] = scale * _mm512_reduce_add_ps(a);
    }
}

T512 static void scores512(float *sc, const float *q, const float *k, int64_t ldk, int n, int hd,
                           float scale) {
    if (hd == 64) scores_t(sc, q, k, ldk, n, scale, 4);
    else if (hd == 128) scores_t(sc, q, k, ldk, n, scale, 8);
    else if (hd == 256) scores_t(sc, q, k, ldk, n, scale, 16);
    else if (hd == 32) scores_t(sc, q, k, ldk, n, scale, 2);
    else ivk_scores_by_dot(sc, q, k, ldk, n, hd, scale);
}

const ivk_ops ivk_ops_avx512 = {"avx512", dot512, mdot512, axpys512, cvt512, ivk_gemm_cols_avx512, scores512, dots512, ivk_gemm_rows_avx512,
                               ivk_pack_xt_avx512};
