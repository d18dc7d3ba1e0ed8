/* Gemma Scope SAEs: params.npz with float32 W_enc [d_in,d_sae], W_dec [d_sae,d_in],
 * b_enc, b_dec, threshold; JumpReLU; no b_dec subtraction before encoding.  The
 * layer comes from a "layer_N" folder in the path (Gemma Scope's naming), when
 * present: layer N reads block N's output.  An optional "scaling_factor" [d_sae]
 * is sae-lens' per-feature decoder scale (x^ = (f * scale) W_dec + b_dec), folded
 * into W_dec; any other array is refused by name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/npz.h"
#include "sae_fold.h"
#include "sae_internal.h"

static int get(iv_npz *z, const char *path, const char *name, int ndim, const int64_t *want,
               float **out, iv_err *err) {
    int nd = 0;
    int64_t sh[IV_NPZ_MAX_DIMS];
    if (!iv_npz_has(z, name)) return iv_errf(err, "%s: missing array \"%s\"", path, name);
    if (iv_npz_shape(z, name, &nd, sh, err)) return -1;
    if (nd != ndim) return iv_errf(err, "%s: \"%s\" has %d dimensions, expected %d", path, name, nd, ndim);
    for (int i = 0; i < ndim; i++)
        if (sh[i] != want[i])
            return iv_errf(err, "%s: \"%s\" dimension %d is %lld, expected %lld (artifact for another "
                                "model?)", path, name, i, (long long)sh[i], (long long)want[i]);
    return iv_npz_get_f32(z, name, out, NULL, NULL, err);
}

static int layer_from_path(const char *path) {
    const char *p = path;
    int best = -1;
    while ((p = strstr(p, "layer_"))) {
        int L;
        if ((p == path || p[-1] == '/') && sscanf(p + 6, "%d", &L) == 1 && L >= 0) best = L;
        p += 6;
    }
    return best;
}

int ivm_sae_load_npz(const char *path, int d_model, ivm_sae *s, iv_err *err) {
    iv_npz *z = NULL;
    if (iv_npz_open(path, &z, err)) return -1;
    int nd = 0, rc = 0;
    int64_t sh[IV_NPZ_MAX_DIMS];
    if (!iv_npz_has(z, "W_enc")) { rc = iv_errf(err, "%s: missing array \"W_enc\"", path); goto out; }
    if ((rc = iv_npz_shape(z, "W_enc", &nd, sh, err))) goto out;
    if (nd != 2 || sh[0] <= 0 || sh[1] <= 0) {
        rc = iv_errf(err, "%s: \"W_enc\" must be [d_in, d_sae]", path);
        goto out;
    }
    if (sh[0] != d_model) {
        rc = iv_errf(err, "%s: W_enc is [%lld, %lld] but the model has dim %d (artifact for another "
                          "model)", path, (long long)sh[0], (long long)sh[1], d_model);
        goto out;
    }
    s->d_in = sh[0];
    s->d_sae = sh[1];
    for (size_t i = 0; i < iv_npz_count(z); i++) {
        const char *nm = iv_npz_name(z, i);
        static const char *const known[] = {"W_enc", "W_dec", "b_enc", "b_dec", "threshold",
                                            "scaling_factor"};
        int ok = 0;
        for (size_t k = 0; !ok && k < sizeof known / sizeof known[0]; k++) ok = !strcmp(nm, known[k]);
        if (!ok) {
            rc = iv_errf(err, "%s: array \"%s\" is not part of a Gemma Scope JumpReLU SAE "
                              "(unsupported variant)", path, nm);
            goto out;
        }
    }
    s->act = IVM_SAE_JUMPRELU;
    s->apply_b_dec = 0;
    s->layer = layer_from_path(path);
    int64_t enc[2] = {s->d_in, s->d_sae}, dec[2] = {s->d_sae, s->d_in}, vs[1] = {s->d_sae},
            vi[1] = {s->d_in};
    if ((rc = get(z, path, "W_enc", 2, enc, &s->W_enc, err)) ||
        (rc = get(z, path, "W_dec", 2, dec, &s->W_dec, err)) ||
        (rc = get(z, path, "b_enc", 1, vs, &s->b_enc, err)) ||
        (rc = get(z, path, "b_dec", 1, vi, &s->b_dec, err)) ||
        (rc = get(z, path, "threshold", 1, vs, &s->threshold, err)))
        goto out;
    if (iv_npz_has(z, "scaling_factor")) {
        float *sc = NULL;
        if ((rc = get(z, path, "scaling_factor", 1, vs, &sc, err))) goto out;
        if (!ivm_sae_all_ones(sc, s->d_sae))
            rc = ivm_sae_fold_feature_scale(s, sc, s->d_sae, path, "scaling_factor", err);
        free(sc);
        if (rc) goto out;
    }
    s->path = strdup(path);
out:
    iv_npz_close(z);
    return rc;
}
