/* GGUF control vectors: a bounds-checked cursor over the mapped file for reading,
 * a byte buffer written atomically for writing.  Layout (little-endian):
 * "GGUF", u32 version, u64 n_tensors, u64 n_kv, KV pairs, tensor infos, padding
 * to the alignment, tensor data (each tensor offset relative to the data start). */
#include "interv/gguf.h"
#include "interv/io.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { T_U8, T_I8, T_U16, T_I16, T_U32, T_I32, T_F32, T_BOOL, T_STR, T_ARR, T_U64, T_I64, T_F64,
       T_COUNT };
static const int TSIZE[T_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
#define MAX_KV 4096
#define MAX_KEY 65535
#define MAX_NAME 64        /* ggml's tensor-name limit, NUL included */
#define MAX_TDIMS 4        /* ggml's dimension limit */
#define DEFAULT_ALIGN 32

typedef struct {
    const uint8_t *p;
    size_t n, off;
    const char *path;
    iv_err *err;
} rd;

static uint64_t le(const uint8_t *p, int n) {
    uint64_t x = 0;
    for (int i = n - 1; i >= 0; i--) x = x << 8 | p[i];
    return x;
}

static int take(rd *r, size_t k, const uint8_t **out, const char *what) {
    *out = NULL;
    if (r->n - r->off < k) {
        iv_errf(r->err, "%s: truncated at byte %zu while reading %s", r->path, r->off, what);
        return -1;
    }
    *out = r->p + r->off;
    r->off += k;
    return 0;
}

static int rd_uint(rd *r, int k, uint64_t *v, const char *what) {
    const uint8_t *b;
    if (take(r, (size_t)k, &b, what)) return -1;
    *v = le(b, k);
    return 0;
}

static int rd_str(rd *r, const uint8_t **s, uint64_t *len, uint64_t max, const char *what) {
    if (rd_uint(r, 8, len, what)) return -1;
    if (*len > max)
        return iv_errf(r->err, "%s: %s has length %llu (limit %llu) at byte %zu", r->path, what,
                       (unsigned long long)*len, (unsigned long long)max, r->off - 8);
    if (*len > r->n - r->off)
        return iv_errf(r->err, "%s: %s of %llu bytes at byte %zu runs past the end of the file",
                       r->path, what, (unsigned long long)*len, r->off - 8);
    return take(r, (size_t)*len, s, what);
}

/* Skips (validating) one value of type t; depth limits nested arrays. */
static int skip_value(rd *r, uint32_t t, int depth, const char *key) {
    if (t >= T_COUNT)
        return iv_errf(r->err, "%s: key '%s' has unknown value type %u", r->path, key, t);
    if (t == T_STR) {
        const uint8_t *s;
        uint64_t l;
        return rd_str(r, &s, &l, r->n, "a string value");
    }
    if (t == T_ARR) {
        uint64_t et, cnt;
        if (depth > 2) return iv_errf(r->err, "%s: key '%s': arrays nested too deeply", r->path, key);
        if (rd_uint(r, 4, &et, "an array type") || rd_uint(r, 8, &cnt, "an array length")) return -1;
        if (et >= T_COUNT)
            return iv_errf(r->err, "%s: key '%s': array of unknown type %llu", r->path, key,
                           (unsigned long long)et);
        if (TSIZE[et]) {
            if (cnt > (r->n - r->off) / (uint64_t)TSIZE[et])
                return iv_errf(r->err, "%s: key '%s': array of %llu elements runs past the end of the file",
                               r->path, key, (unsigned long long)cnt);
            const uint8_t *b;
            if (take(r, (size_t)cnt * (size_t)TSIZE[et], &b, "array data")) return -1;
            if (et == T_BOOL)
                for (uint64_t i = 0; i < cnt; i++)
                    if (b[i] > 1) return iv_errf(r->err, "%s: key '%s': bool array holds %u", r->path, key, b[i]);
            return 0;
        }
        /* strings/arrays: each element takes at least 8 bytes, so cnt is bounded */
        if (cnt > (r->n - r->off) / 8)
            return iv_errf(r->err, "%s: key '%s': array of %llu elements runs past the end of the file",
                           r->path, key, (unsigned long long)cnt);
        for (uint64_t i = 0; i < cnt; i++)
            if (skip_value(r, (uint32_t)et, depth + 1, key)) return -1;
        return 0;
    }
    const uint8_t *b;
    if (take(r, (size_t)TSIZE[t], &b, "a value")) return -1;
    if (t == T_BOOL && b[0] > 1)
        return iv_errf(r->err, "%s: key '%s': bool holds %u", r->path, key, b[0]);
    return 0;
}

/* Integer KV of any integer type, as int64 (u64 values above INT64_MAX rejected). */
static int rd_int_value(rd *r, uint32_t t, int64_t *v, const char *key) {
    uint64_t x;
    switch (t) {
    case T_U8: case T_U16: case T_U32: case T_U64:
        if (rd_uint(r, TSIZE[t], &x, key)) return -1;
        if (x > INT64_MAX) return iv_errf(r->err, "%s: key '%s' is out of range", r->path, key);
        *v = (int64_t)x;
        return 0;
    case T_I8: case T_I16: case T_I32: case T_I64: {
        int k = TSIZE[t];
        if (rd_uint(r, k, &x, key)) return -1;
        if (k < 8 && (x >> (8 * k - 1)) & 1) x |= ~(uint64_t)0 << (8 * k);
        *v = (int64_t)x;
        return 0;
    }
    default:
        return iv_errf(r->err, "%s: key '%s' is not an integer (type %u)", r->path, key, t);
    }
}

typedef struct { int layer; uint64_t off; } tinfo;

static int cmp_off(const void *a, const void *b) {
    uint64_t x = ((const tinfo *)a)->off, y = ((const tinfo *)b)->off;
    return x < y ? -1 : x > y;
}

/* "direction.N" with N plain decimal; returns N or -1. */
static int parse_layer(const uint8_t *s, uint64_t len) {
    static const char pre[] = "direction.";
    size_t pl = sizeof pre - 1;
    if (len <= pl || len > pl + 4 || memcmp(s, pre, pl) != 0) return -1;
    int n = 0;
    for (uint64_t i = pl; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        n = n * 10 + (s[i] - '0');
    }
    if (len > pl + 1 && s[pl] == '0') return -1; /* no leading zeros: one name per layer */
    return n < IV_GGUF_MAX_LAYERS ? n : -1;
}

static int parse(rd *r, iv_gguf_cv *cv) {
    const char *path = r->path;
    const uint8_t *b;
    uint64_t version, nt, nkv;
    if (take(r, 4, &b, "the magic")) return -1;
    if (memcmp(b, "GGUF", 4) != 0) return iv_errf(r->err, "%s: bad magic (not a GGUF file)", path);
    if (rd_uint(r, 4, &version, "the version")) return -1;
    if (version == 0x02000000u || version == 0x03000000u)
        return iv_errf(r->err, "%s: big-endian GGUF is not supported", path);
    if (version != 2 && version != 3)
        return iv_errf(r->err, "%s: unsupported GGUF version %llu (need 2 or 3)", path,
                       (unsigned long long)version);
    if (rd_uint(r, 8, &nt, "the tensor count") || rd_uint(r, 8, &nkv, "the KV count")) return -1;
    if (nt > IV_GGUF_MAX_LAYERS)
        return iv_errf(r->err, "%s: %llu tensors (more than %d)", path, (unsigned long long)nt,
                       IV_GGUF_MAX_LAYERS);
    if (nkv > MAX_KV)
        return iv_errf(r->err, "%s: %llu metadata keys (more than %d)", path,
                       (unsigned long long)nkv, MAX_KV);
    const uint8_t **keys = calloc(nkv ? nkv : 1, sizeof *keys);
    uint64_t *klen = calloc(nkv ? nkv : 1, sizeof *klen);
    tinfo *ti = calloc(nt ? nt : 1, sizeof *ti);
    int rc = -1, have_arch = 0;
    uint64_t align = DEFAULT_ALIGN;
    if (!keys || !klen || !ti) { iv_errf(r->err, "%s: out of memory", path); goto done; }

    for (uint64_t i = 0; i < nkv; i++) {
        uint64_t t;
        if (rd_str(r, &keys[i], &klen[i], MAX_KEY, "a key")) goto done;
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(klen[i] < 100 ? klen[i] : 100), (const char *)keys[i]);
        if (klen[i] == 0 || memchr(keys[i], 0, klen[i])) {
            iv_errf(r->err, "%s: empty metadata key or key with a NUL byte", path);
            goto done;
        }
        for (uint64_t j = 0; j < i; j++)
            if (klen[j] == klen[i] && memcmp(keys[j], keys[i], klen[i]) == 0) {
                iv_errf(r->err, "%s: duplicate key '%s'", path, key);
                goto done;
            }
        if (rd_uint(r, 4, &t, "a value type")) goto done;
        if (strcmp(key, "general.architecture") == 0 || strcmp(key, "controlvector.model_hint") == 0) {
            const uint8_t *s;
            uint64_t l;
            if (t != T_STR) { iv_errf(r->err, "%s: key '%s' is not a string", path, key); goto done; }
            if (rd_str(r, &s, &l, 4096, key)) goto done;
            if (memchr(s, 0, l)) { iv_errf(r->err, "%s: key '%s' contains a NUL byte", path, key); goto done; }
            if (key[0] == 'g') {
                if (l != 13 || memcmp(s, "controlvector", 13) != 0) {
                    iv_errf(r->err, "%s: general.architecture is '%.*s', not 'controlvector'", path,
                            (int)(l < 64 ? l : 64), (const char *)s);
                    goto done;
                }
                have_arch = 1;
            } else if (!(cv->model_hint = strndup((const char *)s, l))) {
                iv_errf(r->err, "%s: out of memory", path);
                goto done;
            }
        } else if (strcmp(key, "controlvector.layer_count") == 0) {
            if (rd_int_value(r, (uint32_t)t, &cv->layer_count, key)) goto done;
            if (cv->layer_count < 0 || cv->layer_count > IV_GGUF_MAX_LAYERS) {
                iv_errf(r->err, "%s: controlvector.layer_count %lld out of range", path,
                        (long long)cv->layer_count);
                goto done;
            }
        } else if (strcmp(key, "general.alignment") == 0) {
            if (t != T_U32) { iv_errf(r->err, "%s: general.alignment is not a u32", path); goto done; }
            if (rd_uint(r, 4, &align, key)) goto done;
            if (align == 0 || (align & (align - 1)) || align > 65536) {
                iv_errf(r->err, "%s: general.alignment %llu is not a power of two", path,
                        (unsigned long long)align);
                goto done;
            }
        } else if (skip_value(r, (uint32_t)t, 0, key)) {
            goto done;
        }
    }
    if (!have_arch) { iv_errf(r->err, "%s: no general.architecture = 'controlvector'", path); goto done; }
    if (nt == 0) { iv_errf(r->err, "%s: no direction tensors", path); goto done; }

    int max_layer = -1;
    for (uint64_t i = 0; i < nt; i++) {
        const uint8_t *nm;
        uint64_t nl, nd, dim, type;
        if (rd_str(r, &nm, &nl, MAX_NAME - 1, "a tensor name")) goto done;
        int L = parse_layer(nm, nl);
        if (L < 0) {
            iv_errf(r->err, "%s: tensor '%.*s' is not named direction.N (N < %d)", path, (int)nl,
                    (const char *)nm, IV_GGUF_MAX_LAYERS);
            goto done;
        }
        for (uint64_t j = 0; j < i; j++)
            if (ti[j].layer == L) { iv_errf(r->err, "%s: direction.%d appears twice", path, L); goto done; }
        if (rd_uint(r, 4, &nd, "n_dims")) goto done;
        if (nd < 1 || nd > MAX_TDIMS) {
            iv_errf(r->err, "%s: direction.%d has %llu dimensions", path, L, (unsigned long long)nd);
            goto done;
        }
        for (uint64_t k = 0; k < nd; k++) {
            if (rd_uint(r, 8, &dim, "a dimension")) goto done;
            int bad = k == 0 ? dim < 1 || dim > IV_GGUF_MAX_DIM : dim != 1;
            if (bad) {
                iv_errf(r->err, "%s: direction.%d has dimension %llu = %llu (need a 1-D vector of length 1..%d)",
                        path, L, (unsigned long long)k, (unsigned long long)dim, IV_GGUF_MAX_DIM);
                goto done;
            }
            if (k == 0) {
                if (cv->d && (uint64_t)cv->d != dim) {
                    iv_errf(r->err, "%s: direction.%d has length %llu but earlier ones have %d", path,
                            L, (unsigned long long)dim, cv->d);
                    goto done;
                }
                cv->d = (int)dim;
            }
        }
        if (rd_uint(r, 4, &type, "a tensor type") || rd_uint(r, 8, &ti[i].off, "a tensor offset"))
            goto done;
        if (type != 0) {
            iv_errf(r->err, "%s: direction.%d has ggml type %llu (only F32 = 0 is supported)", path,
                    L, (unsigned long long)type);
            goto done;
        }
        ti[i].layer = L;
        if (L > max_layer) max_layer = L;
    }
    /* data section: aligned start, each tensor aligned, inside the file, no overlap */
    uint64_t start = (r->off + align - 1) / align * align;
    if (start > r->n) { iv_errf(r->err, "%s: truncated before the tensor data", path); goto done; }
    uint64_t avail = r->n - start, nbytes = (uint64_t)cv->d * 4;
    for (uint64_t i = 0; i < nt; i++) {
        if (ti[i].off % align) {
            iv_errf(r->err, "%s: direction.%d offset %llu is not a multiple of the alignment %llu",
                    path, ti[i].layer, (unsigned long long)ti[i].off, (unsigned long long)align);
            goto done;
        }
        if (ti[i].off > avail || nbytes > avail - ti[i].off) {
            iv_errf(r->err, "%s: direction.%d data (offset %llu, %llu bytes) lies past the end of the file",
                    path, ti[i].layer, (unsigned long long)ti[i].off, (unsigned long long)nbytes);
            goto done;
        }
    }
    qsort(ti, nt, sizeof *ti, cmp_off);
    for (uint64_t i = 1; i < nt; i++)
        if (ti[i].off < ti[i - 1].off + nbytes) {
            iv_errf(r->err, "%s: direction.%d and direction.%d overlap", path, ti[i - 1].layer, ti[i].layer);
            goto done;
        }
    cv->n_layers = max_layer + 1;
    if (!(cv->vec = calloc((size_t)cv->n_layers, sizeof *cv->vec))) {
        iv_errf(r->err, "%s: out of memory", path);
        goto done;
    }
    for (uint64_t i = 0; i < nt; i++) {
        float *v = malloc((size_t)nbytes); /* [d] */
        if (!v) { iv_errf(r->err, "%s: out of memory", path); goto done; }
        cv->vec[ti[i].layer] = v;
        const uint8_t *src = r->p + start + ti[i].off;
        for (int j = 0; j < cv->d; j++) {
            uint32_t u = (uint32_t)le(src + 4 * j, 4);
            memcpy(&v[j], &u, 4);
            if (!isfinite(v[j])) {
                iv_errf(r->err, "%s: direction.%d[%d] is not finite", path, ti[i].layer, j);
                goto done;
            }
        }
    }
    rc = 0;
done:
    free(keys);
    free(klen);
    free(ti);
    return rc;
}

