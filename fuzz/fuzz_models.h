/* Tiny fixed weights for the model-folder fuzzers: one set of tensors that fits a
 * Llama, a Gemma-2 (head_dim 4) and a GPT-2 config of the same small sizes, so a
 * mutated config.json can reach all three loaders.  Sizes match the seeds that
 * fuzz/make_corpus.py writes. */
#ifndef INTERV_FUZZ_MODELS_H
#define INTERV_FUZZ_MODELS_H
#include "fuzz_util.h"
#include "interv/io.h"

enum { FZ_D = 8, FZ_H = 16, FZ_L = 2, FZ_V = 16, FZ_CTX = 8, FZ_GPT2_H = 32 };

typedef struct { char name[80]; int ndim; int64_t shape[2]; int shard; } fz_tdef;

static inline void fz_add(fz_tdef *t, int *n, int shard, int ndim, int64_t a, int64_t b, const char *fmt, int l) {
    snprintf(t[*n].name, sizeof t[*n].name, fmt, l);
    t[*n].ndim = ndim; t[*n].shape[0] = a; t[*n].shape[1] = b; t[*n].shard = shard;
    (*n)++;
}

/* Fills defs (capacity 128) with every tensor; shard 1 = embeddings and layer 0,
 * shard 2 = the rest. */
static inline int fz_tiny_defs(fz_tdef *t) {
    int n = 0;
    fz_add(t, &n, 1, 2, FZ_V, FZ_D, "model.embed_tokens.weight", 0);
    fz_add(t, &n, 1, 1, FZ_D, 0, "model.norm.weight", 0);
    fz_add(t, &n, 2, 2, FZ_V, FZ_D, "lm_head.weight", 0);
    for (int l = 0; l < FZ_L; l++) {
        int s = l == 0 ? 1 : 2;
        const char *vecs[] = {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                              "post_feedforward_layernorm"};
        char f[80];
        for (int i = 0; i < 4; i++) {
            snprintf(f, sizeof f, "model.layers.%%d.%s.weight", vecs[i]);
            fz_add(t, &n, s, 1, FZ_D, 0, f, l);
        }
        const char *proj[] = {"q_proj", "k_proj", "v_proj", "o_proj"};
        for (int i = 0; i < 4; i++) {
            snprintf(f, sizeof f, "model.layers.%%d.self_attn.%s.weight", proj[i]);
            fz_add(t, &n, s, 2, FZ_D, FZ_D, f, l);
            snprintf(f, sizeof f, "model.layers.%%d.self_attn.%s.bias", proj[i]);
            fz_add(t, &n, s, 1, FZ_D, 0, f, l);
        }
        fz_add(t, &n, s, 2, FZ_H, FZ_D, "model.layers.%d.mlp.gate_proj.weight", l);
        fz_add(t, &n, s, 2, FZ_H, FZ_D, "model.layers.%d.mlp.up_proj.weight", l);
        fz_add(t, &n, s, 2, FZ_D, FZ_H, "model.layers.%d.mlp.down_proj.weight", l);
        /* GPT-2 (no prefix), Conv1D [in,out] */
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.ln_1.weight", l);
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.ln_1.bias", l);
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.ln_2.weight", l);
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.ln_2.bias", l);
        fz_add(t, &n, s, 2, FZ_D, 3 * FZ_D, "h.%d.attn.c_attn.weight", l);
        fz_add(t, &n, s, 1, 3 * FZ_D, 0, "h.%d.attn.c_attn.bias", l);
        fz_add(t, &n, s, 2, FZ_D, FZ_D, "h.%d.attn.c_proj.weight", l);
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.attn.c_proj.bias", l);
        fz_add(t, &n, s, 2, FZ_D, FZ_GPT2_H, "h.%d.mlp.c_fc.weight", l);
        fz_add(t, &n, s, 1, FZ_GPT2_H, 0, "h.%d.mlp.c_fc.bias", l);
        fz_add(t, &n, s, 2, FZ_GPT2_H, FZ_D, "h.%d.mlp.c_proj.weight", l);
        fz_add(t, &n, s, 1, FZ_D, 0, "h.%d.mlp.c_proj.bias", l);
    }
    fz_add(t, &n, 1, 2, FZ_V, FZ_D, "wte.weight", 0);
    fz_add(t, &n, 1, 2, FZ_CTX, FZ_D, "wpe.weight", 0);
    fz_add(t, &n, 2, 1, FZ_D, 0, "ln_f.weight", 0);
    fz_add(t, &n, 2, 1, FZ_D, 0, "ln_f.bias", 0);
    return n;
}

/* Writes the tensors of `shard` (0 = all) to path as F32 safetensors. */
static inline void fz_write_tiny(const char *path, int shard) {
    static fz_tdef defs[128];
    int n = fz_tiny_defs(defs);
    iv_st_out out[128];
    float *bufs[128];
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (shard && defs[i].shard != shard) continue;
        int64_t numel = defs[i].shape[0] * (defs[i].ndim == 2 ? defs[i].shape[1] : 1);
        float *b = malloc((size_t)numel * sizeof *b);
        for (int64_t k = 0; k < numel; k++) b[k] = (float)((i * 7 + k) % 13 - 6) / 20.f;
        bufs[m] = b;
        iv_st_out o = {defs[i].name, IV_F32, defs[i].ndim, {defs[i].shape[0], defs[i].shape[1]}, b};
        out[m++] = o;
    }
    iv_err err;
    if (iv_st_write(path, out, (size_t)m, NULL, 0, &err) != 0) {
        fprintf(stderr, "fuzz: %s\n", err.msg);
        abort();
    }
    for (int i = 0; i < m; i++) free(bufs[i]);
}

/* After a successful load: one short forward pass, so the loaded views and sizes
 * are exercised (the weights are tiny; the context is capped at 4). */
#include "interv/model.h"
static inline void fz_forward(const iv_model *m) {
    if (iv_model_n_params(m) > (1 << 20)) return;
    iv_err err = {{0}};
    iv_state *s = iv_state_new(m, 1, 4, &err);
    if (!s) { fz_check_msg(err.msg); return; }
    int32_t toks[3] = {m->cfg.bos_id >= 0 && m->cfg.bos_id < m->cfg.vocab_size ? m->cfg.bos_id : 0, 0,
                       m->cfg.vocab_size - 1};
    const int32_t *rows[1] = {toks};
    int nt[1] = {3};
    float *logits = malloc((size_t)m->cfg.vocab_size * sizeof *logits);
    err.msg[0] = 0;
    if (iv_forward(m, s, rows, nt, NULL, logits, NULL, &err) != 0) fz_check_msg(err.msg);
    free(logits);
    iv_state_free(s);
}

/* The whole model case: load path, and on success run fz_forward and free it;
 * a failed load must leave a one-line message. */
static inline int fz_load_and_run(const char *path) {
    iv_model *m = NULL;
    iv_err err = {{0}};
    if (iv_model_load(path, NULL, &m, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    fz_forward(m);
    iv_model_free(m);
    return 0;
}
#endif
