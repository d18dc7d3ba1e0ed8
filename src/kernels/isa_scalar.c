/* Portable kernels: any CPU, any compiler flags.  Float accumulation in the
 * same order as the SIMD tables would be pointless; these just need to be right
 * and reasonably quick (8 independent partial sums let the compiler pipeline). */
#include "isa.h"
#include <math.h>
#include <string.h>

static inline float el(const void *w, iv_dtype t, int64_t k) {
    if (t == IV_F32) return ((const float *)w)[k];
    uint16_t h = ((const uint16_t *)w)[k];
    return t == IV_BF16 ? iv_bf16_to_f32(h) : iv_f16_to_f32(h);
}

static float dot_s(const float *x, const void *w, iv_dtype t, int64_t n) {
    float s[8] = {0};
    int64_t k = 0;
    if (t == IV_F32) {
        const float *wf = w;
        for (; k + 8 <= n; k += 8)
            for (int j = 0; j < 8; j++) s[j] += x[k + j] * wf[k + j];
    } else {
        for (; k + 8 <= n; k += 8)
            for (int j = 0; j < 8; j++) s[j] += x[k + j] * el(w, t, k + j);
    }
    for (; k < n; k++) s[0] += x[k] * el(w, t, k);
    return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

static void mdot_s(float *y, int64_t ldy, const float *x, int64_t ldx, int nb, const void *w,
                   iv_dtype t, int64_t ws, int64_t nr, int64_t n) {
    for (int64_t r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++) y[b * ldy + r] = dot_s(x + b * ldx, ivk_at(w, t, r * ws), t, n);
}

static void axpys_s(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t, int64_t ws,
                    int64_t n) {
    for (int64_t r = 0; r < nr; r++)
        for (int64_t j = 0; j < n; j++) acc[j] += a[r] * el(w, t, r * ws + j);
}

static void cvt_s(float *dst, const void *src, iv_dtype t, int64_t n) {
    for (int64_t k = 0; k < n; k++) dst[k] = el(src, t, k);
}

const ivk_ops ivk_ops_scalar = {"scalar", dot_s, mdot_s, axpys_s, cvt_s, NULL, ivk_scores_by_dot, ivk_dots_by_dot, NULL, NULL};

/* 0.5 x (1 + tanh(u)) written as x * sigmoid(2u): no cancellation for x << 0 */
static float gelu1(float x) {
    return x / (1.f + expf(-1.5957691216057308f * (x + 0.044715f * x * x * x)));
}

static void gelu_s(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = gelu1(x[i]);
}

static void gated_s(float *g, const float *u, int64_t n, int gelu) {
    for (int64_t i = 0; i < n; i++) g[i] = (gelu ? gelu1(g[i]) : g[i] / (1.f + expf(-g[i]))) * u[i];
}

static void softmax_s(float *x, int64_t n) {
    float mx = -INFINITY;
    for (int64_t i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    if (mx == -INFINITY) {
        memset(x, 0, (size_t)n * sizeof(float));
        return;
    }
    float s = 0;
    for (int64_t i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        s += x[i];
    }
    float r = 1.0f / s;
    for (int64_t i = 0; i < n; i++) x[i] *= r;
}

const ivk_act ivk_act_scalar = {gelu_s, gated_s, softmax_s};
