/* Portable reference kernels: the ground truth the optimised ones are tested
 * against.  Plain loops, double accumulation. */
#include "interv/kernels.h"
#include <math.h>

static float elem(const void *p, iv_dtype t, int64_t k) {
    if (t == IV_F32) return ((const float *)p)[k];
    uint16_t h = ((const uint16_t *)p)[k];
    return t == IV_BF16 ? iv_bf16_to_f32(h) : iv_f16_to_f32(h);
}

float iv_dot_ref(const float *x, const void *w, iv_dtype t, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * elem(w, t, i);
    return (float)s;
}

void iv_linear_ref(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    for (int b = 0; b < B; b++)
        for (int64_t o = 0; o < W->out; o++) {
            double s = bias ? bias[o] : 0;
            for (int64_t i = 0; i < W->in; i++) {
                int64_t k = W->layout == IV_OUT_IN ? o * W->stride + i : i * W->stride + o;
                s += (double)x[(int64_t)b * W->in + i] * elem(W->data, W->dtype, k);
            }
            y[(int64_t)b * W->out + o] = (float)s;
        }
}

float iv_round_bf16(float v) {
    if (fpclassify(v) == FP_SUBNORMAL) v = signbit(v) ? -0.0f : 0.0f;
    return iv_bf16_to_f32(iv_f32_to_bf16(v));
}

void iv_linear_bf16_ref(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    for (int b = 0; b < B; b++)
        for (int64_t o = 0; o < W->out; o++) {
            double s = bias ? bias[o] : 0;
            for (int64_t i = 0; i < W->in; i++) {
                int64_t k = W->layout == IV_OUT_IN ? o * W->stride + i : i * W->stride + o;
                s += (double)iv_round_bf16(x[(int64_t)b * W->in + i]) * elem(W->data, W->dtype, k);
            }
            y[(int64_t)b * W->out + o] = (float)s;
        }
}
