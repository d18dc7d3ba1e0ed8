/* Run state: the KV cache of every batch row and the scratch of one forward call. */
#include "model/state_internal.h"
#include <omp.h>
#include <stdlib.h>
#include <string.h>

/* RoPE inverse frequencies over the rotary dims, with linear or Llama-3
 * scaling when configured; local: Gemma-3's sliding layers (their own base,
 * no scaling). */
static void rope_freqs(const iv_config *c, double *f, int local) {
    int rot = c->rotary_dim > 0 ? c->rotary_dim : c->head_dim, half = rot / 2;
    for (int i = 0; i < half; i++) {
        double inv = 1.0 / pow((double)(local ? c->rope_local_theta : c->rope_theta), (2.0 * i) / rot);
        if (local) { f[i] = inv; continue; }
        if (c->rope_linear_factor > 0) inv /= c->rope_linear_factor; /* rope_type "linear" */
        if (c->rope_factor > 0) {
            double lo_wl = c->rope_orig_max_pos / c->rope_low_freq_factor;
            double hi_wl = c->rope_orig_max_pos / c->rope_high_freq_factor;
            double wl = 2 * M_PI / inv;
            if (wl > lo_wl) inv /= c->rope_factor;
            else if (wl >= hi_wl) {
                double s = (c->rope_orig_max_pos / wl - c->rope_low_freq_factor) /
                           (c->rope_high_freq_factor - c->rope_low_freq_factor);
                inv = (1 - s) * inv / c->rope_factor + s * inv;
            }
        }
        f[i] = inv;
    }
}

iv_state *iv_state_new(const iv_model *m, int batch, int max_seq, iv_err *err) {
    const iv_config *c = &m->cfg;
    if (batch <= 0) { iv_errf(err, "batch size %d must be positive", batch); return NULL; }
    if (max_seq <= 0 || max_seq > c->max_seq) max_seq = c->max_seq;
    iv_state *s = calloc(1, sizeof *s);
    if (!s) { iv_errf(err, "out of memory"); return NULL; }
    s->m = m;
    s->batch = batch;
    s->max_seq = max_seq;
    s->kv_dim = c->n_kv_heads * c->head_dim;
    size_t kv = (size_t)c->n_layers * batch * max_seq * s->kv_dim;
    s->pos = calloc((size_t)batch, sizeof *s->pos);
    s->kc = malloc(kv * sizeof(float));
    s->vc = malloc(kv * sizeof(float));
    s->freqs = malloc((size_t)(c->head_dim / 2) * sizeof *s->freqs);
    if (c->rope_local_theta > 0) s->freqs_local = malloc((size_t)(c->head_dim / 2) * sizeof *s->freqs_local);
    s->n_threads = omp_get_max_threads();
    s->scores = malloc((size_t)s->n_threads * max_seq * sizeof(float));
    if (!s->pos || !s->kc || !s->vc || !s->freqs || !s->scores || (c->rope_local_theta > 0 && !s->freqs_local)) {
        iv_errf(err, "out of memory for a KV cache of %d rows x %d positions", batch, max_seq);
        iv_state_free(s);
        return NULL;
    }
    rope_freqs(c, s->freqs, 0);
    if (s->freqs_local) rope_freqs(c, s->freqs_local, 1);
    return s;
}

int iv_state_reserve(iv_state *s, int ntok, iv_err *err) {
    if (ntok <= s->cap) return 0;
    const iv_config *c = &s->m->cfg;
    size_t n = (size_t)ntok, q = (size_t)c->n_heads * c->head_dim, d = (size_t)c->dim;
    size_t wide = d > q ? d : q;
    float **bufs[] = {&s->x, &s->xb, &s->q, &s->k, &s->v, &s->att, &s->hb, &s->hb2, &s->xb2};
    size_t sizes[] = {d, wide, q, (size_t)s->kv_dim, (size_t)s->kv_dim, q, (size_t)c->hidden_dim, (size_t)c->hidden_dim,
                      c->parallel_residual ? d : 1};
    for (int i = 0; i < 9; i++) {
        free(*bufs[i]);
        *bufs[i] = malloc(n * sizes[i] * sizeof(float));
        if (!*bufs[i]) { s->cap = 0; return iv_errf(err, "out of memory for %d tokens of scratch", ntok); }
    }
    free(s->trow); free(s->tpos); free(s->tid);
    s->trow = malloc(n * sizeof *s->trow);
    s->tpos = malloc(n * sizeof *s->tpos);
    s->tid = malloc(n * sizeof *s->tid);
    if (!s->trow || !s->tpos || !s->tid) { s->cap = 0; return iv_errf(err, "out of memory"); }
    s->cap = ntok;
    return 0;
}

void iv_state_free(iv_state *s) {
    if (!s) return;
    float *bufs[] = {s->x, s->xb, s->q, s->k, s->v, s->att, s->hb, s->hb2, s->xb2, s->kc, s->vc, s->scores};
    for (int i = 0; i < 12; i++) free(bufs[i]);
    free(s->freqs); free(s->freqs_local); free(s->pos); free(s->trow); free(s->tpos); free(s->tid);
    free(s);
}

void iv_state_reset(iv_state *s) { memset(s->pos, 0, (size_t)s->batch * sizeof *s->pos); }
void iv_state_reset_row(iv_state *s, int row) {
    if (row >= 0 && row < s->batch) s->pos[row] = 0;
}
int iv_state_pos(const iv_state *s, int row) { return row >= 0 && row < s->batch ? s->pos[row] : -1; }

/* Prefix reuse: a prompt head shared by many rows (a judge template's
 * instructions) is run once into src and its cache copied into each row, so
 * every row starts at n_pos without recomputing it. */
int iv_state_copy_prefix(iv_state *dst, int dst_row, const iv_state *src, int src_row, int n_pos, iv_err *err) {
    const iv_config *cd = &dst->m->cfg, *cs = &src->m->cfg;
    if (cd->n_layers != cs->n_layers || dst->kv_dim != src->kv_dim)
        return iv_errf(err, "state: copying a KV prefix between models of different shapes");
    if (dst_row < 0 || dst_row >= dst->batch || src_row < 0 || src_row >= src->batch)
        return iv_errf(err, "state: KV prefix copy row %d -> %d out of range", src_row, dst_row);
    if (n_pos < 0 || n_pos > src->pos[src_row] || n_pos > dst->max_seq)
        return iv_errf(err, "state: KV prefix of %d positions (source holds %d, destination fits %d)", n_pos,
                       src->pos[src_row], dst->max_seq);
    size_t row = (size_t)n_pos * dst->kv_dim * sizeof(float);
    for (int l = 0; l < cd->n_layers; l++) {
        size_t d = (((size_t)l * dst->batch + dst_row) * dst->max_seq) * dst->kv_dim;
        size_t s = (((size_t)l * src->batch + src_row) * src->max_seq) * src->kv_dim;
        memcpy(dst->kc + d, src->kc + s, row);
        memcpy(dst->vc + d, src->vc + s, row);
    }
    dst->pos[dst_row] = n_pos;
    return 0;
}

int iv_state_truncate_row(iv_state *s, int row, int pos, iv_err *err) {
    if (row < 0 || row >= s->batch || pos < 0 || pos > s->pos[row])
        return iv_errf(err, "state: cannot move row %d back to position %d", row, pos);
    s->pos[row] = pos;
    return 0;
}
