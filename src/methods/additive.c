/* Additive methods: steering vector x' = x + a v and linear probe x' = x + a w
 * (the raw probe weight).  Encoders: steering z = v.x / |v| (projection), probe
 * z = sigmoid(w.x + b).  Bottleneck leaves x unchanged (no round trip to lose).
 * Artifacts: our safetensors ("direction" [d] / "weight" [d] + "bias" [1], with
 * metadata interv_method, layer, d_model), a PyTorch zip as the reference study
 * writes it (steering: torch.save of one [1, d] or [d] tensor; probe: a state dict
 * with "proj.0.weight" [1, d] and "proj.0.bias" [1], or "weight" / "bias") or,
 * for steering, a llama.cpp GGUF control vector (direction.L for resid_post.L).
 * The format is told by the file's first bytes, not its name. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/gguf.h"
#include "interv/io.h"
#include "interv/torchzip.h"
#include "method_internal.h"

typedef struct ivm_add {
    float *v;  /* [d] direction (steering) or probe weight */
    float b;   /* probe bias */
    double vnorm;
} ivm_add;

static void add_destroy(void *impl) {
    ivm_add *a = impl;
    if (a) free(a->v);
    free(a);
}

static int64_t add_nf(const iv_method *mm) { (void)mm; return 1; }

static int add_encode(iv_method *mm, const float *x, float *z, iv_err *err) {
    (void)err;
    const ivm_add *a = mm->impl;
    double s = 0;
    for (int i = 0; i < mm->dim; i++) s += (double)a->v[i] * x[i];
    if (mm->kind == IV_METHOD_PROBE) z[0] = (float)(1.0 / (1.0 + exp(-(s + a->b))));
    else z[0] = a->vnorm > 0 ? (float)(s / a->vnorm) : 0.0f;
    return 0;
}

/* x: [n, d] += alpha v broadcast over the rows */
static int add_apply(iv_method *mm, float *x, int n, iv_err *err) {
    (void)err;
    const ivm_add *a = mm->impl;
    if (mm->mode != IV_MMODE_EDIT) return 0;
    int d = mm->dim;
    float *av = malloc(sizeof(float) * (size_t)d); /* [d] alpha v, once per call */
    if (!av) return iv_errf(err, "out of memory");
    for (int i = 0; i < d; i++) av[i] = mm->alpha * a->v[i];
    for (int k = 0; k < n; k++) {
        float *r = x + (size_t)k * d;
        for (int i = 0; i < d; i++) r[i] += av[i];
    }
    free(av);
    return 0;
}

static const ivm_ops add_ops = {add_nf, add_encode, NULL, add_apply, add_destroy};

/* layer from the artifact vs --layer */
static int resolve_layer(iv_method *mm, const char *path, int art_layer, iv_err *err) {
    if (art_layer < 0) return 0;
    if (mm->layer >= 0 && mm->layer != art_layer)
        return iv_errf(err, "%s: trained at layer %d but --layer is %d", path, art_layer, mm->layer);
    if (ivm_check_layer(mm, art_layer, path, err)) return -1;
    mm->layer = art_layer;
    return 0;
}

static int load_gguf(iv_method *mm, const char *path, ivm_add *a, iv_err *err) {
    iv_gguf_cv cv;
    memset(&cv, 0, sizeof cv);
    if (iv_gguf_cv_read(path, &cv, err)) return -1;
    int rc = 0, L = mm->layer;
    if (cv.d != mm->dim) {
        rc = iv_errf(err, "%s: control vector of length %d but the model has dim %d (artifact for "
                          "another model)", path, cv.d, mm->dim);
        goto out;
    }
    if (cv.n_layers > 0 && cv.vec[0]) { /* llama.cpp refuses such a file: no silent meaning */
        rc = iv_errf(err, "%s: direction.0 is invalid in a llama.cpp control vector (its directions "
                          "start at block 1)", path);
        goto out;
    }
    if (L < 0) { /* a file with a single direction names its layer */
        int n = 0;
        for (int i = 0; i < cv.n_layers; i++)
            if (cv.vec[i]) { n++; L = i; }
        if (n != 1) {
            rc = iv_errf(err, "%s: holds %d directions; choose one with --layer", path, n);
            goto out;
        }
        if ((rc = ivm_check_layer(mm, L, path, err))) goto out;
        mm->layer = L;
    }
    if (L >= cv.n_layers || !cv.vec[L]) {
        rc = iv_errf(err, "%s: no direction.%d for layer %d", path, L, L);
        goto out;
    }
    a->v = malloc(sizeof(float) * (size_t)cv.d);
    if (!a->v) { rc = iv_errf(err, "out of memory"); goto out; }
    memcpy(a->v, cv.vec[L], sizeof(float) * (size_t)cv.d);
out:
    iv_gguf_cv_free(&cv);
    return rc;
}

