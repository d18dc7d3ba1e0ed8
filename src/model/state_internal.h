/* The run state's layout (private to src/model). */
#ifndef INTERV_STATE_INTERNAL_H
#define INTERV_STATE_INTERNAL_H
#include "interv/model.h"
#include <math.h>

struct iv_state {
    const iv_model *m;
    int batch, max_seq, kv_dim;
    int *pos;          /* [batch] tokens already in each row's cache */
    float *kc, *vc;    /* [n_layers][batch][max_seq][kv_dim] */
    double *freqs;     /* [head_dim/2] RoPE inverse frequencies (rotary_dim/2 used) */
    double *freqs_local; /* [head_dim/2] Gemma-3 sliding layers' frequencies, or NULL */
    int n_threads;
    float *scores;     /* [n_threads][max_seq] attention weights */
    /* scratch for one call of up to `cap` tokens */
    int cap;
    float *x;          /* [cap, dim] residual stream */
    float *xb;         /* [cap, max(dim, n_heads*head_dim)] normed input / block output */
    float *q;          /* [cap, n_heads*head_dim] */
    float *k, *v;      /* [cap, kv_dim] */
    float *att;        /* [cap, n_heads*head_dim] attention output */
    float *hb, *hb2;   /* [cap, hidden_dim] MLP */
    float *xb2;        /* [cap, dim] parallel-residual MLP branch (GPT-NeoX) */
    int *trow, *tpos;  /* [cap] batch row and absolute position of each token */
    int32_t *tid;      /* [cap] token id */
};

int iv_state_reserve(iv_state *s, int ntok, iv_err *err);
#endif
