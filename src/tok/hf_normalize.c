/* Normalizers: Prepend, Replace, NFC/NFKC/NFD/NFKD (utf8proc), Lowercase, Strip,
 * Sequence.  Each maps one UTF-8 string to another. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "tok/hf_internal.h"

typedef struct { const char *s; hf_buf *out; size_t prev; const hf_norm *nm; } repl_ctx;

static int repl_cb(size_t a, size_t b, void *vp) {
    repl_ctx *c = vp;
    if (hf_buf_put(c->out, c->s + c->prev, a - c->prev) || hf_buf_put(c->out, c->nm->content, c->nm->clen))
        return -1;
    c->prev = b;
    return 0;
}

static int unicode_form(const char *s, size_t n, int opts, hf_buf *out) {
    if (!n) return hf_buf_put(out, "", 0);
    utf8proc_uint8_t *r = NULL;
    utf8proc_ssize_t k = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &r,
                                      (utf8proc_option_t)(UTF8PROC_STABLE | opts));
    if (k < 0) return -1;
    int rc = hf_buf_put(out, r, (size_t)k);
    free(r);
    return rc;
}

static int one(const hf_norm *nm, const char *s, size_t n, hf_buf *out) {
    switch (nm->kind) {
    case HF_NORM_PREPEND:
        if (!n) return hf_buf_put(out, "", 0);
        return hf_buf_put(out, nm->content, nm->clen) || hf_buf_put(out, s, n) ? -1 : 0;
    case HF_NORM_REPLACE: {
        repl_ctx c = {s, out, 0, nm};
        if (hf_pattern_each(&nm->pat, s, n, repl_cb, &c)) return -1;
        return hf_buf_put(out, s + c.prev, n - c.prev);
    }
    case HF_NORM_NFC: return unicode_form(s, n, UTF8PROC_COMPOSE, out);
    case HF_NORM_NFKC: return unicode_form(s, n, UTF8PROC_COMPOSE | UTF8PROC_COMPAT, out);
    case HF_NORM_NFD: return unicode_form(s, n, UTF8PROC_DECOMPOSE, out);
    case HF_NORM_NFKD: return unicode_form(s, n, UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT, out);
    case HF_NORM_LOWER: {
        const unsigned char *u = (const unsigned char *)s;
        for (size_t i = 0; i < n;) {
            int l = hf_utf8_len(u + i, n - i);
            if (!l) return -1;
            char tmp[4];
            int k = hf_utf8_put(tmp, (uint32_t)utf8proc_tolower((utf8proc_int32_t)hf_utf8_cp(u + i, l)));
            if (hf_buf_put(out, tmp, (size_t)k)) return -1;
            i += (size_t)l;
        }
        return hf_buf_put(out, "", 0);
    }
    case HF_NORM_STRIP: {
        const unsigned char *u = (const unsigned char *)s;
        size_t a = 0, b = n;
        while (nm->strip_left && a < b) {
            int l = hf_utf8_len(u + a, b - a);
            if (!l || !hf_js_space(hf_utf8_cp(u + a, l))) break;
            a += (size_t)l;
        }
        while (nm->strip_right && b > a) {
            size_t k = b - 1;
            while (k > a && (u[k] & 0xC0) == 0x80) k--;
            int l = hf_utf8_len(u + k, b - k);
            if (!l || !hf_js_space(hf_utf8_cp(u + k, l))) break;
            b = k;
        }
        return hf_buf_put(out, s + a, b - a);
    }
    case HF_NORM_SEQ: {
        hf_buf cur = {0}, nxt = {0};
        if (hf_buf_put(&cur, s, n)) return -1;
        for (size_t i = 0; i < nm->nsub; i++) {
            nxt.n = 0;
            if (one(&nm->sub[i], cur.p, cur.n, &nxt)) { hf_buf_free(&cur); hf_buf_free(&nxt); return -1; }
            hf_buf t = cur; cur = nxt; nxt = t;
        }
        int rc = hf_buf_put(out, cur.p, cur.n);
        hf_buf_free(&cur); hf_buf_free(&nxt);
        return rc;
    }
    }
    return -1;
}

int hf_normalize(const hf_norm *nm, const char *s, size_t n, hf_buf *out) {
    out->n = 0;
    return one(nm, s, n, out);
}

void hf_norm_free(hf_norm *nm) {   /* frees what nm holds, not nm itself */
    if (!nm) return;
    free(nm->content);
    hf_pattern_free(&nm->pat);
    for (size_t i = 0; i < nm->nsub; i++) hf_norm_free(&nm->sub[i]);
    free(nm->sub);
    memset(nm, 0, sizeof *nm);
}
