/* Tuned lens, the reference study's form (IV_PROTOCOL_PAPER): the augmented
 * translator's pseudo-inverse as an affine decoder x' = C x + c + sum_t delta_t q_t
 * (derivation in tuned_paper.h).  The lens's encoder is the unnormed one of
 * lens.c; only the decoder's matrices are made here. */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tuned_paper.h"

int ivm_tuned_paper_affine(int d, const double *A, const double *b, double *K, double *C,
                           double *c, iv_err *err) {
    size_t dd = (size_t)d * d;
    double *T = malloc(sizeof(double) * (dd + (size_t)d));  /* [(d+1), d], then Q */
    double *R = calloc(dd, sizeof(double));                 /* [d, d] upper */
    double *tau = malloc(sizeof(double) * (size_t)d);
    int rc = 0;
    if (!T || !R || !tau) { rc = iv_errf(err, "tuned lens: out of memory"); goto out; }
    for (int i = 0; i < d; i++)  /* rows 0..d-1: (I + A)^T */
        for (int j = 0; j < d; j++) T[(size_t)i * d + j] = A[(size_t)j * d + i] + (i == j);
    for (int j = 0; j < d; j++) T[dd + j] = b ? b[j] : 0.0;  /* row d: b^T */
    lapack_int info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, d + 1, d, T, d, tau);
    if (info != 0) { rc = iv_errf(err, "tuned lens: QR of the augmented translator failed (info %d)", (int)info); goto out; }
    double rmax = 0;
    for (int i = 0; i < d; i++)
        for (int j = i; j < d; j++) {
            R[(size_t)i * d + j] = T[(size_t)i * d + j];
            if (fabs(R[(size_t)i * d + j]) > rmax) rmax = fabs(R[(size_t)i * d + j]);
        }
    for (int i = 0; i < d; i++)
        if (!(fabs(R[(size_t)i * d + i]) > 1e-12 * rmax)) {
            rc = iv_errf(err, "tuned lens: the augmented translator [I + A; b] is rank-deficient");
            goto out;
        }
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, d + 1, d, d, T, d, tau);
    if (info != 0) { rc = iv_errf(err, "tuned lens: QR of the augmented translator failed (info %d)", (int)info); goto out; }
    /* K = Q[:d, :] R^{-T}: solve K R^T = Q_d */
    memcpy(K, T, sizeof(double) * dd);
    cblas_dtrsm(CblasRowMajor, CblasRight, CblasUpper, CblasTrans, CblasNonUnit, d, d, 1.0, R, d, K, d);
    /* C = K (I + A), c = K b */
    for (size_t i = 0; i < dd; i++) C[i] = K[i];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, d, d, d, 1.0, K, d, A, d, 1.0, C, d);
    if (b) cblas_dgemv(CblasRowMajor, CblasNoTrans, d, d, 1.0, K, d, b, 1, 0.0, c, 1);
    else memset(c, 0, sizeof(double) * (size_t)d);
out:
    free(T);
    free(R);
    free(tau);
    return rc;
}

int ivm_tuned_paper_finish(iv_method *mm, ivm_lens *L, const iv_method_opts *o, iv_err *err) {
    int d = mm->dim;
    const char *art = o->artifact ? o->artifact : "tuned lens";
    if (o->normed) {
        ivm_lens_destroy(L);
        return iv_errf(err, "%s: --normed does not apply under --protocol paper (its tuned lens has no "
                            "final norm)", art);
    }
    double *K = malloc(sizeof(double) * (size_t)d * d);
    L->affC = malloc(sizeof(double) * (size_t)d * d);
    L->affc = malloc(sizeof(double) * (size_t)d);
    if (!L->A) L->A = calloc((size_t)d * d, sizeof(double)); /* A = 0 when the file has none */
    if (!K || !L->affC || !L->affc || !L->A) {
        free(K);
        ivm_lens_destroy(L);
        return iv_errf(err, "out of memory");
    }
    L->normed = 0;
    if (ivm_tuned_paper_affine(d, L->A, L->b, K, L->affC, L->affc, err)) {
        free(K);
        ivm_lens_destroy(L);
        return -1;
    }
    int rc = ivm_lens_finish(mm, L, o, err); /* L now belongs to mm */
    if (!rc && L->pcol) {
        double *q = malloc(sizeof(double) * (size_t)d);
        if (!q) rc = iv_errf(err, "out of memory");
        for (int t = 0; !rc && t < mm->n_tgt; t++) {
            double *p = L->pcol + (size_t)t * d;
            cblas_dgemv(CblasRowMajor, CblasNoTrans, d, d, 1.0, K, d, p, 1, 0.0, q, 1);
            memcpy(p, q, sizeof(double) * (size_t)d);
        }
        free(q);
    }
    free(K);
    return rc;
}
