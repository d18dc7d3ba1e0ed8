/* torch.save zip reader: find <archive>/data.pkl, interpret it with the restricted
 * unpickler, then read each storage file (size checked against the pickle) and
 * copy every tensor (contiguity and bounds checked) into f32. */
#include "interv/torchzip.h"
#include "io/unpickle_internal.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#define MAX_PKL_BYTES ((zip_uint64_t)64 << 20) /* a state-dict pickle is tiny */

/* Reads member `name` whole; its size must be at most cap. Reads are bounded by
 * the declared size and the stream must end exactly there. */
static int read_member(zip_t *za, const char *path, const char *name, zip_uint64_t cap,
                       uint8_t **buf, zip_uint64_t *len, iv_err *err) {
    *buf = NULL;
    zip_int64_t idx = zip_name_locate(za, name, 0);
    if (idx < 0) return iv_errf(err, "%s: missing member '%s'", path, name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return iv_errf(err, "%s: %s: cannot stat member", path, name);
    if (st.size > cap)
        return iv_errf(err, "%s: %s: member of %llu bytes exceeds the %llu-byte cap", path, name,
                       (unsigned long long)st.size, (unsigned long long)cap);
    zip_file_t *f = zip_fopen_index(za, (zip_uint64_t)idx, 0);
    if (!f) return iv_errf(err, "%s: %s: cannot open member: %s", path, name, zip_strerror(za));
    /* grow with the bytes that really arrive: a forged header declaring gigabytes
     * must not reserve them up front */
    zip_uint64_t room = st.size < (1u << 20) ? st.size : (1u << 20);
    uint8_t *b = malloc(room ? room : 1);
    if (!b) { zip_fclose(f); return iv_errf(err, "%s: %s: out of memory", path, name); }
    zip_uint64_t got = 0;
    zip_int64_t r = 1;
    while (got < st.size) {
        if (got == room) {
            zip_uint64_t nr = room * 2 < st.size ? room * 2 : st.size;
            uint8_t *nb = realloc(b, nr);
            if (!nb) { free(b); zip_fclose(f); return iv_errf(err, "%s: %s: out of memory", path, name); }
            b = nb;
            room = nr;
        }
        if ((r = zip_fread(f, b + got, room - got)) <= 0) break;
        got += (zip_uint64_t)r;
    }
    uint8_t extra;
    zip_int64_t more = r >= 0 && got == st.size ? zip_fread(f, &extra, 1) : 0;
    int crc = zip_fclose(f);
    if (r < 0 || more < 0 || crc != 0 || got != st.size || more != 0) {
        free(b);
        return iv_errf(err, "%s: %s: %s", path, name,
                       r < 0 || more < 0 || crc ? "decompression or CRC error"
                       : got != st.size        ? "member truncated"
                                               : "member longer than declared");
    }
    *buf = b;
    *len = st.size;
    return 0;
}

/* The archive prefix: the folder holding data.pkl (exactly one, one level deep). */
static int find_prefix(zip_t *za, const char *path, char *prefix, size_t cap, iv_err *err) {
    zip_int64_t ne = zip_get_num_entries(za, 0);
    int found = 0;
    for (zip_int64_t i = 0; i < ne; i++) {
        const char *nm = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!nm) continue;
        const char *slash = strchr(nm, '/');
        if (!slash || strcmp(slash, "/data.pkl") != 0) continue;
        if (found++) return iv_errf(err, "%s: more than one data.pkl in the archive", path);
        size_t n = (size_t)(slash - nm);
        if (n == 0 || n + 1 > cap) return iv_errf(err, "%s: bad archive folder name", path);
        memcpy(prefix, nm, n);
        prefix[n] = 0;
    }
    if (!found) return iv_errf(err, "%s: not a torch.save zip (no <archive>/data.pkl)", path);
    return 0;
}

/* Optional small text members: version must be a small integer, byteorder "little". */
static int check_meta(zip_t *za, const char *path, const char *prefix, iv_err *err) {
    char name[512];
    uint8_t *b;
    zip_uint64_t n;
    snprintf(name, sizeof name, "%s/byteorder", prefix);
    if (zip_name_locate(za, name, 0) >= 0) {
        if (read_member(za, path, name, 64, &b, &n, err)) return -1;
        int ok = (n == 6 && memcmp(b, "little", 6) == 0) || (n == 7 && memcmp(b, "little\n", 7) == 0);
        free(b);
        if (!ok) return iv_errf(err, "%s: byteorder is not 'little' (big-endian checkpoints are not supported)", path);
    }
    snprintf(name, sizeof name, "%s/version", prefix);
    if (zip_name_locate(za, name, 0) < 0) snprintf(name, sizeof name, "%s/.data/version", prefix);
    if (zip_name_locate(za, name, 0) >= 0) {
        if (read_member(za, path, name, 64, &b, &n, err)) return -1;
        long v = 0;
        size_t i = 0;
        while (i < n && b[i] >= '0' && b[i] <= '9' && v < 1000) v = v * 10 + (b[i++] - '0');
        while (i < n && (b[i] == '\n' || b[i] == '\r' || b[i] == ' ')) i++;
        free(b);
        if (i != n || v < 1 || v > 20)
            return iv_errf(err, "%s: unsupported or unreadable archive version", path);
    }
    return 0;
}

