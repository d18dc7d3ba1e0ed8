/* AVX2 twin of act_avx512.c: the same exp (Cody-Waite split, degree-6
 * polynomial) on 8 lanes.  2^n goes into the exponent bits, so inputs below
 * -87.3 (n < -126) give exactly 0 and inputs above 88.7 are clamped to a huge
 * finite value.  Tails run through the same vector code on a padded copy. */
#include "isa.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define T256 __attribute__((target("avx2,fma,f16c")))
#define AI static inline __attribute__((always_inline))

T256 AI __m256 vexp(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.3f), hi = _mm256_set1_ps(88.7f);
    __m256 zero = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), hi);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    /* n in [-126, 128]: 2^n as bits; 2^128 is split as 2 * 2^127 */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i big = _mm256_cmpgt_epi32(ni, _mm256_set1_epi32(127));
    ni = _mm256_sub_epi32(ni, _mm256_and_si256(big, _mm256_set1_epi32(1)));
    p = _mm256_blendv_ps(p, _mm256_add_ps(p, p), _mm256_castsi256_ps(big));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(ni, _mm256_set1_epi32(127)), 23));
    return _mm256_andnot_ps(zero, _mm256_mul_ps(p, scale));
}

T256 AI __m256 vgelu(__m256 x) {
    __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
    __m256 u2 = _mm256_mul_ps(_mm256_set1_ps(-1.5957691216057308f),
                              _mm256_fmadd_ps(x3, _mm256_set1_ps(0.044715f), x)); /* -2u */
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), vexp(u2)));
}

T256 AI __m256 vsilu(__m256 x) {
    return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), vexp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

T256 static void gelu2(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, vgelu(_mm256_loadu_ps(x + i)));
    if (i < n) {
        float t[8] = {0};
        memcpy(t, x + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(t, vgelu(_mm256_loadu_ps(t)));
        memcpy(x + i, t, (size_t)(n - i) * 4);
    }
}

T256 AI __m256 gate(__m256 g, int gelu) { return gelu ? vgelu(g) : vsilu(g); }

T256 static void gated2(float *g, const float *u, int64_t n, int gelu) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(g + i, _mm256_mul_ps(gate(_mm256_loadu_ps(g + i), gelu), _mm256_loadu_ps(u + i)));
    if (i < n) {
        float t[8] = {0}, v[8] = {0};
        memcpy(t, g + i, (size_t)(n - i) * 4);
        memcpy(v, u + i, (size_t)(n - i) * 4);
        _mm256_storeu_ps(t, _mm256_mul_ps(gate(_mm256_loadu_ps(t), gelu), _mm256_loadu_ps(v)));
        memcpy(g + i, t, (size_t)(n - i) * 4);
    }
}

T256 static void softmax2(float *x, int64_t n) {
    float m = -INFINITY;
    for (int64_t i = 0; i < n; i++) m = x[i] > m ? x[i] : m;
    if (m == -INFINITY) {
        for (int64_t i = 0; i < n; i++) x[i] = 0;
        return;
    }
    __m256 vm = _mm256_set1_ps(m), s = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = vexp(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
        s = _mm256_add_ps(s, e);
        _mm256_storeu_ps(x + i, e);
    }
    float tot = 0;
    if (i < n) {
        float t[8];
        for (int j = 0; j < 8; j++) t[j] = i + j < n ? x[i + j] - m : -INFINITY;
        _mm256_storeu_ps(t, vexp(_mm256_loadu_ps(t)));
        for (int64_t j = 0; j < n - i; j++) x[i + j] = t[j], tot += t[j];
    }
    float h[8];
    _mm256_storeu_ps(h, s);
    tot += ((h[0] + h[1]) + (h[2] + h[3])) + ((h[4] + h[5]) + (h[6] + h[7]));
    __m256 r = _mm256_set1_ps(1.0f / tot);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), r));
    for (; i < n; i++) x[i] *= 1.0f / tot;
}

const ivk_act ivk_act_avx2 = {gelu2, gated2, softmax2};
