/* Numeric kernels.  The only place in interv with SIMD intrinsics (src/kernels/);
 * every optimised kernel has a portable reference twin (`*_ref`, plain loops with
 * double accumulation) that the unit tests compare against.
 *
 * Threads: iv_linear uses OpenMP (omp_get_max_threads() of the calling thread)
 * and OpenBLAS's SGEMM.  The small helpers (norms, softmax, attention) are
 * single-threaded so callers may run them inside their own parallel loops.
 * Instruction set: chosen once from the CPU (AVX-512, else AVX2+FMA+F16C, else
 * portable C); the library builds with any -march. */
#ifndef INTERV_KERNELS_H
#define INTERV_KERNELS_H
#include "interv/tensor.h"

/* ---- configuration ---------------------------------------------------------- */

/* Sets the thread count used by later kernel calls from this thread: OpenMP's
 * (omp_set_num_threads) and OpenBLAS's.  n <= 0 means one per online CPU. */
void iv_kernels_set_threads(int n);
/* The OpenMP thread count later calls from this thread will use. */
int iv_kernels_threads(void);

typedef enum { IV_ISA_SCALAR = 0, IV_ISA_AVX2 = 1, IV_ISA_AVX512 = 2 } iv_isa;

/* The instruction set in use.  Default: the best the CPU supports, lowered by the
 * environment variable IV_ISA=scalar|avx2|avx512 if set. */
iv_isa iv_kernels_isa(void);
/* Selects an instruction set (process-wide; for tests and benchmarks), clamped to
 * what the CPU supports.  Returns the one now in use. */
iv_isa iv_kernels_set_isa(iv_isa want);
const char *iv_isa_name(iv_isa isa);

/* ---- matrix products ------------------------------------------------------------ */

/* y[b,o] = sum_i W(o,i) x[b,i] (+ bias[o])  for b < B, o < W->out.
 * y: [B, W->out] row-major; x: [B, W->in] row-major; bias: [W->out] or NULL.
 * y must not overlap x or W.  Both layouts, any stride >= the row length.
 * Batch 1 is bandwidth-bound: SIMD dot products over W's rows (IV_OUT_IN), or
 * row-streaming multiply-adds split over threads by input rows (IV_IN_OUT).
 * Larger batches, on AVX-512: IV_OUT_IN from B=5 a batch-vectorised GEMM (x
 * transposed once, 12 rows of W widened to f32 a 256-input chunk at a time, a
 * 12 x 32 register tile), below which a register tile that reads W once for
 * all rows wins; IV_IN_OUT from B=2 a packed column GEMM (W converted chunk by
 * chunk into an L2-resident f32 buffer, an 8x48 register tile).  Loaded models
 * hold only IV_OUT_IN (GPT-2's Conv1D is transposed at load, the faster
 * layout here).  Elsewhere the tile for small batches, then SGEMM (f32 weights
 * directly; bf16/f16 converted in per-thread tiles, OpenBLAS held at 1 thread).
 * Accumulation is f32: |y - y_ref| <= ~1e-6 * sum_i |W(o,i) x[b,i]|. */
void iv_linear(float *y, const float *x, int B, const iv_wmat *W, const float *bias);
void iv_linear_ref(float *y, const float *x, int B, const iv_wmat *W, const float *bias);

/* bf16 compute (opt-in; PyTorch's bf16 recipe for a matrix product):
 *   y[b,o] = bias[o] + sum_i bf16(x[b,i]) W(o,i),  f32 accumulation,
 * bf16() rounding to nearest even with subnormals flushed to 0.  The weights
 * are used as they are (callers convert them to bf16 first: see
 * iv_model_set_compute).  With AVX512-BF16 (iv_kernels_bf16()) and bf16
 * [out,in] weights it runs on vdpbf16ps: below 16 batch rows one pass over
 * W for all rows, from 16 a 12 x 32 register tile with W broadcast in
 * pairs.  Otherwise x is rounded and iv_linear runs on it (same values up to
 * the order of f32 additions).  Shapes as iv_linear. */
