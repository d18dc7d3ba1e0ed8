/* Containers and UTF-8 helpers for the HF tokenizer. */
#include "tok/hf_internal.h"
#include <stdlib.h>
#include <string.h>

int hf_buf_put(hf_buf *b, const void *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n + 1) c *= 2;
        char *p = realloc(b->p, c);
        if (!p) return -1;
        b->p = p; b->cap = c;
    }
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}
int hf_buf_putc(hf_buf *b, char c) { return hf_buf_put(b, &c, 1); }
void hf_buf_free(hf_buf *b) { free(b->p); memset(b, 0, sizeof *b); }

int hf_pieces_add(hf_pieces *p, const char *s, size_t n) {
    if (p->n == p->cap) {
        size_t c = p->cap ? p->cap * 2 : 16;
        hf_span *v = realloc(p->v, c * sizeof *v);
        if (!v) return -1;
        p->v = v; p->cap = c;
    }
    size_t off = p->text.n;
    if (hf_buf_put(&p->text, s, n)) return -1;
    p->v[p->n].off = off; p->v[p->n].len = n;
    p->n++;
    return 0;
}
void hf_pieces_clear(hf_pieces *p) { p->n = 0; p->text.n = 0; }
void hf_pieces_free(hf_pieces *p) { hf_buf_free(&p->text); free(p->v); memset(p, 0, sizeof *p); }

/* ---- string map ---- */
static uint32_t str_hash(const char *s, size_t n) {
    uint64_t h = 0x9E3779B97F4A7C15ull ^ n;   /* FNV-1a style, 64-bit mix */
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    h ^= h >> 29; h *= 0xBF58476D1CE4E5B9ull; h ^= h >> 32;
    return (uint32_t)h;
}

/* A slot holds (hash << 32 | entry + 1), so most misses never touch the entry. */
static int strmap_grow_slots(hf_strmap *m) {
    size_t cap = m->scap ? m->scap * 2 : 1024;
    uint64_t *s = calloc(cap, sizeof *s);
    if (!s) return -1;
    for (size_t e = 0; e < m->n; e++) {
        size_t i = m->hash[e] & (cap - 1);
        while (s[i]) i = (i + 1) & (cap - 1);
        s[i] = (uint64_t)m->hash[e] << 32 | (e + 1);
    }
    free(m->slots);
    m->slots = s; m->scap = cap;
    return 0;
}

long hf_strmap_find(const hf_strmap *m, const char *s, size_t n) {
    if (!m->scap) return -1;
    uint32_t h = str_hash(s, n);
    size_t i = h & (m->scap - 1);
    for (; m->slots[i]; i = (i + 1) & (m->scap - 1)) {
        if ((uint32_t)(m->slots[i] >> 32) != h) continue;
        uint32_t e = (uint32_t)m->slots[i] - 1;
        if (m->len[e] == n && !memcmp(m->arena + m->off[e], s, n)) return e;
    }
    return -1;
}

long hf_strmap_put(hf_strmap *m, const char *s, size_t n, int32_t val, int *is_new) {
    long e = hf_strmap_find(m, s, n);
    *is_new = 0;
    if (e >= 0) return e;
    if ((m->n + 1) * 2 > m->scap && strmap_grow_slots(m)) return -1;
    if (m->n == m->ecap) {
        size_t c = m->ecap ? m->ecap * 2 : 1024;
        uint32_t *o = realloc(m->off, c * sizeof *o);
        if (!o) return -1;
        m->off = o;
        uint32_t *l = realloc(m->len, c * sizeof *l);
        if (!l) return -1;
        m->len = l;
        uint32_t *h = realloc(m->hash, c * sizeof *h);
        if (!h) return -1;
        m->hash = h;
        int32_t *v = realloc(m->val, c * sizeof *v);
        if (!v) return -1;
        m->val = v;
        m->ecap = c;
    }
    if (m->alen + n + 1 > m->acap) {
        size_t c = m->acap ? m->acap : 1 << 16;
        while (c < m->alen + n + 1) c *= 2;
        if (c > UINT32_MAX) return -1;
        char *a = realloc(m->arena, c);
        if (!a) return -1;
        m->arena = a; m->acap = c;
    }
    memcpy(m->arena + m->alen, s, n);
    m->arena[m->alen + n] = 0;
    e = (long)m->n++;
    m->off[e] = (uint32_t)m->alen; m->len[e] = (uint32_t)n;
    m->hash[e] = str_hash(s, n); m->val[e] = val;
    m->alen += n + 1;
    size_t i = m->hash[e] & (m->scap - 1);
    while (m->slots[i]) i = (i + 1) & (m->scap - 1);
    m->slots[i] = (uint64_t)m->hash[e] << 32 | (uint64_t)(e + 1);
    *is_new = 1;
    return e;
}

