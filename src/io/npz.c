/* .npz reader: libzip opens the archive, each .npy member is parsed and streamed
 * into an f32 buffer whose size is fixed by the header before any data is read. */
#include "interv/npz.h"
#include "interv/tensor.h"
#include "io/npz_internal.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define NPY_MAX_HEADER 65536 /* numpy itself refuses headers over 10000 bytes */

struct iv_npz {
    char *path;
    zip_t *za;
    size_t n;
    char **names;          /* [n] without ".npy" */
    zip_uint64_t *index;   /* [n] zip entry index */
};

/* ---- header dict parser ------------------------------------------------------ */

typedef struct { const char *s, *end; char *why; size_t whylen; } cur_t;

static int fail(cur_t *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(cur_t *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->whylen, fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_ws(cur_t *c) {
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r'))
        c->s++;
}

/* A quoted Python string literal without escapes, copied into out[cap]. */
static int parse_str(cur_t *c, char *out, size_t cap) {
    if (c->s >= c->end || (*c->s != '\'' && *c->s != '"'))
        return fail(c, "header: expected a quoted string");
    char q = *c->s++;
    size_t k = 0;
    while (c->s < c->end && *c->s != q) {
        if (*c->s == '\\') return fail(c, "header: escapes in strings are not supported");
        if (k + 1 >= cap) return fail(c, "header: string too long");
        out[k++] = *c->s++;
    }
    if (c->s >= c->end) return fail(c, "header: unterminated string");
    c->s++;
    out[k] = 0;
    return 0;
}

static int parse_descr(cur_t *c, npy_info *info) {
    if (c->s < c->end && *c->s == '[')
        return fail(c, "structured dtypes are not supported (only plain numeric arrays)");
    char d[32];
    if (parse_str(c, d, sizeof d)) return -1;
    char order = d[0];
    const char *t = d + 1;
    if (order == '>') return fail(c, "big-endian dtype '%s' is not supported", d);
    if (order != '<' && order != '|' && order != '=') { order = '<'; t = d; }
    if (t[0] == 'O') return fail(c, "object arrays ('%s') are not supported", d);
    static const struct { const char *name; npy_kind kind; int size; } known[] = {
        {"f2", NPY_F2, 2}, {"f4", NPY_F4, 4}, {"f8", NPY_F8, 8},
        {"i4", NPY_I4, 4}, {"i8", NPY_I8, 8},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcmp(t, known[i].name) == 0) {
            info->kind = known[i].kind;
            info->itemsize = known[i].size;
            return 0;
        }
    return fail(c, "unsupported dtype '%s' (need f2, f4, f8, i4 or i8)", d);
}

static int parse_shape(cur_t *c, npy_info *info) {
    if (c->s >= c->end || *c->s != '(') return fail(c, "header: 'shape' is not a tuple");
    c->s++;
    info->ndim = 0;
    for (;;) {
        skip_ws(c);
        if (c->s < c->end && *c->s == ')') { c->s++; return 0; }
        if (c->s < c->end && *c->s == '-') return fail(c, "negative dimension in shape");
        if (c->s >= c->end || *c->s < '0' || *c->s > '9')
            return fail(c, "header: malformed shape tuple");
        if (info->ndim >= IV_NPZ_MAX_DIMS)
            return fail(c, "more than %d dimensions", IV_NPZ_MAX_DIMS);
        int64_t v = 0;
        while (c->s < c->end && *c->s >= '0' && *c->s <= '9') {
            if (v > ((int64_t)1 << 48)) return fail(c, "dimension too large in shape");
            v = v * 10 + (*c->s++ - '0');
        }
        if (c->s < c->end && *c->s == 'L') c->s++; /* Python 2 long suffix */
        info->shape[info->ndim++] = v;
        skip_ws(c);
        if (c->s < c->end && *c->s == ',') c->s++;
        else if (c->s >= c->end || *c->s != ')') return fail(c, "header: malformed shape tuple");
    }
}

int iv_npy_parse_dict(const char *s, size_t len, npy_info *info, char *why, size_t whylen) {
    cur_t c = {s, s + len, why, whylen};
    memset(info, 0, sizeof *info);
    int seen_descr = 0, seen_order = 0, seen_shape = 0;
    skip_ws(&c);
    if (c.s >= c.end || *c.s != '{') return fail(&c, "header: not a dict");
    c.s++;
    for (;;) {
        skip_ws(&c);
        if (c.s < c.end && *c.s == '}') { c.s++; break; }
        char key[32];
        if (parse_str(&c, key, sizeof key)) return -1;
        skip_ws(&c);
        if (c.s >= c.end || *c.s != ':') return fail(&c, "header: expected ':' after '%s'", key);
        c.s++;
        skip_ws(&c);
        if (strcmp(key, "descr") == 0 && !seen_descr) {
            if (parse_descr(&c, info)) return -1;
            seen_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0 && !seen_order) {
            if ((size_t)(c.end - c.s) >= 5 && memcmp(c.s, "False", 5) == 0) c.s += 5;
            else if ((size_t)(c.end - c.s) >= 4 && memcmp(c.s, "True", 4) == 0)
                return fail(&c, "Fortran-order arrays are not supported");
            else return fail(&c, "header: 'fortran_order' is not True/False");
            seen_order = 1;
        } else if (strcmp(key, "shape") == 0 && !seen_shape) {
            if (parse_shape(&c, info)) return -1;
            seen_shape = 1;
        } else {
            return fail(&c, "header: unexpected or repeated key '%s'", key);
        }
        skip_ws(&c);
        if (c.s < c.end && *c.s == ',') c.s++;
        else if (c.s >= c.end || *c.s != '}') return fail(&c, "header: expected ',' or '}'");
    }
    skip_ws(&c);
    while (c.s < c.end && *c.s == 0) c.s++; /* tolerate NUL padding */
    if (c.s != c.end) return fail(&c, "header: trailing bytes after the dict");
    if (!seen_descr || !seen_order || !seen_shape)
        return fail(&c, "header: missing '%s'", !seen_descr ? "descr" : !seen_order ? "fortran_order" : "shape");
    uint64_t n = 1;
    for (int i = 0; i < info->ndim; i++)
        if (__builtin_mul_overflow(n, (uint64_t)info->shape[i], &n))
            return fail(&c, "shape overflows");
    uint64_t nb;
    if (__builtin_mul_overflow(n, (uint64_t)info->itemsize, &nb) || nb > IV_NPZ_MAX_BYTES ||
        n * 4 > IV_NPZ_MAX_BYTES)
        return fail(&c, "array of %llu elements exceeds the %llu-byte cap",
                    (unsigned long long)n, (unsigned long long)IV_NPZ_MAX_BYTES);
    info->numel = n;
    info->nbytes = nb;
    return 0;
}

/* ---- archive ----------------------------------------------------------------- */

/* Untrusted names end up in messages: keep them on one line. */
static int one_line(iv_err *err) {
    if (err)
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return -1;
}

static void zip_msg(int code, char *buf, size_t cap) {
    zip_error_t ze;
    zip_error_init_with_code(&ze, code);
    snprintf(buf, cap, "%s", zip_error_strerror(&ze));
    zip_error_fini(&ze);
}

int iv_npz_open(const char *path, iv_npz **out, iv_err *err) {
    *out = NULL;
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!za) {
        char m[256];
        zip_msg(code, m, sizeof m);
        return iv_errf(err, "%s: not a readable .npz (zip) archive: %s", path, m);
    }
    iv_npz *z = calloc(1, sizeof *z);
    zip_int64_t ne = zip_get_num_entries(za, 0);
    if (!z || ne < 0) { zip_close(za); free(z); return iv_errf(err, "%s: out of memory", path); }
    z->za = za;
    z->path = strdup(path);
    z->names = calloc((size_t)ne + 1, sizeof *z->names);
    z->index = calloc((size_t)ne + 1, sizeof *z->index);
    if (!z->path || !z->names || !z->index) {
        iv_npz_close(z);
        return iv_errf(err, "%s: out of memory", path);
    }
    for (zip_int64_t i = 0; i < ne; i++) {
        const char *nm = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!nm) continue;
        size_t l = strlen(nm);
        if (l < 5 || strcmp(nm + l - 4, ".npy") != 0) {
            if (l > 0 && nm[l - 1] == '/') continue; /* folder entry */
            iv_errf(err, "%s: member '%s' is not a .npy file", path, nm); /* before nm dies */
            iv_npz_close(z);
            return one_line(err);
        }
        char *base = strndup(nm, l - 4);
        if (!base) { iv_npz_close(z); return iv_errf(err, "%s: out of memory", path); }
        for (size_t j = 0; j < z->n; j++)
            if (strcmp(z->names[j], base) == 0) {
                free(base);
                iv_errf(err, "%s: member '%s' appears twice", path, nm);
                iv_npz_close(z);
                return one_line(err);
            }
        z->names[z->n] = base;
        z->index[z->n++] = (zip_uint64_t)i;
    }
    *out = z;
    return 0;
}

