/* safetensors: 8-byte little-endian header length, a JSON header mapping names to
 * {dtype, shape, data_offsets}, then raw little-endian data.  Every number in the
 * header is checked against the file before any view is handed out. */
#include "interv/io.h"
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ST_MAX_HEADER (100u << 20) /* 100 MB, the format's own limit */

static int parse_dtype(const char *s, iv_dtype *t) {
    if (!strcmp(s, "F32")) *t = IV_F32;
    else if (!strcmp(s, "F16")) *t = IV_F16;
    else if (!strcmp(s, "BF16")) *t = IV_BF16;
    else return -1;
    return 0;
}

static int cmp_offset(const void *a, const void *b) {
    const iv_st_tensor *x = a, *y = b;
    const uint8_t *p = x->data, *q = y->data;
    return p < q ? -1 : p > q;
}

/* Fills t from one header entry; returns 0 or -1 with the message set. */
static int parse_entry(const char *path, const char *name, json_t *v, const uint8_t *base,
                       size_t data_len, iv_st_tensor *t, iv_err *err) {
    if (!json_is_object(v)) return iv_errf(err, "%s: tensor '%s': header entry is not an object", path, name);
    json_t *dt = json_object_get(v, "dtype"), *sh = json_object_get(v, "shape"),
           *off = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(sh) || !json_is_array(off) || json_array_size(off) != 2)
        return iv_errf(err, "%s: tensor '%s': needs dtype, shape and data_offsets[2]", path, name);
    if (parse_dtype(json_string_value(dt), &t->dtype) != 0)
        return iv_errf(err, "%s: tensor '%s': unsupported dtype %s (need F32, F16 or BF16)", path, name,
                       json_string_value(dt));
    size_t nd = json_array_size(sh);
    if (nd > 8) return iv_errf(err, "%s: tensor '%s': %zu dimensions (max 8)", path, name, nd);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(sh, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1LL << 40))
            return iv_errf(err, "%s: tensor '%s': bad shape entry", path, name);
        t->shape[i] = json_integer_value(d);
        if (t->shape[i] && numel > (UINT64_MAX >> 1) / (uint64_t)t->shape[i])
            return iv_errf(err, "%s: tensor '%s': shape overflows", path, name);
        numel *= (uint64_t)t->shape[i];
    }
    json_t *o0 = json_array_get(off, 0), *o1 = json_array_get(off, 1);
    if (!json_is_integer(o0) || !json_is_integer(o1))
        return iv_errf(err, "%s: tensor '%s': data_offsets must be integers", path, name);
    json_int_t b = json_integer_value(o0), e = json_integer_value(o1);
    if (b < 0 || e < b || (uint64_t)e > data_len)
        return iv_errf(err, "%s: tensor '%s': data_offsets [%lld, %lld] outside the %zu data bytes", path,
                       name, (long long)b, (long long)e, data_len);
    uint64_t need = numel * iv_dtype_size(t->dtype);
    if ((uint64_t)(e - b) != need)
        return iv_errf(err, "%s: tensor '%s': shape x dtype is %llu bytes but data_offsets span %lld",
                       path, name, (unsigned long long)need, (long long)(e - b));
    t->name = strdup(name);
    t->data = base + b;
    t->nbytes = (size_t)need;
    return 0;
}

