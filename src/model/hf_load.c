/* Hugging Face model folders: config.json + model.safetensors, or shards listed in
 * model.safetensors.index.json.  Matrices stay in the mapping (any dtype),
 * except GPT-2's Conv1D weights, which are transposed once into owned copies
 * (conv1d); vectors are converted to f32 copies. */
#include "model/model_internal.h"
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

static void *own(iv_model *m, size_t bytes) {
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? 2 * m->cap_owned : 64;
        void **nb = realloc(m->owned, (size_t)cap * sizeof *nb);
        if (!nb) return NULL;
        m->owned = nb;
        m->cap_owned = cap;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (p) m->owned[m->n_owned++] = p;
    return p;
}

static int open_shards(iv_model *m, const char *dir, iv_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    m->sts = calloc(IV_MAX_SHARDS, sizeof *m->sts);
    if (access(path, F_OK) == 0) {
        if (iv_st_open(path, &m->sts[0], err) != 0) return -1;
        m->n_sts = 1;
        return 0;
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    if (access(path, F_OK) != 0)
        return iv_errf(err, "%s: no model.safetensors or model.safetensors.index.json", dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return iv_errf(err, "%s: malformed JSON at line %d: %s", path, je.line, je.text);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) { json_decref(root); return iv_errf(err, "%s: no \"weight_map\" object", path); }
    const char *k;
    json_t *v;
    int rc = 0;
    const char *files[IV_MAX_SHARDS];
    int nf = 0;
    json_object_foreach(wm, k, v) {
        const char *f = json_string_value(v);
        int ctrl = 0; /* a control character would break the one-line messages */
        for (const char *q = f; q && *q; q++) ctrl |= (unsigned char)*q < 0x20;
        if (!f || ctrl || strchr(f, '/') || !strcmp(f, "..")) { rc = iv_errf(err, "%s: bad file name for tensor %s", path, k); break; }
        int seen = 0;
        for (int i = 0; i < nf; i++) seen |= !strcmp(files[i], f);
        if (seen) continue;
        if (nf == IV_MAX_SHARDS) { rc = iv_errf(err, "%s: more than %d shards", path, IV_MAX_SHARDS); break; }
        files[nf++] = f;
        char sp[4096];
        snprintf(sp, sizeof sp, "%s/%s", dir, f);
        if (iv_st_open(sp, &m->sts[m->n_sts], err) != 0) { rc = -1; break; }
        m->n_sts++;
    }
    /* every tensor the index names must be in the shard it names */
    if (rc == 0) json_object_foreach(wm, k, v) {
        int found = 0;
        for (int i = 0; i < m->n_sts && !found; i++) found = iv_st_find(&m->sts[i], k) != NULL;
        if (!found) { rc = iv_errf(err, "%s: tensor %s is listed but missing from %s", path, k, json_string_value(v)); break; }
    }
    json_decref(root);
    return rc;
}

typedef struct {
    iv_model *m;
    const char *dir;
    const char *prefix; /* "model." / "transformer." / "" */
    iv_err *err;
    int bad;
} ctx;

static const iv_st_tensor *find(ctx *c, const char *name, int required) {
    char full[512];
    snprintf(full, sizeof full, "%s%s", c->prefix, name);
    for (int i = 0; i < c->m->n_sts; i++) {
        const iv_st_tensor *t = iv_st_find(&c->m->sts[i], full);
        if (t) return t;
    }
    if (required && !c->bad) {
        c->bad = 1;
        iv_errf(c->err, "%s: missing tensor %s", c->dir, full);
    }
    return NULL;
}

static int check_shape(ctx *c, const iv_st_tensor *t, int nd, int64_t a, int64_t b) {
    if (t->ndim == nd && t->shape[0] == a && (nd == 1 || t->shape[1] == b)) return 0;
    if (!c->bad) {
        c->bad = 1;
        char got[128] = "";
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? "," : "", (long long)t->shape[i]);
        if (nd == 1) iv_errf(c->err, "%s: tensor %s has shape [%s], expected [%lld]", c->dir, t->name, got, (long long)a);
        else iv_errf(c->err, "%s: tensor %s has shape [%s], expected [%lld,%lld]", c->dir, t->name, got, (long long)a, (long long)b);
    }
    return -1;
}

