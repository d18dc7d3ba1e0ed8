/* Vocabulary-space lenses (logit lens, tuned lens): the pseudo-inverse of W_U and
 * the shared encoder/decoder. */
#ifndef INTERV_LENS_INTERNAL_H
#define INTERV_LENS_INTERNAL_H
#include "method_internal.h"

/* Upper Cholesky factor R (row-major, R^T R = W_U^T W_U) of the unembedding's Gram
 * matrix, so P = pinv(W_U) = (W_U^T W_U)^{-1} W_U^T is applied by two triangular
 * solves.  Computed once per lm_head and cached on disk under cache_dir (file
 * name = hash of the weights + shape), written atomically. */
typedef struct ivm_gram {
    int d, V;
    double *chol;  /* [d, d] */
} ivm_gram;

int ivm_gram_get(const iv_model *m, const char *cache_dir, ivm_gram *g, iv_err *err);
void ivm_gram_free(ivm_gram *g);
/* out = G^{-1} y in place (y: [d] doubles). */
int ivm_gram_solve(const ivm_gram *g, double *y, iv_err *err);
/* p = P[:, t] = G^{-1} W_U[t,:]^T: [d] doubles. */
int ivm_gram_pinv_col(const iv_model *m, const ivm_gram *g, int32_t t, double *p, iv_err *err);
/* x = P z for z: [V] -> x: [d] (doubles). */
int ivm_gram_pinv_apply(const iv_model *m, const ivm_gram *g, const float *z, double *x,
                        iv_err *err);
/* x = P W_U u computed in double (the bottleneck's round trip): u, x: [d]. */
int ivm_gram_roundtrip(const iv_model *m, const ivm_gram *g, const double *u, double *x,
                       iv_err *err);
/* The same round trip for n rows at once, u, x: [n, d] (two double products
 * per chunk of W_U rows, then triangular solves from the right). */
int ivm_gram_roundtrip_rows(const iv_model *m, const ivm_gram *g, const double *u, int n, double *x,
                            iv_err *err);
/* Row t of W_U as doubles: [d]. */
void ivm_unembed_row(const iv_model *m, int32_t t, double *row);

/* State of one lens.  The affine translator T(x) = x + A x + b is the identity
 * for the logit lens (A == NULL). */
typedef struct ivm_lens {
    int d, V;
    ivm_gram gram;
    int normed;
    double *A;       /* [d, d] out x in, or NULL */
    double *b;       /* [d] or NULL */
    double *lu;      /* [d, d] LU factors of I + A (column-major, LAPACK's own), or NULL */
    int *ipiv;       /* [d] */
    double *pcol;    /* [n_tgt, d] P[:, t] of each target token (the paper-protocol
                        tuned lens fills its own decoder columns q_t here) */
    /* Affine decoder of the unnormed tuned lens (paper protocol, filled by its
     * loader): x' = affC x + affc + sum_t delta_t pcol_t for the edit, and
     * x' = affC x + affc for the bottleneck, in place of T^{-1}(P z').  Either may
     * be NULL (identity / zero); both NULL = the default decoder above. */
    double *affC;    /* [d, d] row-major (out x in), or NULL = identity */
    double *affc;    /* [d] or NULL */
    double *qcol;    /* [n_tgt, d] (I + A)^{-1} pcol_t: the unnormed lens's edit
                        moves x itself along these (made on the first edit), or NULL */
} ivm_lens;

/* Fills mm->ops with the lens ops and computes the per-target columns; the
 * translator (if any) must already be in L. Takes ownership of L. */
int ivm_lens_finish(iv_method *mm, ivm_lens *L, const iv_method_opts *o, iv_err *err);
void ivm_lens_destroy(void *impl);

/* Tuned-lens translator loaders: A [d,d] (out x in) and b [d] as doubles for
 * translator index idx (= hidden_states index, L + 1 for resid_post.L). */
int ivm_tuned_load_st(const char *dir, const char *file, int idx, int d, int n_layers,
                      double **A, double **b, iv_err *err);
int ivm_tuned_load_pt(const char *dir, const char *file, int idx, int d, int n_layers,
                      double **A, double **b, iv_err *err);

#endif
