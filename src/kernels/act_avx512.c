/* AVX-512 element-wise activations and softmax, built on one vector exp.
 * exp: x = n ln2 + r with |r| <= ln2/2 (two-constant Cody-Waite split), e^r by
 * its degree-6 Taylor polynomial (relative error < 2e-7), times 2^n by scalef.
 * Inputs below -103 give exactly 0 (so masked -inf scores vanish); above 88.7,
 * +inf. */
#include "isa.h"
#include <immintrin.h>
#include <math.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define AI static inline __attribute__((always_inline))

T512 AI __m512 vexp(__m512 x) {
    const __m512 lo = _mm512_set1_ps(-103.0f), hi = _mm512_set1_ps(88.8f);
    __mmask16 zero = _mm512_cmp_ps_mask(x, lo, _CMP_LT_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, lo), hi);
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 720);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_mov_ps((__mmask16)~zero, _mm512_scalef_ps(p, n));
}

/* x * sigmoid(2u) == 0.5 x (1 + tanh(u)),  u = sqrt(2/pi) (x + 0.044715 x^3). */
T512 AI __m512 vgelu(__m512 x) {
    __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
    __m512 u2 = _mm512_mul_ps(_mm512_set1_ps(-1.5957691216057308f),
                              _mm512_fmadd_ps(x3, _mm512_set1_ps(0.044715f), x)); /* -2u */
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), vexp(u2)));
}

T512 AI __m512 vsilu(__m512 x) {
    return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), vexp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

static inline __mmask16 tailmask(int64_t n) { return (__mmask16)((1u << n) - 1); }

T512 static void gelu512(float *x, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, vgelu(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 m = tailmask(n - i);
        _mm512_mask_storeu_ps(x + i, m, vgelu(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

T512 AI __m512 gate(__m512 g, int gelu) { return gelu ? vgelu(g) : vsilu(g); }

T512 static void gated512(float *g, const float *u, int64_t n, int gelu) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(g + i, _mm512_mul_ps(gate(_mm512_loadu_ps(g + i), gelu), _mm512_loadu_ps(u + i)));
    if (i < n) {
        __mmask16 m = tailmask(n - i);
        __m512 v = _mm512_mul_ps(gate(_mm512_maskz_loadu_ps(m, g + i), gelu), _mm512_maskz_loadu_ps(m, u + i));
        _mm512_mask_storeu_ps(g + i, m, v);
    }
}

T512 static void softmax512(float *x, int64_t n) {
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(x + i));
    if (i < n) mx = _mm512_mask_max_ps(mx, tailmask(n - i), mx, _mm512_maskz_loadu_ps(tailmask(n - i), x + i));
    float m = _mm512_reduce_max_ps(mx);
    if (m == -INFINITY) { /* everything masked */
        for (i = 0; i < n; i++) x[i] = 0;
        return;
    }
    __m512 vm = _mm512_set1_ps(m), s = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = vexp(_mm512_sub_ps(_mm512_loadu_ps(x + i), vm));
        s = _mm512_add_ps(s, e);
        _mm512_storeu_ps(x + i, e);
    }
    if (i < n) {
        __mmask16 t = tailmask(n - i);
        __m512 e = _mm512_maskz_mov_ps(t, vexp(_mm512_sub_ps(_mm512_maskz_loadu_ps(t, x + i), vm)));
        s = _mm512_add_ps(s, e);
        _mm512_mask_storeu_ps(x + i, t, e);
    }
    __m512 r = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(s));
    for (i = 0; i + 16 <= n; i += 16) _mm512_storeu_ps(x + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), r));
    if (i < n) {
        __mmask16 t = tailmask(n - i);
        _mm512_mask_storeu_ps(x + i, t, _mm512_mul_ps(_mm512_maskz_loadu_ps(t, x + i), r));
    }
}

const ivk_act ivk_act_avx512 = {gelu512, gated512, softmax512};
