/* The BPE model: vocabulary and merge tables, and the merge loop of one word.
 * Merges are applied lowest rank first, ties broken by the leftmost position
 * (a binary heap over the doubly-linked list of symbols), which is what both
 * Hugging Face and the JavaScript reference do. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tok/hf_internal.h"

#define HF_MAX_VOCAB (1 << 24)

int hf_bpe_add_vocab(hf_tok *h, const char *s, size_t n, long id, const char *path, char *msg, size_t cap) {
    if (id < 0 || id >= HF_MAX_VOCAB) {
        snprintf(msg, cap, "%s: token \"%.60s\" has id %ld, outside 0..%d", path, s, id, HF_MAX_VOCAB - 1);
        return -1;
    }
    int is_new;
    long e = hf_strmap_put(&h->syms, s, n, (int32_t)id, &is_new);
    if (e < 0) { snprintf(msg, cap, "%s: out of memory", path); return -1; }
    if (!is_new) {
        if (h->syms.val[e] >= 0 && h->syms.val[e] != id) {
            snprintf(msg, cap, "%s: token \"%.60s\" listed twice (ids %d and %ld)", path, s, h->syms.val[e], id);
            return -1;
        }
        h->syms.val[e] = (int32_t)id;
    }
    return 0;
}

int hf_bpe_add_merge(hf_tok *h, const char *a, size_t an, const char *b, size_t bn, int32_t rank) {
    char small[256];
    char *cat = an + bn <= sizeof small ? small : malloc(an + bn);
    if (!cat) return -1;
    memcpy(cat, a, an); memcpy(cat + an, b, bn);
    int is_new;
    long ea = hf_strmap_put(&h->syms, a, an, -1, &is_new);
    long eb = ea < 0 ? -1 : hf_strmap_put(&h->syms, b, bn, -1, &is_new);
    long ec = eb < 0 ? -1 : hf_strmap_put(&h->syms, cat, an + bn, -1, &is_new);
    if (cat != small) free(cat);
    if (ec < 0) return -1;
    return hf_pairmap_put(&h->merges, (uint32_t)ea, (uint32_t)eb, rank, (int32_t)ec);
}

/* Fills id -> string and the byte-fallback table; finds id collisions. */
int hf_bpe_finish(hf_tok *h, int32_t vocab_size, char *msg, size_t cap) {
    h->id2sym = malloc((size_t)vocab_size * sizeof *h->id2sym);
    if (!h->id2sym) { snprintf(msg, cap, "%s: out of memory", h->path); return -1; }
    for (int32_t i = 0; i < vocab_size; i++) h->id2sym[i] = -1;
    for (size_t e = 0; e < h->syms.n; e++) {
        int32_t id = h->syms.val[e];
        if (id < 0) continue;
        if (h->id2sym[id] >= 0) {
            snprintf(msg, cap, "%s: id %d is used by two tokens, \"%.60s\" and \"%.60s\"", h->path, id,
                     HF_STR(&h->syms, h->id2sym[id]), HF_STR(&h->syms, e));
            return -1;
        }
        h->id2sym[id] = (int32_t)e;
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        long e = hf_strmap_find(&h->syms, name, 6);
        h->byte_ids[b] = e >= 0 ? h->syms.val[e] : -1;
    }
    return 0;
}

typedef struct { int32_t rank; uint32_t pos; int32_t node, l, r, res; } hitem;

static int hless(const hitem *a, const hitem *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->pos < b->pos);
}
static void hpush(hitem *hp, size_t *n, hitem it) {
    size_t i = (*n)++;
    while (i) {
        size_t p = (i - 1) / 2;
        if (!hless(&it, &hp[p])) break;
        hp[i] = hp[p]; i = p;
    }
    hp[i] = it;
}
static hitem hpop(hitem *hp, size_t *n) {
    hitem top = hp[0], last = hp[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && hless(&hp[c + 1], &hp[c])) c++;
        if (!hless(&hp[c], &last)) break;
        hp[i] = hp[c]; i = c;
    }
    if (*n) hp[i] = last;
    return top;
}

static int push_id(int32_t **ids, size_t *n, size_t *cap, int32_t id) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        int32_t *p = realloc(*ids, c * sizeof *p);
        if (!p) return -1;
        *ids = p; *cap = c;
    }
    (*ids)[(*n)++] = id;
    return 0;
}

/* Emits the id of symbol string s[a..b) (fallback: bytes, then unk). */
static int emit(const hf_tok *h, int32_t sym, const char *s, size_t a, size_t b,
                int32_t **ids, size_t *n, size_t *cap) {
    if (sym >= 0 && h->syms.val[sym] >= 0) return push_id(ids, n, cap, h->syms.val[sym]);
    if (h->byte_fallback) {
        size_t k;
        for (k = a; k < b; k++) if (h->byte_ids[(unsigned char)s[k]] < 0) break;
        if (k == b) {
            for (k = a; k < b; k++)
                if (push_id(ids, n, cap, h->byte_ids[(unsigned char)s[k]])) return -1;
            return 0;
        }
    }
    if (h->unk_id < 0) return -2;
    return push_id(ids, n, cap, h->unk_id);
}

typedef struct { int32_t sym, prev, next; uint32_t a, b; } node;

