/* Numeric kernels.  The only place in interv with SIMD intrinsics (src/kernels/);
 * every optimised kernel has a portable reference twin (`*_ref`) that the unit
 * tests compare against.  Threads come from OpenMP (omp_set_num_threads). */
#ifndef INTERV_KERNELS_H
#define INTERV_KERNELS_H
#include "interv/tensor.h"

/* y[b,o] = sum_i W(o,i) x[b,i] (+ bias[o])  for b < B.
 * y: [B, W->out] row-major; x: [B, W->in] row-major; bias: [W->out] or NULL.
 * Batch 1 is bandwidth-bound (streamed dot products over W); B > 1 goes through
 * SGEMM, converting bf16/f16 weight tiles to f32 on the fly. */
void iv_linear(float *y, const float *x, int B, const iv_wmat *W, const float *bias);
void iv_linear_ref(float *y, const float *x, int B, const iv_wmat *W, const float *bias);

/* Dot product of f32 x with n elements of type t at w. */
float iv_dot(const float *x, const void *w, iv_dtype t, int64_t n);
float iv_dot_ref(const float *x, const void *w, iv_dtype t, int64_t n);

#endif
