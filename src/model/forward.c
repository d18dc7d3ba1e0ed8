/* The forward pass of every supported architecture, over a flat list of tokens
 * that may belong to different batch rows at different positions: the linear
 * layers see all tokens of the call as one matrix (SGEMM), attention reads each
 * token's own row of the KV cache, so rows never see each other. */
#include "model/state_internal.h"
#include "interv/kernels.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

static void norm(const iv_config *c, float *o, const float *x, iv_vec w, iv_vec b) {
    if (iv_cfg_layernorm(c)) iv_layernorm(o, x, w, b, c->norm_eps, c->dim);
    else iv_rmsnorm(o, x, w, 0.f, c->norm_eps, c->dim); /* Gemma's (1+w) was folded into w at load */
}

/* Rotates the first rot dims of n_heads vectors of head_dim at position pos
 * (rot < hd: partial rotary, the rest passes through). */
static void rope(float *v, int n_heads, int hd, int rot, int pos, const double *freqs, int interleaved) {
    int half = rot / 2;
    for (int i = 0; i < half; i++) {
        double a = pos * freqs[i];
        float cs = (float)cos(a), sn = (float)sin(a);
        for (int h = 0; h < n_heads; h++) {
            float *p = v + (size_t)h * hd;
            int i0 = interleaved ? 2 * i : i, i1 = interleaved ? 2 * i + 1 : i + half;
            float x0 = p[i0], x1 = p[i1];
            p[i0] = x0 * cs - x1 * sn;
            p[i1] = x0 * sn + x1 * cs;
        }
    }
}

static void embed(const iv_model *m, iv_state *s, int T) {
    const iv_config *c = &m->cfg;
    const iv_wmat *e = &m->w.tok_emb, *pe = &m->w.pos_emb;
    size_t es = iv_dtype_size(e->dtype);
    for (int t = 0; t < T; t++) {
        float *x = s->x + (size_t)t * c->dim;
        iv_to_f32(x, (const uint8_t *)e->data + (size_t)s->tid[t] * e->stride * es, e->dtype, (size_t)c->dim);
        if (c->embed_scale != 1.f)
            for (int i = 0; i < c->dim; i++) x[i] *= c->embed_scale;
        if (pe->data) {
            float tmp[c->dim];
            iv_to_f32(tmp, (const uint8_t *)pe->data + (size_t)s->tpos[t] * pe->stride * iv_dtype_size(pe->dtype),
                      pe->dtype, (size_t)c->dim);
            for (int i = 0; i < c->dim; i++) x[i] += tmp[i];
        }
    }
}

/* Attention multiply-adds (tokens x heads x head_dim x positions) from which
 * heads are spread over threads.  Batch-1 decode reads the whole KV cache
 * (GPT-2 small at position 130: 0.8 MB per layer), so it pays already at
 * that size: 2 threads, bf16 GPT-2, 13.3-13.8 -> 12.4-12.7 ms per token. */
