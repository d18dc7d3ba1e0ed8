/* Shared internals of the Hugging Face tokenizer (tokenizer.json and GPT-2
 * vocab+merges): containers, UTF-8 helpers and the pipeline stage types.
 * The pipeline is: added-token split -> normalizer -> pre-tokenizer -> BPE ->
 * post-processor; decoding runs the decoder chain over vocabulary strings. */
#ifndef INTERV_HF_INTERNAL_H
#define INTERV_HF_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "interv/tokenizer.h"

/* ---- growable byte buffer ---- */
typedef struct { char *p; size_t n, cap; } hf_buf;
int hf_buf_put(hf_buf *b, const void *s, size_t n);   /* 0 / -1 (out of memory) */
int hf_buf_putc(hf_buf *b, char c);
void hf_buf_free(hf_buf *b);

/* ---- list of pieces (byte spans into one text buffer) ---- */
typedef struct { size_t off, len; } hf_span;
typedef struct {
    hf_buf text;
    hf_span *v;  /* [n] */
    size_t n, cap;
} hf_pieces;
int hf_pieces_add(hf_pieces *p, const char *s, size_t n);   /* copies s */
void hf_pieces_clear(hf_pieces *p);
void hf_pieces_free(hf_pieces *p);
#define HF_PIECE(ps, i) ((ps)->text.p + (ps)->v[i].off)

/* ---- string -> int32 map with its own NUL-terminated string arena ---- */
typedef struct {
    char *arena; size_t alen, acap;
    uint32_t *off, *len, *hash;  /* [n] per entry */
    int32_t *val;                /* [n] */
    size_t n, ecap;
    uint64_t *slots;             /* [scap] hash << 32 | entry index + 1; 0 = empty */
    size_t scap;
} hf_strmap;
/* Returns the entry index (existing or new) or -1 on out of memory; *is_new set. */
long hf_strmap_put(hf_strmap *m, const char *s, size_t n, int32_t val, int *is_new);
long hf_strmap_find(const hf_strmap *m, const char *s, size_t n); /* entry or -1 */
void hf_strmap_free(hf_strmap *m);
#define HF_STR(m, e) ((m)->arena + (m)->off[e])

/* ---- (sym a, sym b) -> (rank, merged sym) ---- */
typedef struct {
    uint64_t *key;   /* [cap] ((a+1) << 32 | (b+1)), 0 = empty */
    int32_t *rank;   /* [cap] */
    int32_t *res;    /* [cap] */
    size_t n, cap;
} hf_pairmap;
int hf_pairmap_put(hf_pairmap *m, uint32_t a, uint32_t b, int32_t rank, int32_t res);
/* Returns the slot or -1. Keeps the first rank given for a pair. */
long hf_pairmap_find(const hf_pairmap *m, uint32_t a, uint32_t b);
void hf_pairmap_free(hf_pairmap *m);

/* ---- UTF-8 ---- */
/* Length of the valid sequence at s (1..4) or 0 when invalid. */
int hf_utf8_len(const unsigned char *s, size_t n);
uint32_t hf_utf8_cp(const unsigned char *s, int len);
int hf_utf8_put(char *out, uint32_t cp);   /* returns bytes written */
/* Offset of the first invalid byte, or (size_t)-1 when s is valid UTF-8. */
size_t hf_utf8_invalid_at(const char *s, size_t n);
/* Appends s decoded as UTF-8 with U+FFFD for each maximal invalid subpart
 * (the WHATWG decoder, as TextDecoder does). */
int hf_utf8_lossy(hf_buf *out, const unsigned char *s, size_t n);
/* White space as JavaScript's trim() and \s define it. */
int hf_js_space(uint32_t cp);

/* ---- byte-level (GPT-2) alphabet ---- */
extern uint32_t hf_byte2cp[256];
int hf_cp2byte(uint32_t cp);   /* -1 when cp is not in the alphabet */
void hf_bytelevel_init(void);

/* ---- pipeline stages ---- */
typedef struct hf_regex hf_regex;   /* PCRE2 code (JS-compatible rewrite) */
int hf_regex_compile(const char *pattern, hf_regex **out, char *msg, size_t msgcap);
void hf_regex_free(hf_regex *r);
/* Finds matches left to right; calls cb(start, end, ctx) for each non-empty one. */
int hf_regex_each(const hf_regex *r, const char *s, size_t n,
                  int (*cb)(size_t, size_t, void *), void *ctx);

typedef enum { HF_PAT_STRING, HF_PAT_REGEX } hf_pat_kind;
typedef struct {
    hf_pat_kind kind;
    char *str; size_t len;   /* HF_PAT_STRING */
    hf_regex *re;            /* HF_PAT_REGEX */
} hf_pattern;
int hf_pattern_each(const hf_pattern *p, const char *s, size_t n,
                    int (*cb)(size_t, size_t, void *), void *ctx);
void hf_pattern_free(hf_pattern *p);

typedef enum { HF_NORM_SEQ, HF_NORM_PREPEND, HF_NORM_REPLACE, HF_NORM_NFC, HF_NORM_NFKC,
               HF_NORM_NFD, HF_NORM_NFKD, HF_NORM_LOWER, HF_NORM_STRIP } hf_norm_kind;
typedef struct hf_norm {
    hf_norm_kind kind;
    char *content; size_t clen;     /* prepend text / replacement */
    hf_pattern pat;                 /* replace */
    int strip_left, strip_right;
    struct hf_norm *sub; size_t nsub;
} hf_norm;
int hf_normalize(const hf_norm *nm, const char *s, size_t n, hf_buf *out);
void hf_norm_free(hf_norm *nm);