void iv_linear_bf16(float *y, const float *x, int B, const iv_wmat *W, const float *bias);
void iv_linear_bf16_ref(float *y, const float *x, int B, const iv_wmat *W, const float *bias);
/* bf16() above, one value. */
float iv_round_bf16(float v);
/* 1 if the CPU has AVX512-BF16 and the AVX-512 kernels are in use. */
int iv_kernels_bf16(void);
/* Turns the AVX512-BF16 kernels off (0) or back on where the CPU has them
 * (process-wide; for tests).  Returns iv_kernels_bf16(). */
int iv_kernels_set_bf16(int on);

/* Dot product of f32 x with n elements of type t at w. */
float iv_dot(const float *x, const void *w, iv_dtype t, int64_t n);
float iv_dot_ref(const float *x, const void *w, iv_dtype t, int64_t n);

/* ---- per-vector operations (n >= 1; y may equal x) ------------------------------ */

/* RMSNorm: y[i] = x[i] / sqrt(mean_j x[j]^2 + eps) * (w ? w_add + w[i] : 1).
 * w_add is 0 for Llama, 1 for Gemma ("(1 + weight)"). */
void iv_rmsnorm(float *y, const float *x, const float *w, float w_add, float eps, int64_t n);
void iv_rmsnorm_ref(float *y, const float *x, const float *w, float w_add, float eps, int64_t n);

/* LayerNorm: y[i] = (x[i] - m) / sqrt(v + eps) * (w ? w[i] : 1) + (b ? b[i] : 0),
 * m = mean(x), v = mean((x - m)^2) (biased, as PyTorch). */
void iv_layernorm(float *y, const float *x, const float *w, const float *b, float eps, int64_t n);
void iv_layernorm_ref(float *y, const float *x, const float *w, const float *b, float eps,
                      int64_t n);

/* x[i] = exp(x[i] - max) / sum_j exp(x[j] - max).  -INFINITY entries (masked
 * positions) become 0; if every entry is -INFINITY all become 0. */
void iv_softmax_inplace(float *x, int64_t n);
void iv_softmax_inplace_ref(float *x, int64_t n);

/* x[i] = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))  (GPT-2's "gelu_new",
 * Gemma's gelu_pytorch_tanh), in place. */
void iv_gelu(float *x, int64_t n);
void iv_gelu_ref(float *x, int64_t n);

/* Gated MLP activation, in place: g[i] = act(g[i]) * u[i], act = SiLU
 * (x / (1 + e^-x), Llama) or, with gelu != 0, the tanh GELU above (Gemma). */
void iv_gated_act(float *g, const float *u, int64_t n, int gelu);
void iv_gated_act_ref(float *g, const float *u, int64_t n, int gelu);

/* y[i] += a * x[i]. */
void iv_axpy(float *y, float a, const float *x, int64_t n);
void iv_axpy_ref(float *y, float a, const float *x, int64_t n);

/* ---- attention over a KV cache of f32 rows ------------------------------------ */

/* scores[t] = scale * sum_j q[j] k[t*ldk + j]   for t < n, j < hd.
 * q: [hd]; k: n rows of hd floats, ldk floats apart (ldk >= hd). */
void iv_attn_scores(float *scores, const float *q, const float *k, int64_t ldk, int n, int hd,
                    float scale);
void iv_attn_scores_ref(float *scores, const float *q, const float *k, int64_t ldk, int n, int hd,
                        float scale);

/* out[j] = sum_t p[t] v[t*ldv + j]   for j < hd, t < n (out is overwritten).
 * p: [n] (attention probabilities); v: n rows, ldv floats apart. */
void iv_attn_mix(float *out, const float *p, const float *v, int64_t ldv, int n, int hd);
void iv_attn_mix_ref(float *out, const float *p, const float *v, int64_t ldv, int n, int hd);

#endif