#define ATT_PAR_MIN 32768
static void attention(const iv_model *m, iv_state *s, int l, int T) {
    const iv_config *c = &m->cfg;
    int hd = c->head_dim, nh = c->n_heads, grp = nh / c->n_kv_heads, kvd = s->kv_dim;
    int window = iv_cfg_sliding(c, l) ? c->sliding_window : 0;
    /* GPT-2 scale_attn_by_inverse_layer_idx: scores also / (layer index + 1) */
    float scale = c->attn_scale_by_layer ? c->query_scale / (float)(l + 1) : c->query_scale, cap = c->attn_softcap;
    /* threads only pay off once there is real work: tiny models stay serial */
    long work = (long)T * nh * hd * (s->tpos[T - 1] + 1);
#pragma omp parallel for collapse(2) schedule(dynamic, 4) if (work > ATT_PAR_MIN) num_threads(s->n_threads)
    for (int t = 0; t < T; t++)
        for (int h = 0; h < nh; h++) {
            int r = s->trow[t], p = s->tpos[t], j0 = window && p - window + 1 > 0 ? p - window + 1 : 0;
            const float *q = s->q + (size_t)t * nh * hd + (size_t)h * hd;
            const float *kc = s->kc + (((size_t)l * s->batch + r) * s->max_seq) * kvd + (size_t)(h / grp) * hd;
            const float *vc = s->vc + (((size_t)l * s->batch + r) * s->max_seq) * kvd + (size_t)(h / grp) * hd;
            float *sc = s->scores + (size_t)omp_get_thread_num() * s->max_seq;
            int n = p - j0 + 1;
            iv_attn_scores(sc, q, kc + (size_t)j0 * kvd, kvd, n, hd, scale);
            if (cap > 0)
                for (int j = 0; j < n; j++) sc[j] = cap * tanhf(sc[j] / cap);
            iv_softmax_inplace(sc, n);
            iv_attn_mix(s->att + (size_t)t * nh * hd + (size_t)h * hd, sc, vc + (size_t)j0 * kvd, kvd, n, hd);
        }
}

/* Each hook gets one call with all positions it applies to as one [n, d]
 * matrix.  IV_AT_ALL, or IV_AT_LAST when every token is its row's last (the
 * usual decode step): s->x itself.  Otherwise the last tokens are gathered into
 * a copy and scattered back after the call. */
static int run_hooks(const iv_hooks *hooks, int layer, iv_state *s, const unsigned char *is_last, int T, iv_err *err) {
    if (!hooks) return 0;
    int d = s->m->cfg.dim, nlast = 0;
    for (int t = 0; t < T; t++) nlast += is_last[t];
    for (int k = 0; k < hooks->n; k++) {
        const iv_hook *h = &hooks->h[k];
        if (h->layer != layer) continue;
        int rc;
        if (h->at == IV_AT_ALL || nlast == T) {
            rc = h->fn(h->user, layer, T, s->trow, s->tpos, s->x, d);
        } else {
            float *xs = malloc(sizeof(float) * (size_t)nlast * d); /* [nlast, d] */
            int *rp = malloc(sizeof(int) * 2 * (size_t)nlast);     /* rows [nlast], then positions [nlast] */
            if (!xs || !rp) { free(xs); free(rp); return iv_errf(err, "hook at layer %d: out of memory", layer); }
            for (int t = 0, i = 0; t < T; t++)
                if (is_last[t]) {
                    memcpy(xs + (size_t)i * d, s->x + (size_t)t * d, sizeof(float) * (size_t)d);
                    rp[i] = s->trow[t];
                    rp[nlast + i++] = s->tpos[t];
                }
            rc = h->fn(h->user, layer, nlast, rp, rp + nlast, xs, d);
            for (int t = 0, i = 0; t < T && rc == 0; t++)
                if (is_last[t]) memcpy(s->x + (size_t)t * d, xs + (size_t)(i++) * d, sizeof(float) * (size_t)d);
            free(xs);
            free(rp);
        }
        if (rc != 0) return iv_errf(err, "hook at layer %d stopped the forward pass", layer);
    }
    return 0;
}

/* A matrix product in the model's compute mode (iv_model_set_compute). */
static void lin(const iv_state *s, float *y, const float *x, int B, const iv_wmat *W, const float *bias) {
    if (s->m->compute == IV_COMPUTE_BF16) iv_linear_bf16(y, x, B, W, bias);
    else iv_linear(y, x, B, W, bias);
}

/* GPT-2 stores q|k|v as one Conv1D matrix (and one [3d] bias) that the
 * loader splits into three views.  When the views are adjacent, one call over
 * the fused matrix (into hb, free until the MLP) reads x once and, for
 * IN_OUT, each weight row once instead of three strided thirds. */
