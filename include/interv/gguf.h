/* llama.cpp control vectors in GGUF (read v2/v3, write v3), so steering vectors
 * move between interv and llama.cpp (--control-vector).
 *
 * File content: KV `general.architecture = "controlvector"`,
 * `controlvector.model_hint` (string), `controlvector.layer_count` (u32; i32 and
 * other integer types accepted on read), and one F32 1-D tensor `direction.N` of
 * length d per steered layer.
 *
 * Layer mapping: llama.cpp adds direction.N to the output of its block N (0-based
 * `il` in the graph builders, after the MLP residual add), i.e. to the residual
 * stream that interv calls resid_post.N.  So vec[N] here == a vector for
 * resid_post.N.  llama.cpp never steers block 0 (its loader rejects direction.0),
 * so the writer refuses vec[0]; the reader accepts it. */
#ifndef INTERV_GGUF_H
#define INTERV_GGUF_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"

#define IV_GGUF_MAX_LAYERS 4096
#define IV_GGUF_MAX_DIM (1 << 20)

typedef struct iv_gguf_cv {
    int d;              /* vector length (n_embd) */
    int n_layers;       /* length of vec: highest layer index + 1 */
    float **vec;        /* [n_layers]; vec[N] is NULL or [d] = direction.N (resid_post.N) */
    char *model_hint;   /* may be NULL */
    int64_t layer_count; /* controlvector.layer_count as stored; -1 when absent */
} iv_gguf_cv;

/* Reads and validates a control-vector GGUF; cv is owned by the caller. */
int iv_gguf_cv_read(const char *path, iv_gguf_cv *cv, iv_err *err);

/* Writes cv as GGUF v3 (alignment 32) via temp file + rename.  layer_count is
 * written as the number of non-NULL vectors (as llama.cpp's generator does). */
int iv_gguf_cv_write(const char *path, const iv_gguf_cv *cv, iv_err *err);

/* Allocates an empty cv with n_layers NULL slots. */
int iv_gguf_cv_init(iv_gguf_cv *cv, int d, int n_layers, const char *model_hint, iv_err *err);
void iv_gguf_cv_free(iv_gguf_cv *cv);

#endif
