/* Residual activations over a list of texts: tokenise (BOS first), run the model in
 * batches with read-only capture hooks at IV_AT_ALL, then pool or keep positions. */
#include <stdlib.h>
#include <string.h>
#include "interv/train.h"

iv_act_opts iv_act_defaults(void) {
    iv_act_opts o = {.batch = 8, .progress = NULL, .user = NULL};
    return o;
}

void iv_token_texts_free(iv_token_texts *t) {
    if (t->ids)
        for (int i = 0; i < t->n; i++) free(t->ids[i]);
    free(t->ids); free(t->len);
    memset(t, 0, sizeof *t);
}

int iv_tokenize_texts(const iv_model *m, const iv_texts *t, int max_len, iv_token_texts *out,
                      iv_err *err) {
    memset(out, 0, sizeof *out);
    if (!m->tok) return iv_errf(err, "%s: model has no tokenizer", m->path ? m->path : "model");
    if (max_len <= 0 || max_len > m->cfg.max_seq) max_len = m->cfg.max_seq;
    int bos = m->cfg.bos_id >= 0 ? m->cfg.bos_id : m->tok->bos_id;
    out->ids = calloc((size_t)(t->n ? t->n : 1), sizeof *out->ids);
    out->len = calloc((size_t)(t->n ? t->n : 1), sizeof *out->len);
    if (!out->ids || !out->len) {
        iv_token_texts_free(out);
        return iv_errf(err, "tokenize: out of memory");
    }
    out->n = t->n;
    out->first = bos >= 0;
    for (int i = 0; i < t->n; i++) {
        int32_t *ids; size_t n;
        if (iv_tok_encode(m->tok, t->s[i], strlen(t->s[i]), 1, &ids, &n, err)) {
            iv_token_texts_free(out);
            return iv_err_prefix(err, "text %d", i + 1);
        }
        if (bos >= 0 && (n == 0 || ids[0] != bos)) {  /* tokenizer did not add BOS */
            int32_t *w = realloc(ids, (n + 1) * sizeof *w);
            if (!w) { free(ids); iv_token_texts_free(out); return iv_errf(err, "tokenize: out of memory"); }
            ids = w;
            memmove(ids + 1, ids, n * sizeof *ids);
            ids[0] = bos;
            n++;
        }
        if (n == 0) { free(ids); iv_token_texts_free(out); return iv_errf(err, "text %d: no tokens", i + 1); }
        if (n > (size_t)max_len) n = (size_t)max_len;
        out->ids[i] = ids;
        out->len[i] = (int)n;
    }
    return 0;
}

/* ---- batched capture ------------------------------------------------------------ */
typedef struct {
    float *buf;   /* [batch, maxlen, dim] */
    int maxlen, dim, nrows;
} capture;

static int capture_hook(void *user, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    (void)layer;
    capture *c = user;
    if (dim != c->dim) return -1;
    for (int k = 0; k < n; k++) {
        if (rows[k] < 0 || rows[k] >= c->nrows || pos[k] < 0 || pos[k] >= c->maxlen) return -1;
        memcpy(c->buf + ((size_t)rows[k] * c->maxlen + pos[k]) * dim, x + (size_t)k * dim, (size_t)dim * sizeof(float));
    }
    return 0;
}

/* Receives the captured batch: bufs[s] = [nrows, maxlen, dim] for layer group s. */
typedef int (*batch_sink)(void *user, int text0, int nrows, float *const *bufs, int maxlen);

