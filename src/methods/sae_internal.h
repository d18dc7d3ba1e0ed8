/* Sparse autoencoders: parameters, activation and the loaders' contract. */
#ifndef INTERV_SAE_INTERNAL_H
#define INTERV_SAE_INTERNAL_H
#include <stdint.h>
#include "method_internal.h"

typedef enum { IVM_SAE_RELU = 0, IVM_SAE_JUMPRELU, IVM_SAE_TOPK } ivm_sae_act;

typedef struct ivm_sae {
    int64_t d_in, d_sae;
    float *W_enc;      /* [d_in, d_sae] */
    float *b_enc;      /* [d_sae] */
    float *W_dec;      /* [d_sae, d_in] */
    float *b_dec;      /* [d_in] */
    float *threshold;  /* [d_sae] JumpReLU only, else NULL */
    uint16_t *W_enc_bf16; /* [d_sae, d_in] W_enc transposed, bf16: made on the first
                           * edit under --compute bf16, else NULL */
    ivm_sae_act act;
    int k;             /* TopK */
    int apply_b_dec;   /* subtract b_dec from the input before encoding */
    int layer;         /* resid_post layer the SAE reads, -1 when unknown */
    int keep_error;
    int64_t feature;   /* concept feature for edits, -1 = none yet */
    char *path;
} ivm_sae;

/* Loaders fill everything but keep_error/feature; d_model is the model's dim
 * (checked against d_in).  On error the partial SAE is freed by the caller. */
int ivm_sae_load_saelens(const char *path, int d_model, ivm_sae *s, iv_err *err);
int ivm_sae_load_npz(const char *path, int d_model, ivm_sae *s, iv_err *err);
void ivm_sae_release(ivm_sae *s);

/* f = act(pre) for one input x: [d_in] -> f: [d_sae] */
void ivm_sae_encode(const ivm_sae *s, const float *x, float *f);
/* The same for n rows as one product: x: [n, d_in] -> f: [n, d_sae]; -1 when
 * out of memory. */
int ivm_sae_encode_rows(const ivm_sae *s, const float *x, int n, float *f);
/* out = f W_dec + b_dec (sparse over f's non-zeros); out: [d_in] doubles */
void ivm_sae_decode(const ivm_sae *s, const float *f, double *out);

#endif