typedef enum { HF_SPLIT_REMOVED, HF_SPLIT_ISOLATED, HF_SPLIT_PREV, HF_SPLIT_NEXT,
               HF_SPLIT_CONTIG } hf_split_behavior;
typedef enum { HF_PRE_SEQ, HF_PRE_BYTELEVEL, HF_PRE_SPLIT, HF_PRE_METASPACE,
               HF_PRE_DIGITS } hf_pre_kind;
typedef enum { HF_PREPEND_ALWAYS, HF_PREPEND_FIRST, HF_PREPEND_NEVER } hf_prepend;
typedef struct hf_pre {
    hf_pre_kind kind;
    int add_prefix_space, use_regex;       /* ByteLevel */
    hf_pattern pat; hf_split_behavior behavior; int invert;   /* Split */
    char repl[8]; size_t repl_len; hf_prepend prepend; int split;   /* Metaspace */
    int individual_digits;                 /* Digits */
    struct hf_pre *sub; size_t nsub;
} hf_pre;
/* Runs the pre-tokenizer over `in` (replaced by the result). section: the index
 * of this text among the added-token sections (Metaspace "first"). */
int hf_pretokenize(const hf_pre *pt, hf_pieces *in, hf_pieces *tmp, int section,
                   const hf_regex *gpt2_re);
void hf_pre_free(hf_pre *pt);

typedef enum { HF_DEC_SEQ, HF_DEC_BYTELEVEL, HF_DEC_REPLACE, HF_DEC_BYTEFALLBACK,
               HF_DEC_FUSE, HF_DEC_STRIP, HF_DEC_METASPACE } hf_dec_kind;
typedef struct hf_dec {
    hf_dec_kind kind;
    hf_pattern pat; char *content; size_t clen;   /* Replace */
    uint32_t strip_cp; int start, stop;           /* Strip */
    char repl[8]; size_t repl_len; int prefix;    /* Metaspace */
    struct hf_dec *sub; size_t nsub;
} hf_dec;
void hf_dec_free(hf_dec *d);

/* ---- word cache (hf_cache.c): thread-safe, bounded ---- */
typedef struct hf_wcache hf_wcache;
hf_wcache *hf_wcache_new(void);   /* NULL when out of memory */
void hf_wcache_free(hf_wcache *c);
/* Copies the cached ids of word s to out (at most maxn) and returns 1, or 0. */
int hf_wcache_get(hf_wcache *c, const char *s, size_t n, int32_t *out, size_t maxn, size_t *nout);
void hf_wcache_put(hf_wcache *c, const char *s, size_t n, const int32_t *ids, size_t nids);

/* ---- the tokenizer ---- */
typedef struct {
    char *content; size_t len;
    int32_t id;
    int special, lstrip, rstrip;
} hf_added;

typedef struct {
    char *path;                 /* for messages */
    hf_strmap syms;             /* every string in vocab/merges -> vocab id or -1 */
    int32_t *id2sym;            /* [vocab_size] entry of syms, -1 for a hole */
    hf_pairmap merges;
    int32_t unk_id;             /* -1 when none */
    int byte_fallback, fuse_unk, ignore_merges;
    int32_t byte_ids[256];      /* <0xXX> ids or -1 */
    hf_norm *norm;              /* NULL = none */
    hf_pre *pre;                /* NULL = none */
    hf_dec *dec;                /* NULL = none */
    hf_added *added; size_t nadded;
    uint8_t *is_special;        /* [vocab_size] */
    /* added-token trie: node*256+byte -> child, open addressing */
    uint64_t *trie_key; int32_t *trie_child; size_t trie_cap, trie_nodes;
    int32_t *trie_end;          /* [trie_nodes] added index or -1 */
    int32_t *prefix_ids; size_t nprefix;   /* post-processor, single sequence */
    int32_t *suffix_ids; size_t nsuffix;
    hf_regex *gpt2_re;          /* the ByteLevel regex, compiled once */
    int32_t *cp2sym;            /* [HF_CP_TABLE] entry of syms for one code point, -1 = none */
    hf_wcache *cache;           /* word -> ids; NULL = no caching (out of memory) */
    uint8_t added_first[256];   /* 1 = some added token starts with this byte */
} hf_tok;
#define HF_CP_TABLE 0x10000     /* code points below this use cp2sym */

/* Fills cp2sym and creates the word cache; called once the tables are final. */
int hf_bpe_prepare(hf_tok *h);

/* Builds the model tables; called by both loaders. */
int hf_bpe_add_vocab(hf_tok *h, const char *s, size_t n, long id, const char *path, char *msg, size_t cap);
int hf_bpe_add_merge(hf_tok *h, const char *a, size_t an, const char *b, size_t bn, int32_t rank);
int hf_bpe_finish(hf_tok *h, int32_t vocab_size, char *msg, size_t cap);
/* Encodes one pre-token, appending ids. */
int hf_bpe_word(const hf_tok *h, const char *s, size_t n, int32_t **ids, size_t *nids, size_t *cap);

int hf_added_build(hf_tok *h, char *msg, size_t cap);
int hf_decode_tokens(const hf_tok *h, const hf_dec *d, hf_pieces *toks, hf_pieces *tmp);
/* Wraps a finished hf_tok in an iv_tokenizer (takes ownership). */
int hf_make_tokenizer(hf_tok *h, iv_tokenizer **out, iv_err *err);
void hf_tok_free(hf_tok *h);

#endif
