/* sae-lens SAE folders: cfg.json + sae_weights.safetensors.  Three cfg layouts
 * occur: the early flat one (hook_point, hook_point_layer), the 3-5 flat one
 * (hook_name, activation_fn_str/activation_fn_kwargs) and the >= 6 nested one
 * (architecture at the top, hook facts inside "metadata", top-level "k").  We
 * read the facts wherever they are. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "sae_internal.h"

/* key at the top level, else inside "metadata" */
static json_t *get2(json_t *root, const char *key) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) v = json_object_get(json_object_get(root, "metadata"), key);
    return v && !json_is_null(v) ? v : NULL;
}

/* "blocks.L.hook_resid_post" -> L; "blocks.L.hook_resid_pre" -> L - 1. */
static int hook_layer(const char *cfg, const char *hook, int *layer, iv_err *err) {
    int L = -1, n = 0;
    char tail[64] = "";
    if (sscanf(hook, "blocks.%d.%63s%n", &L, tail, &n) != 2 || hook[n] != 0 || L < 0)
        return iv_errf(err, "%s: hook \"%s\" is not a residual-stream hook (blocks.L.hook_resid_post)",
                       cfg, hook);
    if (!strcmp(tail, "hook_resid_post")) *layer = L;
    else if (!strcmp(tail, "hook_resid_pre") && L > 0) *layer = L - 1;
    else
        return iv_errf(err, "%s: hook \"%s\" is not supported: interv edits the residual stream "
                            "after a block (blocks.L.hook_resid_post)", cfg, hook);
    return 0;
}

static int parse_cfg(const char *cfg, int d_model, ivm_sae *s, iv_err *err) {
    json_error_t je;
    json_t *root = json_load_file(cfg, 0, &je);
    if (!root) return iv_errf(err, "%s: cannot read JSON (line %d: %s)", cfg, je.line, je.text);
    int rc = 0;
    if (!json_is_object(root)) { rc = iv_errf(err, "%s: not a JSON object", cfg); goto out; }
    json_t *jdi = get2(root, "d_in"), *jds = get2(root, "d_sae");
    if (!json_is_integer(jdi) || !json_is_integer(jds) || json_integer_value(jdi) <= 0 ||
        json_integer_value(jds) <= 0) {
        rc = iv_errf(err, "%s: d_in and d_sae must be positive integers", cfg);
        goto out;
    }
    s->d_in = json_integer_value(jdi);
    s->d_sae = json_integer_value(jds);
    const char *arch = json_string_value(get2(root, "architecture"));
    const char *fn = json_string_value(get2(root, "activation_fn_str"));
    if (!arch) arch = "standard";
    if (!strcmp(arch, "standard") && fn && !strcmp(fn, "topk")) arch = "topk";
    if (!strcmp(arch, "standard") && fn && strcmp(fn, "relu")) {
        rc = iv_errf(err, "%s: activation \"%s\" is not supported (relu, topk, jumprelu are)", cfg, fn);
        goto out;
    }
    if (!strcmp(arch, "standard")) s->act = IVM_SAE_RELU;
    else if (!strcmp(arch, "jumprelu")) s->act = IVM_SAE_JUMPRELU;
    else if (!strcmp(arch, "topk")) s->act = IVM_SAE_TOPK;
    else {
        rc = iv_errf(err, "%s: unknown SAE architecture \"%s\" (supported: standard, jumprelu, topk)",
                     cfg, arch);
        goto out;
    }
    if (s->act == IVM_SAE_TOPK) {
        json_t *jk = get2(root, "k");
        if (!jk) jk = json_object_get(json_object_get(root, "activation_fn_kwargs"), "k");
        if (!json_is_integer(jk) || json_integer_value(jk) < 1 || json_integer_value(jk) > s->d_sae) {
            rc = iv_errf(err, "%s: topk SAE needs an integer k in 1..d_sae", cfg);
            goto out;
        }
        s->k = (int)json_integer_value(jk);
    }
    json_t *ab = get2(root, "apply_b_dec_to_input");
    s->apply_b_dec = ab ? json_is_true(ab) : 1; /* sae-lens' default */
    const char *na = json_string_value(get2(root, "normalize_activations"));
    if (na && strcmp(na, "none")) {
        rc = iv_errf(err, "%s: normalize_activations \"%s\" is unsupported (only \"none\")", cfg, na);
        goto out;
    }
    json_t *hh = get2(root, "hook_head_index");
    if (!hh) hh = get2(root, "hook_point_head_index");
    if (hh) { rc = iv_errf(err, "%s: per-head SAEs (hook_head_index) are unsupported", cfg); goto out; }
    /* format errors first, then whether it fits this model */
    if (s->d_in != d_model) {
        rc = iv_errf(err, "%s: d_in %lld but the model has dim %d (artifact for another model)", cfg,
                     (long long)s->d_in, d_model);
        goto out;
    }
    const char *hook = json_string_value(get2(root, "hook_name"));
    if (!hook) hook = json_string_value(get2(root, "hook_point"));
    if (hook) rc = hook_layer(cfg, hook, &s->layer, err);
out:
    json_decref(root);
    return rc;
}

