/* Decoders: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence.
 * Each maps a list of token strings to a list of strings; byte runs that are
 * not valid UTF-8 become U+FFFD per maximal invalid subpart (as TextDecoder,
 * the JavaScript reference, does). */
#include <stdlib.h>
#include <string.h>
#include "tok/hf_internal.h"

int hf_is_added(const hf_tok *h, const char *s, size_t n);

static int bytelevel(const hf_tok *h, hf_pieces *in, hf_pieces *out) {
    hf_buf bytes = {0}, txt = {0};
    int rc = 0;
    size_t i = 0;
    while (i < in->n && !rc) {
        const char *t = HF_PIECE(in, i);
        size_t tl = in->v[i].len;
        if (hf_is_added(h, t, tl)) { rc = hf_pieces_add(out, t, tl); i++; continue; }
        bytes.n = 0;
        for (; i < in->n && !rc; i++) {   /* a run of ordinary tokens */
            t = HF_PIECE(in, i); tl = in->v[i].len;
            if (hf_is_added(h, t, tl)) break;
            const unsigned char *u = (const unsigned char *)t;
            size_t mark = bytes.n;
            for (size_t k = 0; k < tl && !rc;) {
                int l = hf_utf8_len(u + k, tl - k);
                int b = l ? hf_cp2byte(hf_utf8_cp(u + k, l)) : -1;
                if (b < 0) {   /* not byte-level text: keep the token's own bytes */
                    bytes.n = mark;
                    rc = hf_buf_put(&bytes, t, tl);
                    break;
                }
                rc = hf_buf_putc(&bytes, (char)b);
                k += (size_t)l;
            }
        }
        txt.n = 0;
        if (!rc) rc = hf_utf8_lossy(&txt, (const unsigned char *)bytes.p, bytes.n);
        if (!rc) rc = hf_pieces_add(out, txt.p ? txt.p : "", txt.n);
    }
    hf_buf_free(&bytes); hf_buf_free(&txt);
    return rc;
}

typedef struct { const char *s; hf_buf *out; size_t prev; const hf_dec *d; } repl_ctx;
static int repl_cb(size_t a, size_t b, void *vp) {
    repl_ctx *c = vp;
    if (hf_buf_put(c->out, c->s + c->prev, a - c->prev) || hf_buf_put(c->out, c->d->content, c->d->clen))
        return -1;
    c->prev = b;
    return 0;
}

/* "<0xAB>" -> 0xAB, else -1 */
static int byte_token(const char *t, size_t n) {
    if (n != 6 || memcmp(t, "<0x", 3) || t[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = t[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 :
                c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static int one(const hf_tok *h, const hf_dec *d, hf_pieces *in, hf_pieces *out) {
    hf_buf b = {0};
    int rc = 0;
    switch (d->kind) {
    case HF_DEC_BYTELEVEL:
        return bytelevel(h, in, out);
    case HF_DEC_REPLACE:
        for (size_t i = 0; i < in->n && !rc; i++) {
            const char *t = HF_PIECE(in, i);
            b.n = 0;
            repl_ctx c = {t, &b, 0, d};
            rc = hf_pattern_each(&d->pat, t, in->v[i].len, repl_cb, &c);
            if (!rc) rc = hf_buf_put(&b, t + c.prev, in->v[i].len - c.prev);
            if (!rc) rc = hf_pieces_add(out, b.p, b.n);
        }
        break;
    case HF_DEC_BYTEFALLBACK: {
        hf_buf bytes = {0};
        for (size_t i = 0; i <= in->n && !rc; i++) {
            int v = i < in->n ? byte_token(HF_PIECE(in, i), in->v[i].len) : -1;
            if (v >= 0) { rc = hf_buf_putc(&bytes, (char)v); continue; }
            if (bytes.n) {
                b.n = 0;
                rc = hf_utf8_lossy(&b, (const unsigned char *)bytes.p, bytes.n);
                if (!rc) rc = hf_pieces_add(out, b.p, b.n);
                bytes.n = 0;
            }
            if (!rc && i < in->n) rc = hf_pieces_add(out, HF_PIECE(in, i), in->v[i].len);
        }
        hf_buf_free(&bytes);
        break;
    }
    case HF_DEC_FUSE:
        rc = hf_buf_put(&b, "", 0);
        for (size_t i = 0; i < in->n && !rc; i++) rc = hf_buf_put(&b, HF_PIECE(in, i), in->v[i].len);
        if (!rc) rc = hf_pieces_add(out, b.p, b.n);
        break;
    case HF_DEC_STRIP: {
        char c[4];
        size_t cl = (size_t)hf_utf8_put(c, d->strip_cp);
        for (size_t i = 0; i < in->n && !rc; i++) {
            const char *t = HF_PIECE(in, i);
            size_t a = 0, e = in->v[i].len;
            for (int k = 0; k < d->start && e - a >= cl && !memcmp(t + a, c, cl); k++) a += cl;
            for (int k = 0; k < d->stop && e - a >= cl && !memcmp(t + e - cl, c, cl); k++) e -= cl;
            rc = hf_pieces_add(out, t + a, e - a);
        }
        break;
    }
    case HF_DEC_METASPACE:
        for (size_t i = 0; i < in->n && !rc; i++) {
            const char *t = HF_PIECE(in, i);
            size_t n = in->v[i].len;
            b.n = 0;
            rc = hf_buf_put(&b, "", 0);
            for (size_t k = 0; k < n && !rc;) {
                if (d->repl_len && n - k >= d->repl_len && !memcmp(t + k, d->repl, d->repl_len)) {
                    rc = hf_buf_putc(&b, ' ');
                    k += d->repl_len;
                } else rc = hf_buf_putc(&b, t[k++]);
            }
            size_t skip = (d->prefix && i == 0 && b.n && b.p[0] == ' ') ? 1 : 0;
            if (!rc) rc = hf_pieces_add(out, b.p + skip, b.n - skip);
        }
        break;
    case HF_DEC_SEQ:
        rc = -1;
        break;
    }
    hf_buf_free(&b);
    return rc;
}

int hf_decode_tokens(const hf_tok *h, const hf_dec *d, hf_pieces *toks, hf_pieces *tmp) {
    if (d->kind == HF_DEC_SEQ) {
        for (size_t i = 0; i < d->nsub; i++)
            if (hf_decode_tokens(h, &d->sub[i], toks, tmp)) return -1;
        return 0;
    }
    hf_pieces_clear(tmp);
    if (one(h, d, toks, tmp)) return -1;
    hf_pieces t = *toks; *toks = *tmp; *tmp = t;
    return 0;
}

void hf_dec_free(hf_dec *d) {   /* frees what d holds, not d itself */
    if (!d) return;
    hf_pattern_free(&d->pat);
    free(d->content);
    for (size_t i = 0; i < d->nsub; i++) hf_dec_free(&d->sub[i]);
    free(d->sub);
    memset(d, 0, sizeof *d);
}
