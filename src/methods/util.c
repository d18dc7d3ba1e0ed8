/* Small helpers shared by the method loaders: paths, the cache folder, safetensors
 * metadata and shape-checked tensor loads. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "method_internal.h"

char *ivm_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s%s", dir, (*dir && dir[strlen(dir) - 1] == '/') ? "" : "/", name);
    return s;
}

int ivm_is_dir(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int ivm_is_file(const char *path) {
    struct stat st;
    return path && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int mkdir_p(char *p) {
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST) { *s = '/'; return -1; }
            *s = '/';
        }
    return (mkdir(p, 0755) != 0 && errno != EEXIST) ? -1 : 0;
}

char *ivm_cache_dir(const char *override) {
    const char *e;
    char *d = NULL;
    if (override && *override) d = strdup(override);
    else if ((e = getenv("INTERV_CACHE")) && *e) d = strdup(e);
    else if ((e = getenv("XDG_CACHE_HOME")) && *e) d = ivm_join(e, "interv");
    else if ((e = getenv("HOME")) && *e) d = ivm_join(e, ".cache/interv");
    if (d && mkdir_p(d) != 0) { free(d); d = NULL; }
    return d;
}

char *ivm_st_metadata(const iv_safetensors *st, const char *key) {
    const uint8_t *p = st->map.data;
    if (!p || st->map.size < 8) return NULL;
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | p[i];
    if (hl > st->map.size - 8) return NULL;
    json_error_t je;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hl, 0, &je);
    if (!root) return NULL;
    json_t *v = json_object_get(json_object_get(root, "__metadata__"), key);
    char *s = json_is_string(v) ? strdup(json_string_value(v)) : NULL;
    json_decref(root);
    return s;
}

int ivm_st_load_f32(const iv_safetensors *st, const char *path, const char *name, int ndim,
                    const int64_t *want, float **out, iv_err *err) {
    *out = NULL;
    const iv_st_tensor *t = iv_st_find(st, name);
    if (!t) return iv_errf(err, "%s: missing tensor \"%s\"", path, name);
    if (t->ndim != ndim) return iv_errf(err, "%s: tensor \"%s\" has %d dimensions, expected %d",
                                        path, name, t->ndim, ndim);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (want[i] >= 0 && t->shape[i] != want[i])
            return iv_errf(err, "%s: tensor \"%s\" dimension %d is %lld, expected %lld%s", path,
                           name, i, (long long)t->shape[i], (long long)want[i],
                           " (artifact for another model?)");
        n *= (size_t)t->shape[i];
    }
    if (n * iv_dtype_size(t->dtype) != t->nbytes)
        return iv_errf(err, "%s: tensor \"%s\" size mismatch", path, name);
    float *f = malloc(sizeof(float) * (n ? n : 1));
    if (!f) return iv_errf(err, "%s: out of memory for \"%s\"", path, name);
    iv_to_f32(f, t->data, t->dtype, n);
    *out = f;
    return 0;
}
