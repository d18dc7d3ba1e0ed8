/* Adam with bias correction over a flat float array. */
#include <math.h>
#include <stdlib.h>
#include "interv/train.h"

int iv_adam_init(iv_adam *a, int64_t n, float lr, iv_err *err) {
    a->n = n; a->lr = lr; a->b1 = 0.9f; a->b2 = 0.999f; a->eps = 1e-8f; a->t = 0;
    a->m = calloc((size_t)(n ? n : 1), sizeof(float));
    a->v = calloc((size_t)(n ? n : 1), sizeof(float));
    if (n < 0 || !a->m || !a->v) {
        iv_adam_free(a);
        return iv_errf(err, "adam: cannot allocate state for %lld parameters", (long long)n);
    }
    return 0;
}

void iv_adam_step(iv_adam *a, float *param, const float *grad) {
    a->t++;
    /* textbook form: ε added to the bias-corrected √v̂ */
    double c1 = 1.0 - pow(a->b1, (double)a->t), c2 = 1.0 - pow(a->b2, (double)a->t);
    float b1 = a->b1, b2 = a->b2, lr = a->lr, eps = a->eps;
    float ic1 = (float)(1.0 / c1), ic2 = (float)(1.0 / c2);
    for (int64_t i = 0; i < a->n; i++) {
        float g = grad[i];
        float m = a->m[i] = b1 * a->m[i] + (1.0f - b1) * g;
        float v = a->v[i] = b2 * a->v[i] + (1.0f - b2) * g * g;
        param[i] -= lr * (m * ic1) / (sqrtf(v * ic2) + eps);
    }
}

void iv_adam_free(iv_adam *a) {
    free(a->m); free(a->v);
    a->m = a->v = NULL;
}