void iv_npz_close(iv_npz *z) {
    if (!z) return;
    if (z->za) zip_discard(z->za);
    for (size_t i = 0; i < z->n; i++) free(z->names[i]);
    free(z->names);
    free(z->index);
    free(z->path);
    free(z);
}

size_t iv_npz_count(const iv_npz *z) { return z->n; }
const char *iv_npz_name(const iv_npz *z, size_t i) { return i < z->n ? z->names[i] : NULL; }

static long find(const iv_npz *z, const char *name) {
    for (size_t i = 0; i < z->n; i++)
        if (strcmp(z->names[i], name) == 0) return (long)i;
    return -1;
}
int iv_npz_has(const iv_npz *z, const char *name) { return find(z, name) >= 0; }

/* Reads exactly n bytes (fewer only at end of stream); -1 on a zip error. */
static zip_int64_t read_full(zip_file_t *f, void *buf, zip_uint64_t n) {
    zip_uint64_t got = 0;
    while (got < n) {
        zip_int64_t r = zip_fread(f, (char *)buf + got, n - got);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (zip_uint64_t)r;
    }
    return (zip_int64_t)got;
}

/* Opens member `name`, parses its header and checks the zip-declared size. */
static int open_member(iv_npz *z, const char *name, zip_file_t **fp, npy_info *info, iv_err *err) {
    long k = find(z, name);
    if (k < 0) return iv_errf(err, "%s: no member '%s.npy'", z->path, name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->za, z->index[k], 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return iv_errf(err, "%s: %s.npy: cannot stat member", z->path, name);
    zip_file_t *f = zip_fopen_index(z->za, z->index[k], 0);
    if (!f)
        return iv_errf(err, "%s: %s.npy: cannot open member: %s", z->path, name,
                       zip_strerror(z->za));
    uint8_t pre[12];
    if (read_full(f, pre, 10) != 10) {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: truncated header", z->path, name);
    }
    if (memcmp(pre, "\x93NUMPY", 6) != 0) {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: bad magic (not a .npy file)", z->path, name);
    }
    uint64_t hlen, pre_len;
    if (pre[6] == 1 && pre[7] == 0) {
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8;
        pre_len = 10;
    } else if ((pre[6] == 2 || pre[6] == 3) && pre[7] == 0) {
        if (read_full(f, pre + 10, 2) != 2) {
            zip_fclose(f);
            return iv_errf(err, "%s: %s.npy: truncated header", z->path, name);
        }
        hlen = (uint64_t)pre[8] | (uint64_t)pre[9] << 8 | (uint64_t)pre[10] << 16 |
               (uint64_t)pre[11] << 24;
        pre_len = 12;
    } else {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: unsupported .npy version %d.%d", z->path, name, pre[6],
                       pre[7]);
    }
    if (hlen > NPY_MAX_HEADER || pre_len + hlen > st.size) {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: header length %llu exceeds the member", z->path, name,
                       (unsigned long long)hlen);
    }
    char *h = malloc(hlen + 1);
    if (!h) { zip_fclose(f); return iv_errf(err, "%s: out of memory", z->path); }
    if (read_full(f, h, hlen) != (zip_int64_t)hlen) {
        free(h);
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: truncated header", z->path, name);
    }
    char why[256];
    int rc = iv_npy_parse_dict(h, hlen, info, why, sizeof why);
    free(h);
    if (rc) {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: %s", z->path, name, why);
    }
    if (st.size != pre_len + hlen + info->nbytes) {
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: zip declares %llu bytes but the header implies %llu "
                       "(corrupt member or zip bomb)", z->path, name,
                       (unsigned long long)st.size,
                       (unsigned long long)(pre_len + hlen + info->nbytes));
    }
    *fp = f;
    return 0;
}