static int fused_qkv(const iv_config *c, const iv_layer_weights *w, const iv_state *s, iv_wmat *f) {
    const iv_wmat *q = &w->wq, *k = &w->wk, *v = &w->wv;
    size_t es = iv_dtype_size(q->dtype);
    if (k->layout != q->layout || v->layout != q->layout) return 0;
    if (k->dtype != q->dtype || v->dtype != q->dtype || k->stride != q->stride || v->stride != q->stride ||
        k->in != q->in || v->in != q->in)
        return 0;
    /* the next view starts where the previous one ends: after its columns
     * (IN_OUT) or after its rows (OUT_IN) */
    size_t qstep = (size_t)q->out * es, kstep = (size_t)k->out * es;
    if (q->layout == IV_OUT_IN) qstep *= (size_t)q->stride, kstep *= (size_t)k->stride;
    if ((const char *)k->data != (const char *)q->data + qstep || (const char *)v->data != (const char *)k->data + kstep)
        return 0;
    if (q->out + k->out + v->out > c->hidden_dim || q->out != (int64_t)c->n_heads * c->head_dim ||
        k->out != s->kv_dim || v->out != s->kv_dim)
        return 0;
    /* the biases too: c_attn.bias split the same way, or none */
    if (w->bq ? w->bk != w->bq + q->out || w->bv != w->bk + k->out : w->bk || w->bv) return 0;
    *f = *q;
    f->out = q->out + k->out + v->out;
    return 1;
}

static void qkv(const iv_config *c, const iv_layer_weights *w, iv_state *s, int T) {
    iv_wmat f;
    if (!fused_qkv(c, w, s, &f)) {
        lin(s, s->q, s->xb, T, &w->wq, w->bq);
        lin(s, s->k, s->xb, T, &w->wk, w->bk);
        lin(s, s->v, s->xb, T, &w->wv, w->bv);
        return;
    }
    int qd = (int)w->wq.out, kvd = s->kv_dim, n = (int)f.out;
    lin(s, s->hb, s->xb, T, &f, w->bq); /* [T, qd + 2 kvd] */
    for (int t = 0; t < T; t++) {
        const float *r = s->hb + (size_t)t * n;
        memcpy(s->q + (size_t)t * qd, r, (size_t)qd * sizeof(float));
        memcpy(s->k + (size_t)t * kvd, r + qd, (size_t)kvd * sizeof(float));
        memcpy(s->v + (size_t)t * kvd, r + qd + kvd, (size_t)kvd * sizeof(float));
    }
}

/* RMSNorm of q and k before rope: per head over head_dim (Qwen3, Gemma-3,
 * whose (1+w) was folded at load) or over the whole projection (OLMo-2). */
static void qk_norm(const iv_config *c, const iv_layer_weights *w, iv_state *s, int T) {
    int hd = c->head_dim, qd = c->n_heads * hd, kvd = s->kv_dim;
    int nq = c->qk_norm == 2 ? qd : hd, nk = c->qk_norm == 2 ? kvd : hd;
    for (int t = 0; t < T; t++) {
        for (int i = 0; i < qd; i += nq) {
            float *p = s->q + (size_t)t * qd + i;
            iv_rmsnorm(p, p, w->q_norm_w, 0.f, c->norm_eps, nq);
        }
        for (int i = 0; i < kvd; i += nk) {
            float *p = s->k + (size_t)t * kvd + i;
            iv_rmsnorm(p, p, w->k_norm_w, 0.f, c->norm_eps, nk);
        }
    }
}

/* The MLP of in: [T, dim] into out: [T, dim] (may be the same buffer). */
static void mlp(const iv_config *c, const iv_layer_weights *w, iv_state *s, const float *in, float *out, int T) {
    int H = c->hidden_dim;
    if (!w->w_gate.data) { /* GPT-2, GPT-NeoX: act(up x) */
        lin(s, s->hb, in, T, &w->w_up, w->b_up);
        iv_act_apply(c->act, s->hb, NULL, (int64_t)T * H);
    } else {
        lin(s, s->hb, in, T, &w->w_gate, w->b_gate); /* biases: Llama mlp_bias, else NULL */
        lin(s, s->hb2, in, T, &w->w_up, w->b_up);
        iv_act_apply(c->act, s->hb, s->hb2, (int64_t)T * H);
    }
    lin(s, out, s->hb, T, &w->w_down, w->b_down);
}

