/* Steering vector: mean over pairs of pooled(pos) − pooled(neg), or the top
 * principal direction of those differences (LAPACK dsyevr). */
#include <lapacke.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/train.h"

/* u = top eigenvector of DᵀD/n (d×d, double), sign-aligned with mean, scaled
 * to (mean·u) u. */
static int top_direction(const float *D, int n, int d, const float *mean, float *out, iv_err *err) {
    double *C = calloc((size_t)d * d, sizeof(double));
    double *u = malloc((size_t)d * sizeof(double));
    lapack_int *isuppz = malloc(2 * (size_t)d * sizeof(lapack_int));
    if (!C || !u || !isuppz) { free(C); free(u); free(isuppz); return iv_errf(err, "steering: out of memory"); }
    for (int i = 0; i < n; i++) {
        const float *r = D + (size_t)i * d;
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++) C[(size_t)a * d + b] += (double)r[a] * r[b] / n;
    }
    double w[1];
    lapack_int found = 0;
    lapack_int info = LAPACKE_dsyevr(LAPACK_ROW_MAJOR, 'V', 'I', 'U', d, C, d, 0, 0, d, d, 0.0,
                                     &found, w, u, 1, isuppz);
    int rc = 0;
    if (info != 0 || found != 1) {
        rc = iv_errf(err, "steering: eigen-decomposition failed (LAPACK info %d)", (int)info);
    } else {
        double proj = 0;
        for (int i = 0; i < d; i++) proj += u[i] * mean[i];
        /* sign-aligned with the mean difference and given its length along u */
        for (int i = 0; i < d; i++) out[i] = (float)(proj * u[i]);
    }
    free(C); free(u); free(isuppz);
    return rc;
}

int iv_train_steering(const iv_model *m, const iv_texts *pos, const iv_texts *neg, const iv_steer_opts *o,
                      float *direction, iv_err *err) {
    int d = m->cfg.dim, n = pos->n, rc = -1;
    if (n <= 0 || neg->n != n) return iv_errf(err, "steering: need matched pairs");
    iv_token_texts tp = {0}, tn = {0};
    float *ap = malloc((size_t)n * d * sizeof(float)), *an = malloc((size_t)n * d * sizeof(float));
    if (!ap || !an) { iv_errf(err, "steering: out of memory"); goto done; }
    if (iv_tokenize_texts(m, pos, 0, &tp, err) || iv_tokenize_texts(m, neg, 0, &tn, err)) goto done;
    if (iv_act_pooled(m, o->layer, &tp, &o->act, ap, err) ||
        iv_act_pooled(m, o->layer, &tn, &o->act, an, err)) goto done;
    for (size_t i = 0; i < (size_t)n * d; i++) ap[i] -= an[i];  /* ap = differences D */
    for (int j = 0; j < d; j++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += ap[(size_t)i * d + j];
        direction[j] = (float)(s / n);
    }
    if (o->pca) {
        float *mean = malloc((size_t)d * sizeof(float));
        if (!mean) { iv_errf(err, "steering: out of memory"); goto done; }
        memcpy(mean, direction, (size_t)d * sizeof(float));
        int r = top_direction(ap, n, d, mean, direction, err);
        free(mean);
        if (r) goto done;
    }
    rc = 0;
done:
    free(ap); free(an);
    iv_token_texts_free(&tp); iv_token_texts_free(&tn);
    return rc;
}

int iv_steering_save(const char *path, const float *dir, int dim, int layer, const char *concept,
                     int pca, int n_pairs, iv_err *err) {
    char sl[32], sd[32], sn[32];
    snprintf(sl, sizeof sl, "%d", layer);
    snprintf(sd, sizeof sd, "%d", dim);
    snprintf(sn, sizeof sn, "%d", n_pairs);
    const char *meta[] = {"interv_method", "steering", "layer", sl, "d_model", sd,
                          "concept", concept ? concept : "", "method", pca ? "pca" : "mean_diff",
                          "n_pairs", sn};
    iv_st_out t = {.name = "direction", .dtype = IV_F32, .ndim = 1, .shape = {dim}, .data = dir};
    return iv_st_write(path, &t, 1, meta, 6, err);
}
