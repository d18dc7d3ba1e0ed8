/* llama2.c checkpoints, memory-mapped.
 *  legacy: int32 dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size
 *          (negative = unshared classifier), seq_len; then f32 tensors in the
 *          order tok_emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final,
 *          freq_cis_real, freq_cis_imag, [wcls].
 *  v1:     uint32 magic "ak42" (0x616b3432), int32 version 1, the same 7 ints,
 *          uint8 shared_classifier, zero padding to 256 bytes; then tok_emb,
 *          rms_att, rms_ffn, rms_final, wq, wk, wv, wo, w1, w2, w3, [wcls]. */
#include "model/model_internal.h"
#include <stdlib.h>
#include <string.h>

#define L2C_MAGIC 0x616b3432u

/* Hands out consecutive f32 tensors from the mapping, checking bounds. */
typedef struct {
    const uint8_t *p, *end;
    const char *path;
    iv_err *err;
    int bad;
} cursor;

static const float *take(cursor *c, size_t n, const char *what) {
    if (c->bad) return NULL;
    if ((size_t)(c->end - c->p) / 4 < n) {
        c->bad = 1;
        iv_errf(c->err, "%s: truncated: tensor %s needs %zu bytes, %zu left", c->path, what, n * 4,
                (size_t)(c->end - c->p));
        return NULL;
    }
    const float *r = (const float *)c->p;
    c->p += n * 4;
    return r;
}

static iv_wmat wmat(const float *base, int64_t out, int64_t in) {
    iv_wmat w = {base, IV_F32, IV_OUT_IN, out, in, in};
    return w;
}

int iv_load_llama2c(iv_model *m, const char *path, iv_err *err) {
    iv_mapped *map = &m->maps[m->n_maps];
    if (iv_map_file(path, map, err) != 0) return -1;
    m->n_maps++;
    const uint8_t *p = map->data;
    if (map->size < 28) return iv_errf(err, "%s: truncated: %zu bytes, shorter than a llama2.c header", path, map->size);
    uint32_t magic;
    memcpy(&magic, p, 4);
    int version = 0, shared = 1;
    int32_t h[7];
    size_t off;
    if (magic == L2C_MAGIC) {
        if (map->size < 256) return iv_errf(err, "%s: truncated v1 header", path);
        memcpy(&version, p + 4, 4);
        if (version != 1)
            return iv_errf(err, "%s: llama2.c export version %d is not supported (only f32 versions 0 and 1)", path, version);
        memcpy(h, p + 8, sizeof h);
        shared = p[36];
        off = 256;
    } else {
        memcpy(h, p, sizeof h);
        shared = h[5] > 0;
        if (h[5] < 0 && h[5] != INT32_MIN) h[5] = -h[5]; /* INT32_MIN stays negative: rejected below */
        off = 28;
    }
    iv_config *c = &m->cfg;
    c->arch = IV_ARCH_LLAMA;
    snprintf(c->arch_name, sizeof c->arch_name, "llama2.c%s", version ? " v1" : "");
    c->dim = h[0]; c->hidden_dim = h[1]; c->n_layers = h[2]; c->n_heads = h[3];
    c->n_kv_heads = h[4]; c->vocab_size = h[5]; c->max_seq = h[6];
    if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 ||
        c->vocab_size <= 0 || c->max_seq <= 0 || c->dim > 65536 || c->hidden_dim > 1 << 20 || c->n_layers > 1024 ||
        c->vocab_size > 1 << 24 || c->max_seq > 1 << 24 || c->dim % c->n_heads || c->n_heads % c->n_kv_heads ||
        (c->dim / c->n_heads) % 2)
        return iv_errf(err, "%s: implausible llama2.c header (dim %d hidden %d layers %d heads %d kv %d vocab %d seq %d)",
                       path, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size, c->max_seq);
    c->head_dim = c->dim / c->n_heads;
    c->norm_eps = 1e-5f;
    c->rope_theta = 10000.f;
    c->rope_interleaved = 1;
    c->embed_scale = 1.f;
    c->query_scale = 1.f / sqrtf((float)c->head_dim);
    c->tied_embeddings = shared;
    c->act = IV_ACT_SILU;
    c->bos_id = 1;
    c->eos_id = 2;

    int64_t d = c->dim, hd = c->hidden_dim, L = c->n_layers, kv = (int64_t)c->n_kv_heads * c->head_dim;
    cursor cur = {p + off, p + map->size, path, err, 0};
    const float *emb = take(&cur, (size_t)(c->vocab_size * d), "tok_embeddings");
    const float *rms_att, *rms_ffn, *rms_final, *wq, *wk, *wv, *wo, *w1, *w2, *w3;
    if (version == 0) {
        rms_att = take(&cur, (size_t)(L * d), "rms_att");
        wq = take(&cur, (size_t)(L * d * d), "wq");
        wk = take(&cur, (size_t)(L * kv * d), "wk");
        wv = take(&cur, (size_t)(L * kv * d), "wv");
        wo = take(&cur, (size_t)(L * d * d), "wo");
        rms_ffn = take(&cur, (size_t)(L * d), "rms_ffn");
        w1 = take(&cur, (size_t)(L * hd * d), "w1");
        w2 = take(&cur, (size_t)(L * d * hd), "w2");
        w3 = take(&cur, (size_t)(L * hd * d), "w3");
        rms_final = take(&cur, (size_t)d, "rms_final");
        take(&cur, (size_t)c->max_seq * (size_t)c->head_dim, "freq_cis"); /* real+imag halves; unused */
    } else {
        rms_att = take(&cur, (size_t)(L * d), "rms_att");
        rms_ffn = take(&cur, (size_t)(L * d), "rms_ffn");
        rms_final = take(&cur, (size_t)d, "rms_final");
        wq = take(&cur, (size_t)(L * d * d), "wq");
        wk = take(&cur, (size_t)(L * kv * d), "wk");
        wv = take(&cur, (size_t)(L * kv * d), "wv");
        wo = take(&cur, (size_t)(L * d * d), "wo");
        w1 = take(&cur, (size_t)(L * hd * d), "w1");
        w2 = take(&cur, (size_t)(L * d * hd), "w2");
        w3 = take(&cur, (size_t)(L * hd * d), "w3");
    }
    const float *wcls = shared ? emb : take(&cur, (size_t)(c->vocab_size * d), "wcls");
    if (cur.bad) return -1;
    if (cur.p != cur.end)
        return iv_errf(err, "%s: %zu unexpected bytes after the last tensor (header does not match the weights)",
                       path, (size_t)(cur.end - cur.p));
    iv_weights *w = &m->w;
    w->tok_emb = wmat(emb, c->vocab_size, d);
    w->lm_head = wmat(wcls, c->vocab_size, d);
    w->final_norm_w = rms_final;
    w->layers = calloc((size_t)L, sizeof *w->layers);
    for (int64_t l = 0; l < L; l++) {
        iv_layer_weights *lw = &w->layers[l];
        lw->attn_norm_w = rms_att + l * d;
        lw->mlp_norm_w = rms_ffn + l * d;
        lw->wq = wmat(wq + l * d * d, d, d);
        lw->wk = wmat(wk + l * kv * d, kv, d);
        lw->wv = wmat(wv + l * kv * d, kv, d);
        lw->wo = wmat(wo + l * d * d, d, d);
        lw->w_gate = wmat(w1 + l * hd * d, hd, d);
        lw->w_down = wmat(w2 + l * d * hd, d, hd);
        lw->w_up = wmat(w3 + l * hd * d, hd, d);
    }
    return 0;
}