/* Untrusted names end up in messages: keep them on one line. */
static int one_line(iv_err *err) {
    if (err)
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return -1;
}

int iv_gguf_cv_read(const char *path, iv_gguf_cv *cv, iv_err *err) {
    memset(cv, 0, sizeof *cv);
    cv->layer_count = -1;
    iv_mapped m;
    if (iv_map_file(path, &m, err)) return -1;
    rd r = {m.data, m.size, 0, path, err};
    int rc = parse(&r, cv);
    iv_unmap(&m);
    if (rc) {
        iv_gguf_cv_free(cv);
        return one_line(err);
    }
    return 0;
}

int iv_gguf_cv_init(iv_gguf_cv *cv, int d, int n_layers, const char *model_hint, iv_err *err) {
    memset(cv, 0, sizeof *cv);
    cv->layer_count = -1;
    if (d < 1 || d > IV_GGUF_MAX_DIM || n_layers < 1 || n_layers > IV_GGUF_MAX_LAYERS)
        return iv_errf(err, "control vector: bad size d=%d n_layers=%d", d, n_layers);
    cv->d = d;
    cv->n_layers = n_layers;
    cv->vec = calloc((size_t)n_layers, sizeof *cv->vec);
    if (model_hint) cv->model_hint = strdup(model_hint);
    if (!cv->vec || (model_hint && !cv->model_hint)) {
        iv_gguf_cv_free(cv);
        return iv_errf(err, "control vector: out of memory");
    }
    return 0;
}