/* nn.Linear weight stored [out,in]. */
static iv_wmat linear(ctx *c, const char *name, int64_t out, int64_t in, int required) {
    iv_wmat w = {0};
    const iv_st_tensor *t = find(c, name, required);
    if (!t || check_shape(c, t, 2, out, in) != 0) return w;
    w.data = t->data; w.dtype = t->dtype; w.layout = IV_OUT_IN; w.out = out; w.in = in; w.stride = in;
    return w;
}

/* Vector converted to f32, plus `add` (1 for Gemma's (1+w) norms). */
static const float *vec(ctx *c, const char *name, int64_t n, float add, int required) {
    const iv_st_tensor *t = find(c, name, required);
    if (!t || check_shape(c, t, 1, n, 0) != 0) return NULL;
    float *v = own(c->m, (size_t)n * sizeof *v);
    if (!v) { c->bad = 1; iv_errf(c->err, "%s: out of memory", c->dir); return NULL; }
    iv_to_f32(v, t->data, t->dtype, (size_t)n);
    for (int64_t i = 0; i < n; i++) v[i] += add;
    return v;
}

/* A GPT-2 Conv1D weight, stored [in,out], as an [out,in] (IV_OUT_IN) copy
 * owned by the model, in the file's dtype.  Why: the batched GEMM for OUT_IN
 * weights (gemm_rows) runs GPT-2's layers at batch 32 at 135-168 GFLOP/s
 * on 2 threads where the column GEMM for [in,out] reached 117-126, and batch 1
 * reads either layout at the same bandwidth.  The copy costs no extra memory
 * in the end: the file's pages are dropped from this process once read
 * (they are never read again; a private read-only mapping refaults them from
 * the file if they were). */
static iv_wmat conv1d(ctx *c, const iv_st_tensor *t, int64_t in, int64_t out) {
    iv_wmat w = {0};
    size_t es = iv_dtype_size(t->dtype), bytes = (size_t)(in * out) * es;
    void *dst = own(c->m, bytes);
    if (!dst) { c->bad = 1; iv_errf(c->err, "%s: out of memory", c->dir); return w; }
    iv_transpose(dst, t->data, in, out, es);
    long pg = sysconf(_SC_PAGESIZE);
    uintptr_t a = ((uintptr_t)t->data + (uintptr_t)pg - 1) / (uintptr_t)pg * (uintptr_t)pg,
              e = ((uintptr_t)t->data + bytes) / (uintptr_t)pg * (uintptr_t)pg;
    if (pg > 0 && e > a) madvise((void *)a, e - a, MADV_DONTNEED); /* advice only: failure is harmless */
    w.data = dst; w.dtype = t->dtype; w.layout = IV_OUT_IN; w.out = out; w.in = in; w.stride = in;
    return w;
}

static void load_gpt2(ctx *c) {
    iv_config *cf = &c->m->cfg;
    iv_weights *w = &c->m->w;
    int64_t d = cf->dim, hd = cf->hidden_dim;
    c->prefix = find(c, "transformer.wte.weight", 0) ? "transformer." : "";
    w->tok_emb = linear(c, "wte.weight", cf->vocab_size, d, 1);
    w->pos_emb = linear(c, "wpe.weight", cf->max_seq, d, 1);
    w->final_norm_w = vec(c, "ln_f.weight", d, 0, 1);
    w->final_norm_b = vec(c, "ln_f.bias", d, 0, 1);
    w->lm_head = w->tok_emb;
    if (!cf->tied_embeddings) { /* tie_word_embeddings=false: GPT2LMHeadModel's own nn.Linear, no prefix */
        const char *pre = c->prefix;
        c->prefix = "";
        w->lm_head = linear(c, "lm_head.weight", cf->vocab_size, d, 1);
        c->prefix = pre;
    }
    char n[128];
    for (int l = 0; l < cf->n_layers && !c->bad; l++) {
        iv_layer_weights *lw = &w->layers[l];
#define NAME(s) (snprintf(n, sizeof n, "h.%d.%s", l, s), n)
        lw->attn_norm_w = vec(c, NAME("ln_1.weight"), d, 0, 1);
        lw->attn_norm_b = vec(c, NAME("ln_1.bias"), d, 0, 1);
        lw->mlp_norm_w = vec(c, NAME("ln_2.weight"), d, 0, 1);
        lw->mlp_norm_b = vec(c, NAME("ln_2.bias"), d, 0, 1);
        /* Conv1D weights are stored [in,out]; c_attn fuses q|k|v along out.
         * All are transposed to [out,in] once here (see conv1d). */
        const iv_st_tensor *ca = find(c, NAME("attn.c_attn.weight"), 1);
        if (ca && check_shape(c, ca, 2, d, 3 * d) == 0) {
            iv_wmat f = conv1d(c, ca, d, 3 * d);
            iv_wmat *qkv[3] = {&lw->wq, &lw->wk, &lw->wv};
            for (int i = 0; i < 3 && f.data; i++) {
                *qkv[i] = f;
                qkv[i]->data = (const uint8_t *)f.data + (size_t)(i * d * d) * iv_dtype_size(f.dtype);
                qkv[i]->out = d;
            }
        }
        const float *cab = vec(c, NAME("attn.c_attn.bias"), 3 * d, 0, 1);
        if (cab) { lw->bq = cab; lw->bk = cab + d; lw->bv = cab + 2 * d; }
        struct { const char *name; iv_wmat *dst; int64_t in, out; } conv[3] = {
            {"attn.c_proj.weight", &lw->wo, d, d}, {"mlp.c_fc.weight", &lw->w_up, d, hd},
            {"mlp.c_proj.weight", &lw->w_down, hd, d}};
        for (int i = 0; i < 3; i++) {
            const iv_st_tensor *t = find(c, NAME(conv[i].name), 1);
            if (t && check_shape(c, t, 2, conv[i].in, conv[i].out) == 0) *conv[i].dst = conv1d(c, t, conv[i].in, conv[i].out);
        }
        lw->bo = vec(c, NAME("attn.c_proj.bias"), d, 0, 1);
        lw->b_up = vec(c, NAME("mlp.c_fc.bias"), hd, 0, 1);
        lw->b_down = vec(c, NAME("mlp.c_proj.bias"), d, 0, 1);
#undef NAME
    }
}