static int run_batches(const iv_model *m, const int *layers, int n_sel, const iv_token_texts *t,
                       int n_texts, const iv_act_opts *o, batch_sink sink, void *user, iv_err *err) {
    int B = o && o->batch > 0 ? o->batch : 8, d = m->cfg.dim, maxlen = 1;
    if (n_sel <= 0 || n_sel > IV_MAX_HOOKS) return iv_errf(err, "activations: %d layers per pass", n_sel);
    for (int i = 0; i < n_texts; i++) if (t->len[i] > maxlen) maxlen = t->len[i];
    if (B > n_texts) B = n_texts > 0 ? n_texts : 1;
    capture cap[IV_MAX_HOOKS];
    float *bufs[IV_MAX_HOOKS] = {0};
    iv_hooks hs = {.n = 0};
    int rc = -1;
    iv_state *s = iv_state_new(m, B, maxlen, err);
    float *logits = malloc((size_t)B * m->cfg.vocab_size * sizeof(float));
    const int32_t **toks = calloc((size_t)B, sizeof *toks);
    int *ntok = calloc((size_t)B, sizeof *ntok);
    if (!s) goto done;
    if (!logits || !toks || !ntok) { iv_errf(err, "activations: out of memory"); goto done; }
    for (int k = 0; k < n_sel; k++) {
        bufs[k] = malloc((size_t)B * maxlen * d * sizeof(float));
        if (!bufs[k]) { iv_errf(err, "activations: out of memory (%d x %d x %d)", B, maxlen, d); goto done; }
        cap[k] = (capture){.buf = bufs[k], .maxlen = maxlen, .dim = d, .nrows = B};
        if (iv_hooks_add(&hs, layers[k], IV_AT_ALL, capture_hook, &cap[k], err)) goto done;
    }
    for (int t0 = 0; t0 < n_texts; t0 += B) {
        int nr = n_texts - t0 < B ? n_texts - t0 : B;
        iv_state_reset(s);
        for (int r = 0; r < B; r++) {
            toks[r] = r < nr ? t->ids[t0 + r] : NULL;
            ntok[r] = r < nr ? t->len[t0 + r] : 0;
        }
        if (iv_forward(m, s, toks, ntok, &hs, logits, NULL, err)) {
            iv_err_prefix(err, "activations: texts %d..%d", t0 + 1, t0 + nr);
            goto done;
        }
        if (sink(user, t0, nr, bufs, maxlen)) { iv_errf(err, "activations: out of memory"); goto done; }
        if (o && o->progress) o->progress(o->user, "activations", t0 + nr, n_texts, -1);
    }
    rc = 0;
done:
    for (int k = 0; k < n_sel; k++) free(bufs[k]);
    free(logits); free(toks); free(ntok);
    iv_state_free(s);
    return rc;
}

/* ---- pooled ------------------------------------------------------------------- */
typedef struct {
    const iv_token_texts *t;
    float *out;  /* [n, dim] */
    int dim;
} pool_st;

static int pool_sink(void *user, int text0, int nrows, float *const *bufs, int maxlen) {
    pool_st *p = user;
    int d = p->dim;
    for (int r = 0; r < nrows; r++) {
        int len = p->t->len[text0 + r], first = p->t->first && len > 1 ? 1 : 0;
        float *o = p->out + (size_t)(text0 + r) * d;
        double acc[d];  /* double: long texts, small dims */
        memset(acc, 0, sizeof acc);
        for (int pos = first; pos < len; pos++) {
            const float *x = bufs[0] + ((size_t)r * maxlen + pos) * d;
            for (int i = 0; i < d; i++) acc[i] += x[i];
        }
        for (int i = 0; i < d; i++) o[i] = (float)(acc[i] / (len - first));
    }
    return 0;
}

int iv_act_pooled(const iv_model *m, int layer, const iv_token_texts *t, const iv_act_opts *o,
                  float *out, iv_err *err) {
    if (layer < -1 || layer >= m->cfg.n_layers)
        return iv_errf(err, "activations: layer %d out of range (-1..%d)", layer, m->cfg.n_layers - 1);
    pool_st p = {.t = t, .out = out, .dim = m->cfg.dim};
    return run_batches(m, &layer, 1, t, t->n, o, pool_sink, &p, err);
}

/* ---- per position --------------------------------------------------------------- */
typedef struct {
    const iv_token_texts *t;
    iv_act_set *a;
    int64_t *start;   /* [n_texts] first row in a->x for each text */
    int64_t *count;   /* [n_texts] positions kept */
    int sel0, nsel;   /* layer group of this pass */
} pos_st;

