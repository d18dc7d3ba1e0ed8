/* Internal: per-instruction-set kernel tables.  Each table is built in its own
 * file with function-level target attributes, so the library compiles with any
 * -march and picks the best table at run time (dispatch.c). */
#ifndef IV_KERNELS_ISA_H
#define IV_KERNELS_ISA_H
#include <stdint.h>
#include "interv/tensor.h"

typedef struct ivk_ops {
    const char *name;
    /* sum_k x[k] w[k], k < n */
    float (*dot)(const float *x, const void *w, iv_dtype t, int64_t n);
    /* y[b*ldy + r] = sum_k x[b*ldx + k] * w[r*ws + k]  for r < nr, b < nb, k < n */
    void (*mdot)(float *y, int64_t ldy, const float *x, int64_t ldx, int nb,
                 const void *w, iv_dtype t, int64_t ws, int64_t nr, int64_t n);
    /* acc[j] += sum_r a[r] * w[r*ws + j]  for j < n, r < nr */
    void (*axpys)(float *acc, const float *a, int64_t nr, const void *w, iv_dtype t,
                  int64_t ws, int64_t n);
    /* dst[k] = (float)src[k], k < n */
    void (*cvt)(float *dst, const void *src, iv_dtype t, int64_t n);
    /* Packed GEMM for IV_IN_OUT weights over a range of columns, or NULL
     * (then SGEMM is used):
     * y[b*ldy + o] += sum_i x[b*ldx + i] W(o, i)  for b < B, o0 <= o < o0 + ncols.
     * p: scratch of IVK_GEMM_SCRATCH floats. */
    void (*gemm_cols)(float *y, int64_t ldy, const float *x, int64_t ldx, int B, const iv_wmat *W,
                      int64_t o0, int64_t ncols, float *p);
    /* sc[t] = scale * sum_j q[j] k[t*ldk + j]  for t < n, j < hd (f32 cache) */
    void (*scores)(float *sc, const float *q, const float *k, int64_t ldk, int n, int hd, float scale);
    /* y[r] = sum_k x[k] w[r*ws + k]  for r < nr, k < n (batch-1 rows) */
    void (*dots)(float *y, const float *x, const void *w, iv_dtype t, int64_t ws, int64_t nr, int64_t n);
    /* Batch-vectorised GEMM for IV_OUT_IN weights over output rows o0..o0+n,
     * or NULL:  y[b*ldy + o] = bias[o] (0 if NULL) + sum_i x[b, i] W(o, i)
     * for b < B.  x comes transposed in groups of 32 batch rows, zero padded
     * (pack_xt).  p: scratch of IVK_GEMM_ROWS_SCRATCH floats. */
    void (*gemm_rows)(float *y, int64_t ldy, const float *xt, int B, const iv_wmat *W, int64_t o0,
                      int64_t n, const float *bias, float *p);
    /* x [B][ldx] -> xt, the layout gemm_rows reads (see ivk_xt_size); NULL
     * where gemm_rows is */
    void (*pack_xt)(float *xt, const float *x, int64_t ldx, int B, int64_t in);
} ivk_ops;

/* xt[g][i][j] = x[(32 g + j) * ldx + i]  (0 past row B), g < ceil(B / 32),
 * i < in: the layout gemm_rows reads.  Returns its size in floats. */
#define IVK_XT_GROUP 32
static inline int64_t ivk_xt_size(int B, int64_t in) {
    return (int64_t)((B + IVK_XT_GROUP - 1) / IVK_XT_GROUP) * in * IVK_XT_GROUP;
}
void ivk_pack_xt_avx512(float *xt, const float *x, int64_t ldx, int B, int64_t in);
#define IVK_GEMM_ROWS_SCRATCH (12 * 256)

/* dots() from dot(). */
void ivk_dots_by_dot(float *y, const float *x, const void *w, iv_dtype t, int64_t ws, int64_t nr,
                     int64_t n);

/* scores() from dot(): the generic version every table may use. */
void ivk_scores_by_dot(float *sc, const float *q, const float *k, int64_t ldk, int n, int hd,
                       float scale);