static void fill_shape(const npy_info *info, int *ndim, int64_t shape[IV_NPZ_MAX_DIMS]) {
    if (ndim) *ndim = info->ndim;
    if (shape)
        for (int i = 0; i < IV_NPZ_MAX_DIMS; i++) shape[i] = i < info->ndim ? info->shape[i] : 0;
}

int iv_npz_shape(iv_npz *z, const char *name, int *ndim, int64_t shape[IV_NPZ_MAX_DIMS],
                 iv_err *err) {
    zip_file_t *f;
    npy_info info;
    if (open_member(z, name, &f, &info, err)) return one_line(err);
    zip_fclose(f);
    fill_shape(&info, ndim, shape);
    return 0;
}

static void convert(float *dst, const uint8_t *src, const npy_info *info) {
    for (uint64_t i = 0; i < info->numel; i++) {
        const uint8_t *p = src + i * (uint64_t)info->itemsize;
        uint64_t u = 0;
        for (int b = info->itemsize - 1; b >= 0; b--) u = u << 8 | p[b]; /* little-endian */
        switch (info->kind) {
        case NPY_F2: dst[i] = iv_f16_to_f32((uint16_t)u); break;
        case NPY_F4: { uint32_t w = (uint32_t)u; memcpy(&dst[i], &w, 4); break; }
        case NPY_F8: { double d; memcpy(&d, &u, 8); dst[i] = (float)d; break; }
        case NPY_I4: dst[i] = (float)(int32_t)(uint32_t)u; break;
        case NPY_I8: dst[i] = (float)(int64_t)u; break;
        }
    }
}

