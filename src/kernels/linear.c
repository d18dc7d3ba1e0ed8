/* Placeholder optimised kernels (to be replaced by the SIMD/SGEMM versions):
 * forwards to the reference. */
#include "interv/kernels.h"
float iv_dot(const float *x, const void *w, iv_dtype t, int64_t n) { return iv_dot_ref(x, w, t, n); }
void iv_linear(float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    iv_linear_ref(y, x, B, W, bias);
}
