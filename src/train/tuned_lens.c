/* Tuned lens: per-layer affine translators trained with Adam to match the model's
 * final next-token distribution (KL), evaluated against the logit lens. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/train.h"
#include "train/internal.h"

iv_lens_opts iv_lens_defaults(void) {
    iv_lens_opts o = {.steps = 0, .batch = 256, .lr = 1e-3f, .seed = 0, .max_pos = 50000,
                      .max_len = 256, .act = iv_act_defaults()};
    return o;
}

void iv_tuned_lens_free(iv_tuned_lens *t) {
    free(t->A); free(t->b); free(t->kl_logit); free(t->kl_tuned);
    memset(t, 0, sizeof *t);
}

static void softmax_rows(float *z, int B, int V) {
    for (int r = 0; r < B; r++) {
        float *x = z + (size_t)r * V, mx = x[0];
        for (int v = 1; v < V; v++) if (x[v] > mx) mx = x[v];
        double s = 0;
        for (int v = 0; v < V; v++) { x[v] = expf(x[v] - mx); s += x[v]; }
        for (int v = 0; v < V; v++) x[v] = (float)(x[v] / s);
    }
}

/* hidden_states[0..n_layers] = hook layers -1..n_layers-1 */
static int collect(const iv_model *m, const iv_texts *tx, const iv_lens_opts *o, iv_act_set *a,
                   iv_err *err) {
    int nl = m->cfg.n_layers;
    int *layers = malloc(((size_t)nl + 1) * sizeof(int));
    if (!layers) return iv_errf(err, "tuned lens: out of memory");
    for (int i = 0; i <= nl; i++) layers[i] = i - 1;
    iv_token_texts t;
    int rc = iv_tokenize_texts(m, tx, o->max_len, &t, err);
    if (!rc) rc = iv_act_positions(m, layers, nl + 1, &t, o->max_pos, &o->act, a, err);
    iv_token_texts_free(&t);
    free(layers);
    return rc;
}

/* Gathers rows idx[0..B) of hidden layer l and the final distribution. */
static void gather(const iv_act_set *a, int sel, const int64_t *idx, int B, float *out) {
    int d = a->dim;
    for (int r = 0; r < B; r++)
        memcpy(out + (size_t)r * d, a->x[sel] + idx[r] * d, (size_t)d * sizeof(float));
}

/* Held-out KL per layer for translators (A,b) and for zeros (logit lens). */
static int evaluate(const iv_unembed *u, const iv_act_set *a, const iv_tuned_lens *t, int B,
                    iv_err *err) {
    int d = u->d, V = u->V, nl = t->n_layers;
    float *h = malloc((size_t)B * d * sizeof(float)), *p = malloc((size_t)B * V * sizeof(float));
    float *zA = calloc((size_t)d * d, sizeof(float)), *zb = calloc((size_t)d, sizeof(float));
    int64_t *idx = malloc((size_t)B * sizeof(int64_t));
    if (!h || !p || !zA || !zb || !idx) {
        free(h); free(p); free(zA); free(zb); free(idx);
        return iv_errf(err, "tuned lens: out of memory");
    }
    for (int l = 0; l < nl; l++) t->kl_logit[l] = t->kl_tuned[l] = 0;
    for (int64_t s = 0; s < a->n_pos; s += B) {
        int nb = a->n_pos - s < B ? (int)(a->n_pos - s) : B;
        for (int r = 0; r < nb; r++) idx[r] = s + r;
        gather(a, nl, idx, nb, h);
        iv_unembed_logits(u, h, nb, p);
        softmax_rows(p, nb, V);
        for (int l = 0; l < nl; l++) {
            gather(a, l, idx, nb, h);
            t->kl_logit[l] += nb * iv_lens_kl_grad(u, h, p, nb, zA, zb, NULL, NULL);
            t->kl_tuned[l] += nb * iv_lens_kl_grad(u, h, p, nb, t->A + (size_t)l * d * d,
                                                   t->b + (size_t)l * d, NULL, NULL);
        }
    }
    for (int l = 0; l < nl; l++) {
        t->kl_logit[l] /= (double)a->n_pos;
        t->kl_tuned[l] /= (double)a->n_pos;
    }
    free(h); free(p); free(zA); free(zb); free(idx);
    return 0;
}