void hf_strmap_free(hf_strmap *m) {
    free(m->arena); free(m->off); free(m->len); free(m->hash); free(m->val); free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- pair map ---- */
static size_t pair_slot(uint64_t k, size_t cap) {
    k ^= k >> 33; k *= 0xFF51AFD7ED558CCDull; k ^= k >> 33;
    return (size_t)k & (cap - 1);
}

long hf_pairmap_find(const hf_pairmap *m, uint32_t a, uint32_t b) {
    if (!m->cap) return -1;
    uint64_t k = ((uint64_t)a + 1) << 32 | ((uint64_t)b + 1);
    for (size_t i = pair_slot(k, m->cap);; i = (i + 1) & (m->cap - 1)) {
        if (m->key[i] == k) return (long)i;
        if (!m->key[i]) return -1;
    }
}

int hf_pairmap_put(hf_pairmap *m, uint32_t a, uint32_t b, int32_t rank, int32_t res) {
    if ((m->n + 1) * 2 > m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 1024;
        uint64_t *key = calloc(cap, sizeof *key);
        int32_t *rk = malloc(cap * sizeof *rk), *rs = malloc(cap * sizeof *rs);
        if (!key || !rk || !rs) { free(key); free(rk); free(rs); return -1; }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i]) continue;
            size_t j = pair_slot(m->key[i], cap);
            while (key[j]) j = (j + 1) & (cap - 1);
            key[j] = m->key[i]; rk[j] = m->rank[i]; rs[j] = m->res[i];
        }
        free(m->key); free(m->rank); free(m->res);
        m->key = key; m->rank = rk; m->res = rs; m->cap = cap;
    }
    uint64_t k = ((uint64_t)a + 1) << 32 | ((uint64_t)b + 1);
    size_t i = pair_slot(k, m->cap);
    while (m->key[i] && m->key[i] != k) i = (i + 1) & (m->cap - 1);
    if (m->key[i]) return 0;   /* the first (lowest) rank wins */
    m->key[i] = k; m->rank[i] = rank; m->res[i] = res; m->n++;
    return 0;
}

void hf_pairmap_free(hf_pairmap *m) {
    free(m->key); free(m->rank); free(m->res);
    memset(m, 0, sizeof *m);
}

/* ---- UTF-8 ---- */
int hf_utf8_len(const unsigned char *s, size_t n) {
    if (!n) return 0;
    unsigned c = s[0];
    if (c < 0x80) return 1;
    int len; uint32_t min;
    if (c >= 0xC2 && c <= 0xDF) { len = 2; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; min = 0x10000; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) if ((s[i] & 0xC0) != 0x80) return 0;
    uint32_t cp = hf_utf8_cp(s, len);
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

uint32_t hf_utf8_cp(const unsigned char *s, int len) {
    switch (len) {
    case 1: return s[0];
    case 2: return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
    case 3: return (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
    default: return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
                    (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    }
}

int hf_utf8_put(char *o, uint32_t cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F)); return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    o[2] = (char)(0x80 | (cp >> 6 & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

size_t hf_utf8_invalid_at(const char *s, size_t n) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) { i++; continue; }
        int l = hf_utf8_len(u + i, n - i);
        if (!l) return i;
        i += (size_t)l;
    }
    return (size_t)-1;
}

/* WHATWG UTF-8 decode: a lead byte followed by the longest valid prefix of a
 * sequence is one error; each error gives one U+FFFD. */
int hf_utf8_lossy(hf_buf *out, const unsigned char *s, size_t n) {
    static const char fffd[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    size_t i = 0;
    while (i < n) {
        int l = hf_utf8_len(s + i, n - i);
        if (l) { if (hf_buf_put(out, s + i, (size_t)l)) return -1; i += (size_t)l; continue; }
        unsigned c = s[i];
        int need; unsigned lo = 0x80, hi = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) need = 1;
        else if (c >= 0xE0 && c <= 0xEF) { need = 2; if (c == 0xE0) lo = 0xA0; if (c == 0xED) hi = 0x9F; }
        else if (c >= 0xF0 && c <= 0xF4) { need = 3; if (c == 0xF0) lo = 0x90; if (c == 0xF4) hi = 0x8F; }
        else need = 0;
        size_t j = i + 1;
        for (int k = 0; k < need && j < n; k++) {
            unsigned b = s[j];
            if (b < lo || b > hi) break;
            lo = 0x80; hi = 0xBF;
            j++;
        }
        if (hf_buf_put(out, fffd, 3)) return -1;
        i = j;
    }
    return 0;
}

int hf_js_space(uint32_t c) {
    return (c >= 9 && c <= 13) || c == 0x20 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
           c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

/* ---- byte-level alphabet: printable Latin-1 bytes map to themselves, the
 * others to U+0100.. in byte order ---- */
uint32_t hf_byte2cp[256];
static int16_t cp2byte[324];
static int bytelevel_ready;

void hf_bytelevel_init(void) {
    if (__atomic_load_n(&bytelevel_ready, __ATOMIC_ACQUIRE)) return;
    uint32_t b2c[256]; int16_t c2b[324];
    uint32_t next = 256;
    for (int b = 0; b < 256; b++) {
        int keep = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        b2c[b] = keep ? (uint32_t)b : next++;
    }
    for (int i = 0; i < 324; i++) c2b[i] = -1;
    for (int b = 0; b < 256; b++) c2b[b2c[b]] = (int16_t)b;
    memcpy(hf_byte2cp, b2c, sizeof b2c);
    memcpy(cp2byte, c2b, sizeof c2b);
    __atomic_store_n(&bytelevel_ready, 1, __ATOMIC_RELEASE);
}

int hf_cp2byte(uint32_t cp) { return cp < 324 ? cp2byte[cp] : -1; }