static int load_st(iv_method *mm, const char *path, ivm_add *a, iv_err *err) {
    iv_safetensors st;
    if (iv_st_open(path, &st, err)) return -1;
    int probe = mm->kind == IV_METHOD_PROBE, rc = 0;
    const char *want = probe ? "probe" : "steering";
    char *kind = ivm_st_metadata(&st, "interv_method");
    char *lay = ivm_st_metadata(&st, "layer");
    char *dm = ivm_st_metadata(&st, "d_model");
    if (kind && strcmp(kind, want)) {
        rc = iv_errf(err, "%s: holds a %s artifact, not a %s", path, kind, want);
        goto out;
    }
    if (dm && atoi(dm) != mm->dim) {
        rc = iv_errf(err, "%s: d_model %s but the model has dim %d (artifact for another model)", path,
                     dm, mm->dim);
        goto out;
    }
    const char *tn = probe ? "weight" : "direction";
    const iv_st_tensor *t = iv_st_find(&st, tn);
    if (!t) { rc = iv_errf(err, "%s: missing tensor \"%s\"", path, tn); goto out; }
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    int shape_ok = (t->ndim == 1) || (t->ndim == 2 && t->shape[0] == 1);
    if (!shape_ok || n != mm->dim) {
        rc = iv_errf(err, "%s: \"%s\" has %lld elements but the model has dim %d (artifact for another "
                          "model)", path, tn, (long long)n, mm->dim);
        goto out;
    }
    int64_t want_shape[2] = {t->ndim == 2 ? 1 : mm->dim, mm->dim};
    if ((rc = ivm_st_load_f32(&st, path, tn, t->ndim, want_shape, &a->v, err))) goto out;
    if (probe) {
        const iv_st_tensor *tb = iv_st_find(&st, "bias");
        if (tb) {
            int64_t nb = 1;
            for (int i = 0; i < tb->ndim; i++) nb *= tb->shape[i];
            if (nb != 1) { rc = iv_errf(err, "%s: \"bias\" must hold one value", path); goto out; }
            iv_to_f32(&a->b, tb->data, tb->dtype, 1);
        }
    }
    if (lay) {
        char *end;
        long L = strtol(lay, &end, 10);
        if (*end || end == lay) { rc = iv_errf(err, "%s: metadata layer \"%s\" is not an integer", path, lay); goto out; }
        rc = resolve_layer(mm, path, (int)L, err);
    }
out:
    free(kind);
    free(lay);
    free(dm);
    iv_st_close(&st);
    return rc;
}

