/* llama2.c tokenizer (tok*.bin): int32 max_token_length, then per token a float32
 * score, an int32 byte length and the bytes.  Encoding follows the reference
 * implementation: optional BOS, a dummy-prefix space token before non-empty text,
 * one token per UTF-8 code point (bytes +3 for unknown ones), then greedy merges
 * of the best-scoring adjacent pair.  Decoding strips the leading space of the
 * first piece after BOS and turns <0xNN> pieces back into bytes. */
#include "interv/tokenizer.h"
#include "interv/io.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char **pieces;     /* [vocab] NUL-terminated */
    int *lens;         /* [vocab] */
    float *scores;     /* [vocab] */
    int *sorted;       /* [vocab] ids sorted by piece bytes, for lookup */
    int max_len;
} l2c_tok;

static const l2c_tok *impl(const iv_tokenizer *t) { return t->impl; }

static int cmp_piece(const l2c_tok *k, const char *s, int sl, int id) {
    int n = sl < k->lens[id] ? sl : k->lens[id];
    int c = memcmp(s, k->pieces[id], (size_t)n);
    return c ? c : (sl > k->lens[id]) - (sl < k->lens[id]);
}

static int lookup(const l2c_tok *k, int vocab, const char *s, int sl) {
    int lo = 0, hi = vocab - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, c = cmp_piece(k, s, sl, k->sorted[mid]);
        if (c == 0) return k->sorted[mid];
        if (c < 0) hi = mid - 1; else lo = mid + 1;
    }
    return -1;
}

static int cmp_ids(const void *a, const void *b, void *ctx) {
    const l2c_tok *k = ctx;
    int x = *(const int *)a, y = *(const int *)b;
    return cmp_piece(k, k->pieces[x], k->lens[x], y);
}

static int l2c_encode(const iv_tokenizer *t, const char *text, size_t len, int add_special, int32_t **ids,
                      size_t *n, iv_err *err) {
    const l2c_tok *k = impl(t);
    int32_t *out = malloc((len + 3) * sizeof *out);
    if (!out) return iv_errf(err, "tokenizer: out of memory");
    size_t m = 0;
    if (add_special && t->bos_id >= 0) out[m++] = t->bos_id;
    if (len > 0) {
        int sp = lookup(k, t->vocab_size, " ", 1);
        if (sp >= 0) out[m++] = sp;
    }
    for (size_t i = 0; i < len;) {
        size_t j = i + 1; /* extend over UTF-8 continuation bytes, at most 4 bytes */
        while (j < len && j - i < 4 && ((unsigned char)text[j] & 0xC0) == 0x80) j++;
        int id = lookup(k, t->vocab_size, text + i, (int)(j - i));
        if (id >= 0) out[m++] = id;
        else
            for (size_t b = i; b < j; b++) out[m++] = (unsigned char)text[b] + 3; /* byte fallback */
        i = j;
    }
    char *buf = malloc((size_t)k->max_len * 2 + 2);
    size_t start = add_special && t->bos_id >= 0 ? 1 : 0;
    for (;;) { /* merge the best-scoring adjacent pair until none merges */
        float best = -1e10f;
        long best_i = -1;
        int best_id = -1;
        for (size_t i = start; i + 1 < m; i++) {
            int a = out[i], b = out[i + 1];
            if (a < 0 || b < 0 || a >= t->vocab_size || b >= t->vocab_size) continue;
            if (k->lens[a] + k->lens[b] > 2 * k->max_len) continue;
            memcpy(buf, k->pieces[a], (size_t)k->lens[a]);
            memcpy(buf + k->lens[a], k->pieces[b], (size_t)k->lens[b]);
            int id = lookup(k, t->vocab_size, buf, k->lens[a] + k->lens[b]);
            if (id >= 0 && k->scores[id] > best) { best = k->scores[id]; best_i = (long)i; best_id = id; }
        }
        if (best_i < 0) break;
        out[best_i] = best_id;
        memmove(out + best_i + 1, out + best_i + 2, (m - (size_t)best_i - 2) * sizeof *out);
        m--;
    }
    free(buf);
    *ids = out;
    *n = m;
    return 0;
}

/* Appends the bytes of token id (following token prev) to the buffer. */
static size_t piece_bytes(const iv_tokenizer *t, int32_t prev, int32_t id, char *dst) {
    const l2c_tok *k = impl(t);
    const char *p = k->pieces[id];
    int l = k->lens[id];
    if (prev == t->bos_id && l > 0 && p[0] == ' ') { p++; l--; }
    unsigned int byte;
    char tail;
    if (l == 6 && sscanf(p, "<0x%02X>%c", &byte, &tail) == 1) { dst[0] = (char)byte; return 1; }
    memcpy(dst, p, (size_t)l);
    return (size_t)l;
}