static int pos_sink(void *user, int text0, int nrows, float *const *bufs, int maxlen) {
    pos_st *p = user;
    int d = p->a->dim;
    for (int r = 0; r < nrows; r++) {
        int ti = text0 + r, first = p->t->first && p->t->len[ti] > 1 ? 1 : 0;
        for (int k = 0; k < p->nsel; k++)
            memcpy(p->a->x[p->sel0 + k] + p->start[ti] * d,
                   bufs[k] + ((size_t)r * maxlen + first) * d,
                   (size_t)p->count[ti] * d * sizeof(float));
    }
    return 0;
}

void iv_act_set_free(iv_act_set *a) {
    if (a->x)
        for (int k = 0; k < a->n_sel; k++) free(a->x[k]);
    free(a->x); free(a->layers); free(a->text); free(a->pos);
    memset(a, 0, sizeof *a);
}

int iv_act_positions(const iv_model *m, const int *layers, int n_sel, const iv_token_texts *t,
                     int64_t max_pos, const iv_act_opts *o, iv_act_set *out, iv_err *err) {
    memset(out, 0, sizeof *out);
    int d = m->cfg.dim;
    for (int k = 0; k < n_sel; k++)
        if (layers[k] < -1 || layers[k] >= m->cfg.n_layers)
            return iv_errf(err, "activations: layer %d out of range (-1..%d)", layers[k], m->cfg.n_layers - 1);
    int64_t *start = calloc((size_t)t->n + 1, sizeof *start);
    int64_t *count = calloc((size_t)t->n + 1, sizeof *count);
    if (!start || !count) { free(start); free(count); return iv_errf(err, "activations: out of memory"); }
    int64_t total = 0;
    int n_texts = 0;
    for (int i = 0; i < t->n; i++) {
        if (max_pos > 0 && total >= max_pos) break;
        int first = t->first && t->len[i] > 1 ? 1 : 0;
        int64_t c = t->len[i] - first;
        if (max_pos > 0 && total + c > max_pos) c = max_pos - total;
        start[i] = total; count[i] = c; total += c;
        n_texts = i + 1;
    }
    out->n_sel = n_sel; out->dim = d; out->n_pos = total;
    out->layers = malloc((size_t)n_sel * sizeof(int));
    out->x = calloc((size_t)n_sel, sizeof *out->x);
    out->text = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    out->pos = malloc((size_t)(total ? total : 1) * sizeof(int32_t));
    int ok = out->layers && out->x && out->text && out->pos;
    for (int k = 0; ok && k < n_sel; k++) {
        out->layers[k] = layers[k];
        ok = (out->x[k] = malloc((size_t)(total ? total : 1) * d * sizeof(float))) != NULL;
    }
    if (!ok) {
        free(start); free(count); iv_act_set_free(out);
        return iv_errf(err, "activations: out of memory for %lld positions x %d layers",
                       (long long)total, n_sel);
    }
    for (int i = 0; i < n_texts; i++) {
        int first = t->first && t->len[i] > 1 ? 1 : 0;
        for (int64_t j = 0; j < count[i]; j++) {
            out->text[start[i] + j] = i;
            out->pos[start[i] + j] = (int32_t)(first + j);
        }
    }
    pos_st p = {.t = t, .a = out, .start = start, .count = count};
    int rc = 0;
    for (int s0 = 0; s0 < n_sel && !rc; s0 += IV_MAX_HOOKS) {
        p.sel0 = s0;
        p.nsel = n_sel - s0 < IV_MAX_HOOKS ? n_sel - s0 : IV_MAX_HOOKS;
        rc = run_batches(m, layers + s0, p.nsel, t, n_texts, o, pos_sink, &p, err);
    }
    free(start); free(count);
    if (rc) iv_act_set_free(out);
    return rc;
}