static void try_pair(const hf_tok *h, const node *nd, int32_t i, hitem *hp, size_t *hn) {
    int32_t j = nd[i].next;
    if (j < 0 || nd[i].sym < 0 || nd[j].sym < 0) return;
    long slot = hf_pairmap_find(&h->merges, (uint32_t)nd[i].sym, (uint32_t)nd[j].sym);
    if (slot < 0) return;
    hpush(hp, hn, (hitem){h->merges.rank[slot], nd[i].a, i, nd[i].sym, nd[j].sym, h->merges.res[slot]});
}

/* The merge loop proper, without the word cache. */
static int bpe_word(const hf_tok *h, const char *s, size_t n, int32_t **ids, size_t *nids, size_t *cap) {
    if (h->ignore_merges) {
        long e = hf_strmap_find(&h->syms, s, n);
        if (e >= 0 && h->syms.val[e] >= 0) return push_id(ids, nids, cap, h->syms.val[e]);
    }
    node st_nodes[128]; hitem st_heap[3 * 128];
    node *nd = n <= 128 ? st_nodes : malloc(n * sizeof *nd);
    hitem *hp = n <= 128 ? st_heap : malloc(3 * n * sizeof *hp);   /* pushes <= 3 per char */
    int rc = 0;
    if (!nd || !hp) { rc = -1; goto done; }
    const unsigned char *u = (const unsigned char *)s;
    int32_t m = 0;
    for (size_t i = 0; i < n;) {
        int l = hf_utf8_len(u + i, n - i);
        if (!l) l = 1;   /* cannot happen: the input was validated */
        long e;
        if (h->cp2sym && l <= 3) {   /* every code point below HF_CP_TABLE */
            uint32_t cp = hf_utf8_cp(u + i, l);
            e = h->cp2sym[cp];
        } else {
            e = hf_strmap_find(&h->syms, s + i, (size_t)l);
        }
        nd[m] = (node){(int32_t)e, m - 1, -1, (uint32_t)i, (uint32_t)(i + (size_t)l)};
        if (m) nd[m - 1].next = m;
        m++;
        i += (size_t)l;
    }
    size_t hn = 0;
    if (m > 1) {
        for (int32_t i = 0; i + 1 < m; i++) try_pair(h, nd, i, hp, &hn);
        while (hn) {
            hitem it = hpop(hp, &hn);
            int32_t i = it.node, j = nd[i].next;
            if (nd[i].sym != it.l || j < 0 || nd[j].sym != it.r) continue;   /* stale */
            nd[i].sym = it.res;
            nd[i].b = nd[j].b;
            nd[i].next = nd[j].next;
            if (nd[j].next >= 0) nd[nd[j].next].prev = i;
            nd[j].sym = -2;   /* dead */
            if (nd[i].prev >= 0) try_pair(h, nd, nd[i].prev, hp, &hn);
            try_pair(h, nd, i, hp, &hn);
        }
    }
    for (int32_t i = 0; i >= 0 && !rc; i = nd[i].next)
        rc = emit(h, nd[i].sym, s, nd[i].a, nd[i].b, ids, nids, cap);
done:
    if (nd != st_nodes) free(nd);
    if (hp != st_heap) free(hp);
    return rc;
}

/* A word of n bytes gives at most n ids (one per byte at worst: byte
 * fallback), so the cached ids always fit after reserving n slots. */
int hf_bpe_word(const hf_tok *h, const char *s, size_t n, int32_t **ids, size_t *nids, size_t *cap) {
    if (!n) return 0;
    if (h->cache) {
        if (*cap - *nids < n) {
            size_t c = *cap ? *cap : 64;
            while (c - *nids < n) c *= 2;
            int32_t *p = realloc(*ids, c * sizeof *p);
            if (!p) return -1;
            *ids = p; *cap = c;
        }
        size_t k;
        if (hf_wcache_get(h->cache, s, n, *ids + *nids, *cap - *nids, &k)) { *nids += k; return 0; }
    }
    size_t first = *nids;
    int rc = bpe_word(h, s, n, ids, nids, cap);
    if (!rc && h->cache) hf_wcache_put(h->cache, s, n, *ids + first, *nids - first);
    return rc;
}

/* Single code points are looked up in a table rather than hashed; the table is
 * built from the final symbol map so both lookups give the same entry. */
int hf_bpe_prepare(hf_tok *h) {
    h->cp2sym = malloc(HF_CP_TABLE * sizeof *h->cp2sym);
    if (!h->cp2sym) return -1;
    for (uint32_t cp = 0; cp < HF_CP_TABLE; cp++) h->cp2sym[cp] = -1;
    for (size_t e = 0; e < h->syms.n; e++) {
        const unsigned char *u = (const unsigned char *)HF_STR(&h->syms, e);
        size_t len = h->syms.len[e];
        int l = hf_utf8_len(u, len);
        if (!l || (size_t)l != len) continue;
        uint32_t cp = hf_utf8_cp(u, l);
        if (cp < HF_CP_TABLE && h->cp2sym[cp] < 0) h->cp2sym[cp] = (int32_t)e;
    }
    for (size_t i = 0; i < h->nadded; i++)
        if (h->added[i].len) h->added_first[(unsigned char)h->added[i].content[0]] = 1;
    h->cache = hf_wcache_new();   /* NULL: encode works without it, only slower */
    return 0;
}