static int l2c_decode(const iv_tokenizer *t, const int32_t *ids, size_t n, int skip_special, char **text,
                      size_t *len, iv_err *err) {
    const l2c_tok *k = impl(t);
    char *out = malloc(n * (size_t)(k->max_len + 1) + 1);
    if (!out) return iv_errf(err, "tokenizer: out of memory");
    size_t m = 0;
    int32_t prev = -1;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= t->vocab_size) {
            free(out);
            return iv_errf(err, "tokenizer: id %d outside the vocabulary of %d", ids[i], t->vocab_size);
        }
        int special = ids[i] == t->bos_id || ids[i] == t->eos_id || ids[i] == 0;
        if (!(skip_special && special)) m += piece_bytes(t, prev, ids[i], out + m);
        prev = ids[i];
    }
    out[m] = 0;
    *text = out;
    if (len) *len = m;
    return 0;
}

static const char *l2c_piece(const iv_tokenizer *t, int32_t id) { return impl(t)->pieces[id]; }

static void l2c_destroy(iv_tokenizer *t) {
    l2c_tok *k = t->impl;
    if (k) {
        for (int i = 0; i < t->vocab_size; i++) free(k->pieces[i]);
        free(k->pieces); free(k->lens); free(k->scores); free(k->sorted); free(k);
    }
    free(t);
}

static const struct iv_tokenizer_ops l2c_ops = {l2c_encode, l2c_decode, l2c_piece, l2c_destroy};

int iv_tok_load_llama2c(const char *path, iv_tokenizer **out, iv_err *err) {
    iv_mapped m;
    if (iv_map_file(path, &m, err) != 0) return -1;
    int32_t max_len;
    /* checked before any pointer arithmetic: an empty file maps to NULL */
    if (m.size < 4) { iv_unmap(&m); return iv_errf(err, "%s: truncated tokenizer (no header)", path); }
    const uint8_t *p = m.data, *end = m.data + m.size;
    memcpy(&max_len, p, 4);
    p += 4;
    if (max_len <= 0 || max_len > 4096) { iv_unmap(&m); return iv_errf(err, "%s: bad max_token_length %d", path, max_len); }
    /* count entries first so we allocate once */
    int count = 0;
    for (const uint8_t *q = p; q < end; count++) {
        int32_t l;
        if (end - q < 8) { iv_unmap(&m); return iv_errf(err, "%s: truncated at token %d", path, count); }
        memcpy(&l, q + 4, 4);
        if (l < 0 || l > max_len || end - q - 8 < l) {
            iv_unmap(&m);
            return iv_errf(err, "%s: token %d has length %d past the end of the file or max_token_length %d",
                           path, count, l, max_len);
        }
        q += 8 + l;
    }
    if (count < 3) { iv_unmap(&m); return iv_errf(err, "%s: only %d tokens", path, count); }
    iv_tokenizer *t = calloc(1, sizeof *t);
    l2c_tok *k = calloc(1, sizeof *k);
    k->pieces = calloc((size_t)count, sizeof *k->pieces);
    k->lens = calloc((size_t)count, sizeof *k->lens);
    k->scores = calloc((size_t)count, sizeof *k->scores);
    k->sorted = calloc((size_t)count, sizeof *k->sorted);
    k->max_len = max_len;
    for (int i = 0; i < count; i++) {
        int32_t l;
        memcpy(&k->scores[i], p, 4);
        memcpy(&l, p + 4, 4);
        k->pieces[i] = malloc((size_t)l + 1);
        memcpy(k->pieces[i], p + 8, (size_t)l);
        k->pieces[i][l] = 0;
        k->lens[i] = l;
        k->sorted[i] = i;
        p += 8 + l;
    }
    iv_unmap(&m);
    qsort_r(k->sorted, (size_t)count, sizeof(int), cmp_ids, k);
    t->ops = &l2c_ops;
    t->vocab_size = count;
    t->bos_id = 1;
    t->eos_id = 2;
    t->impl = k;
    *out = t;
    return 0;
}

int iv_tok_save_llama2c(const iv_tokenizer *t, const char *path, iv_err *err) {
    if (t->ops != &l2c_ops) return iv_errf(err, "%s: only llama2.c tokenizers can be saved in tok*.bin layout", path);
    const l2c_tok *k = impl(t);
    size_t total = 4;
    for (int i = 0; i < t->vocab_size; i++) total += 8 + (size_t)k->lens[i];
    uint8_t *buf = malloc(total), *p = buf;
    if (!buf) return iv_errf(err, "%s: out of memory", path);
    memcpy(p, &k->max_len, 4);
    p += 4;
    for (int i = 0; i < t->vocab_size; i++) {
        memcpy(p, &k->scores[i], 4);
        memcpy(p + 4, &k->lens[i], 4);
        memcpy(p + 8, k->pieces[i], (size_t)k->lens[i]);
        p += 8 + k->lens[i];
    }
    int rc = iv_write_atomic(path, buf, total, err);
    free(buf);
    return rc;
}
