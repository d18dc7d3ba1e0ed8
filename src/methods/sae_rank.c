/* Automatic choice of an SAE's concept feature.  Two signals per feature k:
 *   separation: mean over positive pair prompts minus mean over negative ones of
 *               f_k mean-pooled over the positions after BOS (features are
 *               pooled, not activations: the encoder is non-linear);
 *   alignment:  cosine of the decoder row W_dec[k] with u = sum_t w_t W_U[t], the
 *               weighted unembedding rows of the concept's target tokens.
 * score = separation / max_j |separation_j| + alignment (alignment alone without
 * pairs). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/train.h"
#include "lens_internal.h"
#include "sae_internal.h"

static int by_score(const void *a, const void *b) {
    const iv_feature_score *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* sum over texts of the per-text mean feature vector, in acc: [d_sae]; n_used
 * counts texts with at least one position. */
static int pooled_features(const iv_model *m, const ivm_sae *s, int layer, const iv_texts *t,
                           double *acc, int *n_used, iv_err *err) {
    iv_token_texts tt;
    memset(&tt, 0, sizeof tt);
    if (iv_tokenize_texts(m, t, 0, &tt, err)) return -1;
    iv_act_set as;
    memset(&as, 0, sizeof as);
    iv_act_opts ao = iv_act_defaults();
    int rc = iv_act_positions(m, &layer, 1, &tt, 0, &ao, &as, err);
    iv_token_texts_free(&tt);
    if (rc) return -1;
    int64_t ds = s->d_sae;
    enum { CH = 64 }; /* positions encoded per product */
    float *f = malloc(sizeof(float) * (size_t)CH * ds); /* [CH, d_sae] */
    double *cur = calloc((size_t)ds, sizeof(double));  /* [d_sae] sum over one text */
    if (!f || !cur) { free(f); free(cur); iv_act_set_free(&as); return iv_errf(err, "out of memory"); }
    *n_used = 0;
    int64_t count = 0;
    for (int64_t p = 0; p <= as.n_pos; p++) {
        if (p == as.n_pos || (p > 0 && as.text[p] != as.text[p - 1])) { /* close a text */
            if (count > 0) {
                for (int64_t j = 0; j < ds; j++) acc[j] += cur[j] / (double)count;
                (*n_used)++;
            }
            memset(cur, 0, sizeof(double) * (size_t)ds);
            count = 0;
            if (p == as.n_pos) break;
        }
        if (p % CH == 0) {
            int nr = as.n_pos - p < CH ? (int)(as.n_pos - p) : CH;
            if (ivm_sae_encode_rows(s, as.x[0] + p * as.dim, nr, f)) {
                free(f); free(cur); iv_act_set_free(&as);
                return iv_errf(err, "out of memory");
            }
        }
        const float *fp = f + (size_t)(p % CH) * ds;
        for (int64_t j = 0; j < ds; j++) cur[j] += fp[j];
        count++;
    }
    free(f);
    free(cur);
    iv_act_set_free(&as);
    return 0;
}

int iv_sae_rank_features(const iv_model *m, iv_method *mm, const char *pairs_path,
                         iv_feature_score **out, int64_t *n_out, iv_err *err) {
    *out = NULL;
    *n_out = 0;
    if (mm->kind != IV_METHOD_SAE || !mm->impl) return iv_errf(err, "feature ranking needs an SAE method");
    const ivm_sae *s = mm->impl;
    int64_t ds = s->d_sae, d = s->d_in;
    if (mm->n_tgt == 0) return iv_errf(err, "feature ranking needs a concept");
    iv_feature_score *sc = calloc((size_t)ds, sizeof *sc);
    double *u = calloc((size_t)d, sizeof(double)), *row = malloc(sizeof(double) * (size_t)d);
    if (!sc || !u || !row) { free(sc); free(u); free(row); return iv_errf(err, "out of memory"); }
    for (int t = 0; t < mm->n_tgt; t++) {
        ivm_unembed_row(m, mm->tgt_ids[t], row);
        for (int64_t i = 0; i < d; i++) u[i] += mm->tgt_w[t] * row[i];
    }
    free(row);
    double un = 0;
    for (int64_t i = 0; i < d; i++) un += u[i] * u[i];
    un = sqrt(un);
    for (int64_t k = 0; k < ds; k++) {
        const float *w = s->W_dec + k * d;
        double dot = 0, wn = 0;
        for (int64_t i = 0; i < d; i++) {
            dot += w[i] * u[i];
            wn += (double)w[i] * w[i];
        }
        sc[k].index = k;
        sc[k].alignment = (wn > 0 && un > 0) ? (float)(dot / (sqrt(wn) * un)) : 0.0f;
        sc[k].score = sc[k].alignment;
    }
    free(u);
    if (pairs_path) {
        iv_pair_set pr;
        memset(&pr, 0, sizeof pr);
        if (iv_pairs_load(pairs_path, &pr, err)) { free(sc); return -1; }
        iv_texts tp = {pr.pos, (int)pr.n}, tn = {pr.neg, (int)pr.n};
        double *pos = calloc((size_t)ds, sizeof(double)), *neg = calloc((size_t)ds, sizeof(double));
        int np = 0, nn = 0, rc = (!pos || !neg) ? iv_errf(err, "out of memory") : 0;
        if (!rc) rc = pooled_features(m, s, mm->layer, &tp, pos, &np, err);
        if (!rc) rc = pooled_features(m, s, mm->layer, &tn, neg, &nn, err);
        if (!rc && (np == 0 || nn == 0))
            rc = iv_errf(err, "%s: no positive or no negative prompt has a token after BOS", pairs_path);
        iv_pairs_free(&pr);
        if (rc) { free(pos); free(neg); free(sc); return -1; }
        double mx = 0;
        for (int64_t k = 0; k < ds; k++) {
            sc[k].separation = (float)(pos[k] / np - neg[k] / nn);
            if (fabs(sc[k].separation) > mx) mx = fabs(sc[k].separation);
        }
        for (int64_t k = 0; k < ds; k++)
            sc[k].score = (float)((mx > 0 ? sc[k].separation / mx : 0.0) + sc[k].alignment);
        free(pos);
        free(neg);
    }
    qsort(sc, (size_t)ds, sizeof *sc, by_score);
    *out = sc;
    *n_out = ds;
    return 0;
}
