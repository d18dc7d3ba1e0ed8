/* Linear probe: logistic regression (BCE + L1) on pooled activations, full-batch
 * Adam on standardised features, folded back to raw-activation weights.  Under
 * IV_PROTOCOL_PAPER the reference recipe instead (probe_paper.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/train.h"

iv_probe_opts iv_probe_defaults(void) {
    iv_probe_opts o = {.layer = 0, .steps = 500, .lr = 0.01f, .l1 = 1e-3f, .seed = 0,
                       .train_frac = 0.8f, .act = iv_act_defaults()};
    return o;
}

void iv_probe_free(iv_probe *p) { free(p->w); p->w = NULL; }

static float sigmoidf_(float z) { return z >= 0 ? 1.0f / (1.0f + expf(-z)) : expf(z) / (1.0f + expf(z)); }

static float accuracy(const float *x, const int *y, const int *sel, int want, int n, int d,
                      const float *w, float b, int *count) {
    int ok = 0, c = 0;
    for (int i = 0; i < n; i++) {
        if (sel[i] != want) continue;
        double z = b;
        for (int j = 0; j < d; j++) z += (double)w[j] * x[(size_t)i * d + j];
        ok += (z > 0) == (y[i] == 1);
        c++;
    }
    *count = c;
    return c ? (float)ok / c : 0.0f;
}

int iv_probe_fit(const float *x, const int *y, const int *is_train, int n, int dim,
                 const iv_probe_opts *o, iv_probe *out, iv_err *err) {
    if (o->protocol == IV_PROTOCOL_PAPER)
        return iv_probe_paper_fit(x, y, is_train, n, dim, o->seed, NULL, out, err);
    int d = dim, ntr = 0;
    for (int i = 0; i < n; i++) ntr += is_train[i] != 0;
    if (ntr < 2) return iv_errf(err, "probe: %d training examples", ntr);
    double *mu = calloc((size_t)d, sizeof(double)), *sd = calloc((size_t)d, sizeof(double));
    float *xs = malloc((size_t)ntr * d * sizeof(float)), *ys = malloc((size_t)ntr * sizeof(float));
    float *theta = calloc((size_t)d + 1, sizeof(float)), *g = malloc(((size_t)d + 1) * sizeof(float));
    iv_adam adam = {0};
    memset(out, 0, sizeof *out);
    out->w = malloc((size_t)d * sizeof(float));
    int rc = -1;
    if (!mu || !sd || !xs || !ys || !theta || !g || !out->w) { iv_errf(err, "probe: out of memory"); goto done; }
    /* standardise with training statistics (σ floored so constant features stay 0) */
    for (int i = 0; i < n; i++)
        if (is_train[i]) for (int j = 0; j < d; j++) mu[j] += x[(size_t)i * d + j];
    for (int j = 0; j < d; j++) mu[j] /= ntr;
    for (int i = 0; i < n; i++)
        if (is_train[i]) for (int j = 0; j < d; j++) { double e = x[(size_t)i * d + j] - mu[j]; sd[j] += e * e; }
    for (int j = 0; j < d; j++) { sd[j] = sqrt(sd[j] / ntr); if (sd[j] < 1e-6) sd[j] = 1e-6; }
    for (int i = 0, k = 0; i < n; i++) {
        if (!is_train[i]) continue;
        for (int j = 0; j < d; j++) xs[(size_t)k * d + j] = (float)((x[(size_t)i * d + j] - mu[j]) / sd[j]);
        ys[k++] = y[i] ? 1.0f : 0.0f;
    }
    if (iv_adam_init(&adam, d + 1, o->lr > 0 ? o->lr : 0.01f, err)) goto done;
    int steps = o->steps > 0 ? o->steps : 500;
    double loss = 0;
    for (int s = 0; s < steps; s++) {
        memset(g, 0, ((size_t)d + 1) * sizeof(float));
        loss = 0;
        for (int k = 0; k < ntr; k++) {
            const float *r = xs + (size_t)k * d;
            float z = theta[d];
            for (int j = 0; j < d; j++) z += theta[j] * r[j];
            float pr = sigmoidf_(z), e = (pr - ys[k]) / ntr;
            /* BCE from logits, stable form */
            loss += (fmaxf(z, 0) - z * ys[k] + log1pf(expf(-fabsf(z)))) / ntr;
            for (int j = 0; j < d; j++) g[j] += e * r[j];
            g[d] += e;
        }
        for (int j = 0; j < d; j++) {  /* L1 subgradient on weights, not the bias */
            loss += o->l1 * fabsf(theta[j]);
            g[j] += o->l1 * (theta[j] > 0 ? 1.0f : theta[j] < 0 ? -1.0f : 0.0f);
        }
        iv_adam_step(&adam, theta, g);
    }
    /* fold the standardisation back into raw-activation weights */
    double b = theta[d];
    for (int j = 0; j < d; j++) {
        out->w[j] = (float)(theta[j] / sd[j]);
        b -= theta[j] * mu[j] / sd[j];
    }
    out->b = (float)b;
    out->dim = d;
    out->train_loss = (float)loss;
    out->train_acc = accuracy(x, y, is_train, 1, n, d, out->w, out->b, &out->n_train);
    int *not_train = malloc((size_t)(n ? n : 1) * sizeof(int));
    if (!not_train) { iv_errf(err, "probe: out of memory"); goto done; }
    for (int i = 0; i < n; i++) not_train[i] = !is_train[i];
    out->test_acc = accuracy(x, y, not_train, 1, n, d, out->w, out->b, &out->n_test);
    free(not_train);
    rc = 0;
