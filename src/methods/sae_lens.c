/* sae-lens SAE folders: cfg.json + sae_weights.safetensors.  Three cfg layouts
 * occur: the early flat one (hook_point, hook_point_layer), the 3-5 flat one
 * (hook_name, activation_fn_str/activation_fn_kwargs) and the >= 6 nested one
 * (architecture at the top, hook facts inside "metadata", top-level "k").  We
 * read the facts wherever they are.  Every key that changes the numbers is
 * honoured or refused (docs/artifact-fields.md): the rescalings
 * (rescale_acts_by_decoder_norm, finetuning_scaling_factor / a "scaling_factor"
 * tensor, expected_average_only_in with activation_scaler.json) are folded into
 * the weights here, so sae.c's plain encode/decode computes what the file means. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "hook_names.h"
#include "sae_fold.h"
#include "sae_internal.h"

/* cfg facts applied after the weights are read */
typedef struct sl_cfg {
    int rescale;       /* rescale_acts_by_decoder_norm */
    int finetune;      /* finetuning_scaling_factor */
    double act_scale;  /* expected_average_only_in scale, 0 = none */
} sl_cfg;

/* key at the top level, else inside "metadata" (or "meta", an earlier 6.x name) */
static json_t *get2(json_t *root, const char *key) {
    json_t *v = json_object_get(root, key);
    if (!v || json_is_null(v)) v = json_object_get(json_object_get(root, "metadata"), key);
    if (!v || json_is_null(v)) v = json_object_get(json_object_get(root, "meta"), key);
    return v && !json_is_null(v) ? v : NULL;
}

/* A boolean cfg flag: absent/null/false = 0, true = 1, anything else an error. */
static int get_flag(json_t *root, const char *cfg, const char *key, int *out, iv_err *err) {
    json_t *v = get2(root, key);
    *out = 0;
    if (!v || json_is_false(v)) return 0;
    if (json_is_true(v)) { *out = 1; return 0; }
    return iv_errf(err, "%s: %s must be true or false", cfg, key);
}

/* expected_average_only_in: the SAE was trained on c x; sae-lens >= 6 writes c as
 * activation_scaler.json {"scaling_factor": c} (null = no scaling) next to cfg.json. */
static int read_act_scale(const char *cfg, double *c, iv_err *err) {
    *c = 0;
    const char *slash = strrchr(cfg, '/');
    char *dir = slash ? strndup(cfg, (size_t)(slash - cfg)) : strdup(".");
    char *path = dir ? ivm_join(dir, "activation_scaler.json") : NULL;
    free(dir);
    if (!path) return iv_errf(err, "out of memory");
    int rc = 0;
    if (!ivm_is_file(path)) {
        rc = iv_errf(err, "%s: normalize_activations \"expected_average_only_in\" is unsupported without "
                          "the training-time input scale (activation_scaler.json with \"scaling_factor\" "
                          "next to cfg.json; or fold it into the weights and set \"none\")", cfg);
        free(path);
        return rc;
    }
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    json_t *v = json_is_object(root) ? json_object_get(root, "scaling_factor") : NULL;
    if (!root || !json_is_object(root) || !v)
        rc = iv_errf(err, "%s: expected a JSON object with \"scaling_factor\"", path);
    else if (json_is_null(v))
        *c = 0; /* the trainer used no scaling: identity */
    else if (!json_is_number(v) || !(json_number_value(v) > 0) || !isfinite(json_number_value(v)))
        rc = iv_errf(err, "%s: scaling_factor must be a positive number or null", path);
    else
        *c = json_number_value(v);
    json_decref(root);
    free(path);
    return rc;
}

/* The hook the SAE reads -> resid_post layer (hook_names.c: TransformerLens and
 * Hugging Face module names); embed is a hook point the SAE method cannot edit. */
static int hook_layer(const char *cfg, const char *hook, int *layer, iv_err *err) {
    if (ivm_hook_name_layer(cfg, hook, layer, err)) return -1;
    if (*layer < 0)
        return iv_errf(err, "%s: hook \"%s\" is embed (the input of block 0); the SAE method edits "
                            "resid_post.L only", cfg, hook);
    return 0;
}

