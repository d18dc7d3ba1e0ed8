/* AVX2 + FMA + F16C kernels: the fallback for x86-64 CPUs without AVX-512.
 * Same contract as isa_avx512.c; tails (n % 8) are done with scalar code. */
#include "isa.h"
#include <immintrin.h>

#define T256 __attribute__((target("avx2,fma,f16c")))
#define AI static inline __attribute__((always_inline))

T256 AI __m256 ld(const void *w, iv_dtype t, int64_t k) {
    if (t == IV_F32) return _mm256_loadu_ps((const float *)w + k);
    __m128i h = _mm_loadu_si128((const __m128i *)((const uint16_t *)w + k));
    if (t == IV_BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    return _mm256_cvtph_ps(h);
}

/* One element, scalar (tails).  F16C converts f16 exactly, like the vector path. */
T256 AI float ld1(const void *w, iv_dtype t, int64_t k) {
    if (t == IV_F32) return ((const float *)w)[k];
    uint16_t h = ((const uint16_t *)w)[k];
    return t == IV_BF16 ? iv_bf16_to_f32(h) : _cvtsh_ss(h);
}

T256 AI float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

T256 AI float dot_t(const float *x, const void *w, int64_t n, iv_dtype t) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int64_t k = 0;
    for (; k + 32 <= n; k += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), ld(w, t, k), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), ld(w, t, k + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 16), ld(w, t, k + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 24), ld(w, t, k + 24), a3);
    }
    for (; k + 8 <= n; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), ld(w, t, k), a0);
    float s = hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; k < n; k++) s += x[k] * ld1(w, t, k);
    return s;
}

T256 static float dot2(const float *x, const void *w, iv_dtype t, int64_t n) {
    if (t == IV_F32) return dot_t(x, w, n, IV_F32);
    if (t == IV_BF16) return dot_t(x, w, n, IV_BF16);
    return dot_t(x, w, n, IV_F16);
}

/* R weight rows x NB activation rows register tile (see isa_avx512.c). */
T256 AI void tile(float *y, int64_t ldy, const float *x, int64_t ldx, const void *w, iv_dtype t,
                  int64_t ws, int64_t n, const int R, const int NB) {
    __m256 acc[2][4];
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++) acc[r][b] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) {
        __m256 wv[2];
#pragma GCC unroll 2
        for (int r = 0; r < R; r++) wv[r] = ld(w, t, r * ws + k);
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++) {
            __m256 xv = _mm256_loadu_ps(x + b * ldx + k);
#pragma GCC unroll 2
            for (int r = 0; r < R; r++) acc[r][b] = _mm256_fmadd_ps(xv, wv[r], acc[r][b]);
        }
    }
#pragma GCC unroll 2
    for (int r = 0; r < R; r++)
#pragma GCC unroll 4
        for (int b = 0; b < NB; b++) {
            float s = hsum(acc[r][b]);
            for (int64_t j = k; j < n; j++) s += x[b * ldx + j] * ld1(w, t, r * ws + j);
            y[b * ldy + r] = s;
        }
}

T256 AI void mdot_t(float *y, int64_t ldy, const float *x, int64_t ldx, int nb, const void *w,
                    iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    const int64_t es = t == IV_F32 ? 4 : 2;
    for (int64_t r = 0; r < nr; r += 2) {
        const void *wr = (const char *)w + r * ws * es;
        int two = r + 1 < nr, b = 0;
        for (; b + 4 <= nb; b += 4) {
            if (two) tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 2, 4);
            else tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 1, 4);
        }
        if (b + 2 <= nb) {
            if (two) tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 2, 2);
            else tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 1, 2);
            b += 2;
        }
        if (b < nb) {
            if (two) tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 2, 1);
            else tile(y + b * ldy + r, ldy, x + b * ldx, ldx, wr, t, ws, n, 1, 1);
        }
    }
}

T256 static void mdot2(float *y, int64_t ldy, const float *x, int64_t ldx, int nb, const void *w,
                       iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    if (t == IV_F32) mdot_t(y, ldy, x, ldx, nb, w, IV_F32, ws, nr, n);
    else if (t == IV_BF16) mdot_t(y, ldy, x, ldx, nb, w, IV_BF16, ws, nr, n);
    else mdot_t(y, ldy, x, ldx, nb, w, IV_F16, ws, nr, n);
}

T256 AI void axpys_t(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t, int64_t ws,
                     int64_t n) {
    int64_t r = 0;
    for (; r + 4 <= nr; r += 4) {
        __m256 a0 = _mm256_set1_ps(a[r]), a1 = _mm256_set1_ps(a[r + 1]);
        __m256 a2 = _mm256_set1_ps(a[r + 2]), a3 = _mm256_set1_ps(a[r + 3]);
        int64_t o0 = r * ws, o1 = o0 + ws, o2 = o1 + ws, o3 = o2 + ws, j = 0;
        for (; j + 8 <= n; j += 8) {
            __m256 s = _mm256_loadu_ps(acc + j);
            s = _mm256_fmadd_ps(a0, ld(w, t, o0 + j), s);
            s = _mm256_fmadd_ps(a1, ld(w, t, o1 + j), s);
            s = _mm256_fmadd_ps(a2, ld(w, t, o2 + j), s);
            s = _mm256_fmadd_ps(a3, ld(w, t, o3 + j), s);
            _mm256_storeu_ps(acc + j, s);
        }
        for (; j < n; j++)
            acc[j] += a[r] * ld1(w, t, o0 + j) + a[r + 1] * ld1(w, t, o1 + j) +
                      a[r + 2] * ld1(w, t, o2 + j) + a[r + 3] * ld1(w, t, o3 + j);
    }
    for (; r < nr; r++) {
        __m256 a0 = _mm256_set1_ps(a[r]);
        int64_t o0 = r * ws, j = 0;
        for (; j + 8 <= n; j += 8)
            _mm256_storeu_ps(acc + j, _mm256_fmadd_ps(a0, ld(w, t, o0 + j), _mm256_loadu_ps(acc + j)));
        for (; j < n; j++) acc[j] += a[r] * ld1(w, t, o0 + j);
    }
}

T256 static void axpys2(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t,
                        int64_t ws, int64_t n) {
    if (t == IV_F32) axpys_t(acc, a, nr, w, IV_F32, ws, n);
    else if (t == IV_BF16) axpys_t(acc, a, nr, w, IV_BF16, ws, n);
    else axpys_t(acc, a, nr, w, IV_F16, ws, n);
}

T256 AI void cvt_t(float *dst, const void *src, iv_dtype t, int64_t n) {
    int64_t k = 0;
    for (; k + 8 <= n; k += 8) _mm256_storeu_ps(dst + k, ld(src, t, k));
    for (; k < n; k++) dst[k] = ld1(src, t, k);
}

T256 static void cvt2(float *dst, const void *src, iv_dtype t, int64_t n) {
    if (t == IV_F32) cvt_t(dst, src, IV_F32, n);
    else if (t == IV_BF16) cvt_t(dst, src, IV_BF16, n);
    else cvt_t(dst, src, IV_F16, n);
}

const ivk_ops ivk_ops_avx2 = {"avx2", dot2, mdot2, axpys2, cvt2, NULL, ivk_scores_by_dot, ivk_dots_by_dot, NULL, NULL};
