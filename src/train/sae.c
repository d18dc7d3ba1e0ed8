/* Sparse autoencoder on residual activations: ReLU+L1 or TopK, Adam, unit-norm
 * decoder rows; evaluation (L0, MSE, explained variance, dead features) and the
 * next-token loss with the SAE spliced into the model. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/train.h"

iv_sae_opts iv_sae_defaults(void) {
    iv_sae_opts o = {.layer = 0, .topk = 0, .d_sae = 0, .steps = 2000, .batch = 256, .lr = 1e-3f,
                     .l1 = 0.5f, .seed = 0, .max_pos = 100000, .max_len = 256,
                     .dead_window = 10000, .act = iv_act_defaults()};
    return o;
}

void iv_sae_free(iv_sae *s) {
    free(s->W_enc); free(s->b_enc); free(s->W_dec); free(s->b_dec);
    s->W_enc = s->b_enc = s->W_dec = s->b_dec = NULL;
}

/* k-th largest of a[0..n) (a is scrambled). */
static float kth_largest(float *a, int n, int k) {
    int lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        float piv = a[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (a[i] > piv) i++;
            while (a[j] < piv) j--;
            if (i <= j) { float t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else break;
    }
    return a[want];
}

/* pre -> f in place (ReLU, or TopK then ReLU); tmp: [d_sae] scratch for TopK. */
static void activate(float *pre, int B, int S, int k, float *tmp) {
    for (int r = 0; r < B; r++) {
        float *x = pre + (size_t)r * S;
        if (k > 0 && k < S) {
            memcpy(tmp, x, (size_t)S * sizeof(float));
            float thr = kth_largest(tmp, S, k);
            int kept = 0;
            for (int j = 0; j < S; j++) {  /* ties: first come first kept */
                if (x[j] >= thr && kept < k) { kept++; if (x[j] < 0) x[j] = 0; }
                else x[j] = 0;
            }
        } else {
            for (int j = 0; j < S; j++) if (x[j] < 0) x[j] = 0;
        }
    }
}

void iv_sae_forward(const iv_sae *s, const float *x, int B, float *f, float *xhat) {
    int d = s->d_in, S = s->d_sae;
    float *ff = f ? f : malloc((size_t)B * S * sizeof(float));
    float *xc = malloc((size_t)B * d * sizeof(float)), *tmp = malloc((size_t)S * sizeof(float));
    if (!ff || !xc || !tmp) goto done;
    for (int r = 0; r < B; r++)
        for (int i = 0; i < d; i++) xc[(size_t)r * d + i] = x[(size_t)r * d + i] - s->b_dec[i];
    for (int r = 0; r < B; r++) memcpy(ff + (size_t)r * S, s->b_enc, (size_t)S * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, S, d, 1.0f, xc, d, s->W_enc, S, 1.0f, ff, S);
    activate(ff, B, S, s->k, tmp);
    if (xhat) {
        for (int r = 0; r < B; r++) memcpy(xhat + (size_t)r * d, s->b_dec, (size_t)d * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, S, 1.0f, ff, S, s->W_dec, d, 1.0f, xhat, d);
    }
done:
    if (!f) free(ff);
    free(xc); free(tmp);
}

static void normalise_rows(float *W, int S, int d) {
    for (int j = 0; j < S; j++) {
        float *r = W + (size_t)j * d;
        double n = 0;
        for (int i = 0; i < d; i++) n += (double)r[i] * r[i];
        float inv = n > 0 ? (float)(1.0 / sqrt(n)) : 0.0f;
        for (int i = 0; i < d; i++) r[i] *= inv;
    }
}

/* ---- splicing --------------------------------------------------------------------- */
typedef struct { const iv_sae *s; int mode, first; } splice_st;

/* x: [n, dim]; the rows at positions >= first are replaced, all in one product
 * (positions ascend within a row, so those rows form runs). */
static int splice_hook(void *user, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    (void)layer; (void)rows;
    splice_st *sp = user;
    float *xh = sp->mode == 2 ? NULL : malloc((size_t)n * dim * sizeof(float)); /* [n, dim] */
    if (sp->mode != 2 && !xh) return -1;
    for (int k0 = 0; k0 < n;) {
        if (pos[k0] < sp->first) { k0++; continue; } /* BOS stays untouched */
        int k1 = k0;
        while (k1 < n && pos[k1] >= sp->first) k1++;
        float *xs = x + (size_t)k0 * dim;
        size_t bytes = (size_t)(k1 - k0) * dim * sizeof(float);
        if (sp->mode == 2) memset(xs, 0, bytes);
        else {
            iv_sae_forward(sp->s, xs, k1 - k0, NULL, xh);
            memcpy(xs, xh, bytes);
        }
        k0 = k1;
    }
    free(xh);
    return 0;
}

int iv_sae_splice_nll(const iv_model *m, const iv_sae *s, const iv_token_texts *t, int mode,
                      double *nll, iv_err *err) {
    splice_st sp = {.s = s, .mode = mode, .first = t->first};
    iv_hooks hs = {.n = 0};
    if (mode && iv_hooks_add(&hs, s->layer, IV_AT_ALL, splice_hook, &sp, err)) return -1;
    double tot = 0;
    int64_t cnt = 0;
    for (int i = 0; i < t->n; i++) {
        int n = t->len[i];
        if (n < 2) continue;
        float *lp = malloc((size_t)(n - 1) * sizeof(float));
        if (!lp) return iv_errf(err, "sae: out of memory");
        if (iv_score(m, t->ids[i], n, mode ? &hs : NULL, lp, err)) { free(lp); return iv_err_prefix(err, "sae: text %d", i + 1); }
        for (int j = 0; j < n - 1; j++) tot -= lp[j];
        cnt += n - 1;
        free(lp);
    }
    if (!cnt) return iv_errf(err, "sae: no tokens to score");
    *nll = tot / (double)cnt;
    return 0;
}

/* ---- evaluation ------------------------------------------------------------------- */
static int evaluate(iv_sae *s, const float *X, int64_t N, iv_err *err) {
    int d = s->d_in, S = s->d_sae, B = 256;
    float *f = malloc((size_t)B * S * sizeof(float)), *xh = malloc((size_t)B * d * sizeof(float));
    double *mean = calloc((size_t)d, sizeof(double));
    if (!f || !xh || !mean) { free(f); free(xh); free(mean); return iv_errf(err, "sae: out of memory"); }
    for (int64_t r = 0; r < N; r++)
        for (int i = 0; i < d; i++) mean[i] += X[r * d + i];
    for (int i = 0; i < d; i++) mean[i] /= (double)N;
    double se = 0, var = 0, l0 = 0;
    for (int64_t s0 = 0; s0 < N; s0 += B) {
        int nb = N - s0 < B ? (int)(N - s0) : B;
        iv_sae_forward(s, X + s0 * d, nb, f, xh);
        for (int r = 0; r < nb; r++) {
            const float *x = X + (s0 + r) * d;
            for (int i = 0; i < d; i++) {
                double e = xh[(size_t)r * d + i] - x[i], c = x[i] - mean[i];
                se += e * e; var += c * c;
            }
            for (int j = 0; j < S; j++) l0 += f[(size_t)r * S + j] > 0;
        }
    }
    s->l0 = l0 / (double)N;
    s->mse = se / ((double)N * d);
    s->explained_var = var > 0 ? 1.0 - se / var : 0.0;
    free(f); free(xh); free(mean);
    return 0;
}

/* ---- training --------------------------------------------------------------------- */
static int collect(const iv_model *m, const iv_texts *tx, const iv_sae_opts *o, iv_act_set *a,
                   iv_token_texts *keep, iv_err *err) {
    iv_token_texts t;
    if (iv_tokenize_texts(m, tx, o->max_len, &t, err)) return -1;
    int rc = iv_act_positions(m, &o->layer, 1, &t, o->max_pos, &o->act, a, err);
    if (keep && !rc) *keep = t;
    else iv_token_texts_free(&t);
    return rc;
}

int iv_train_sae(const iv_model *m, const iv_texts *corpus, const iv_texts *heldout,
                 const iv_sae_opts *o, iv_sae *out, iv_err *err) {
    int d = m->cfg.dim, S = o->d_sae > 0 ? o->d_sae : 4 * d, B = o->batch > 0 ? o->batch : 256;
    int k = o->topk, rc = -1;
    memset(out, 0, sizeof *out);
    if (o->layer < 0 || o->layer >= m->cfg.n_layers)
        return iv_errf(err, "sae: layer %d out of range (0..%d)", o->layer, m->cfg.n_layers - 1);
    if (k < 0 || k > S) return iv_errf(err, "sae: k = %d must be in 1..d_sae (%d)", k, S);
    out->d_in = d; out->d_sae = S; out->k = k; out->layer = o->layer;
    iv_act_set tr = {0}, ev = {0};
    iv_token_texts evt = {0};
    iv_adam ad[4] = {{0}};
    size_t ne = (size_t)d * S;
    out->W_enc = malloc(ne * sizeof(float));
    out->W_dec = malloc(ne * sizeof(float));
    out->b_enc = calloc((size_t)S, sizeof(float));
    out->b_dec = calloc((size_t)d, sizeof(float));
    float *gWe = malloc(ne * sizeof(float)), *gWd = malloc(ne * sizeof(float));
    float *gbe = malloc((size_t)S * sizeof(float)), *gbd = malloc((size_t)d * sizeof(float));
    float *X = malloc((size_t)B * d * sizeof(float)), *xc = malloc((size_t)B * d * sizeof(float));
    float *f = malloc((size_t)B * S * sizeof(float)), *df = malloc((size_t)B * S * sizeof(float));
    float *e = malloc((size_t)B * d * sizeof(float)), *tmp = malloc((size_t)S * sizeof(float));
    int64_t *last = calloc((size_t)S, sizeof(int64_t));
    int *perm = NULL;
    if (!out->W_enc || !out->W_dec || !out->b_enc || !out->b_dec || !gWe || !gWd || !gbe || !gbd ||
        !X || !xc || !f || !df || !e || !tmp || !last) { iv_errf(err, "sae: out of memory"); goto done; }
    iv_texts ctr = *corpus, cev = heldout ? *heldout : *corpus;
    if (!heldout && corpus->n >= 2) {  /* hold out the last 10% of texts */
        int nev = corpus->n / 10 > 0 ? corpus->n / 10 : 1;
        ctr.n = corpus->n - nev;
        cev.s = corpus->s + ctr.n; cev.n = nev;
    }
    if (collect(m, &ctr, o, &tr, NULL, err) || collect(m, &cev, o, &ev, &evt, err)) goto done;
    if (tr.n_pos < 1 || ev.n_pos < 1) { iv_errf(err, "sae: corpus gave no positions after BOS"); goto done; }
    /* the spliced loss is measured on the texts that gave the evaluation positions */
    for (int i = ev.text[ev.n_pos - 1] + 1; i < evt.n; i++) free(evt.ids[i]);
    evt.n = ev.text[ev.n_pos - 1] + 1;
    const float *A = tr.x[0];  /* [n_pos, d] */
    int64_t N = tr.n_pos;
    /* init: b_dec = data mean, W_dec random unit rows, W_enc = W_decᵀ */
    for (int64_t r = 0; r < N; r++)
        for (int i = 0; i < d; i++) out->b_dec[i] += A[r * d + i] / (float)N;
    iv_rng rng = {o->seed ^ 0x5ae5ae5aull};
    for (size_t i = 0; i < ne; i++) out->W_dec[i] = iv_rng_normal(&rng);
    normalise_rows(out->W_dec, S, d);
    for (int j = 0; j < S; j++)
        for (int i = 0; i < d; i++) out->W_enc[(size_t)i * S + j] = out->W_dec[(size_t)j * d + i];
    float lr = o->lr > 0 ? o->lr : 1e-3f;
    if (iv_adam_init(&ad[0], (int64_t)ne, lr, err) || iv_adam_init(&ad[1], S, lr, err) ||
        iv_adam_init(&ad[2], (int64_t)ne, lr, err) || iv_adam_init(&ad[3], d, lr, err)) goto done;
    int64_t nperm = N < INT32_MAX ? N : INT32_MAX;
    perm = malloc((size_t)nperm * sizeof(int));
    if (!perm) { iv_errf(err, "sae: out of memory"); goto done; }
    int64_t cursor = nperm, seen = 0;
    int steps = o->steps > 0 ? o->steps : 2000;
    double ema = -1;
    for (int step = 0; step < steps; step++) {
        int nb = nperm < B ? (int)nperm : B;
        if (cursor + nb > nperm) {
            for (int i = 0; i < nperm; i++) perm[i] = i;
            iv_rng_shuffle(&rng, perm, (int)nperm);
            cursor = 0;
        }
        for (int r = 0; r < nb; r++) memcpy(X + (size_t)r * d, A + (size_t)perm[cursor + r] * d, (size_t)d * sizeof(float));
        cursor += nb;
        /* forward */
        for (int r = 0; r < nb; r++)
            for (int i = 0; i < d; i++) xc[(size_t)r * d + i] = X[(size_t)r * d + i] - out->b_dec[i];
        for (int r = 0; r < nb; r++) memcpy(f + (size_t)r * S, out->b_enc, (size_t)S * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, S, d, 1.0f, xc, d, out->W_enc, S, 1.0f, f, S);
        activate(f, nb, S, k, tmp);
        for (int r = 0; r < nb; r++) memcpy(e + (size_t)r * d, out->b_dec, (size_t)d * sizeof(float));
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nb, d, S, 1.0f, f, S, out->W_dec, d, 1.0f, e, d);
        double mse = 0, l1 = 0;
        for (size_t i = 0; i < (size_t)nb * d; i++) { e[i] -= X[i]; mse += (double)e[i] * e[i]; }
        for (size_t i = 0; i < (size_t)nb * S; i++) l1 += f[i];
        mse /= nb; l1 /= nb;
        double loss = mse + (k ? 0.0 : o->l1 * l1);
        /* dead-feature bookkeeping: last token count at which each feature fired */
        for (int r = 0; r < nb; r++) {
            seen++;
            for (int j = 0; j < S; j++) if (f[(size_t)r * S + j] > 0) last[j] = seen;
        }
        /* backward: dx̂ = 2e/B (kept in e) */
        for (size_t i = 0; i < (size_t)nb * d; i++) e[i] *= 2.0f / nb;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, S, d, nb, 1.0f, f, S, e, d, 0.0f, gWd, d);
        memset(gbd, 0, (size_t)d * sizeof(float));
        for (int r = 0; r < nb; r++) for (int i = 0; i < d; i++) gbd[i] += e[(size_t)r * d + i];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, S, d, 1.0f, e, d, out->W_dec, d, 0.0f, df, S);
        float l1g = k ? 0.0f : o->l1 / nb;
        for (size_t i = 0; i < (size_t)nb * S; i++) df[i] = f[i] > 0 ? df[i] + l1g : 0.0f;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, S, nb, 1.0f, xc, d, df, S, 0.0f, gWe, S);
        memset(gbe, 0, (size_t)S * sizeof(float));
        for (int r = 0; r < nb; r++) for (int j = 0; j < S; j++) gbe[j] += df[(size_t)r * S + j];
        /* b_dec also enters the encoder input: ∂/∂b_dec −= W_enc · Σ_b dpre */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, d, S, -1.0f, out->W_enc, S, gbe, 1, 1.0f, gbd, 1);
        iv_adam_step(&ad[0], out->W_enc, gWe);
        iv_adam_step(&ad[1], out->b_enc, gbe);
        iv_adam_step(&ad[2], out->W_dec, gWd);
        iv_adam_step(&ad[3], out->b_dec, gbd);
        normalise_rows(out->W_dec, S, d);
        ema = ema < 0 ? loss : 0.98 * ema + 0.02 * loss;
        if (o->act.progress && (step % 20 == 0 || step + 1 == steps))
            o->act.progress(o->act.user, "sae", step + 1, steps, ema);
    }
    int64_t win = o->dead_window > 0 && o->dead_window < seen ? o->dead_window : seen;
    out->dead = 0;
    for (int j = 0; j < S; j++) out->dead += last[j] <= seen - win;  /* no firing in the last win tokens */
    if (evaluate(out, ev.x[0], ev.n_pos, err)) goto done;
    if (iv_sae_splice_nll(m, out, &evt, 0, &out->nll_clean, err) ||
        iv_sae_splice_nll(m, out, &evt, 1, &out->nll_spliced, err) ||
        iv_sae_splice_nll(m, out, &evt, 2, &out->nll_zero, err)) goto done;
    rc = 0;
done:
    for (int i = 0; i < 4; i++) iv_adam_free(&ad[i]);
    free(gWe); free(gWd); free(gbe); free(gbd); free(X); free(xc); free(f); free(df); free(e);
    free(tmp); free(last); free(perm);
    iv_act_set_free(&tr); iv_act_set_free(&ev);
    iv_token_texts_free(&evt);
    if (rc) iv_sae_free(out);
    return rc;
}
