/* Reference twins of ops.c: plain loops, double accumulation. */
#include "interv/kernels.h"
#include <math.h>

void iv_rmsnorm_ref(float *y, const float *x, const float *w, float w_add, float eps, int64_t n) {
    double ss = 0;
    for (int64_t i = 0; i < n; i++) ss += (double)x[i] * x[i];
    double r = 1.0 / sqrt(ss / (double)n + eps);
    for (int64_t i = 0; i < n; i++) y[i] = (float)(x[i] * r * (w ? w_add + (double)w[i] : 1.0));
}

void iv_layernorm_ref(float *y, const float *x, const float *w, const float *b, float eps,
                      int64_t n) {
    double m = 0, v = 0;
    for (int64_t i = 0; i < n; i++) m += x[i];
    m /= (double)n;
    for (int64_t i = 0; i < n; i++) v += (x[i] - m) * (x[i] - m);
    v /= (double)n;
    double r = 1.0 / sqrt(v + eps);
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)((x[i] - m) * r * (w ? w[i] : 1.0) + (b ? b[i] : 0.0));
}

void iv_softmax_inplace_ref(float *x, int64_t n) {
    double mx = -INFINITY, s = 0;
    for (int64_t i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) {
        for (int64_t i = 0; i < n; i++) x[i] = 0;
        return;
    }
    for (int64_t i = 0; i < n; i++) s += exp(x[i] - mx);
    for (int64_t i = 0; i < n; i++) x[i] = (float)(exp(x[i] - mx) / s);
}

void iv_axpy_ref(float *y, float a, const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = (float)(y[i] + (double)a * x[i]);
}

void iv_attn_scores_ref(float *scores, const float *q, const float *k, int64_t ldk, int n, int hd,
                        float scale) {
    for (int t = 0; t < n; t++) {
        double s = 0;
        for (int j = 0; j < hd; j++) s += (double)q[j] * k[(int64_t)t * ldk + j];
        scores[t] = (float)(s * scale);
    }
}

void iv_attn_mix_ref(float *out, const float *p, const float *v, int64_t ldv, int n, int hd) {
    for (int j = 0; j < hd; j++) {
        double s = 0;
        for (int t = 0; t < n; t++) s += (double)p[t] * v[(int64_t)t * ldv + j];
        out[j] = (float)s;
    }
}

static double gelu_d(double x) { return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

void iv_gelu_ref(float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++) x[i] = (float)gelu_d(x[i]);
}

void iv_gated_act_ref(float *g, const float *u, int64_t n, int gelu) {
    for (int64_t i = 0; i < n; i++) {
        double v = g[i];
        g[i] = (float)((gelu ? gelu_d(v) : v / (1 + exp(-v))) * u[i]);
    }
}
