/* Split/Replace patterns: PCRE2 (UTF + UCP, JIT when available).  Patterns are
 * rewritten the way the JavaScript reference rewrites them, and \s / \S get
 * JavaScript's meaning, so matches agree with it.  (\S inside a character
 * class keeps PCRE's meaning.) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tok/hf_internal.h"

struct hf_regex { pcre2_code *code; };

/* JavaScript's \s, spelled out: PCRE2's own \s follows its Unicode tables
 * (it takes U+0085 and U+180E, and lacks U+FEFF). */
#define JS_SPACE "\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}"

/* Replaces every occurrence of `from` in b by `to`. */
static int replace_all(hf_buf *b, const char *from, const char *to) {
    size_t fl = strlen(from);
    hf_buf o = {0};
    const char *p = b->p, *end = b->p + b->n;
    while (p < end) {
        const char *q = memmem(p, (size_t)(end - p), from, fl);
        if (!q) break;
        if (hf_buf_put(&o, p, (size_t)(q - p)) || hf_buf_put(&o, to, strlen(to))) { hf_buf_free(&o); return -1; }
        p = q + fl;
    }
    if (hf_buf_put(&o, p, (size_t)(end - p))) { hf_buf_free(&o); return -1; }
    hf_buf_free(b);
    *b = o;
    return 0;
}

/* The JS reference drops backslashes before # & ~, replaces an inline
 * case-insensitive group it cannot parse, and uses its own \s. */
static int rewrite(const char *pat, hf_buf *out) {
    hf_buf b = {0};
    for (const char *p = pat; *p; p++) {
        if (p[0] == '\\' && (p[1] == '#' || p[1] == '&' || p[1] == '~')) continue;
        if (hf_buf_putc(&b, *p)) goto oom;
    }
    if (!b.p && hf_buf_put(&b, "", 0)) goto oom;
    if (replace_all(&b, "(?i:'s|'t|'re|'ve|'m|'ll|'d)",
                    "(?:'([sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD]))")) goto oom;
    int in_class = 0;
    for (size_t i = 0; i < b.n; i++) {
        char c = b.p[i];
        if (c == '\\' && i + 1 < b.n) {
            char d = b.p[++i];
            const char *rep = NULL;
            if (d == 's') rep = in_class ? JS_SPACE : "[" JS_SPACE "]";
            else if (d == 'S' && !in_class) rep = "[^" JS_SPACE "]";
            if (rep) { if (hf_buf_put(out, rep, strlen(rep))) goto oom; }
            else {
                char two[2] = {c, d};
                if (hf_buf_put(out, two, 2)) goto oom;
            }
            continue;
        }
        if (c == '[' && !in_class) {
            in_class = 1;
            if (hf_buf_putc(out, c)) goto oom;
            /* a ']' right after '[' or '[^' is literal */
            if (i + 1 < b.n && b.p[i + 1] == '^') { if (hf_buf_putc(out, '^')) goto oom; i++; }
            if (i + 1 < b.n && b.p[i + 1] == ']') { if (hf_buf_putc(out, ']')) goto oom; i++; }
            continue;
        }
        if (c == ']' && in_class) in_class = 0;
        if (hf_buf_putc(out, c)) goto oom;
    }
    if (!out->p && hf_buf_put(out, "", 0)) goto oom;
    hf_buf_free(&b);
    return 0;
oom:
    hf_buf_free(&b);
    return -1;
}

int hf_regex_compile(const char *pattern, hf_regex **out, char *msg, size_t msgcap) {
    hf_buf src = {0};
    if (rewrite(pattern, &src)) { snprintf(msg, msgcap, "out of memory"); return -1; }
    int ec; PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)src.p, src.n, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    hf_buf_free(&src);
    if (!code) {
        PCRE2_UCHAR buf[256];
        pcre2_get_error_message(ec, buf, sizeof buf);
        snprintf(msg, msgcap, "bad regex \"%.200s\": %s", pattern, (char *)buf);
        return -1;
    }
    pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);   /* falls back to the interpreter */
    hf_regex *r = malloc(sizeof *r);
    if (!r) { pcre2_code_free(code); snprintf(msg, msgcap, "out of memory"); return -1; }
    r->code = code;
    *out = r;
    return 0;
}

void hf_regex_free(hf_regex *r) {
    if (!r) return;
    pcre2_code_free(r->code);
    free(r);
}

int hf_regex_each(const hf_regex *r, const char *s, size_t n,
                  int (*cb)(size_t, size_t, void *), void *ctx) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->code, NULL);
    if (!md) return -1;
    size_t pos = 0;
    int rc = 0;
    while (pos <= n) {
        int m = pcre2_match(r->code, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (m == PCRE2_ERROR_NOMATCH) break;
        if (m < 0) { rc = -1; break; }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t a = ov[0], b = ov[1];
        if (b > a) {
            if (cb(a, b, ctx)) { rc = -1; break; }
            pos = b;
        } else {   /* empty match: step one code point, as JS /u does */
            if (a >= n) break;
            int l = hf_utf8_len((const unsigned char *)s + a, n - a);
            pos = a + (size_t)(l ? l : 1);
        }
    }
    pcre2_match_data_free(md);
    return rc;
}

int hf_pattern_each(const hf_pattern *p, const char *s, size_t n,
                    int (*cb)(size_t, size_t, void *), void *ctx) {
    if (p->kind == HF_PAT_REGEX) return hf_regex_each(p->re, s, n, cb, ctx);
    if (!p->len) return 0;
    size_t pos = 0;
    while (pos < n) {
        const char *q = memmem(s + pos, n - pos, p->str, p->len);
        if (!q) break;
        size_t a = (size_t)(q - s);
        if (cb(a, a + p->len, ctx)) return -1;
        pos = a + p->len;
    }
    return 0;
}

void hf_pattern_free(hf_pattern *p) {
    free(p->str);
    hf_regex_free(p->re);
    memset(p, 0, sizeof *p);
}
