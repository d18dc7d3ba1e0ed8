/* Tuned lens: a per-layer affine translator before the unembedding.  Artifact =
 * a folder with config.json and either params.safetensors (our layout) or
 * params.pt (the tuned-lens package), each holding "{i}.weight" [d,d] (nn.Linear,
 * out x in) and "{i}.bias" [d]; translator i reads hidden_states[i] (i = 0 the
 * embeddings), so resid_post.L uses translator L + 1.  The last hidden state has
 * no translator in the package (the lens is the model's own head there): a
 * missing translator n_layers is the identity.  The lens applies the model's
 * final norm after the translator (z = W_U norm(x + A x + b)), as the package and
 * our trainer do, unless config.json says "final_norm": false.
 * Under IV_PROTOCOL_PAPER the reference's form instead (tuned_paper.c): translator
 * L on resid_post.L, no final norm whatever config.json says, and the augmented
 * matrix's pseudo-inverse as decoder. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "lens_internal.h"
#include "tuned_paper.h"

/* Checks config.json's d_model / num_hidden_layers against the model and reads
 * "final_norm" (default true: the tuned-lens package and `interv train` both
 * apply the model's final norm after the translator), "bias" (TunedLensConfig's
 * default true: the translators are nn.Linear with a bias) and "lens_type"
 * (only the affine translator, "linear_tuned_lens"; "linear_tensor" is the
 * name `interv train` wrote for the same thing). */
static int check_config(const char *dir, int d, int n_layers, int *final_norm, int *bias,
                        iv_err *err) {
    *final_norm = 1;
    *bias = 1;
    char *path = ivm_join(dir, "config.json");
    if (!path) return iv_errf(err, "out of memory");
    if (!ivm_is_file(path)) { free(path); return 0; } /* optional */
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    int rc = 0;
    if (!root || !json_is_object(root)) {
        rc = iv_errf(err, "%s: not a JSON object (line %d: %s)", path, je.line, je.text);
    } else {
        json_t *jd = json_object_get(root, "d_model");
        json_t *jl = json_object_get(root, "num_hidden_layers");
        json_t *fn = json_object_get(root, "final_norm");
        json_t *jb = json_object_get(root, "bias");
        const char *lt = json_string_value(json_object_get(root, "lens_type"));
        if (json_is_boolean(fn)) *final_norm = json_is_true(fn);
        if (json_is_boolean(jb)) *bias = json_is_true(jb);
        if (jb && !json_is_boolean(jb))
            rc = iv_errf(err, "%s: bias must be true or false", path);
        else if (lt && strcmp(lt, "linear_tuned_lens") && strcmp(lt, "linear_tensor"))
            rc = iv_errf(err, "%s: lens_type \"%s\" is unsupported (only \"linear_tuned_lens\", an "
                              "affine translator per layer)", path, lt);
        else if (jd && json_is_integer(jd) && json_integer_value(jd) != d)
            rc = iv_errf(err, "%s: d_model %lld but the model has dim %d (artifact for another model)",
                         path, (long long)json_integer_value(jd), d);
        else if (jl && json_is_integer(jl) && json_integer_value(jl) != n_layers)
            rc = iv_errf(err, "%s: num_hidden_layers %lld but the model has %d layers (artifact for "
                              "another model)", path, (long long)json_integer_value(jl), n_layers);
    }
    json_decref(root);
    free(path);
    return rc;
}

static const iv_st_tensor *find_either(const iv_safetensors *st, const char *n1, const char *n2) {
    const iv_st_tensor *t = iv_st_find(st, n1);
    return t ? t : iv_st_find(st, n2);
}