/* One vector tensor of a torch zip: [d] or [1, d]; anything else is refused. */
static int pt_vector(iv_method *mm, const char *path, const iv_tz_tensor *t, const char *what,
                     float **out, iv_err *err) {
    int row = t->ndim == 2 && t->shape[0] == 1;
    int64_t d = t->ndim == 1 ? t->shape[0] : row ? t->shape[1] : -1;
    if (d < 0) {
        char sh[96] = "";
        for (int i = 0, n = 0; i < t->ndim && n < (int)sizeof sh - 24; i++)
            n += snprintf(sh + n, sizeof sh - (size_t)n, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        return iv_errf(err, "%s: %s is [%s], expected [1, %d] or [%d]", path, what, sh, mm->dim, mm->dim);
    }
    if (d != mm->dim)
        return iv_errf(err, "%s: %s has %lld elements but the model has dim %d (artifact for another "
                            "model)", path, what, (long long)d, mm->dim);
    if (!(*out = malloc(sizeof(float) * (size_t)d))) return iv_errf(err, "out of memory");
    memcpy(*out, t->data, sizeof(float) * (size_t)d);
    return 0;
}

static int load_pt(iv_method *mm, const char *path, ivm_add *a, iv_err *err) {
    iv_torchzip *tz = NULL;
    if (iv_torchzip_open(path, &tz, err)) return -1;
    int rc = 0;
    if (mm->kind != IV_METHOD_PROBE) { /* torch.save(v): one tensor (a dict of one also works) */
        if (tz->n != 1)
            rc = iv_errf(err, "%s: a steering .pt holds one tensor (torch.save of a [1, %d] tensor); "
                              "this one holds %zu", path, mm->dim, tz->n);
        else
            rc = pt_vector(mm, path, &tz->tensors[0], "the steering vector", &a->v, err);
        goto out;
    }
    /* probe state dict: the reference's nn.Sequential(nn.Linear(d, 1), ...) as
     * proj.0.*, or a bare nn.Linear(d, 1) */
    const char *pre = iv_torchzip_find(tz, "proj.0.weight") ? "proj.0." : "";
    char wn[32], bn[32];
    snprintf(wn, sizeof wn, "%sweight", pre);
    snprintf(bn, sizeof bn, "%sbias", pre);
    const iv_tz_tensor *tw = iv_torchzip_find(tz, wn), *tb = iv_torchzip_find(tz, bn);
    if (!tw) {
        rc = iv_errf(err, "%s: a probe state dict needs \"proj.0.weight\" [1, %d] (or \"weight\")",
                     path, mm->dim);
        goto out;
    }
    for (size_t i = 0; i < tz->n; i++) /* a deeper probe is not x + a w */
        if (&tz->tensors[i] != tw && &tz->tensors[i] != tb) {
            rc = iv_errf(err, "%s: tensor \"%s\" is not part of a linear probe (%s, %s)", path,
                         tz->tensors[i].name, wn, bn);
            goto out;
        }
    if ((rc = pt_vector(mm, path, tw, wn, &a->v, err))) goto out;
    if (tb) {
        if (tb->numel != 1 || tb->ndim > 1) {
            rc = iv_errf(err, "%s: \"%s\" must be [1] (one output)", path, bn);
            goto out;
        }
        a->b = tb->data[0];
    }
out:
    iv_torchzip_close(tz);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* 'Z' a zip (torch.save), 'G' GGUF, 'S' safetensors: by the first bytes; a file
 * with neither magic goes to the reader its name suggests, whose message then
 * says what is wrong with it (safetensors has no magic). */
static char sniff(const char *path) {
    unsigned char m[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(m, 1, 4, f) : 0;
    if (f) fclose(f);
    if (n == 4 && !memcmp(m, "PK\x03\x04", 4)) return 'Z';
    if (n == 4 && !memcmp(m, "GGUF", 4)) return 'G';
    if (ends_with(path, ".gguf")) return 'G';
    if (ends_with(path, ".pt") || ends_with(path, ".pth")) return 'Z';
    return 'S';
}

int ivm_additive_create(iv_method *mm, const iv_method_opts *o, iv_err *err) {
    const char *art = o->artifact;
    const char *what = mm->kind == IV_METHOD_PROBE ? "probe" : "steering";
    if (!art || !*art) return iv_errf(err, "%s: --artifact is required", what);
    if (!ivm_is_file(art)) return iv_errf(err, "%s: no such file", art);
    ivm_add *a = calloc(1, sizeof *a);
    if (!a) return iv_errf(err, "out of memory");
    mm->ops = &add_ops;
    mm->impl = a;
    int rc;
    char fmt = sniff(art);
    if (fmt == 'G') {
        if (mm->kind == IV_METHOD_PROBE)
            return iv_errf(err, "%s: a GGUF control vector is a steering vector, not a probe", art);
        rc = load_gguf(mm, art, a, err);
    } else if (fmt == 'Z') {
        rc = load_pt(mm, art, a, err);
    } else {
        rc = load_st(mm, art, a, err);
    }
    if (rc) return -1;
    double s = 0;
    for (int i = 0; i < mm->dim; i++) {
        if (!isfinite(a->v[i])) return iv_errf(err, "%s: non-finite value in the %s vector", art, what);
        s += (double)a->v[i] * a->v[i];
    }
    a->vnorm = sqrt(s);
    return 0;
}