int iv_train_tuned_lens(const iv_model *m, const iv_texts *corpus, const iv_texts *heldout,
                        const iv_lens_opts *o, iv_tuned_lens *out, iv_err *err) {
    int nl = m->cfg.n_layers, d = m->cfg.dim, V = m->cfg.vocab_size, rc = -1;
    int B = o->batch > 0 ? o->batch : 256;
    memset(out, 0, sizeof *out);
    iv_unembed u = {0};
    iv_act_set tr = {0}, ev = {0};
    iv_adam *adam = calloc((size_t)nl, sizeof *adam);
    float *h = malloc((size_t)B * d * sizeof(float)), *p = malloc((size_t)B * V * sizeof(float));
    float *gA = malloc((size_t)d * d * sizeof(float)), *gb = malloc((size_t)d * sizeof(float));
    int64_t *idx = malloc((size_t)B * sizeof(int64_t)), *perm = NULL;
    out->n_layers = nl; out->dim = d;
    out->A = calloc((size_t)nl * d * d, sizeof(float));
    out->b = calloc((size_t)nl * d, sizeof(float));
    out->kl_logit = calloc((size_t)nl, sizeof(double));
    out->kl_tuned = calloc((size_t)nl, sizeof(double));
    if (!adam || !h || !p || !gA || !gb || !idx || !out->A || !out->b || !out->kl_logit || !out->kl_tuned) {
        iv_errf(err, "tuned lens: out of memory"); goto done;
    }
    if (iv_unembed_from_model(m, &u, err)) goto done;
    /* without a held-out file the last 10% of the corpus texts are held out */
    iv_texts ctr = *corpus, cev = heldout ? *heldout : *corpus;
    if (!heldout) {
        int ne = corpus->n / 10 > 0 ? corpus->n / 10 : 1;
        if (corpus->n < 2) { iv_errf(err, "tuned lens: need at least 2 texts without --heldout"); goto done; }
        ctr.n = corpus->n - ne;
        cev.s = corpus->s + ctr.n; cev.n = ne;
    }
    if (collect(m, &ctr, o, &tr, err) || collect(m, &cev, o, &ev, err)) goto done;
    if (tr.n_pos < 1 || ev.n_pos < 1) { iv_errf(err, "tuned lens: corpus gave no positions after BOS"); goto done; }
    out->n_train_pos = tr.n_pos; out->n_eval_pos = ev.n_pos;
    for (int l = 0; l < nl; l++)
        if (iv_adam_init(&adam[l], (int64_t)d * d + d, o->lr > 0 ? o->lr : 1e-3f, err)) goto done;
    /* A and b sit in one flat parameter block per layer for Adam */
    float *par = malloc(((size_t)d * d + d) * sizeof(float) * nl);
    float *grad = malloc(((size_t)d * d + d) * sizeof(float));
    perm = malloc((size_t)tr.n_pos * sizeof(int64_t));
    if (!par || !grad || !perm) { free(par); free(grad); iv_errf(err, "tuned lens: out of memory"); goto done; }
    memset(par, 0, ((size_t)d * d + d) * sizeof(float) * nl);
    int64_t steps_per_epoch = (tr.n_pos + B - 1) / B;
    int64_t steps = o->steps > 0 ? o->steps : 3 * steps_per_epoch;
    iv_rng rng = {o->seed ^ 0x1e2de2ull};
    int64_t cursor = tr.n_pos;
    double ema = -1;
    for (int64_t s = 0; s < steps; s++) {
        if (cursor + B > tr.n_pos) {  /* new epoch: reshuffle */
            for (int64_t i = 0; i < tr.n_pos; i++) perm[i] = i;
            for (int64_t i = tr.n_pos - 1; i > 0; i--) {
                int64_t j = (int64_t)(iv_rng_next(&rng) % (uint64_t)(i + 1)), t = perm[i];
                perm[i] = perm[j]; perm[j] = t;
            }
            cursor = 0;
        }
        int nb = tr.n_pos < B ? (int)tr.n_pos : B;
        for (int r = 0; r < nb; r++) idx[r] = perm[cursor + r];
        cursor += nb;
        gather(&tr, nl, idx, nb, h);
        iv_unembed_logits(&u, h, nb, p);
        softmax_rows(p, nb, V);
        double tot = 0;
        for (int l = 0; l < nl; l++) {
            float *pl = par + ((size_t)d * d + d) * l;
            gather(&tr, l, idx, nb, h);
            double kl = iv_lens_kl_grad(&u, h, p, nb, pl, pl + (size_t)d * d, grad, grad + (size_t)d * d);
            if (isnan(kl)) { free(par); free(grad); iv_errf(err, "tuned lens: out of memory"); goto done; }
            tot += kl;
            iv_adam_step(&adam[l], pl, grad);
        }
        ema = ema < 0 ? tot / nl : 0.95 * ema + 0.05 * tot / nl;
        if (o->act.progress && (s % 10 == 0 || s + 1 == steps))
            o->act.progress(o->act.user, "tuned-lens", s + 1, steps, ema);
    }
    for (int l = 0; l < nl; l++) {
        float *pl = par + ((size_t)d * d + d) * l;
        memcpy(out->A + (size_t)l * d * d, pl, (size_t)d * d * sizeof(float));
        memcpy(out->b + (size_t)l * d, pl + (size_t)d * d, (size_t)d * sizeof(float));
    }
    free(par); free(grad);
    rc = evaluate(&u, &ev, out, B, err);
done:
    if (adam) for (int l = 0; l < nl; l++) iv_adam_free(&adam[l]);
    free(adam); free(h); free(p); free(gA); free(gb); free(idx); free(perm);
    iv_act_set_free(&tr); iv_act_set_free(&ev);
    iv_unembed_free(&u);
    if (rc) iv_tuned_lens_free(out);
    return rc;
}

