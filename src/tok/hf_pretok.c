/* Pre-tokenizers: ByteLevel, Split (every behaviour, invert), Metaspace, Digits,
 * Sequence.  Split behaviours follow the Hugging Face definitions; the
 * JavaScript reference implements only Isolated and Removed, which agree. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "tok/hf_internal.h"

typedef struct { size_t a, b; int m; } seg;
typedef struct { seg *v; size_t n, cap; size_t prev; } segs;

static int seg_push(segs *s, size_t a, size_t b, int m) {
    if (s->n == s->cap) {
        size_t c = s->cap ? s->cap * 2 : 32;
        seg *v = realloc(s->v, c * sizeof *v);
        if (!v) return -1;
        s->v = v; s->cap = c;
    }
    s->v[s->n++] = (seg){a, b, m};
    return 0;
}

static int match_cb(size_t a, size_t b, void *vp) {
    segs *s = vp;
    if (a > s->prev && seg_push(s, s->prev, a, 0)) return -1;
    if (seg_push(s, a, b, 1)) return -1;
    s->prev = b;
    return 0;
}

/* Applies `behavior` to the match/non-match segments of p and appends the
 * resulting non-empty pieces to out. */
static int split_apply(segs *s, size_t n, const char *p, hf_split_behavior bh, int invert, hf_pieces *out) {
    if (s->prev < n && seg_push(s, s->prev, n, 0)) return -1;
    if (invert) for (size_t i = 0; i < s->n; i++) s->v[i].m = !s->v[i].m;
    seg *r = malloc((s->n + 1) * sizeof *r);
    if (!r) return -1;
    size_t k = 0;
    int prevm = 0;
    switch (bh) {
    case HF_SPLIT_REMOVED:
        for (size_t i = 0; i < s->n; i++) if (!s->v[i].m) r[k++] = s->v[i];
        break;
    case HF_SPLIT_ISOLATED:
        for (size_t i = 0; i < s->n; i++) r[k++] = s->v[i];
        break;
    case HF_SPLIT_PREV:
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i].m && !prevm && k) r[k - 1].b = s->v[i].b;
            else r[k++] = s->v[i];
            prevm = s->v[i].m;
        }
        break;
    case HF_SPLIT_CONTIG:
        for (size_t i = 0; i < s->n; i++) {
            if (s->v[i].m == prevm && k) r[k - 1].b = s->v[i].b;
            else r[k++] = s->v[i];
            prevm = s->v[i].m;
        }
        break;
    case HF_SPLIT_NEXT:   /* the mirror image of PREV, walked from the end */
        for (size_t i = s->n; i-- > 0;) {
            if (s->v[i].m && !prevm && k) r[k - 1].a = s->v[i].a;
            else r[k++] = s->v[i];
            prevm = s->v[i].m;
        }
        for (size_t i = 0; i < k / 2; i++) { seg t = r[i]; r[i] = r[k - 1 - i]; r[k - 1 - i] = t; }
        break;
    }
    int rc = 0;
    for (size_t i = 0; i < k && !rc; i++)
        if (r[i].b > r[i].a) rc = hf_pieces_add(out, p + r[i].a, r[i].b - r[i].a);
    free(r);
    return rc;
}

/* Maps each byte to its byte-level character (at most 2 UTF-8 bytes each). */
static int bytelevel_piece(const char *s, size_t n, hf_pieces *out) {
    if (!n) return 0;
    char tmp[1024] = "";
    char *o = n * 2 <= sizeof tmp ? tmp : calloc(n * 2, 1);
    if (!o) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) k += (size_t)hf_utf8_put(o + k, hf_byte2cp[(unsigned char)s[i]]);
    int rc = hf_pieces_add(out, o, k);
    if (o != tmp) free(o);
    return rc;
}

typedef struct { const char *s; hf_pieces *out; } bl_ctx;
static int bl_cb(size_t a, size_t b, void *vp) {
    bl_ctx *c = vp;
    return bytelevel_piece(c->s + a, b - a, c->out);
}

static int is_numeric(const unsigned char *u, int l) {
    utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)hf_utf8_cp(u, l));
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

