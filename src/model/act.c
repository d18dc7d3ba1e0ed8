/* MLP activations by Hugging Face name.  GELU (tanh) and SiLU, the ones the
 * supported checkpoints ship with, run on the SIMD kernels; the others are
 * plain loops in double (rare configs; the MLP matmuls dominate anyway). */
#include "interv/model.h"
#include "interv/kernels.h"
#include <math.h>
#include <string.h>

int iv_act_parse(const char *name, iv_act *out) {
    static const struct { const char *name; iv_act a; } tab[] = {
        {"silu", IV_ACT_SILU},           {"swish", IV_ACT_SILU},
        {"gelu_new", IV_ACT_GELU_TANH},  {"gelu_pytorch_tanh", IV_ACT_GELU_TANH},
        {"gelu_fast", IV_ACT_GELU_TANH}, {"gelu_accurate", IV_ACT_GELU_TANH},
        {"gelu", IV_ACT_GELU_ERF},       {"gelu_python", IV_ACT_GELU_ERF},
        {"gelu_10", IV_ACT_GELU_10},     {"quick_gelu", IV_ACT_QUICK_GELU},
        {"relu", IV_ACT_RELU},           {"relu2", IV_ACT_RELU2},
        {"relu6", IV_ACT_RELU6},         {"leaky_relu", IV_ACT_LEAKY_RELU},
        {"sigmoid", IV_ACT_SIGMOID},     {"tanh", IV_ACT_TANH},
        {"mish", IV_ACT_MISH},           {"linear", IV_ACT_LINEAR},
    };
    for (size_t i = 0; name && i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(name, tab[i].name)) { *out = tab[i].a; return 0; }
    return -1;
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

static double act1(iv_act a, double x) {
    switch (a) {
    case IV_ACT_SILU: return x * sigm(x);
    case IV_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
    case IV_ACT_GELU_ERF: return 0.5 * x * (1 + erf(x * 0.7071067811865476));
    case IV_ACT_GELU_10: { double g = 0.5 * x * (1 + erf(x * 0.7071067811865476)); return g < -10 ? -10 : g > 10 ? 10 : g; }
    case IV_ACT_QUICK_GELU: return x * sigm(1.702 * x);
    case IV_ACT_RELU: return x > 0 ? x : 0;
    case IV_ACT_RELU2: return x > 0 ? x * x : 0;
    case IV_ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case IV_ACT_LEAKY_RELU: return x >= 0 ? x : 0.01 * x;
    case IV_ACT_SIGMOID: return sigm(x);
    case IV_ACT_TANH: return tanh(x);
    case IV_ACT_MISH: return x * tanh(x > 20 ? x : log1p(exp(x))); /* softplus, threshold 20 as torch */
    case IV_ACT_LINEAR: return x;
    }
    return x;
}

static void act_range(iv_act a, float *x, const float *u, int64_t n) {
    if (a == IV_ACT_GELU_TANH && !u) { iv_gelu(x, n); return; }
    if ((a == IV_ACT_GELU_TANH || a == IV_ACT_SILU) && u) { iv_gated_act(x, u, n, a == IV_ACT_GELU_TANH); return; }
    for (int64_t i = 0; i < n; i++) x[i] = (float)(act1(a, x[i]) * (u ? u[i] : 1.0));
}

/* Element-wise, so split into chunks across threads once there are enough
 * elements (batch-32 decode of GPT-2: 98K per layer, 2% of a step run on one
 * core while the other waited); the result is the same bit for bit. */
#define ACT_CHUNK 16384
void iv_act_apply(iv_act a, float *x, const float *u, int64_t n) {
    if (n < 4 * ACT_CHUNK) { act_range(a, x, u, n); return; }
    int64_t nc = (n + ACT_CHUNK - 1) / ACT_CHUNK;
#pragma omp parallel for schedule(static)
    for (int64_t c = 0; c < nc; c++) {
        int64_t i0 = c * ACT_CHUNK, k = n - i0 < ACT_CHUNK ? n - i0 : ACT_CHUNK;
        act_range(a, x + i0, u ? u + i0 : NULL, k);
    }
}
