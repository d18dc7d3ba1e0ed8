/* The HF tokenizer behind iv_tokenizer: added-token splitting, the encode
 * pipeline (normalizer -> pre-tokenizer -> BPE -> post-processor) and decode. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tok/hf_internal.h"
#include "tok/hf_tokenizer.h"

/* ---- added-token trie (bytes; leftmost match, longest at that position) ---- */
static size_t trie_slot(uint64_t k, size_t cap) {
    k ^= k >> 31; k *= 0x9E3779B97F4A7C15ull; k ^= k >> 29;
    return (size_t)k & (cap - 1);
}
static int32_t trie_get(const hf_tok *h, int32_t node, unsigned char c) {
    if (!h->trie_cap) return -1;
    uint64_t k = ((uint64_t)node << 8 | c) + 1;
    for (size_t i = trie_slot(k, h->trie_cap);; i = (i + 1) & (h->trie_cap - 1)) {
        if (h->trie_key[i] == k) return h->trie_child[i];
        if (!h->trie_key[i]) return -1;
    }
}
static int trie_add(hf_tok *h, const char *s, size_t n, int32_t idx) {
    int32_t node = 0;
    for (size_t j = 0; j < n; j++) {
        unsigned char c = (unsigned char)s[j];
        int32_t ch = trie_get(h, node, c);
        if (ch < 0) {
            if ((h->trie_nodes + 1) * 2 > h->trie_cap) {   /* grow and rehash */
                size_t cap = h->trie_cap ? h->trie_cap * 2 : 1024;
                uint64_t *key = calloc(cap, sizeof *key);
                int32_t *chl = malloc(cap * sizeof *chl);
                if (!key || !chl) { free(key); free(chl); return -1; }
                for (size_t i = 0; i < h->trie_cap; i++) {
                    if (!h->trie_key[i]) continue;
                    size_t q = trie_slot(h->trie_key[i], cap);
                    while (key[q]) q = (q + 1) & (cap - 1);
                    key[q] = h->trie_key[i]; chl[q] = h->trie_child[i];
                }
                free(h->trie_key); free(h->trie_child);
                h->trie_key = key; h->trie_child = chl; h->trie_cap = cap;
            }
            int32_t *e = realloc(h->trie_end, (h->trie_nodes + 1) * sizeof *e);
            if (!e) return -1;
            h->trie_end = e;
            ch = (int32_t)h->trie_nodes++;
            h->trie_end[ch] = -1;
            uint64_t k = ((uint64_t)node << 8 | c) + 1;
            size_t q = trie_slot(k, h->trie_cap);
            while (h->trie_key[q]) q = (q + 1) & (h->trie_cap - 1);
            h->trie_key[q] = k; h->trie_child[q] = ch;
        }
        node = ch;
    }
    h->trie_end[node] = idx;   /* a later duplicate wins, as in the reference's map */
    return 0;
}

/* Index of the added token whose content is exactly s, or -1. */
static int32_t added_exact(const hf_tok *h, const char *s, size_t n) {
    if (!h->trie_nodes || !n) return -1;
    int32_t node = 0;
    for (size_t j = 0; j < n && node >= 0; j++) node = trie_get(h, node, (unsigned char)s[j]);
    return node >= 0 ? h->trie_end[node] : -1;
}
int hf_is_added(const hf_tok *h, const char *s, size_t n) { return added_exact(h, s, n) >= 0; }