static void block(const iv_model *m, iv_state *s, int l, int T) {
    const iv_config *c = &m->cfg;
    const iv_layer_weights *w = &m->w.layers[l];
    int d = c->dim, hd = c->head_dim, q_dim = c->n_heads * hd, kvd = s->kv_dim;
    int rot = c->rotary_dim > 0 ? c->rotary_dim : hd;
    const double *freqs = s->freqs_local && iv_cfg_sliding(c, l) ? s->freqs_local : s->freqs;
    if (w->attn_norm_w)
        for (int t = 0; t < T; t++) norm(c, s->xb + (size_t)t * d, s->x + (size_t)t * d, w->attn_norm_w, w->attn_norm_b);
    else /* OLMo-2: attention reads the residual itself */
        memcpy(s->xb, s->x, sizeof(float) * (size_t)T * d);
    qkv(c, w, s, T);
    if (w->q_norm_w) qk_norm(c, w, s, T);
    for (int t = 0; t < T; t++) {
        float *k = s->k + (size_t)t * kvd, *v = s->v + (size_t)t * kvd;
        if (c->arch != IV_ARCH_GPT2) {
            rope(s->q + (size_t)t * q_dim, c->n_heads, hd, rot, s->tpos[t], freqs, c->rope_interleaved);
            rope(k, c->n_kv_heads, hd, rot, s->tpos[t], freqs, c->rope_interleaved);
        }
        size_t at = (((size_t)l * s->batch + s->trow[t]) * s->max_seq + s->tpos[t]) * kvd;
        memcpy(s->kc + at, k, (size_t)kvd * sizeof(float));
        memcpy(s->vc + at, v, (size_t)kvd * sizeof(float));
    }
    attention(m, s, l, T);
    lin(s, s->xb, s->att, T, &w->wo, w->bo);
    if (c->parallel_residual) { /* GPT-NeoX: x + attn(ln1 x) + mlp(ln2 x) */
        for (int t = 0; t < T; t++) norm(c, s->xb2 + (size_t)t * d, s->x + (size_t)t * d, w->mlp_norm_w, w->mlp_norm_b);
        mlp(c, w, s, s->xb2, s->xb2, T);
        for (size_t i = 0; i < (size_t)T * d; i++) s->x[i] += s->xb[i] + s->xb2[i];
        return;
    }
    for (int t = 0; t < T; t++) {
        float *x = s->x + (size_t)t * d, *o = s->xb + (size_t)t * d;
        if (w->post_attn_norm_w) norm(c, o, o, w->post_attn_norm_w, NULL);
        for (int i = 0; i < d; i++) x[i] += o[i];
    }
    if (w->mlp_norm_w)
        for (int t = 0; t < T; t++) norm(c, s->xb + (size_t)t * d, s->x + (size_t)t * d, w->mlp_norm_w, w->mlp_norm_b);
    else /* OLMo-2 */
        memcpy(s->xb, s->x, sizeof(float) * (size_t)T * d);
    mlp(c, w, s, s->xb, s->xb, T);
    for (int t = 0; t < T; t++) {
        float *x = s->x + (size_t)t * d, *o = s->xb + (size_t)t * d;
        if (w->post_mlp_norm_w) norm(c, o, o, w->post_mlp_norm_w, NULL);
        for (int i = 0; i < d; i++) x[i] += o[i];
    }
}