void iv_gguf_cv_free(iv_gguf_cv *cv) {
    if (cv->vec)
        for (int i = 0; i < cv->n_layers; i++) free(cv->vec[i]);
    free(cv->vec);
    free(cv->model_hint);
    memset(cv, 0, sizeof *cv);
    cv->layer_count = -1;
}

/* ---- writer ------------------------------------------------------------------ */

typedef struct { uint8_t *b; size_t n, cap; int oom; } wbuf;

static void put(wbuf *w, const void *p, size_t k) {
    if (w->oom) return;
    if (w->n + k > w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 4096;
        while (nc < w->n + k) nc *= 2;
        uint8_t *nb = realloc(w->b, nc);
        if (!nb) { w->oom = 1; return; }
        w->b = nb;
        w->cap = nc;
    }
    memcpy(w->b + w->n, p, k);
    w->n += k;
}
static void put_le(wbuf *w, uint64_t v, int k) {
    uint8_t b[8];
    for (int i = 0; i < k; i++) b[i] = (uint8_t)(v >> (8 * i));
    put(w, b, (size_t)k);
}
static void put_str(wbuf *w, const char *s) {
    put_le(w, strlen(s), 8);
    put(w, s, strlen(s));
}
static void pad(wbuf *w) {
    static const uint8_t z[DEFAULT_ALIGN];
    put(w, z, (DEFAULT_ALIGN - w->n % DEFAULT_ALIGN) % DEFAULT_ALIGN);
}