/* Llama and the decoders laid out like it (Gemma-2/3, Qwen2/3, Mistral,
 * OLMo-2, Phi-3): model.embed_tokens, model.layers.N.{self_attn,mlp}.*, model.norm. */
static void load_llama_like(ctx *c) {
    iv_config *cf = &c->m->cfg;
    iv_weights *w = &c->m->w;
    int gemma = cf->arch == IV_ARCH_GEMMA2 || cf->arch == IV_ARCH_GEMMA3;
    int olmo2 = cf->arch == IV_ARCH_OLMO2, phi3 = cf->arch == IV_ARCH_PHI3;
    float add = gemma ? 1.f : 0.f;
    int64_t d = cf->dim, hd = cf->hidden_dim, q = (int64_t)cf->n_heads * cf->head_dim,
            kv = (int64_t)cf->n_kv_heads * cf->head_dim;
    /* Gemma-3's multimodal folders keep the language model under its own prefix
     * (transformers 4.50 "language_model.model.", later "model.language_model.") */
    const char *pre = "model.";
    static const char *const mm[] = {"language_model.model.", "model.language_model."};
    for (int i = 0; cf->arch == IV_ARCH_GEMMA3 && i < 2; i++) {
        c->prefix = mm[i];
        if (find(c, "embed_tokens.weight", 0)) pre = mm[i];
    }
    c->prefix = pre;
    w->tok_emb = linear(c, "embed_tokens.weight", cf->vocab_size, d, 1);
    w->final_norm_w = vec(c, "norm.weight", d, add, 1);
    c->prefix = "";
    if (!cf->tied_embeddings) w->lm_head = linear(c, "lm_head.weight", cf->vocab_size, d, 1);
    else w->lm_head = w->tok_emb;
    c->prefix = pre;
    char n[128];
    for (int l = 0; l < cf->n_layers && !c->bad; l++) {
        iv_layer_weights *lw = &w->layers[l];
#define NAME(s) (snprintf(n, sizeof n, "layers.%d.%s", l, s), n)
        /* OLMo-2 has no norm before attention or MLP, only after them */
        if (!olmo2) lw->attn_norm_w = vec(c, NAME("input_layernorm.weight"), d, add, 1);
        if (phi3) { /* qkv_proj: q rows, then k, then v; three adjacent views */
            iv_wmat f = linear(c, NAME("self_attn.qkv_proj.weight"), q + 2 * kv, d, 1);
            size_t es = iv_dtype_size(f.dtype);
            lw->wq = lw->wk = lw->wv = f;
            lw->wq.out = q, lw->wk.out = kv, lw->wv.out = kv;
            if (f.data) {
                lw->wk.data = (const uint8_t *)f.data + (size_t)(q * d) * es;
                lw->wv.data = (const uint8_t *)f.data + (size_t)((q + kv) * d) * es;
            }
        } else {
            lw->wq = linear(c, NAME("self_attn.q_proj.weight"), q, d, 1);
            lw->wk = linear(c, NAME("self_attn.k_proj.weight"), kv, d, 1);
            lw->wv = linear(c, NAME("self_attn.v_proj.weight"), kv, d, 1);
        }
        lw->wo = linear(c, NAME("self_attn.o_proj.weight"), d, q, 1);
        /* biases exactly when the config asks for them, as transformers builds
         * the nn.Linear layers (a file's extra biases are ignored there too) */
        if (cf->attention_bias || cf->qkv_bias) {
            lw->bq = vec(c, NAME("self_attn.q_proj.bias"), q, 0, 1);
            lw->bk = vec(c, NAME("self_attn.k_proj.bias"), kv, 0, 1);
            lw->bv = vec(c, NAME("self_attn.v_proj.bias"), kv, 0, 1);
        }
        if (cf->attention_bias) lw->bo = vec(c, NAME("self_attn.o_proj.bias"), d, 0, 1);
        if (cf->qk_norm) {
            int64_t nq = cf->qk_norm == 2 ? q : cf->head_dim, nk = cf->qk_norm == 2 ? kv : cf->head_dim;
            lw->q_norm_w = vec(c, NAME("self_attn.q_norm.weight"), nq, add, 1);
            lw->k_norm_w = vec(c, NAME("self_attn.k_norm.weight"), nk, add, 1);
        }
        if (phi3) { /* gate_up_proj: gate rows, then up rows */
            iv_wmat f = linear(c, NAME("mlp.gate_up_proj.weight"), 2 * hd, d, 1);
            lw->w_gate = lw->w_up = f;
            lw->w_gate.out = lw->w_up.out = hd;
            if (f.data) lw->w_up.data = (const uint8_t *)f.data + (size_t)(hd * d) * iv_dtype_size(f.dtype);
        } else {
            lw->w_gate = linear(c, NAME("mlp.gate_proj.weight"), hd, d, 1);
            lw->w_up = linear(c, NAME("mlp.up_proj.weight"), hd, d, 1);
        }
        lw->w_down = linear(c, NAME("mlp.down_proj.weight"), d, hd, 1);
        if (cf->mlp_bias) {
            lw->b_gate = vec(c, NAME("mlp.gate_proj.bias"), hd, 0, 1);
            lw->b_up = vec(c, NAME("mlp.up_proj.bias"), hd, 0, 1);
            lw->b_down = vec(c, NAME("mlp.down_proj.bias"), d, 0, 1);
        }
        if (gemma) {
            lw->post_attn_norm_w = vec(c, NAME("post_attention_layernorm.weight"), d, add, 1);
            lw->mlp_norm_w = vec(c, NAME("pre_feedforward_layernorm.weight"), d, add, 1);
            lw->post_mlp_norm_w = vec(c, NAME("post_feedforward_layernorm.weight"), d, add, 1);
        } else if (olmo2) {
            lw->post_attn_norm_w = vec(c, NAME("post_attention_layernorm.weight"), d, 0, 1);
            lw->post_mlp_norm_w = vec(c, NAME("post_feedforward_layernorm.weight"), d, 0, 1);
        } else {
            lw->mlp_norm_w = vec(c, NAME("post_attention_layernorm.weight"), d, add, 1);
        }
#undef NAME
    }
    /* HF Gemma multiplies by sqrt(d) cast to the activation dtype. */
    if (gemma && w->tok_emb.dtype == IV_BF16) cf->embed_scale = iv_bf16_to_f32(iv_f32_to_bf16(cf->embed_scale));
    if (gemma && w->tok_emb.dtype == IV_F16) cf->embed_scale = iv_f16_to_f32(iv_f32_to_f16(cf->embed_scale));
}

