/* Word cache of the BPE: pre-token bytes -> the ids the merge loop gave them.
 * Natural text repeats a small set of words, so most words skip the merge loop.
 * One cache per tokenizer, shared by all threads and guarded by a mutex (the
 * encode op takes a const tokenizer and may run on several threads at once).
 * Bounded: when it holds HF_CACHE_MAX words or HF_CACHE_BYTES of data it is
 * emptied and refilled. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "tok/hf_internal.h"

#define HF_CACHE_MAX   65536u            /* words kept before a reset */
#define HF_CACHE_BYTES (8u << 20)        /* bytes of keys + ids kept before a reset */
#define HF_CACHE_SLOTS (2 * HF_CACHE_MAX)   /* power of two, load <= 1/2 */

typedef struct { uint32_t hash, off, klen, nids; } centry;   /* data: key bytes, then ids */

struct hf_wcache {
    pthread_mutex_t mu;
    uint32_t *slot;       /* [HF_CACHE_SLOTS] entry + 1, 0 = empty */
    centry *ent;          /* [HF_CACHE_MAX] */
    uint32_t n;
    char *data; size_t dlen;   /* [HF_CACHE_BYTES] */
};

static uint32_t chash(const char *s, size_t n) {
    uint64_t h = 0xCBF29CE484222325ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001B3ull;
    h ^= h >> 31; h *= 0x9E3779B97F4A7C15ull; h ^= h >> 29;
    return (uint32_t)h;
}

hf_wcache *hf_wcache_new(void) {
    hf_wcache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->slot = calloc(HF_CACHE_SLOTS, sizeof *c->slot);
    c->ent = malloc(HF_CACHE_MAX * sizeof *c->ent);
    c->data = malloc(HF_CACHE_BYTES);
    if (!c->slot || !c->ent || !c->data || pthread_mutex_init(&c->mu, NULL)) {
        free(c->slot); free(c->ent); free(c->data); free(c);
        return NULL;
    }
    return c;
}

void hf_wcache_free(hf_wcache *c) {
    if (!c) return;
    pthread_mutex_destroy(&c->mu);
    free(c->slot); free(c->ent); free(c->data); free(c);
}

/* Slot of word s (found: *hit = 1) or the empty slot where it would go. */
static uint32_t find_slot(const hf_wcache *c, const char *s, size_t n, uint32_t h, int *hit) {
    uint32_t i = h & (HF_CACHE_SLOTS - 1);
    for (; c->slot[i]; i = (i + 1) & (HF_CACHE_SLOTS - 1)) {
        const centry *e = &c->ent[c->slot[i] - 1];
        if (e->hash == h && e->klen == n && !memcmp(c->data + e->off, s, n)) { *hit = 1; return i; }
    }
    *hit = 0;
    return i;
}

int hf_wcache_get(hf_wcache *c, const char *s, size_t n, int32_t *out, size_t maxn, size_t *nout) {
    uint32_t h = chash(s, n);
    int hit, r = 0;
    pthread_mutex_lock(&c->mu);
    uint32_t i = find_slot(c, s, n, h, &hit);
    if (hit) {
        const centry *e = &c->ent[c->slot[i] - 1];
        if (e->nids <= maxn) {
            memcpy(out, c->data + e->off + ((e->klen + 3u) & ~3u), e->nids * sizeof *out);
            *nout = e->nids;
            r = 1;
        }
    }
    pthread_mutex_unlock(&c->mu);
    return r;
}

void hf_wcache_put(hf_wcache *c, const char *s, size_t n, const int32_t *ids, size_t nids) {
    size_t need = ((n + 3u) & ~(size_t)3u) + nids * sizeof *ids;
    if (need > HF_CACHE_BYTES / 64) return;   /* too long to be worth keeping */
    uint32_t h = chash(s, n);
    int hit;
    pthread_mutex_lock(&c->mu);
    if (c->n == HF_CACHE_MAX || c->dlen + need > HF_CACHE_BYTES) {   /* full: start over */
        memset(c->slot, 0, HF_CACHE_SLOTS * sizeof *c->slot);
        c->n = 0; c->dlen = 0;
    }
    uint32_t i = find_slot(c, s, n, h, &hit);
    if (!hit) {
        centry *e = &c->ent[c->n];
        *e = (centry){h, (uint32_t)c->dlen, (uint32_t)n, (uint32_t)nids};
        memcpy(c->data + c->dlen, s, n);
        memcpy(c->data + c->dlen + ((n + 3u) & ~(size_t)3u), ids, nids * sizeof *ids);
        c->dlen += need;
        c->slot[i] = ++c->n;
    }
    pthread_mutex_unlock(&c->mu);
}