int hf_added_build(hf_tok *h, char *msg, size_t cap) {
    for (size_t i = 0; i < h->nadded; i++)
        if (h->added[i].id < 0) {
            snprintf(msg, cap, "%s: added token \"%.60s\" has no valid id", h->path, h->added[i].content);
            return -1;
        }
    int32_t vs = 0;
    for (size_t e = 0; e < h->syms.n; e++) if (h->syms.val[e] >= vs) vs = h->syms.val[e] + 1;
    for (size_t i = 0; i < h->nadded; i++) if (h->added[i].id >= vs) vs = h->added[i].id + 1;
    int32_t *m = realloc(h->id2sym, (size_t)(vs ? vs : 1) * sizeof *m);
    h->is_special = calloc((size_t)(vs ? vs : 1), 1);
    if (!m || !h->is_special) { if (m) h->id2sym = m; snprintf(msg, cap, "%s: out of memory", h->path); return -1; }
    int32_t old = 0;
    for (size_t e = 0; e < h->syms.n; e++) if (h->syms.val[e] >= old) old = h->syms.val[e] + 1;
    for (int32_t i = old; i < vs; i++) m[i] = -1;
    h->id2sym = m;
    if (h->nadded) {   /* node 0 = root */
        h->trie_end = malloc(sizeof *h->trie_end);
        if (!h->trie_end) { snprintf(msg, cap, "%s: out of memory", h->path); return -1; }
        h->trie_end[0] = -1; h->trie_nodes = 1;
    }
    for (size_t i = 0; i < h->nadded; i++) {
        hf_added *a = &h->added[i];
        int is_new;
        long e = hf_strmap_put(&h->syms, a->content, a->len, a->id, &is_new);
        if (e < 0 || trie_add(h, a->content, a->len, (int32_t)i)) {
            snprintf(msg, cap, "%s: out of memory", h->path);
            return -1;
        }
        h->syms.val[e] = a->id;
        h->id2sym[a->id] = (int32_t)e;
        if (a->special) h->is_special[a->id] = 1;
    }
    return 0;
}

/* ---- encode ---- */
typedef struct { size_t a, b; } span;

static int ids_push(int32_t **ids, size_t *n, size_t *cap, int32_t v) {
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        int32_t *p = realloc(*ids, c * sizeof *p);
        if (!p) return -1;
        *ids = p; *cap = c;
    }
    (*ids)[(*n)++] = v;
    return 0;
}

/* Splits text at added tokens (what the reference's dictionary splitter does). */
static int split_added(const hf_tok *h, const char *t, size_t n, span **out, size_t *nout) {
    size_t cap = 8, k = 0, start = 0, i = 0;
    span *v = malloc(cap * sizeof *v);
    if (!v) return -1;
    while (i < n) {
        if (!h->added_first[(unsigned char)t[i]]) { i++; continue; }   /* no token starts here */
        size_t best = 0;
        int32_t node = 0;
        for (size_t j = i; j < n && h->trie_nodes; j++) {
            node = trie_get(h, node, (unsigned char)t[j]);
            if (node < 0) break;
            if (h->trie_end[node] >= 0) best = j + 1 - i;
        }
        if (!best) { i++; continue; }
        if (k + 2 > cap) {
            cap *= 2;
            span *q = realloc(v, cap * sizeof *q);
            if (!q) { free(v); return -1; }
            v = q;
        }
        if (i > start) v[k++] = (span){start, i};
        v[k++] = (span){i, i + best};
        i += best;
        start = i;
    }
    if (start < n) {
        if (k + 1 > cap) {
            span *q = realloc(v, (cap + 1) * sizeof *q);
            if (!q) { free(v); return -1; }
            v = q;
        }
        v[k++] = (span){start, n};
    }
    *out = v; *nout = k;
    return 0;
}

static size_t trim_end(const char *t, size_t a, size_t b) {
    const unsigned char *u = (const unsigned char *)t;
    while (b > a) {
        size_t k = b - 1;
        while (k > a && (u[k] & 0xC0) == 0x80) k--;
        int l = hf_utf8_len(u + k, b - k);
        if (!l || !hf_js_space(hf_utf8_cp(u + k, l))) break;
        b = k;
    }
    return b;
}
static size_t trim_start(const char *t, size_t a, size_t b) {
    const unsigned char *u = (const unsigned char *)t;
    while (a < b) {
        int l = hf_utf8_len(u + a, b - a);
        if (!l || !hf_js_space(hf_utf8_cp(u + a, l))) break;
        a += (size_t)l;
    }
    return a;
}