/* GPT-NeoX: gpt_neox.embed_in, gpt_neox.layers.N.*, gpt_neox.final_layer_norm,
 * embed_out.  query_key_value interleaves per head: rows [h][q|k|v][head_dim];
 * it is regrouped once into one owned [3d, d] matrix (all q rows, then k, then
 * v) in the file's dtype, so the forward pass multiplies it as one. */
static void load_neox(ctx *c) {
    iv_config *cf = &c->m->cfg;
    iv_weights *w = &c->m->w;
    int64_t d = cf->dim, hd = cf->hidden_dim, H = cf->n_heads, h = cf->head_dim;
    c->prefix = "gpt_neox.";
    w->tok_emb = linear(c, "embed_in.weight", cf->vocab_size, d, 1);
    w->final_norm_w = vec(c, "final_layer_norm.weight", d, 0, 1);
    w->final_norm_b = vec(c, "final_layer_norm.bias", d, 0, 1);
    c->prefix = "";
    w->lm_head = cf->tied_embeddings ? w->tok_emb : linear(c, "embed_out.weight", cf->vocab_size, d, 1);
    c->prefix = "gpt_neox.";
    char n[128];
    for (int l = 0; l < cf->n_layers && !c->bad; l++) {
        iv_layer_weights *lw = &w->layers[l];
#define NAME(s) (snprintf(n, sizeof n, "layers.%d.%s", l, s), n)
        lw->attn_norm_w = vec(c, NAME("input_layernorm.weight"), d, 0, 1);
        lw->attn_norm_b = vec(c, NAME("input_layernorm.bias"), d, 0, 1);
        lw->mlp_norm_w = vec(c, NAME("post_attention_layernorm.weight"), d, 0, 1);
        lw->mlp_norm_b = vec(c, NAME("post_attention_layernorm.bias"), d, 0, 1);
        iv_wmat f = linear(c, NAME("attention.query_key_value.weight"), 3 * d, d, 1);
        if (f.data) {
            size_t es = iv_dtype_size(f.dtype), row = (size_t)d * es;
            uint8_t *dst = own(c->m, (size_t)(3 * d) * row); /* [3d, d]: q | k | v */
            if (!dst) { c->bad = 1; iv_errf(c->err, "%s: out of memory", c->dir); return; }
            for (int64_t hh = 0; hh < H; hh++)
                for (int j = 0; j < 3; j++)
                    memcpy(dst + (size_t)(j * d + hh * h) * row,
                           (const uint8_t *)f.data + (size_t)((hh * 3 + j) * h) * row, (size_t)h * row);
            f.data = dst;
            lw->wq = lw->wk = lw->wv = f;
            lw->wq.out = lw->wk.out = lw->wv.out = d;
            lw->wk.data = dst + (size_t)d * row;
            lw->wv.data = dst + (size_t)(2 * d) * row;
        }
        if (cf->attention_bias) {
            const float *b = vec(c, NAME("attention.query_key_value.bias"), 3 * d, 0, 1);
            float *bb = b ? own(c->m, (size_t)(3 * d) * sizeof *bb) : NULL; /* [3d]: q | k | v */
            if (b && !bb) { c->bad = 1; iv_errf(c->err, "%s: out of memory", c->dir); return; }
            for (int64_t hh = 0; bb && hh < H; hh++)
                for (int j = 0; j < 3; j++) memcpy(bb + j * d + hh * h, b + (hh * 3 + j) * h, (size_t)h * sizeof *bb);
            if (bb) { lw->bq = bb; lw->bk = bb + d; lw->bv = bb + 2 * d; }
            lw->bo = vec(c, NAME("attention.dense.bias"), d, 0, 1);
        }
        lw->wo = linear(c, NAME("attention.dense.weight"), d, d, 1);
        lw->w_up = linear(c, NAME("mlp.dense_h_to_4h.weight"), hd, d, 1);
        lw->b_up = vec(c, NAME("mlp.dense_h_to_4h.bias"), hd, 0, 1);
        lw->w_down = linear(c, NAME("mlp.dense_4h_to_h.weight"), d, hd, 1);
        lw->b_down = vec(c, NAME("mlp.dense_4h_to_h.bias"), d, 0, 1);
#undef NAME
    }
}

int iv_load_hf(iv_model *m, const char *dir, iv_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (iv_hf_config(&m->cfg, path, err) != 0) return -1;
    if (open_shards(m, dir, err) != 0) return -1;
    m->w.layers = calloc((size_t)m->cfg.n_layers, sizeof *m->w.layers);
    ctx c = {m, dir, "", err, 0};
    if (m->cfg.arch == IV_ARCH_GPT2) load_gpt2(&c);
    else if (m->cfg.arch == IV_ARCH_NEOX) load_neox(&c);
    else load_llama_like(&c);
    return c.bad ? -1 : 0;
}