int iv_tuned_lens_save(const char *dir, const iv_tuned_lens *t, const char *model_path, iv_err *err) {
    int nl = t->n_layers, d = t->dim, rc = -1;
    if (iv_train_mkdir(dir, err)) return -1;
    size_t pl = strlen(dir) + 32;
    char *path = malloc(pl);
    iv_st_out *ts = calloc(2 * (size_t)nl, sizeof *ts);
    char (*names)[32] = calloc(2 * (size_t)nl, sizeof *names);
    json_t *cfg = json_object(), *k1 = json_array(), *k2 = json_array();
    if (!path || !ts || !names || !cfg || !k1 || !k2) { iv_errf(err, "%s: out of memory", dir); goto done; }
    for (int i = 0; i < nl; i++) {
        snprintf(names[2 * i], 32, "%d.bias", i);
        snprintf(names[2 * i + 1], 32, "%d.weight", i);
        ts[2 * i] = (iv_st_out){.name = names[2 * i], .dtype = IV_F32, .ndim = 1, .shape = {d},
                                .data = t->b + (size_t)i * d};
        ts[2 * i + 1] = (iv_st_out){.name = names[2 * i + 1], .dtype = IV_F32, .ndim = 2,
                                    .shape = {d, d}, .data = t->A + (size_t)i * d * d};
        json_array_append_new(k1, json_real(t->kl_logit[i]));
        json_array_append_new(k2, json_real(t->kl_tuned[i]));
    }
    char sd[32], sn[32];
    snprintf(sd, sizeof sd, "%d", d);
    snprintf(sn, sizeof sn, "%d", nl);
    const char *meta[] = {"interv_method", "tuned_lens", "d_model", sd, "num_hidden_layers", sn,
                          "final_norm", "true"};
    snprintf(path, pl, "%s/params.safetensors", dir);
    if (iv_st_write(path, ts, 2 * (size_t)nl, meta, 4, err)) goto done;
    json_object_set_new(cfg, "base_model_name_or_path", json_string(model_path ? model_path : ""));
    json_object_set_new(cfg, "d_model", json_integer(d));
    json_object_set_new(cfg, "num_hidden_layers", json_integer(nl));
    json_object_set_new(cfg, "bias", json_true());
    json_object_set_new(cfg, "lens_type", json_string("linear_tensor"));
    json_object_set_new(cfg, "final_norm", json_true());
    json_object_set_new(cfg, "translator", json_string("y = h + A h + b; logits = W_U finalnorm(y)"));
    json_object_set_new(cfg, "heldout_kl_logit_lens", k1); k1 = NULL;
    json_object_set_new(cfg, "heldout_kl_tuned_lens", k2); k2 = NULL;
    snprintf(path, pl, "%s/config.json", dir);
    rc = iv_train_write_json(path, cfg, err);
done:
    json_decref(cfg); json_decref(k1); json_decref(k2);
    free(path); free(ts); free(names);
    return rc;
}