int ivm_tuned_load_st(const char *dir, const char *file, int idx, int d, int n_layers, double **A,
                      double **b, iv_err *err) {
    (void)dir;
    *A = NULL;
    *b = NULL;
    iv_safetensors st;
    if (iv_st_open(file, &st, err)) return -1;
    char wn[64], bn[64], wn2[96], bn2[96];
    snprintf(wn, sizeof wn, "%d.weight", idx);
    snprintf(bn, sizeof bn, "%d.bias", idx);
    snprintf(wn2, sizeof wn2, "layer_translators.%d.weight", idx);
    snprintf(bn2, sizeof bn2, "layer_translators.%d.bias", idx);
    const iv_st_tensor *tw = find_either(&st, wn, wn2), *tb = find_either(&st, bn, bn2);
    int rc = 0;
    if (!tw && !tb && idx == n_layers) goto done; /* identity at the last layer */
    if (!tw) { rc = iv_errf(err, "%s: missing tensor \"%s\"", file, wn); goto done; }
    if (tw->ndim != 2 || tw->shape[0] != tw->shape[1]) {
        rc = iv_errf(err, "%s: \"%s\" must be square [d,d]", file, tw->name);
        goto done;
    }
    if (tw->shape[0] != d) {
        rc = iv_errf(err, "%s: \"%s\" is [%lld,%lld] but the model has dim %d (artifact for another "
                          "model)", file, tw->name, (long long)tw->shape[0], (long long)tw->shape[1], d);
        goto done;
    }
    if (tb && (tb->ndim != 1 || tb->shape[0] != d)) {
        rc = iv_errf(err, "%s: \"%s\" must be [%d]", file, tb->name, d);
        goto done;
    }
    float *fw = NULL, *fb = NULL;
    int64_t ws[2] = {d, d}, bs[1] = {d};
    if (ivm_st_load_f32(&st, file, tw->name, 2, ws, &fw, err) ||
        (tb && ivm_st_load_f32(&st, file, tb->name, 1, bs, &fb, err))) {
        free(fw);
        rc = -1;
        goto done;
    }
    *A = malloc(sizeof(double) * (size_t)d * d);
    *b = fb ? calloc((size_t)d, sizeof(double)) : NULL; /* NULL: the file has no bias */
    if (!*A || (fb && !*b)) {
        free(*A); free(*b); *A = NULL; *b = NULL;
        rc = iv_errf(err, "%s: out of memory", file);
    } else {
        for (size_t i = 0; i < (size_t)d * d; i++) (*A)[i] = fw[i];
        for (int i = 0; i < d && fb; i++) (*b)[i] = fb[i];
    }
    free(fw);
    free(fb);
done:
    iv_st_close(&st);
    return rc;
}

int ivm_lens_create_tuned(iv_method *mm, const iv_method_opts *o, iv_err *err) {
    const char *art = o->artifact;
    if (!art || !*art) return iv_errf(err, "tuned lens: --artifact (the lens folder) is required");
    if (mm->layer < 0) return iv_errf(err, "%s: --layer is required for a tuned lens", art);
    int d = mm->dim, nl = mm->m->cfg.n_layers;
    char *dir = NULL, *file = NULL;
    int is_pt = 0;
    if (ivm_is_dir(art)) {
        dir = strdup(art);
        file = ivm_join(art, "params.safetensors");
        if (file && !ivm_is_file(file)) {
            free(file);
            file = ivm_join(art, "params.pt");
            is_pt = 1;
            if (file && !ivm_is_file(file)) {
                free(dir); free(file);
                return iv_errf(err, "%s: no params.safetensors or params.pt in the tuned-lens folder", art);
            }
        }
    } else if (ivm_is_file(art)) {
        file = strdup(art);
        const char *slash = strrchr(art, '/');
        dir = slash ? strndup(art, (size_t)(slash - art)) : strdup(".");
        size_t n = strlen(art);
        is_pt = n > 3 && !strcmp(art + n - 3, ".pt");
        FILE *f = fopen(art, "rb"); /* the content decides: a zip is a torch.save file */
        unsigned char m[4] = {0};
        if (f) {
            if (fread(m, 1, 4, f) == 4) is_pt = !memcmp(m, "PK\x03\x04", 4);
            fclose(f);
        }
    } else {
        return iv_errf(err, "%s: no such tuned-lens folder or file", art);
    }
    if (!dir || !file) { free(dir); free(file); return iv_errf(err, "out of memory"); }
    ivm_lens *L = calloc(1, sizeof *L);
    int rc = L ? 0 : iv_errf(err, "out of memory");
    int final_norm = 1, bias = 1;
    if (!rc) rc = check_config(dir, d, nl, &final_norm, &bias, err);
    /* the reference applies translator L to resid_post.L, the package L + 1 */
    int paper = o->protocol == IV_PROTOCOL_PAPER, idx = paper ? mm->layer : mm->layer + 1;
    if (!rc) rc = (is_pt ? ivm_tuned_load_pt : ivm_tuned_load_st)(dir, file, idx, d, nl, &L->A, &L->b, err);
    /* the file must agree with config.json's "bias", as the package's strict
     * state-dict load demands; the identity translator (A NULL) has neither */
    if (!rc && L->A && bias && !L->b)
        rc = iv_errf(err, "%s: translator %d has no bias but config.json says \"bias\": true", file,
                     idx);
    else if (!rc && L->A && !bias && L->b)
        rc = iv_errf(err, "%s: translator %d has a bias but config.json says \"bias\": false", file,
                     idx);
    else if (!rc && L->A && !L->b && !(L->b = calloc((size_t)d, sizeof(double))))
        rc = iv_errf(err, "out of memory");
    free(dir);
    free(file);
    if (rc) {
        ivm_lens_destroy(L);
        return -1;
    }
    if (paper) return ivm_tuned_paper_finish(mm, L, o, err);
    L->normed = final_norm;
    return ivm_lens_finish(mm, L, o, err);
}