/* Final norm + unembedding of the selected tokens into out: [nsel, vocab]. */
static void unembed(const iv_model *m, iv_state *s, const int *sel, int nsel, float *out) {
    const iv_config *c = &m->cfg;
    int d = c->dim;
    for (int i = 0; i < nsel; i++)
        norm(c, s->xb + (size_t)i * d, s->x + (size_t)sel[i] * d, m->w.final_norm_w, m->w.final_norm_b);
    lin(s, out, s->xb, nsel, &m->w.lm_head, NULL);
    if (c->final_softcap > 0) {
        float cap = c->final_softcap;
        for (size_t i = 0; i < (size_t)nsel * c->vocab_size; i++) out[i] = cap * tanhf(out[i] / cap);
    }
}

int iv_forward(const iv_model *m, iv_state *s, const int32_t *const *tokens, const int *n_tok,
               const iv_hooks *hooks, float *logits, float *all_logits, iv_err *err) {
    const iv_config *c = &m->cfg;
    int T = 0;
    for (int r = 0; r < s->batch; r++) {
        if (n_tok[r] < 0) return iv_errf(err, "row %d: negative token count", r);
        if (s->pos[r] + n_tok[r] > s->max_seq)
            return iv_errf(err, "row %d: %d tokens exceed the context of %d positions", r, s->pos[r] + n_tok[r],
                           s->max_seq);
        T += n_tok[r];
    }
    if (T == 0) return 0;
    if (hooks)
        for (int k = 0; k < hooks->n; k++)
            if (hooks->h[k].layer < -1 || hooks->h[k].layer >= c->n_layers)
                return iv_errf(err, "hook at layer %d: out of range (model has %d layers)", hooks->h[k].layer, c->n_layers);
    if (iv_state_reserve(s, T, err) != 0) return -1;
    unsigned char *is_last = calloc((size_t)T, 1);
    int *sel = malloc((size_t)T * sizeof *sel);
    int nsel = 0, t = 0;
    for (int r = 0; r < s->batch; r++)
        for (int i = 0; i < n_tok[r]; i++, t++) {
            int32_t id = tokens[r][i];
            if (id < 0 || id >= c->vocab_size) {
                free(is_last); free(sel);
                return iv_errf(err, "row %d: token id %d outside the vocabulary of %d", r, id, c->vocab_size);
            }
            s->trow[t] = r;
            s->tpos[t] = s->pos[r] + i;
            s->tid[t] = id;
            if (i == n_tok[r] - 1) { is_last[t] = 1; if (!all_logits) sel[nsel++] = t; }
        }
    if (all_logits) for (nsel = 0; nsel < T; nsel++) sel[nsel] = nsel;
    int rc = 0;
    embed(m, s, T);
    rc = run_hooks(hooks, -1, s, is_last, T, err);
    for (int l = 0; l < c->n_layers && rc == 0; l++) {
        block(m, s, l, T);
        rc = run_hooks(hooks, l, s, is_last, T, err);
    }
    if (rc == 0) {
        for (int r = 0; r < s->batch; r++) s->pos[r] += n_tok[r];
        size_t V = (size_t)c->vocab_size;
        /* every row selected, in order (the usual batched step): write the
         * caller's logits directly, no 4 V bytes per row of copying */
        int direct = logits && !all_logits;
        for (int i = 0; direct && i < nsel; i++) direct = s->trow[sel[i]] == i;
        float *out = all_logits ? all_logits : direct ? logits : malloc((size_t)nsel * V * sizeof(float));
        if (!out) rc = iv_errf(err, "out of memory for logits");
        else {
            unembed(m, s, sel, nsel, out);
            if (logits && !direct) {
                if (all_logits) { /* the last new token of each row */
                    for (int i = 0; i < T; i++)
                        if (is_last[i]) memcpy(logits + (size_t)s->trow[i] * V, out + (size_t)i * V, V * sizeof(float));
                } else
                    for (int i = 0; i < nsel; i++) memcpy(logits + (size_t)s->trow[sel[i]] * V, out + (size_t)i * V, V * sizeof(float));
            }
            if (!all_logits && !direct) free(out);
        }
    }
    free(is_last);
    free(sel);
    return rc;
}