static int parse_cfg(const char *cfg, int d_model, ivm_sae *s, sl_cfg *x, iv_err *err) {
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
    json_t *jarch = get2(root, "architecture");
    if (jarch && !json_is_string(jarch)) {
        rc = iv_errf(err, "%s: architecture must be a string", cfg);
        goto out;
    }
    const char *arch = json_string_value(jarch);
    /* the activation: activation_fn_str (3-5) or activation_fn (earlier name) */
    const char *fkey = get2(root, "activation_fn_str") ? "activation_fn_str" : "activation_fn";
    json_t *jfn = get2(root, fkey);
    if (jfn && !json_is_string(jfn)) {
        rc = iv_errf(err, "%s: %s must be a string", cfg, fkey);
        goto out;
    }
    const char *fn = json_string_value(jfn);
    if (!arch) arch = "standard";
    if (!strcmp(arch, "standard") && fn && !strcmp(fn, "topk")) arch = "topk";
    /* tanh-relu (tanh after the ReLU) and any other activation change f itself */
    if (fn && strcmp(fn, "relu") && !(!strcmp(fn, "topk") && !strcmp(arch, "topk"))) {
        rc = iv_errf(err, "%s: %s \"%s\" is not supported for a %s SAE (relu; topk for topk SAEs)",
                     cfg, fkey, fn, arch);
        goto out;
    }
    if (!strcmp(arch, "standard")) s->act = IVM_SAE_RELU;
    else if (!strcmp(arch, "jumprelu")) s->act = IVM_SAE_JUMPRELU;
    else if (!strcmp(arch, "topk")) s->act = IVM_SAE_TOPK;
    else {
        rc = iv_errf(err, "%s: unknown SAE architecture \"%s\" in \"architecture\" (supported: standard, "
                          "jumprelu, topk; gated and batchtopk training checkpoints are not)", cfg, arch);
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
    if (ab && !json_is_boolean(ab)) {
        rc = iv_errf(err, "%s: apply_b_dec_to_input must be true or false", cfg);
        goto out;
    }
    s->apply_b_dec = ab ? json_is_true(ab) : 1; /* sae-lens' default */
    /* normalize_activations: "none" (or the old false / absent) is the identity;
     * expected_average_only_in is folded when its scale is on disk; the run-time
     * norms (constant_norm_rescale, layer_norm) depend on each x: refused */
    json_t *jna = get2(root, "normalize_activations");
    const char *na = json_string_value(jna);
    if (jna && !json_is_false(jna) && !(na && !strcmp(na, "none"))) {
        if (na && !strcmp(na, "expected_average_only_in")) {
            if ((rc = read_act_scale(cfg, &x->act_scale, err))) goto out;
        } else if (na) {
            rc = iv_errf(err, "%s: normalize_activations \"%s\" is unsupported (\"none\", or "
                              "\"expected_average_only_in\" with activation_scaler.json)", cfg, na);
            goto out;
        } else {
            rc = iv_errf(err, "%s: normalize_activations must be a string (\"none\")", cfg);
            goto out;
        }
    }
    if ((rc = get_flag(root, cfg, "finetuning_scaling_factor", &x->finetune, err)) ||
        (rc = get_flag(root, cfg, "rescale_acts_by_decoder_norm", &x->rescale, err)))
        goto out;
    if (x->rescale && s->act != IVM_SAE_TOPK) { /* only sae-lens' TopK SAE defines it */
        rc = iv_errf(err, "%s: rescale_acts_by_decoder_norm is unsupported for a %s SAE (sae-lens "
                          "defines it for topk SAEs only)", cfg, arch);
        goto out;
    }
    json_t *hh = get2(root, "hook_head_index");
    if (!hh) hh = get2(root, "hook_point_head_index");
    if (hh) { rc = iv_errf(err, "%s: per-head SAEs (hook_head_index) are unsupported", cfg); goto out; }
    /* TransformerLens' center_writing_weights makes the residual stream the SAE
     * was trained on x - mean(x) (for LayerNorm models), not the model's own */
    json_t *cw = json_object_get(get2(root, "model_from_pretrained_kwargs"), "center_writing_weights");
    if (json_is_true(cw)) {
        rc = iv_errf(err, "%s: model_from_pretrained_kwargs.center_writing_weights true is unsupported "
                          "(the SAE reads TransformerLens' mean-centred residual stream)", cfg);
        goto out;
    }
    const char *ra = json_string_value(get2(root, "reshape_activations"));
    if (ra && strcmp(ra, "none")) {
        rc = iv_errf(err, "%s: reshape_activations \"%s\" is unsupported (attention-output SAEs; "
                          "interv edits the residual stream)", cfg, ra);
        goto out;
    }
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

/* Tensors of the file beyond the plain SAE's are refused by name (a gated SAE's
 * b_gate / r_mag / b_mag, ...), as sae-lens' strict state-dict load would. */
static int check_names(const iv_safetensors *st, const char *wts, const ivm_sae *s, iv_err *err) {
    static const char *const known[] = {"W_enc", "b_enc", "W_dec", "b_dec", "scaling_factor",
                                        "finetuning_scaling_factor"};
    for (size_t i = 0; i < st->n; i++) {
        const char *nm = st->tensors[i].name;
        int ok = s->act == IVM_SAE_JUMPRELU && (!strcmp(nm, "threshold") || !strcmp(nm, "log_threshold"));
        for (size_t k = 0; !ok && k < sizeof known / sizeof known[0]; k++) ok = !strcmp(nm, known[k]);
        if (!ok)
            return iv_errf(err, "%s: tensor \"%s\" is not part of a %s SAE (unsupported variant)", wts,
                           nm, s->act == IVM_SAE_JUMPRELU ? "jumprelu" : s->act == IVM_SAE_TOPK ? "topk"
                                                                                               : "standard");
    }
    return 0;
}

/* The per-feature decoder scale, as sae-lens reads it: "finetuning_scaling_factor"
 * (5.x) or its legacy name "scaling_factor"; all ones = absent; otherwise the cfg
 * must say finetuning_scaling_factor: true.  Then the decoder-norm and input-scale
 * rescalings.  All are folded into the weights. */
static int fold_scales(const iv_safetensors *st, const char *wts, const char *cfg, ivm_sae *s,
                       const sl_cfg *x, iv_err *err) {
    const char *names[2] = {"finetuning_scaling_factor", "scaling_factor"};
    const char *found = NULL;
    for (int i = 0; i < 2; i++) {
        if (!iv_st_find(st, names[i])) continue;
        if (found)
            return iv_errf(err, "%s: holds both \"%s\" and \"%s\"", wts, found, names[i]);
        found = names[i];
    }
    if (x->rescale && ivm_sae_fold_decoder_norm(s, cfg, err)) return -1;
    if (found) {
        const iv_st_tensor *t = iv_st_find(st, found);
        int64_t want[1] = {-1};
        float *sc = NULL;
        if (t->ndim != 1)
            return iv_errf(err, "%s: \"%s\" must be [d_sae]", wts, found);
        if (ivm_st_load_f32(st, wts, found, 1, want, &sc, err)) return -1;
        int64_t n = t->shape[0];
        int rc = 0;
        if (n != s->d_sae)
            rc = iv_errf(err, "%s: \"%s\" has %lld values, expected d_sae %lld", wts, found,
                         (long long)n, (long long)s->d_sae);
        else if (ivm_sae_all_ones(sc, n)) rc = 0; /* a no-op sae-lens drops */
        else if (!x->finetune)
            rc = iv_errf(err, "%s: \"%s\" is not all ones but %s has finetuning_scaling_factor false "
                              "(sae-lens refuses this file too)", wts, found, cfg);
        else
            rc = ivm_sae_fold_feature_scale(s, sc, n, wts, found, err);
        free(sc);
        if (rc) return -1;
    } else if (x->finetune) {
        return iv_errf(err, "%s: finetuning_scaling_factor is true but %s has no "
                            "\"finetuning_scaling_factor\" tensor", cfg, wts);
    }
    if (x->act_scale > 0 && ivm_sae_fold_input_scale(s, x->act_scale, cfg, err)) return -1;
    return 0;
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
    sl_cfg x = {0, 0, 0};
    if ((rc = parse_cfg(cfg, d_model, s, &x, err))) goto out;
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
    if ((rc = check_names(&st, wts, s, err)) || (rc = fold_scales(&st, wts, cfg, s, &x, err))) goto out;
    s->path = strdup(path);
out:
    if (st_open) iv_st_close(&st);
    free(cfg);
    free(wts);
    return rc;
}