/* Shape/stride/offset validation against the storage (numel elements). */
static int check_tensor(const char *path, const iv_pk_tensor *t, const iv_pk_storage *s,
                        int64_t *numel, iv_err *err) {
    uint64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        if (__builtin_mul_overflow(n, (uint64_t)t->shape[i], &n) || n > ((uint64_t)1 << 48))
            return iv_errf(err, "%s: tensor '%s': shape too large", path, t->name);
    int64_t expect = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && n > 0 && t->stride[i] != expect)
            return iv_errf(err, "%s: tensor '%s' is not contiguous (stride %lld in dim %d, want %lld)",
                           path, t->name, (long long)t->stride[i], i, (long long)expect);
        expect *= t->shape[i];
    }
    if (n > 0 && (uint64_t)t->offset + n > (uint64_t)s->numel)
        return iv_errf(err, "%s: tensor '%s': elements %lld..%lld lie outside storage '%s' of %lld",
                       path, t->name, (long long)t->offset, (long long)(t->offset + (int64_t)n),
                       s->key, (long long)s->numel);
    *numel = (int64_t)n;
    return 0;
}

static int load(iv_torchzip *tz, zip_t *za, iv_err *err) {
    const char *path = tz->path;
    char prefix[256], name[1024];
    if (find_prefix(za, path, prefix, sizeof prefix, err)) return -1;
    if (check_meta(za, path, prefix, err)) return -1;
    snprintf(name, sizeof name, "%s/data.pkl", prefix);
    uint8_t *pkl;
    zip_uint64_t plen;
    if (read_member(za, path, name, MAX_PKL_BYTES, &pkl, &plen, err)) return -1;
    char what[1200];
    snprintf(what, sizeof what, "%s: %s", path, name);
    iv_pk_dict d;
    int rc = iv_unpickle_state_dict(pkl, (size_t)plen, what, &d, err);
    free(pkl);
    if (rc) return -1;
    tz->tensors = calloc(d.nt ? d.nt : 1, sizeof *tz->tensors);
    if (!tz->tensors) { iv_pk_dict_free(&d); return iv_errf(err, "%s: out of memory", path); }
    for (size_t i = 0; i < d.nt; i++) {
        iv_tz_tensor *o = &tz->tensors[i];
        const iv_pk_tensor *t = &d.t[i];
        if (check_tensor(path, t, &d.s[t->storage], &o->numel, err)) goto fail;
        if (!(o->name = strdup(t->name))) { iv_errf(err, "%s: out of memory", path); goto fail; }
        tz->n = i + 1;
        o->dtype = d.s[t->storage].dtype;
        o->ndim = t->ndim;
        memcpy(o->shape, t->shape, sizeof o->shape);
        memcpy(o->stride, t->stride, sizeof o->stride);
        o->storage_offset = t->offset;
        if (!(o->data = malloc(o->numel ? (size_t)o->numel * 4 : 1))) {
            iv_errf(err, "%s: tensor '%s': out of memory", path, t->name);
            goto fail;
        }
    }
    /* one storage file at a time, shared by all tensors that view it */
    for (size_t si = 0; si < d.ns; si++) {
        const iv_pk_storage *s = &d.s[si];
        size_t es = iv_dtype_size(s->dtype);
        snprintf(name, sizeof name, "%s/data/%s", prefix, s->key);
        uint8_t *raw;
        zip_uint64_t len;
        if (read_member(za, path, name, IV_TZ_MAX_BYTES, &raw, &len, err)) goto fail;
        if (len != (uint64_t)s->numel * es) {
            free(raw);
            iv_errf(err, "%s: storage '%s' is %llu bytes but data.pkl declares %lld elements of %zu bytes",
                    path, s->key, (unsigned long long)len, (long long)s->numel, es);
            goto fail;
        }
        for (size_t i = 0; i < d.nt; i++)
            if (d.t[i].storage == (int)si && tz->tensors[i].numel > 0)
                iv_to_f32(tz->tensors[i].data, raw + (size_t)d.t[i].offset * es, s->dtype,
                          (size_t)tz->tensors[i].numel);
        free(raw);
    }
    iv_pk_dict_free(&d);
    return 0;
fail:
    iv_pk_dict_free(&d);
    return -1;
}

/* Untrusted names end up in messages: keep them on one line. */
static int one_line(iv_err *err) {
    if (err)
        for (char *c = err->msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    return -1;
}

int iv_torchzip_open(const char *path, iv_torchzip **out, iv_err *err) {
    *out = NULL;
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &code);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        iv_errf(err, "%s: not a readable zip checkpoint: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return -1;
    }
    iv_torchzip *tz = calloc(1, sizeof *tz);
    if (!tz || !(tz->path = strdup(path))) {
        free(tz);
        zip_discard(za);
        return iv_errf(err, "%s: out of memory", path);
    }
    int rc = load(tz, za, err);
    zip_discard(za);
    if (rc) {
        iv_torchzip_close(tz);
        return one_line(err);
    }
    *out = tz;
    return 0;
}

const iv_tz_tensor *iv_torchzip_find(const iv_torchzip *tz, const char *name) {
    for (size_t i = 0; i < tz->n; i++)
        if (strcmp(tz->tensors[i].name, name) == 0) return &tz->tensors[i];
    return NULL;
}

void iv_torchzip_close(iv_torchzip *tz) {
    if (!tz) return;
    for (size_t i = 0; i < tz->n; i++) {
        free(tz->tensors[i].name);
        free(tz->tensors[i].data);
    }
    free(tz->tensors);
    free(tz->path);
    free(tz);
}