int ivm_sae_load_saelens(const char *path, int d_model, ivm_sae *s, iv_err *err) {
    char *cfg = NULL, *wts = NULL;
    if (ivm_is_dir(path)) {
        cfg = ivm_join(path, "cfg.json");
        wts = ivm_join(path, "sae_weights.safetensors");
    } else if (ivm_is_file(path)) {
        const char *slash = strrchr(path, '/');
        char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
        cfg = dir ? ivm_join(dir, "cfg.json") : NULL;
        wts = strdup(path);
        free(dir);
    } else {
        return iv_errf(err, "%s: no such SAE folder or file", path);
    }
    int rc = 0;
    iv_safetensors st;
    int st_open = 0;
    if (!cfg || !wts) { rc = iv_errf(err, "out of memory"); goto out; }
    if (!ivm_is_file(cfg)) { rc = iv_errf(err, "%s: missing (sae-lens folders hold cfg.json)", cfg); goto out; }
    if (!ivm_is_file(wts)) { rc = iv_errf(err, "%s: missing SAE weights", wts); goto out; }
    if ((rc = parse_cfg(cfg, d_model, s, err))) goto out;
    if ((rc = iv_st_open(wts, &st, err))) goto out;
    st_open = 1;
    int64_t enc[2] = {s->d_in, s->d_sae}, dec[2] = {s->d_sae, s->d_in}, vs[1] = {s->d_sae},
            vi[1] = {s->d_in};
    if ((rc = ivm_st_load_f32(&st, wts, "W_enc", 2, enc, &s->W_enc, err)) ||
        (rc = ivm_st_load_f32(&st, wts, "b_enc", 1, vs, &s->b_enc, err)) ||
        (rc = ivm_st_load_f32(&st, wts, "W_dec", 2, dec, &s->W_dec, err)) ||
        (rc = ivm_st_load_f32(&st, wts, "b_dec", 1, vi, &s->b_dec, err)))
        goto out;
    if (s->act == IVM_SAE_JUMPRELU) {
        if (iv_st_find(&st, "threshold")) {
            rc = ivm_st_load_f32(&st, wts, "threshold", 1, vs, &s->threshold, err);
        } else if (iv_st_find(&st, "log_threshold")) { /* training-time parametrisation */
            rc = ivm_st_load_f32(&st, wts, "log_threshold", 1, vs, &s->threshold, err);
            for (int64_t j = 0; !rc && j < s->d_sae; j++) s->threshold[j] = expf(s->threshold[j]);
        } else {
            rc = iv_errf(err, "%s: missing tensor \"threshold\" (jumprelu SAE)", wts);
        }
        if (rc) goto out;
    }
    s->path = strdup(path);
out:
    if (st_open) iv_st_close(&st);
    free(cfg);
    free(wts);
    return rc;
}
