/* Tuned lens in the reference study's form (IV_PROTOCOL_PAPER, DESIGN.md 3b). */
#ifndef INTERV_TUNED_PAPER_H
#define INTERV_TUNED_PAPER_H
#include "lens_internal.h"

/* The reference writes the translator y = (I + A) x + b as one augmented matrix
 * T = [(I + A)^T; b^T] ((d+1) x d, row vectors: [x, 1] T = y^T), encodes
 * z = [x, 1] T W_U^T with no final norm, and decodes x'_aug = z' pinv(T W_U^T),
 * dropping the constant column.  T W_U^T has rank d, so its pseudo-inverse
 * factors as pinv(W_U^T) pinv(T) and, in column form,
 *     x' = K P z',   K = first d rows of T (T^T T)^{-1} = (I+A)^T S^{-1},
 *     S = T^T T = (I+A)(I+A)^T + b b^T,   P = pinv(W_U).
 * With z' = z + sum_t delta_t e_t and P W_U = I:
 *     x' = C x + c + sum_t delta_t q_t,   C = K (I+A), c = K b, q_t = K P[:, t].
 * C is not the identity when b != 0, so the reference's bottleneck moves x (a
 * defect it has, reproduced).  K comes from a QR factorisation of T (T = QR gives
 * T (T^T T)^{-1} = Q R^{-T}).
 * A: [d, d] out x in (nn.Linear), b: [d] or NULL; K, C: [d, d] row-major, c: [d]
 * (caller-allocated).  Error when T is rank-deficient. */
int ivm_tuned_paper_affine(int d, const double *A, const double *b, double *K, double *C,
                           double *c, iv_err *err);

/* Finishes a paper-protocol tuned lens whose L->A, L->b hold translator index
 * `layer` (the reference applies translator L to resid_post.L; the package's own
 * convention would be L + 1): fills L->affC, L->affc, runs ivm_lens_finish and
 * turns the target columns into q_t = K P[:, t].  Takes ownership of L. */
int ivm_tuned_paper_finish(iv_method *mm, ivm_lens *L, const iv_method_opts *o, iv_err *err);

#endif