static int hf_encode(const iv_tokenizer *t, const char *text, size_t len, int add_special,
                     int32_t **ids_out, size_t *n_out, iv_err *err) {
    const hf_tok *h = t->impl;
    size_t bad = hf_utf8_invalid_at(text, len);
    if (bad != (size_t)-1)
        return iv_errf(err, "%s: input text is not valid UTF-8 (byte %zu)", h->path, bad);
    span *sec = NULL;
    size_t nsec = 0, n = 0, cap = 0;
    int32_t *ids = NULL;
    hf_buf norm = {0};
    hf_pieces pa = {0}, pb = {0};
    int rc = 0;
    if (split_added(h, text, len, &sec, &nsec)) goto oom;
    for (size_t i = 0; i < nsec; i++) {   /* lstrip / rstrip strip the neighbours */
        int32_t a = added_exact(h, text + sec[i].a, sec[i].b - sec[i].a);
        if (a < 0) continue;
        if (h->added[a].lstrip && i > 0) sec[i - 1].b = trim_end(text, sec[i - 1].a, sec[i - 1].b);
        if (h->added[a].rstrip && i + 1 < nsec) sec[i + 1].a = trim_start(text, sec[i + 1].a, sec[i + 1].b);
    }
    if (add_special)
        for (size_t i = 0; i < h->nprefix; i++) if (ids_push(&ids, &n, &cap, h->prefix_ids[i])) goto oom;
    for (size_t si = 0; si < nsec; si++) {
        const char *s = text + sec[si].a;
        size_t sl = sec[si].b - sec[si].a;
        if (!sl) continue;
        int32_t a = added_exact(h, s, sl);
        if (a >= 0) { if (ids_push(&ids, &n, &cap, h->added[a].id)) goto oom; continue; }
        if (h->norm) {
            if (hf_normalize(h->norm, s, sl, &norm)) goto oom;
            s = norm.p; sl = norm.n;
            if (!sl) continue;
        }
        hf_pieces_clear(&pa);
        if (hf_pieces_add(&pa, s, sl)) goto oom;
        if (h->pre && hf_pretokenize(h->pre, &pa, &pb, (int)si, h->gpt2_re)) goto oom;
        size_t first = n;
        for (size_t p = 0; p < pa.n; p++) {
            int r = hf_bpe_word(h, HF_PIECE(&pa, p), pa.v[p].len, &ids, &n, &cap);
            if (r == -2) {
                rc = iv_errf(err, "%s: cannot encode \"%.40s\": not in the vocabulary and no unk token",
                             h->path, HF_PIECE(&pa, p));
                goto out;
            }
            if (r) goto oom;
        }
        if (h->fuse_unk && h->unk_id >= 0) {   /* runs of unk become one, per section */
            size_t w = first;
            for (size_t r = first; r < n; r++)
                if (!(ids[r] == h->unk_id && w > first && ids[w - 1] == h->unk_id)) ids[w++] = ids[r];
            n = w;
        }
    }
    if (add_special)
        for (size_t i = 0; i < h->nsuffix; i++) if (ids_push(&ids, &n, &cap, h->suffix_ids[i])) goto oom;
    if (!ids && !(ids = malloc(sizeof *ids))) goto oom;
    *ids_out = ids; *n_out = n;
    ids = NULL;
    goto out;
oom:
    rc = iv_errf(err, "%s: out of memory while encoding", h->path);
out:
    free(ids); free(sec);
    hf_buf_free(&norm); hf_pieces_free(&pa); hf_pieces_free(&pb);
    return rc;
}

static int hf_decode(const iv_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                     char **text, size_t *len, iv_err *err) {
    const hf_tok *h = t->impl;
    hf_pieces toks = {0}, tmp = {0};
    hf_buf out = {0};
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->vocab_size || h->id2sym[id] < 0) {
            rc = iv_errf(err, "%s: token id %d is not in the vocabulary (size %d)", h->path, id, t->vocab_size);
            goto out;
        }
        if (skip_special && h->is_special[id]) continue;
        int32_t e = h->id2sym[id];
        if (hf_pieces_add(&toks, HF_STR(&h->syms, e), h->syms.len[e])) goto oom;
    }
    if (h->dec) {
        if (hf_decode_tokens(h, h->dec, &toks, &tmp)) goto oom;
        for (size_t i = 0; i < toks.n; i++) if (hf_buf_put(&out, HF_PIECE(&toks, i), toks.v[i].len)) goto oom;
    } else {
        for (size_t i = 0; i < toks.n; i++)
            if ((i && hf_buf_putc(&out, ' ')) || hf_buf_put(&out, HF_PIECE(&toks, i), toks.v[i].len)) goto oom;
    }
    if (hf_buf_put(&out, "", 0)) goto oom;
    *text = out.p; *len = out.n;
    out.p = NULL;
    goto out;