int iv_npz_get_f32(iv_npz *z, const char *name, float **data, int *ndim,
                   int64_t shape[IV_NPZ_MAX_DIMS], iv_err *err) {
    *data = NULL;
    zip_file_t *f;
    npy_info info;
    if (open_member(z, name, &f, &info, err)) return one_line(err);
    float *out = malloc(info.numel ? info.numel * 4 : 1); /* [numel] */
    uint8_t *raw = info.kind == NPY_F4 ? (uint8_t *)out : malloc(info.nbytes ? info.nbytes : 1);
    if (!out || !raw) {
        if (raw != (uint8_t *)out) free(raw);
        free(out);
        zip_fclose(f);
        return iv_errf(err, "%s: %s.npy: out of memory for %llu bytes", z->path, name,
                       (unsigned long long)info.nbytes);
    }
    zip_int64_t got = read_full(f, raw, info.nbytes);
    uint8_t extra;
    /* one more byte must hit end of stream: the member may not outgrow its header */
    zip_int64_t more = got == (zip_int64_t)info.nbytes ? read_full(f, &extra, 1) : 0;
    int close_rc = zip_fclose(f);
    const char *why = got < 0 || more < 0 || close_rc != 0 ? "decompression or CRC error"
                      : got != (zip_int64_t)info.nbytes    ? "data truncated"
                      : more != 0                          ? "more data than the header declares"
                                                           : NULL;
    if (why) {
        if (raw != (uint8_t *)out) free(raw);
        free(out);
        iv_errf(err, "%s: %s.npy: %s", z->path, name, why);
        return one_line(err);
    }
    if (raw != (uint8_t *)out) {
        convert(out, raw, &info);
        free(raw);
    }
    *data = out;
    fill_shape(&info, ndim, shape);
    return 0;
}
