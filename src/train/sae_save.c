/* Writes an SAE as an sae-lens folder: cfg.json + sae_weights.safetensors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/train.h"
#include "train/internal.h"

int iv_sae_save(const char *dir, const iv_sae *s, const char *model_path, iv_err *err) {
    if (iv_train_mkdir(dir, err)) return -1;
    size_t pl = strlen(dir) + 32;
    char *path = malloc(pl), hook[64];
    if (!path) return iv_errf(err, "%s: out of memory", dir);
    snprintf(hook, sizeof hook, "blocks.%d.hook_resid_post", s->layer);
    iv_st_out t[4] = {
        {.name = "W_dec", .dtype = IV_F32, .ndim = 2, .shape = {s->d_sae, s->d_in}, .data = s->W_dec},
        {.name = "W_enc", .dtype = IV_F32, .ndim = 2, .shape = {s->d_in, s->d_sae}, .data = s->W_enc},
        {.name = "b_dec", .dtype = IV_F32, .ndim = 1, .shape = {s->d_in}, .data = s->b_dec},
        {.name = "b_enc", .dtype = IV_F32, .ndim = 1, .shape = {s->d_sae}, .data = s->b_enc},
    };
    snprintf(path, pl, "%s/sae_weights.safetensors", dir);
    int rc = iv_st_write(path, t, 4, NULL, 0, err);
    if (rc) { free(path); return -1; }
    /* sae-lens ≥ 6 nests run facts under "metadata"; hook_name is also kept at the
     * top level for older readers. */
    json_t *cfg = json_object(), *meta = json_object(), *ev = json_object();
    if (!cfg || !meta || !ev) {
        json_decref(cfg); json_decref(meta); json_decref(ev); free(path);
        return iv_errf(err, "%s: out of memory", dir);
    }
    json_object_set_new(cfg, "architecture", json_string(s->k ? "topk" : "standard"));
    json_object_set_new(cfg, "d_in", json_integer(s->d_in));
    json_object_set_new(cfg, "d_sae", json_integer(s->d_sae));
    if (s->k) json_object_set_new(cfg, "k", json_integer(s->k));
    json_object_set_new(cfg, "dtype", json_string("float32"));
    json_object_set_new(cfg, "apply_b_dec_to_input", json_true());
    json_object_set_new(cfg, "normalize_activations", json_string("none"));
    json_object_set_new(cfg, "hook_name", json_string(hook));
    json_object_set_new(cfg, "hook_layer", json_integer(s->layer));
    json_object_set_new(meta, "model_name", json_string(model_path ? model_path : ""));
    json_object_set_new(meta, "hook_name", json_string(hook));
    json_object_set_new(meta, "hook_layer", json_integer(s->layer));
    json_object_set_new(meta, "prepend_bos", json_true());
    json_object_set_new(meta, "trained_by", json_string("interv"));
    json_object_set_new(cfg, "metadata", meta);
    json_object_set_new(ev, "l0", json_real(s->l0));
    json_object_set_new(ev, "mse", json_real(s->mse));
    json_object_set_new(ev, "explained_variance", json_real(s->explained_var));
    json_object_set_new(ev, "dead_features", json_integer(s->dead));
    json_object_set_new(ev, "nll_clean", json_real(s->nll_clean));
    json_object_set_new(ev, "nll_spliced", json_real(s->nll_spliced));
    json_object_set_new(ev, "nll_zero_ablated", json_real(s->nll_zero));
    json_object_set_new(cfg, "interv_eval", ev);
    snprintf(path, pl, "%s/cfg.json", dir);
    rc = iv_train_write_json(path, cfg, err);
    json_decref(cfg);
    free(path);
    return rc;
}
