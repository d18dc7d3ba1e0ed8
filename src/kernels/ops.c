/* Per-vector operations of a forward pass: norms, softmax, axpy and the two
 * halves of attention over an f32 KV cache.  Single-threaded by design (the
 * caller parallelises over heads or batch rows); reductions use the SIMD dot. */
#include "interv/kernels.h"
#include "isa.h"
#include <math.h>
#include <string.h>

void iv_rmsnorm(float *y, const float *x, const float *w, float w_add, float eps, int64_t n) {
    float ss = ivk_cur()->dot(x, x, IV_F32, n);
    float r = 1.0f / sqrtf(ss / (float)n + eps);
    if (w)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * r * (w_add + w[i]);
    else
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * r;
}

void iv_layernorm(float *y, const float *x, const float *w, const float *b, float eps, int64_t n) {
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += x[i + j];
    for (; i < n; i++) s[0] += x[i];
    float m = (((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))) / (float)n;
    float v[8] = {0};
    for (i = 0; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) v[j] += (x[i + j] - m) * (x[i + j] - m);
    for (; i < n; i++) v[0] += (x[i] - m) * (x[i] - m);
    float var = (((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]))) / (float)n;
    float r = 1.0f / sqrtf(var + eps);
    for (i = 0; i < n; i++) y[i] = (x[i] - m) * r * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
}

void iv_softmax_inplace(float *x, int64_t n) { ivk_act_cur()->softmax(x, n); }

void iv_gelu(float *x, int64_t n) { ivk_act_cur()->gelu(x, n); }

void iv_gated_act(float *g, const float *u, int64_t n, int gelu) { ivk_act_cur()->gated(g, u, n, gelu); }

void iv_axpy(float *y, float a, const float *x, int64_t n) {
    ivk_cur()->axpys(y, &a, 1, x, IV_F32, 0, n);
}

void iv_attn_scores(float *scores, const float *q, const float *k, int64_t ldk, int n, int hd,
                    float scale) {
    ivk_cur()->scores(scores, q, k, ldk, n, hd, scale);
}

void ivk_dots_by_dot(float *y, const float *x, const void *w, iv_dtype t, int64_t ws, int64_t nr,
                     int64_t n) {
    const ivk_ops *o = ivk_cur();
    for (int64_t r = 0; r < nr; r++) y[r] = o->dot(x, ivk_at(w, t, r * ws), t, n);
}

void ivk_scores_by_dot(float *sc, const float *q, const float *k, int64_t ldk, int n, int hd,
                       float scale) {
    const ivk_ops *o = ivk_cur();
    for (int t = 0; t < n; t++) sc[t] = scale * o->dot(q, k + (int64_t)t * ldk, IV_F32, hd);
}

void iv_attn_mix(float *out, const float *p, const float *v, int64_t ldv, int n, int hd) {
    memset(out, 0, (size_t)hd * sizeof(float));
    ivk_cur()->axpys(out, p, n, v, IV_F32, ldv, hd);
}