static int one_piece(const hf_pre *pt, const char *p, size_t n, int section, const hf_regex *gre,
                     hf_pieces *out) {
    switch (pt->kind) {
    case HF_PRE_BYTELEVEL: {
        hf_buf pre = {0};
        if (pt->add_prefix_space && (n == 0 || p[0] != ' ')) {
            if (hf_buf_putc(&pre, ' ') || hf_buf_put(&pre, p, n)) { hf_buf_free(&pre); return -1; }
            p = pre.p; n = pre.n;
        }
        int rc;
        if (pt->use_regex) { bl_ctx c = {p, out}; rc = hf_regex_each(gre, p, n, bl_cb, &c); }
        else rc = bytelevel_piece(p, n, out);
        hf_buf_free(&pre);
        return rc;
    }
    case HF_PRE_SPLIT: {
        segs s = {0};
        int rc = hf_pattern_each(&pt->pat, p, n, match_cb, &s);
        if (!rc) rc = split_apply(&s, n, p, pt->behavior, pt->invert, out);
        free(s.v);
        return rc;
    }
    case HF_PRE_METASPACE: {
        hf_buf b = {0};
        int rc = 0;
        int pre = pt->prepend == HF_PREPEND_ALWAYS || (pt->prepend == HF_PREPEND_FIRST && section == 0);
        for (size_t i = 0; i < n && !rc; i++)
            rc = p[i] == ' ' ? hf_buf_put(&b, pt->repl, pt->repl_len) : hf_buf_putc(&b, p[i]);
        if (!rc && !b.p) rc = hf_buf_put(&b, "", 0);
        if (!rc && pre && !(b.n >= pt->repl_len && !memcmp(b.p, pt->repl, pt->repl_len))) {
            hf_buf c = {0};
            rc = hf_buf_put(&c, pt->repl, pt->repl_len) || hf_buf_put(&c, b.p, b.n);
            hf_buf_free(&b);
            b = c;
        }
        if (!rc) {
            if (pt->split) {
                hf_pattern pat = {HF_PAT_STRING, (char *)pt->repl, pt->repl_len, NULL};
                segs s = {0};
                rc = hf_pattern_each(&pat, b.p, b.n, match_cb, &s);
                if (!rc) rc = split_apply(&s, b.n, b.p, HF_SPLIT_NEXT, 0, out);
                free(s.v);
            } else if (b.n) rc = hf_pieces_add(out, b.p, b.n);
        }
        hf_buf_free(&b);
        return rc;
    }
    case HF_PRE_DIGITS: {
        segs s = {0};
        const unsigned char *u = (const unsigned char *)p;
        int rc = 0;
        for (size_t i = 0; i < n && !rc;) {
            int l = hf_utf8_len(u + i, n - i);
            if (!l) l = 1;
            if (is_numeric(u + i, l)) rc = match_cb(i, i + (size_t)l, &s);
            i += (size_t)l;
        }
        if (!rc) rc = split_apply(&s, n, p, pt->individual_digits ? HF_SPLIT_ISOLATED : HF_SPLIT_CONTIG, 0, out);
        free(s.v);
        return rc;
    }
    case HF_PRE_SEQ:
        return -1;   /* handled by hf_pretokenize */
    }
    return -1;
}

static int run(const hf_pre *pt, hf_pieces *in, hf_pieces *tmp, int section, const hf_regex *gre) {
    if (pt->kind == HF_PRE_SEQ) {
        for (size_t i = 0; i < pt->nsub; i++)
            if (run(&pt->sub[i], in, tmp, section, gre)) return -1;
        return 0;
    }
    hf_pieces_clear(tmp);
    for (size_t i = 0; i < in->n; i++)
        if (one_piece(pt, HF_PIECE(in, i), in->v[i].len, section, gre, tmp)) return -1;
    hf_pieces t = *in; *in = *tmp; *tmp = t;
    return 0;
}

int hf_pretokenize(const hf_pre *pt, hf_pieces *in, hf_pieces *tmp, int section, const hf_regex *gre) {
    return run(pt, in, tmp, section, gre);
}

void hf_pre_free(hf_pre *pt) {   /* frees what pt holds, not pt itself */
    if (!pt) return;
    hf_pattern_free(&pt->pat);
    for (size_t i = 0; i < pt->nsub; i++) hf_pre_free(&pt->sub[i]);
    free(pt->sub);
    memset(pt, 0, sizeof *pt);
}