oom:
    rc = iv_errf(err, "%s: out of memory while decoding", h->path);
out:
    hf_buf_free(&out); hf_pieces_free(&toks); hf_pieces_free(&tmp);
    return rc;
}

static const char *hf_piece(const iv_tokenizer *t, int32_t id) {
    const hf_tok *h = t->impl;
    if (id < 0 || id >= t->vocab_size || h->id2sym[id] < 0) return NULL;
    return HF_STR(&h->syms, h->id2sym[id]);
}

void hf_tok_free(hf_tok *h) {
    if (!h) return;
    free(h->path);
    hf_strmap_free(&h->syms);
    free(h->id2sym);
    hf_pairmap_free(&h->merges);
    if (h->norm) { hf_norm_free(h->norm); free(h->norm); }
    if (h->pre) { hf_pre_free(h->pre); free(h->pre); }
    if (h->dec) { hf_dec_free(h->dec); free(h->dec); }
    for (size_t i = 0; i < h->nadded; i++) free(h->added[i].content);
    free(h->added);
    free(h->is_special);
    free(h->trie_key); free(h->trie_child); free(h->trie_end);
    free(h->prefix_ids); free(h->suffix_ids);
    hf_regex_free(h->gpt2_re);
    free(h->cp2sym);
    hf_wcache_free(h->cache);
    free(h);
}

static void hf_destroy(iv_tokenizer *t) {
    hf_tok_free(t->impl);
    free(t);
}

static const struct iv_tokenizer_ops hf_ops = {hf_encode, hf_decode, hf_piece, hf_destroy};

/* Id of s: only among special added tokens when special_only. */
static int32_t find_id(const hf_tok *h, const char *s, int special_only) {
    long e = hf_strmap_find(&h->syms, s, strlen(s));
    if (e < 0 || h->syms.val[e] < 0) return -1;
    return !special_only || h->is_special[h->syms.val[e]] ? h->syms.val[e] : -1;
}

int hf_make_tokenizer(hf_tok *h, iv_tokenizer **out, iv_err *err) {
    iv_tokenizer *t = calloc(1, sizeof *t);
    if (!t) { iv_errf(err, "%s: out of memory", h->path); hf_tok_free(h); return -1; }
    if (hf_bpe_prepare(h)) { iv_errf(err, "%s: out of memory", h->path); free(t); hf_tok_free(h); return -1; }
    t->ops = &hf_ops;
    t->impl = h;
    int32_t vs = 0;
    for (size_t e = 0; e < h->syms.n; e++) if (h->syms.val[e] >= vs) vs = h->syms.val[e] + 1;
    t->vocab_size = vs;
    /* BOS/EOS: the post-processor's tokens first, then the usual names */
    static const char *bos_names[] = {"<s>", "<bos>", "<|begin_of_text|>", "<|endoftext|>"};
    static const char *eos_names[] = {"</s>", "<eos>", "<|end_of_text|>", "<|endoftext|>"};
    t->bos_id = h->nprefix ? h->prefix_ids[0] : -1;
    t->eos_id = h->nsuffix ? h->suffix_ids[h->nsuffix - 1] : -1;
    for (int sp = 1; sp >= 0; sp--) {   /* special tokens first: Gemma also has a plain "</s>" */
        for (size_t i = 0; i < 4 && t->bos_id < 0; i++) t->bos_id = find_id(h, bos_names[i], sp);
        for (size_t i = 0; i < 4 && t->eos_id < 0; i++) t->eos_id = find_id(h, eos_names[i], sp);
    }
    *out = t;
    return 0;
}