/* Element-wise activations and softmax (act_*.c), all in place. */
typedef struct ivk_act {
    void (*gelu)(float *x, int64_t n);                          /* x = gelu_tanh(x) */
    void (*gated)(float *g, const float *u, int64_t n, int gelu); /* g = act(g) * u */
    void (*softmax)(float *x, int64_t n);
} ivk_act;

extern const ivk_act ivk_act_scalar;
extern const ivk_act ivk_act_avx2;
extern const ivk_act ivk_act_avx512;
const ivk_act *ivk_act_cur(void);

/* Packed chunk: 128 inputs x 384 outputs x 4 bytes = 192 KiB (L2); one
 * 48-column strip group of it, 24 KiB, stays in L1 across batch rows. */
#ifndef IVK_GEMM_KC
#define IVK_GEMM_KC 128
#endif
#define IVK_GEMM_NC 384
/* scratch floats: 24 strips of KC x 16, each padded by one cache line */
#define IVK_GEMM_SCRATCH ((IVK_GEMM_KC * 16 + 16) * (IVK_GEMM_NC / 16))

void ivk_gemm_rows_avx512(float *y, int64_t ldy, const float *xt, int B, const iv_wmat *W,
                          int64_t o0, int64_t n, const float *bias, float *p);
void ivk_gemm_cols_avx512(float *y, int64_t ldy, const float *x, int64_t ldx, int B,
                          const iv_wmat *W, int64_t o0, int64_t ncols, float *p);

/* ---- bf16 compute (gemm_bf16_avx512.c; only when iv_kernels_bf16()) ---- */
/* xr[b*ldr + p] = bf16(x[b, 2p]) | bf16(x[b, 2p+1]) << 16, p < ceil(in/2),
 * zero past in (RNE, subnormals to 0). */
void ivk_bf16_round_rows(uint32_t *xr, int64_t ldr, const float *x, int64_t ldx, int B, int64_t in);
/* Small batches: y[b*ldy + r] = sum_k x[b, k] w[r*ws + k]  for r < nr,
 * b < B, k < in; x as rounded pairs (xr, row stride ldr words), w bf16. */
void ivk_bf16_dots_avx512(float *y, int64_t ldy, const uint32_t *xr, int64_t ldr, int B, const void *w,
                          int64_t ws, int64_t nr, int64_t in);
/* Batched (AMX), OUT_IN bf16 W, output rows o0..o0+n:  y[b*ldy + o] =
 * bias[o] (0 if NULL) + sum_k x[b, k] W(o, k); xt: the pairs of xr in
 * pack_xt's layout, [ceil(B/32)][npp][32] words, npp = ceil(in/2) rounded up
 * to a multiple of 16, zero past in. */
void ivk_bf16_rows_amx(float *y, int64_t ldy, const uint32_t *xt, int64_t npp, int B, const iv_wmat *W,
                       int64_t o0, int64_t n, const float *bias);
/* 1 if Linux grants this process the AMX tile state (asks once per call). */
int ivk_amx_request(void);
/* 1 if the AMX kernel may run (CPU, OS permission, AVX512-BF16 in use). */
int ivk_amx(void);
/* The calling thread's growable buffers (n floats / 32-bit words), kept
 * between calls; NULL when out of memory. */
void *ivk_buf_xt(size_t n);
void *ivk_buf_xr(size_t n);
/* Multiply-adds below which waking the thread team costs more than it saves:
 * 32K (128 KiB of f32 weights, ~10 us on one core; waking the team ~1-2 us).
 * At 256K, every product of a stories15M-shape model (dim 288, hidden 768)
 * ran on one thread. */
#ifndef IVK_PAR_MIN
#define IVK_PAR_MIN (1 << 15)
#endif

extern const ivk_ops ivk_ops_scalar;
extern const ivk_ops ivk_ops_avx2;
extern const ivk_ops ivk_ops_avx512;

/* The table in use (set once from the CPU's features; see iv_kernels_set_isa). */
const ivk_ops *ivk_cur(void);

/* Byte address of element k of a buffer of dtype t. */
static inline const void *ivk_at(const void *w, iv_dtype t, int64_t k) {
    return (const char *)w + k * (int64_t)(t == IV_F32 ? 4 : 2);
}
#endif
