/* iv_model_load: dispatch on the path (folder with config.json = Hugging Face;
 * file, or folder holding one non-tokenizer .bin = llama2.c), attach the
 * tokenizer, check that it fits the model. */
#include "model/model_internal.h"
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The .bin files in `dir`, sorted, that are tokenizers (tok*.bin) when
 * want_tok, or are not: how many, and the first in `out` ("" when none, or
 * when its path does not fit in cap). */
static int find_bins(const char *dir, int want_tok, char *out, size_t cap) {
    out[0] = 0;
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort), found = 0;
    for (int i = 0; i < n; i++) {
        const char *f = names[i]->d_name;
        size_t l = strlen(f);
        int bin = l > 4 && !strcmp(f + l - 4, ".bin"), tok = !strncmp(f, "tok", 3);
        if (bin && (want_tok ? tok && l > 7 : !tok) && !found++) {
            int w = snprintf(out, cap, "%s/%s", dir, f);
            if (w < 0 || (size_t)w >= cap) out[0] = 0;
        }
        free(names[i]);
    }
    if (n >= 0) free(names);
    return found;
}

/* First tok*.bin (sorted) in the folder of `path`, or "" when none. */
static void find_tok_beside(const char *path, char *out, size_t cap) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else snprintf(dir, sizeof dir, ".");
    find_bins(dir, 1, out, cap);
}

int iv_model_load(const char *path, const char *tok_path, iv_model **out, iv_err *err) {
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return iv_errf(err, "%s: no such file or folder", path);
    int is_dir = S_ISDIR(st.st_mode);
    char cfg[4096], ckpt[4096];
    int w = snprintf(cfg, sizeof cfg, "%s/config.json", path);
    if (is_dir && (w < 0 || (size_t)w >= sizeof cfg)) return iv_errf(err, "%s: path too long", path);
    if (is_dir && access(cfg, F_OK) != 0) {
        /* a llama2.c checkpoint in the folder, as ../shared/models/stories260K holds */
        int n = find_bins(path, 0, ckpt, sizeof ckpt);
        if (n == 0 || !ckpt[0])
            return iv_errf(err, "%s: folder has neither config.json (Hugging Face) nor a llama2.c .bin checkpoint", path);
        if (n > 1)
            return iv_errf(err, "%s: folder has no config.json and %d .bin checkpoints: pass the file to load", path, n);
        path = ckpt, is_dir = 0;
    }
    iv_model *m = calloc(1, sizeof *m);
    m->maps = calloc(4, sizeof *m->maps);
    m->path = strdup(path);
    int rc = is_dir ? iv_load_hf(m, path, err) : iv_load_llama2c(m, path, err);
    if (rc == 0) {
        char found[4096];
        if (tok_path) rc = iv_tok_load(tok_path, &m->tok, err);
        else if (is_dir) {
            iv_err e2;
            if (iv_tok_load_dir(path, &m->tok, &e2) != 0) m->tok = NULL; /* a folder may ship none */
        } else {
            find_tok_beside(path, found, sizeof found);
            if (found[0]) rc = iv_tok_load(found, &m->tok, err);
        }
    }
    if (rc == 0 && m->tok && m->tok->vocab_size > m->cfg.vocab_size)
        rc = iv_errf(err, "%s: tokenizer has %d tokens but the model's vocabulary is %d", tok_path ? tok_path : path,
                     m->tok->vocab_size, m->cfg.vocab_size);
    if (rc == 0 && m->tok && m->tok->vocab_size < m->cfg.vocab_size && m->cfg.arch == IV_ARCH_LLAMA && !is_dir)
        rc = iv_errf(err, "%s: tokenizer has %d tokens but the model's vocabulary is %d", tok_path ? tok_path : path,
                     m->tok->vocab_size, m->cfg.vocab_size);
    if (rc == 0 && m->tok) {
        if (m->cfg.bos_id < 0) m->cfg.bos_id = m->tok->bos_id;
        if (m->cfg.eos_id < 0) m->cfg.eos_id = m->tok->eos_id;
    }
    if (rc != 0) { iv_model_free(m); return -1; }
    *out = m;
    return 0;
}

void iv_model_free(iv_model *m) {
    if (!m) return;
    iv_tok_free(m->tok);
    for (int i = 0; i < m->n_maps; i++) iv_unmap(&m->maps[i]);
    for (int i = 0; i < m->n_sts; i++) iv_st_close(&m->sts[i]);
    for (int i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->maps);
    free(m->sts);
    free(m->w.layers);
    free(m->path);
    free(m);
}

static int64_t nw(const iv_wmat *w) { return w->data ? w->out * w->in : 0; }
static int64_t nv(iv_vec v, int64_t n) { return v ? n : 0; }

int64_t iv_model_n_params(const iv_model *m) {
    const iv_config *c = &m->cfg;
    const iv_weights *w = &m->w;
    int64_t d = c->dim, n = nw(&w->tok_emb) + nw(&w->pos_emb) + nv(w->final_norm_w, d) + nv(w->final_norm_b, d);
    if (w->lm_head.data != w->tok_emb.data) n += nw(&w->lm_head);
    int64_t q = (int64_t)c->n_heads * c->head_dim, kv = (int64_t)c->n_kv_heads * c->head_dim;
    for (int l = 0; l < c->n_layers; l++) {
        const iv_layer_weights *x = &w->layers[l];
        n += nw(&x->wq) + nw(&x->wk) + nw(&x->wv) + nw(&x->wo) + nw(&x->w_gate) + nw(&x->w_up) + nw(&x->w_down);
        n += nv(x->attn_norm_w, d) + nv(x->attn_norm_b, d) + nv(x->mlp_norm_w, d) + nv(x->mlp_norm_b, d);
        n += nv(x->post_attn_norm_w, d) + nv(x->post_mlp_norm_w, d) + nv(x->bq, q) + nv(x->bk, kv) + nv(x->bv, kv);
        n += nv(x->bo, d) + nv(x->b_gate, c->hidden_dim) + nv(x->b_up, c->hidden_dim) + nv(x->b_down, d);
        n += nv(x->q_norm_w, c->qk_norm == 2 ? q : c->head_dim) + nv(x->k_norm_w, c->qk_norm == 2 ? kv : c->head_dim);
    }
    return n;
}

int iv_hook_point_parse(const char *name, int n_layers, int *layer, iv_err *err) {
    if (!strcmp(name, "embed")) { *layer = -1; return 0; }
    char *end;
    if (!strncmp(name, "resid_post.", 11)) {
        long l = strtol(name + 11, &end, 10);
        if (end != name + 11 && !*end && l >= 0 && l < n_layers) { *layer = (int)l; return 0; }
        return iv_errf(err, "hook point %s: layer out of range (model has %d layers: 0..%d)", name, n_layers, n_layers - 1);
    }
    return iv_errf(err, "hook point %s: unknown (use embed or resid_post.L)", name);
}

int iv_hooks_add(iv_hooks *hs, int layer, iv_hook_at at, iv_hook_fn fn, void *user, iv_err *err) {
    if (hs->n >= IV_MAX_HOOKS) return iv_errf(err, "too many hooks (max %d)", IV_MAX_HOOKS);
    iv_hook h = {layer, at, fn, user};
    hs->h[hs->n++] = h;
    return 0;
}