int iv_gguf_cv_write(const char *path, const iv_gguf_cv *cv, iv_err *err) {
    if (cv->d < 1 || cv->d > IV_GGUF_MAX_DIM || cv->n_layers < 1 ||
        cv->n_layers > IV_GGUF_MAX_LAYERS || !cv->vec)
        return iv_errf(err, "%s: bad control vector (d=%d, n_layers=%d)", path, cv->d, cv->n_layers);
    if (cv->vec[0])
        return iv_errf(err, "%s: llama.cpp does not accept direction.0 (resid_post.0); steer block 1 or later", path);
    if (cv->model_hint && strlen(cv->model_hint) > 4096)
        return iv_errf(err, "%s: model hint too long", path);
    uint64_t count = 0;
    for (int L = 0; L < cv->n_layers; L++) {
        if (!cv->vec[L]) continue;
        count++;
        for (int j = 0; j < cv->d; j++)
            if (!isfinite(cv->vec[L][j]))
                return iv_errf(err, "%s: direction.%d[%d] is not finite", path, L, j);
    }
    if (!count) return iv_errf(err, "%s: control vector has no layers", path);
    wbuf w = {0};
    put(&w, "GGUF", 4);
    put_le(&w, 3, 4);
    put_le(&w, count, 8);
    put_le(&w, cv->model_hint ? 3 : 2, 8);
    put_str(&w, "general.architecture");
    put_le(&w, T_STR, 4);
    put_str(&w, "controlvector");
    if (cv->model_hint) {
        put_str(&w, "controlvector.model_hint");
        put_le(&w, T_STR, 4);
        put_str(&w, cv->model_hint);
    }
    put_str(&w, "controlvector.layer_count");
    put_le(&w, T_U32, 4);
    put_le(&w, count, 4);
    uint64_t stride = ((uint64_t)cv->d * 4 + DEFAULT_ALIGN - 1) / DEFAULT_ALIGN * DEFAULT_ALIGN, off = 0;
    for (int L = 0; L < cv->n_layers; L++) {
        if (!cv->vec[L]) continue;
        char name[32];
        snprintf(name, sizeof name, "direction.%d", L);
        put_str(&w, name);
        put_le(&w, 1, 4);
        put_le(&w, (uint64_t)cv->d, 8);
        put_le(&w, 0, 4); /* GGML_TYPE_F32 */
        put_le(&w, off, 8);
        off += stride;
    }
    pad(&w);
    for (int L = 0; L < cv->n_layers; L++) {
        if (!cv->vec[L]) continue;
        for (int j = 0; j < cv->d; j++) {
            uint32_t u;
            memcpy(&u, &cv->vec[L][j], 4);
            put_le(&w, u, 4);
        }
        pad(&w);
    }
    int rc = w.oom ? iv_errf(err, "%s: out of memory", path) : iv_write_atomic(path, w.b, w.n, err);
    free(w.b);
    return rc;
}