int iv_st_open(const char *path, iv_safetensors *st, iv_err *err) {
    memset(st, 0, sizeof *st);
    if (iv_map_file(path, &st->map, err) != 0) return -1;
    const uint8_t *p = st->map.data;
    size_t size = st->map.size;
    if (size < 8) { iv_st_close(st); return iv_errf(err, "%s: truncated: %zu bytes, no header length", path, size); }
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = (hl << 8) | p[i];
    if (hl > ST_MAX_HEADER || hl > size - 8) {
        iv_st_close(st);
        return iv_errf(err, "%s: header length %llu runs past the end of the %zu-byte file", path,
                       (unsigned long long)hl, size);
    }
    json_error_t je;
    json_t *root = json_loadb((const char *)p + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        iv_st_close(st);
        return iv_errf(err, "%s: malformed JSON header: %s", path, root ? "not an object" : je.text);
    }
    const uint8_t *base = p + 8 + hl;
    size_t data_len = size - 8 - (size_t)hl;
    st->tensors = calloc(json_object_size(root) + 1, sizeof *st->tensors);
    const char *name;
    json_t *v;
    int rc = 0;
    json_object_foreach(root, name, v) {
        if (!strcmp(name, "__metadata__")) continue;
        if (parse_entry(path, name, v, base, data_len, &st->tensors[st->n], err) != 0) { rc = -1; break; }
        st->n++;
    }
    json_decref(root);
    if (rc == 0) { /* offsets must not overlap */
        iv_st_tensor *sorted = malloc((st->n + 1) * sizeof *sorted);
        memcpy(sorted, st->tensors, st->n * sizeof *sorted);
        qsort(sorted, st->n, sizeof *sorted, cmp_offset);
        for (size_t i = 1; i < st->n && rc == 0; i++) {
            const uint8_t *prev_end = (const uint8_t *)sorted[i - 1].data + sorted[i - 1].nbytes;
            if ((const uint8_t *)sorted[i].data < prev_end)
                rc = iv_errf(err, "%s: tensors '%s' and '%s' overlap", path, sorted[i - 1].name, sorted[i].name);
        }
        free(sorted);
    }
    if (rc != 0) iv_st_close(st);
    return rc;
}

const iv_st_tensor *iv_st_find(const iv_safetensors *st, const char *name) {
    for (size_t i = 0; i < st->n; i++)
        if (!strcmp(st->tensors[i].name, name)) return &st->tensors[i];
    return NULL;
}

void iv_st_close(iv_safetensors *st) {
    for (size_t i = 0; i < st->n; i++) free(st->tensors[i].name);
    free(st->tensors);
    iv_unmap(&st->map);
    memset(st, 0, sizeof *st);
}

int iv_st_write(const char *path, const iv_st_out *t, size_t n, const char *const *meta_kv, size_t n_meta,
                iv_err *err) {
    json_t *hdr = json_object();
    if (n_meta) {
        json_t *m = json_object();
        for (size_t i = 0; i + 1 < 2 * n_meta; i += 2) json_object_set_new(m, meta_kv[i], json_string(meta_kv[i + 1]));
        json_object_set_new(hdr, "__metadata__", m);
    }
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        size_t numel = 1;
        json_t *shape = json_array();
        for (int d = 0; d < t[i].ndim; d++) {
            numel *= (size_t)t[i].shape[d];
            json_array_append_new(shape, json_integer(t[i].shape[d]));
        }
        size_t nb = numel * iv_dtype_size(t[i].dtype);
        json_t *e = json_object();
        json_object_set_new(e, "dtype", json_string(iv_dtype_name(t[i].dtype)));
        json_object_set_new(e, "shape", shape);
        json_object_set_new(e, "data_offsets", json_pack("[II]", (json_int_t)off, (json_int_t)(off + nb)));
        json_object_set_new(hdr, t[i].name, e);
        off += nb;
    }
    char *js = json_dumps(hdr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(hdr);
    size_t hl = strlen(js), pad = (8 - hl % 8) % 8; /* keep data 8-byte aligned */
    size_t total = 8 + hl + pad + off;
    uint8_t *buf = malloc(total);
    if (!buf) { free(js); return iv_errf(err, "%s: out of memory", path); }
    uint64_t h = hl + pad;
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)(h >> (8 * i));
    memcpy(buf + 8, js, hl);
    memset(buf + 8 + hl, ' ', pad);
    free(js);
    size_t o = 8 + hl + pad;
    for (size_t i = 0; i < n; i++) {
        size_t numel = 1;
        for (int d = 0; d < t[i].ndim; d++) numel *= (size_t)t[i].shape[d];
        size_t nb = numel * iv_dtype_size(t[i].dtype);
        memcpy(buf + o, t[i].data, nb);
        o += nb;
    }
    int rc = iv_write_atomic(path, buf, total, err);
    free(buf);
    return rc;
}