done:
    free(mu); free(sd); free(xs); free(ys); free(theta); free(g);
    iv_adam_free(&adam);
    if (rc) iv_probe_free(out);
    return rc;
}

int iv_train_probe(const iv_model *m, const iv_texts *pos, const iv_texts *neg, const iv_probe_opts *o, iv_probe *out,
                   iv_err *err) {
    int np = pos->n, d = m->cfg.dim, n = 2 * np, rc = -1;
    if (np < 2 || neg->n != np) return iv_errf(err, "probe: need at least 2 matched pairs");
    iv_token_texts tp = {0}, tn = {0};
    float *x = malloc((size_t)n * d * sizeof(float));
    int *y = malloc((size_t)n * sizeof(int)), *tr = malloc((size_t)n * sizeof(int));
    int *perm = malloc((size_t)np * sizeof(int));
    if (!x || !y || !tr || !perm) { iv_errf(err, "probe: out of memory"); goto done; }
    if (iv_tokenize_texts(m, pos, 0, &tp, err) || iv_tokenize_texts(m, neg, 0, &tn, err)) goto done;
    if (iv_act_pooled(m, o->layer, &tp, &o->act, x, err) ||
        iv_act_pooled(m, o->layer, &tn, &o->act, x + (size_t)np * d, err)) goto done;
    if (o->protocol == IV_PROTOCOL_PAPER) {  /* stratified by label, sentences not pairs */
        for (int i = 0; i < np; i++) { y[i] = 1; y[np + i] = 0; }
        if (iv_probe_paper_split(y, n, IV_PROBE_PAPER_SEED, tr, err)) goto done;
        rc = iv_probe_fit(x, y, tr, n, d, o, out, err);
        goto done;
    }
    /* split by pair: both sentences of a pair on the same side */
    iv_rng rng = {o->seed ^ 0x5eed5eedull};
    for (int i = 0; i < np; i++) perm[i] = i;
    iv_rng_shuffle(&rng, perm, np);
    float frac = o->train_frac > 0 && o->train_frac < 1 ? o->train_frac : 0.8f;
    int ntrain = (int)(frac * np + 0.5f);
    if (ntrain < 1) ntrain = 1;
    if (ntrain >= np) ntrain = np - 1;
    for (int k = 0; k < np; k++) {
        int i = perm[k], t = k < ntrain;
        y[i] = 1; y[np + i] = 0;
        tr[i] = tr[np + i] = t;
    }
    rc = iv_probe_fit(x, y, tr, n, d, o, out, err);
done:
    free(x); free(y); free(tr); free(perm);
    iv_token_texts_free(&tp); iv_token_texts_free(&tn);
    return rc;
}

int iv_probe_save(const char *path, const iv_probe *p, int layer, const char *concept, float l1,
                  iv_err *err) {
    char sl[32], sd[32], a1[32], a2[32], sl1[32];
    snprintf(sl, sizeof sl, "%d", layer);
    snprintf(sd, sizeof sd, "%d", p->dim);
    snprintf(a1, sizeof a1, "%.4f", p->train_acc);
    snprintf(a2, sizeof a2, "%.4f", p->test_acc);
    snprintf(sl1, sizeof sl1, "%g", p->protocol == IV_PROTOCOL_PAPER ? 0.3 : l1); /* the recipe's own */
    const char *meta[] = {"interv_method", "probe", "layer", sl, "d_model", sd,
                          "concept", concept ? concept : "", "train_acc", a1, "test_acc", a2,
                          "l1", sl1, "weight_acts_on", "raw", "protocol", iv_protocol_name(p->protocol)};
    iv_st_out t[2] = {
        {.name = "weight", .dtype = IV_F32, .ndim = 1, .shape = {p->dim}, .data = p->w},
        {.name = "bias", .dtype = IV_F32, .ndim = 1, .shape = {1}, .data = &p->b},
    };
    return iv_st_write(path, t, 2, meta, 9, err);
}
