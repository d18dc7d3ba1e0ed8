/* Loads a Hugging Face tokenizer.json (BPE model).  model.vocab and
 * model.merges are read by the fast scanner (hf_json.c); every other member
 * goes through jansson. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "tok/hf_json.h"
#include "tok/hf_tokenizer.h"

#define MSG 512
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

typedef struct { const char *s, *e; } vspan;
typedef struct { const char *path; char *msg; hf_tok *h; vspan ms[9]; } ctx;
static const char *const MODEL_KEYS[9] = {"type", "vocab", "merges", "unk_token", "byte_fallback", "fuse_unk",
                                          "ignore_merges", "continuing_subword_prefix", "end_of_word_suffix"};

static int fail(ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(ctx *c, const char *fmt, ...) {
    int k = snprintf(c->msg, MSG, "%.300s: ", c->path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->msg + k, MSG - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

static const char *type_of(json_t *o) {
    json_t *t = json_object_get(o, "type");
    return json_is_string(t) ? json_string_value(t) : NULL;
}
static int flag(json_t *o, const char *k, int dflt) {
    json_t *v = json_object_get(o, k);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}
static char *dup_str(json_t *v, size_t *len) {
    size_t n = json_string_length(v);
    char *s = malloc(n + 1);
    if (!s) return NULL;
    memcpy(s, json_string_value(v), n + 1);
    if (len) *len = n;
    return s;
}

static int parse_pattern(ctx *c, json_t *o, const char *where, hf_pattern *p) {
    json_t *pat = json_object_get(o, "pattern");
    json_t *s = json_object_get(pat, "String"), *r = json_object_get(pat, "Regex");
    if (json_is_string(s)) {
        p->kind = HF_PAT_STRING;
        if (!(p->str = dup_str(s, &p->len))) return fail(c, "out of memory");
        return 0;
    }
    if (json_is_string(r)) {
        char m[MSG - 64];
        p->kind = HF_PAT_REGEX;
        if (hf_regex_compile(json_string_value(r), &p->re, m, sizeof m)) {
            char w[MSG];
            snprintf(w, sizeof w, "%s: %s", where, m);
            return fail(c, "%s", w);
        }
        return 0;
    }
    return fail(c, "%s: pattern must be {\"String\": ...} or {\"Regex\": ...}", where);
}

static int get_content(ctx *c, json_t *o, const char *key, const char *where, char **out, size_t *len) {
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v)) {
        char w[128];
        snprintf(w, sizeof w, "%s needs a string \"%s\"", where, key);
        return fail(c, "%s", w);
    }
    if (!(*out = dup_str(v, len))) return fail(c, "out of memory");
    return 0;
}

/* ---- normalizer ---- */
static int parse_norm(ctx *c, json_t *o, hf_norm *nm, int depth) {
    const char *t = type_of(o);
    if (!json_is_object(o) || !t) return fail(c, "normalizer without a \"type\"");
    if (depth > 16) return fail(c, "normalizers nested too deeply");
    if (!strcmp(t, "Sequence")) {
        json_t *a = json_object_get(o, "normalizers");
        if (!json_is_array(a)) return fail(c, "Sequence normalizer needs \"normalizers\"");
        nm->kind = HF_NORM_SEQ;
        nm->nsub = json_array_size(a);
        if (!(nm->sub = calloc(nm->nsub ? nm->nsub : 1, sizeof *nm->sub))) return fail(c, "out of memory");
        for (size_t i = 0; i < nm->nsub; i++)
            if (parse_norm(c, json_array_get(a, i), &nm->sub[i], depth + 1)) return -1;
        return 0;
    }
    if (!strcmp(t, "Prepend")) { nm->kind = HF_NORM_PREPEND; return get_content(c, o, "prepend", "Prepend normalizer", &nm->content, &nm->clen); }
    if (!strcmp(t, "Replace")) {
        nm->kind = HF_NORM_REPLACE;
        if (get_content(c, o, "content", "Replace normalizer", &nm->content, &nm->clen)) return -1;
        return parse_pattern(c, o, "Replace normalizer", &nm->pat);
    }
    if (!strcmp(t, "NFC")) { nm->kind = HF_NORM_NFC; return 0; }
    if (!strcmp(t, "NFKC")) { nm->kind = HF_NORM_NFKC; return 0; }
    if (!strcmp(t, "NFD")) { nm->kind = HF_NORM_NFD; return 0; }
    if (!strcmp(t, "NFKD")) { nm->kind = HF_NORM_NFKD; return 0; }
    if (!strcmp(t, "Lowercase")) { nm->kind = HF_NORM_LOWER; return 0; }
    if (!strcmp(t, "Strip")) {
        nm->kind = HF_NORM_STRIP;
        nm->strip_left = flag(o, "strip_left", 1); nm->strip_right = flag(o, "strip_right", 1);
        return 0;
    }
    return fail(c, "normalizer type \"%s\" is not supported", t);
}

/* ---- pre-tokenizer ---- */
static int parse_pre(ctx *c, json_t *o, hf_pre *pt, int depth) {
    const char *t = type_of(o);
    if (!json_is_object(o) || !t) return fail(c, "pre_tokenizer without a \"type\"");
    if (depth > 16) return fail(c, "pre_tokenizers nested too deeply");
    if (!strcmp(t, "Sequence")) {
        json_t *a = json_object_get(o, "pretokenizers");
        if (!json_is_array(a)) return fail(c, "Sequence pre_tokenizer needs \"pretokenizers\"");
        pt->kind = HF_PRE_SEQ;
        pt->nsub = json_array_size(a);
        if (!(pt->sub = calloc(pt->nsub ? pt->nsub : 1, sizeof *pt->sub))) return fail(c, "out of memory");
        for (size_t i = 0; i < pt->nsub; i++)
            if (parse_pre(c, json_array_get(a, i), &pt->sub[i], depth + 1)) return -1;
        return 0;
    }
    if (!strcmp(t, "ByteLevel")) {
        pt->kind = HF_PRE_BYTELEVEL;
        pt->add_prefix_space = flag(o, "add_prefix_space", 1);
        pt->use_regex = flag(o, "use_regex", 1);
        return 0;
    }
    if (!strcmp(t, "Split")) {
        pt->kind = HF_PRE_SPLIT;
        pt->invert = flag(o, "invert", 0);
        json_t *b = json_object_get(o, "behavior");
        const char *bs = json_is_string(b) ? json_string_value(b) : "";
        if (!strcmp(bs, "Removed")) pt->behavior = HF_SPLIT_REMOVED;
        else if (!strcmp(bs, "Isolated")) pt->behavior = HF_SPLIT_ISOLATED;
        else if (!strcmp(bs, "MergedWithPrevious")) pt->behavior = HF_SPLIT_PREV;
        else if (!strcmp(bs, "MergedWithNext")) pt->behavior = HF_SPLIT_NEXT;
        else if (!strcmp(bs, "Contiguous")) pt->behavior = HF_SPLIT_CONTIG;
        else return fail(c, "Split pre_tokenizer: unknown behavior \"%s\"", bs);
        return parse_pattern(c, o, "Split pre_tokenizer", &pt->pat);
    }
    if (!strcmp(t, "Metaspace")) {
        pt->kind = HF_PRE_METASPACE;
        json_t *r = json_object_get(o, "replacement");
        const char *rs = json_is_string(r) ? json_string_value(r) : "\xE2\x96\x81";
        size_t rl = strlen(rs);
        if (!rl || rl > 4 || hf_utf8_len((const unsigned char *)rs, rl) != (int)rl)
            return fail(c, "Metaspace replacement must be one character");
        memcpy(pt->repl, rs, rl); pt->repl_len = rl;
        json_t *ps = json_object_get(o, "prepend_scheme");
        const char *pss = json_is_string(ps) ? json_string_value(ps) : NULL;
        if (!pss) pt->prepend = flag(o, "add_prefix_space", 1) ? HF_PREPEND_ALWAYS : HF_PREPEND_NEVER;
        else if (!strcmp(pss, "always")) pt->prepend = HF_PREPEND_ALWAYS;
        else if (!strcmp(pss, "first")) pt->prepend = HF_PREPEND_FIRST;
        else if (!strcmp(pss, "never")) pt->prepend = HF_PREPEND_NEVER;
        else return fail(c, "Metaspace: unknown prepend_scheme \"%s\"", pss);
        pt->split = flag(o, "split", 1);
        return 0;
    }
    if (!strcmp(t, "Digits")) {
        pt->kind = HF_PRE_DIGITS;
        pt->individual_digits = flag(o, "individual_digits", 0);
        return 0;
    }
    return fail(c, "pre_tokenizer type \"%s\" is not supported", t);
}

/* ---- decoder ---- */
static int parse_dec(ctx *c, json_t *o, hf_dec *d, int depth) {
    const char *t = type_of(o);
    if (!json_is_object(o) || !t) return fail(c, "decoder without a \"type\"");
    if (depth > 16) return fail(c, "decoders nested too deeply");
    if (!strcmp(t, "Sequence")) {
        json_t *a = json_object_get(o, "decoders");
        if (!json_is_array(a)) return fail(c, "Sequence decoder needs \"decoders\"");
        d->kind = HF_DEC_SEQ;
        d->nsub = json_array_size(a);
        if (!(d->sub = calloc(d->nsub ? d->nsub : 1, sizeof *d->sub))) return fail(c, "out of memory");
        for (size_t i = 0; i < d->nsub; i++)
            if (parse_dec(c, json_array_get(a, i), &d->sub[i], depth + 1)) return -1;
        return 0;
    }
    if (!strcmp(t, "ByteLevel")) { d->kind = HF_DEC_BYTELEVEL; return 0; }
    if (!strcmp(t, "ByteFallback")) { d->kind = HF_DEC_BYTEFALLBACK; return 0; }
    if (!strcmp(t, "Fuse")) { d->kind = HF_DEC_FUSE; return 0; }
    if (!strcmp(t, "Replace")) {
        d->kind = HF_DEC_REPLACE;
        if (get_content(c, o, "content", "Replace decoder", &d->content, &d->clen)) return -1;
        return parse_pattern(c, o, "Replace decoder", &d->pat);
    }
    if (!strcmp(t, "Strip")) {
        d->kind = HF_DEC_STRIP;
        json_t *ct = json_object_get(o, "content");
        const char *cs = json_is_string(ct) ? json_string_value(ct) : "";
        int l = hf_utf8_len((const unsigned char *)cs, strlen(cs));
        if (!l || (size_t)l != strlen(cs)) return fail(c, "Strip decoder content must be one character");
        d->strip_cp = hf_utf8_cp((const unsigned char *)cs, l);
        json_int_t a = json_integer_value(json_object_get(o, "start"));
        json_int_t b = json_integer_value(json_object_get(o, "stop"));
        if (a < 0 || b < 0 || a > 1 << 20 || b > 1 << 20) return fail(c, "Strip decoder: bad start/stop");
        d->start = (int)a; d->stop = (int)b;
        return 0;
    }
    if (!strcmp(t, "Metaspace")) {
        d->kind = HF_DEC_METASPACE;
        json_t *r = json_object_get(o, "replacement");
        const char *rs = json_is_string(r) ? json_string_value(r) : "\xE2\x96\x81";
        size_t rl = strlen(rs);
        if (!rl || rl > 4) return fail(c, "Metaspace replacement must be one character");
        memcpy(d->repl, rs, rl); d->repl_len = rl;
        json_t *ps = json_object_get(o, "prepend_scheme");
        d->prefix = json_is_string(ps) ? strcmp(json_string_value(ps), "never") != 0 : flag(o, "add_prefix_space", 1);
        return 0;
    }
    return fail(c, "decoder type \"%s\" is not supported", t);
}

/* ---- post-processor: the ids put before/after a single sequence ---- */
static int push_special(ctx *c, json_t *specials, const char *name, int32_t **v, size_t *n) {
    json_t *sp = json_object_get(specials, name);
    json_t *ids = json_object_get(sp, "ids");
    size_t k = json_is_array(ids) ? json_array_size(ids) : 0;
    int32_t one = -1;
    if (!k) {   /* no ids listed: look the token up */
        long e = hf_strmap_find(&c->h->syms, name, strlen(name));
        if (e < 0 || c->h->syms.val[e] < 0) return fail(c, "post_processor: special token \"%s\" is not in the vocabulary", name);
        one = c->h->syms.val[e];
        k = 1;
    }
    int32_t *p = realloc(*v, (*n + k) * sizeof *p);
    if (!p) return fail(c, "out of memory");
    *v = p;
    for (size_t i = 0; i < k; i++) {
        json_int_t id = one >= 0 ? one : json_integer_value(json_array_get(ids, i));
        if (id < 0 || id >= (1 << 24)) return fail(c, "post_processor: bad id for \"%s\"", name);
        p[(*n)++] = (int32_t)id;
    }
    return 0;
}

static int parse_post(ctx *c, json_t *o, int depth) {
    const char *t = type_of(o);
    hf_tok *h = c->h;
    if (!json_is_object(o) || !t) return fail(c, "post_processor without a \"type\"");
    if (depth > 16) return fail(c, "post_processors nested too deeply");
    if (!strcmp(t, "ByteLevel")) return 0;   /* offsets only */
    if (!strcmp(t, "Sequence")) {
        json_t *a = json_object_get(o, "processors");
        if (!json_is_array(a)) return fail(c, "Sequence post_processor needs \"processors\"");
        for (size_t i = 0; i < json_array_size(a); i++)
            if (parse_post(c, json_array_get(a, i), depth + 1)) return -1;
        return 0;
    }
    if (!strcmp(t, "TemplateProcessing")) {
        json_t *single = json_object_get(o, "single"), *specials = json_object_get(o, "special_tokens");
        if (!json_is_array(single)) return fail(c, "TemplateProcessing needs \"single\"");
        int seen_a = 0;
        free(h->prefix_ids); free(h->suffix_ids);
        h->prefix_ids = h->suffix_ids = NULL; h->nprefix = h->nsuffix = 0;
        for (size_t i = 0; i < json_array_size(single); i++) {
            json_t *it = json_array_get(single, i);
            json_t *st = json_object_get(it, "SpecialToken");
            if (json_object_get(it, "Sequence")) { seen_a = 1; continue; }
            json_t *id = json_object_get(st, "id");
            if (!json_is_string(id)) return fail(c, "TemplateProcessing: bad item in \"single\"");
            if (push_special(c, specials, json_string_value(id), seen_a ? &h->suffix_ids : &h->prefix_ids,
                             seen_a ? &h->nsuffix : &h->nprefix)) return -1;
        }
        return 0;
    }
    if (!strcmp(t, "BertProcessing") || !strcmp(t, "RobertaProcessing")) {
        json_t *cls = json_object_get(o, "cls"), *sep = json_object_get(o, "sep");
        json_int_t ci = json_integer_value(json_array_get(cls, 1)), si = json_integer_value(json_array_get(sep, 1));
        if (!json_is_array(cls) || !json_is_array(sep) || ci < 0 || si < 0 || ci >= 1 << 24 || si >= 1 << 24)
            return fail(c, "%s needs \"cls\" and \"sep\" as [token, id]", t);
        free(h->prefix_ids); free(h->suffix_ids);
        h->prefix_ids = malloc(sizeof *h->prefix_ids); h->suffix_ids = malloc(sizeof *h->suffix_ids);
        if (!h->prefix_ids || !h->suffix_ids) return fail(c, "out of memory");
        h->prefix_ids[0] = (int32_t)ci; h->suffix_ids[0] = (int32_t)si;
        h->nprefix = h->nsuffix = 1;
        return 0;
    }
    return fail(c, "post_processor type \"%s\" is not supported", t);
}

static int parse_added(ctx *c, json_t *a) {
    hf_tok *h = c->h;
    if (!json_is_array(a)) return fail(c, "\"added_tokens\" must be an array");
    h->nadded = json_array_size(a);
    if (!(h->added = calloc(h->nadded ? h->nadded : 1, sizeof *h->added))) return fail(c, "out of memory");
    for (size_t i = 0; i < h->nadded; i++) {
        json_t *o = json_array_get(a, i), *ct = json_object_get(o, "content"), *id = json_object_get(o, "id");
        if (!json_is_string(ct) || !json_is_integer(id) || !json_string_length(ct))
            return fail(c, "added_tokens entry without a non-empty \"content\" and an integer \"id\"");
        json_int_t v = json_integer_value(id);
        if (v < 0 || v >= (1 << 24)) return fail(c, "added token \"%s\" has an id outside 0..16777215", json_string_value(ct));
        hf_added *t = &h->added[i];
        if (!(t->content = dup_str(ct, &t->len))) return fail(c, "out of memory");
        t->id = (int32_t)v;
        t->special = flag(o, "special", 0);
        t->lstrip = flag(o, "lstrip", 0);
        t->rstrip = flag(o, "rstrip", 0);
    }
    return 0;
}

/* ---- the big members ---- */
static const char *read_vocab(ctx *c, hf_js *j, const char *p) {
    hf_buf key = {0};
    p = hf_json_ws(p, j->end);
    if (p >= j->end || *p != '{') return hf_json_fail(j, p, "model.vocab must be an object");
    p = hf_json_ws(p + 1, j->end);
    if (p < j->end && *p == '}') return p + 1;
    for (;;) {
        if (!(p = hf_json_str(j, hf_json_ws(p, j->end), &key))) goto bad;
        p = hf_json_ws(p, j->end);
        if (p >= j->end || *p != ':') { hf_json_fail(j, p, "expected ':'"); goto bad; }
        p = hf_json_ws(p + 1, j->end);
        long id = 0;
        const char *s = p;
        if (p < j->end && *p == '-') p++;
        while (p < j->end && *p >= '0' && *p <= '9' && id < (1L << 40)) id = id * 10 + (*p++ - '0');
        if (p == s || (p < j->end && (*p == '.' || *p == 'e' || *p == 'E' || (*p >= '0' && *p <= '9')))) {
            hf_json_fail(j, s, "vocab ids must be integers"); goto bad;
        }
        if (*s == '-') id = -id;
        if (hf_bpe_add_vocab(c->h, key.p, key.n, id, c->path, c->msg, MSG)) goto bad;
        p = hf_json_ws(p, j->end);
        if (p < j->end && *p == ',') { p++; continue; }
        if (p < j->end && *p == '}') break;
        hf_json_fail(j, p, "expected ',' or '}'"); goto bad;
    }
    hf_buf_free(&key);
    return p + 1;
bad:
    hf_buf_free(&key);
    return NULL;
}

static const char *read_merges(ctx *c, hf_js *j, const char *p) {
    hf_buf a = {0}, b = {0};
    int32_t rank = 0;
    p = hf_json_ws(p, j->end);
    if (p >= j->end || *p != '[') return hf_json_fail(j, p, "model.merges must be an array");
    p = hf_json_ws(p + 1, j->end);
    if (p < j->end && *p == ']') return p + 1;
    for (;;) {
        p = hf_json_ws(p, j->end);
        const char *at = p;
        if (p < j->end && *p == '"') {   /* "a b" */
            if (!(p = hf_json_str(j, p, &a))) goto bad;
            char *sp = memchr(a.p, ' ', a.n);
            if (!sp || memchr(sp + 1, ' ', a.n - (size_t)(sp + 1 - a.p)) || sp == a.p || sp + 1 == a.p + a.n) {
                hf_json_fail(j, at, "a merge string must be two tokens separated by one space"); goto bad;
            }
            size_t al = (size_t)(sp - a.p);
            if (hf_bpe_add_merge(c->h, a.p, al, sp + 1, a.n - al - 1, rank++)) { fail(c, "out of memory"); goto bad; }
        } else if (p < j->end && *p == '[') {   /* ["a", "b"] */
            if (!(p = hf_json_str(j, hf_json_ws(p + 1, j->end), &a))) goto bad;
            p = hf_json_ws(p, j->end);
            if (p >= j->end || *p != ',') { hf_json_fail(j, p, "a merge pair must have two strings"); goto bad; }
            if (!(p = hf_json_str(j, hf_json_ws(p + 1, j->end), &b))) goto bad;
            p = hf_json_ws(p, j->end);
            if (p >= j->end || *p != ']') { hf_json_fail(j, p, "a merge pair must have two strings"); goto bad; }
            p++;
            if (!a.n || !b.n) { hf_json_fail(j, at, "a merge has an empty token"); goto bad; }
            if (hf_bpe_add_merge(c->h, a.p, a.n, b.p, b.n, rank++)) { fail(c, "out of memory"); goto bad; }
        } else { hf_json_fail(j, p, "a merge must be a string or a pair of strings"); goto bad; }
        p = hf_json_ws(p, j->end);
        if (p < j->end && *p == ',') { p++; continue; }
        if (p < j->end && *p == ']') break;
        hf_json_fail(j, p, "expected ',' or ']'"); goto bad;
    }
    hf_buf_free(&a); hf_buf_free(&b);
    return p + 1;
bad:
    hf_buf_free(&a); hf_buf_free(&b);
    return NULL;
}

/* A small member parsed by jansson (NULL when absent); -1 on error. */
static int small_member(ctx *c, hf_js *j, const char *start, const char *end, const char *name, json_t **out) {
    json_error_t e;
    *out = json_loadb(start, (size_t)(end - start), JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
    if (!*out) {
        (void)j;
        char w[300];
        snprintf(w, sizeof w, "in \"%s\": %s", name, e.text);
        return fail(c, "malformed JSON %s", w);
    }
    return 0;
}

/* Scans an object, recording the value spans of the wanted keys. */
/* With c, the top-level "model" object is scanned in the same pass (level 0),
 * reading vocab and merges as they come (level 1). */
static const char *scan_object(hf_js *j, const char *p, const char *const *names, vspan *spans, size_t nn,
                               const char *what, ctx *c, int level) {
    hf_buf key = {0};
    p = hf_json_ws(p, j->end);
    if (p >= j->end || *p != '{') { char w[96]; snprintf(w, sizeof w, "%s must be an object", what); return hf_json_fail(j, p, w); }
    p = hf_json_ws(p + 1, j->end);
    if (p < j->end && *p == '}') return p + 1;
    for (;;) {
        if (!(p = hf_json_str(j, hf_json_ws(p, j->end), &key))) goto bad;
        p = hf_json_ws(p, j->end);
        if (p >= j->end || *p != ':') { hf_json_fail(j, p, "expected ':'"); goto bad; }
        const char *vs = hf_json_ws(p + 1, j->end), *ve;
        if (c && level == 0 && !strcmp(key.p, "model"))
            ve = scan_object(j, vs, MODEL_KEYS, c->ms, 9, "\"model\"", c, 1);
        else if (c && level == 1 && !strcmp(key.p, "type")) {
            ve = hf_json_skip(j, vs, 1);
            if (ve && !(ve - vs == 5 && !memcmp(vs, "\"BPE\"", 5))) {
                snprintf(c->msg, MSG, "%.300s: model type %.40s is not supported (only BPE)", c->path, vs);
                goto bad;
            }
        } else if (c && level == 1 && !strcmp(key.p, "vocab")) ve = read_vocab(c, j, vs);
        else if (c && level == 1 && !strcmp(key.p, "merges")) ve = read_merges(c, j, vs);
        else ve = hf_json_skip(j, vs, 1);
        if (!ve) goto bad;
        for (size_t i = 0; i < nn; i++) if (!strcmp(key.p, names[i])) { spans[i].s = vs; spans[i].e = ve; }
        p = hf_json_ws(ve, j->end);
        if (p < j->end && *p == ',') { p++; continue; }
        if (p < j->end && *p == '}') break;
        hf_json_fail(j, p, "expected ',' or '}'"); goto bad;
    }
    hf_buf_free(&key);
    return p + 1;
bad:
    hf_buf_free(&key);
    return NULL;
}

int iv_tok_load_hf_json(const char *path, iv_tokenizer **out, iv_err *err) {
    char msg[MSG] = {0};
    iv_mapped map;
    if (iv_map_file(path, &map, err)) return -1;
    hf_tok *h = calloc(1, sizeof *h);
    json_t *parts[8] = {0};
    ctx c = {path, msg, h, {{0}}};
    /* an empty file maps to NULL: no pointer arithmetic on it */
    hf_js j = {(const char *)map.data, map.data ? (const char *)map.data + map.size : NULL, path, msg, MSG};
    if (!h || !(h->path = strdup(path))) { snprintf(msg, MSG, "%s: out of memory", path); goto fail; }
    hf_bytelevel_init();
    static const char *const top[] = {"model", "normalizer", "pre_tokenizer", "post_processor", "decoder", "added_tokens"};
    vspan ts[6] = {{0}};
    if (!map.size) { hf_json_fail(&j, j.base, "empty file"); goto fail; }
    const char *rootend = scan_object(&j, j.base, top, ts, 6, "the top level", &c, 0);
    if (!rootend) goto fail;
    if (hf_json_ws(rootend, j.end) != j.end) { hf_json_fail(&j, hf_json_ws(rootend, j.end), "text after the JSON document"); goto fail; }
    if (!ts[0].s) { fail(&c, "no \"model\" member: not a tokenizer.json"); goto fail; }
    const char *const *mk = MODEL_KEYS;
    vspan *ms = c.ms;
    json_t *small[9] = {0};
    for (int i = 0; i < 9; i++) {
        if (i == 1 || i == 2 || !ms[i].s) continue;
        if (small_member(&c, &j, ms[i].s, ms[i].e, mk[i], &small[i])) { for (int k = 0; k < 9; k++) json_decref(small[k]); goto fail; }
    }
    const char *mtype = json_is_string(small[0]) ? json_string_value(small[0]) : NULL;
    int bad_type = mtype ? strcmp(mtype, "BPE") != 0 : !ms[2].s;
    char typebuf[64];
    snprintf(typebuf, sizeof typebuf, "%s", mtype ? mtype : "(none)");
    h->byte_fallback = json_is_true(small[4]);
    h->fuse_unk = json_is_true(small[5]);
    h->ignore_merges = json_is_true(small[6]);
    int bad_affix = (small[7] && !json_is_null(small[7]) && json_string_length(small[7])) ||
                    (small[8] && !json_is_null(small[8]) && json_string_length(small[8]));
    char *unk = json_is_string(small[3]) ? strdup(json_string_value(small[3])) : NULL;
    for (int k = 0; k < 9; k++) json_decref(small[k]);
    if (bad_type) { free(unk); fail(&c, "model type \"%s\" is not supported (only BPE)", typebuf); goto fail; }
    if (bad_affix) { free(unk); fail(&c, "BPE continuing_subword_prefix / end_of_word_suffix are not supported"); goto fail; }
    if (!ms[1].s) { free(unk); fail(&c, "model has no \"vocab\""); goto fail; }
    if (!ms[2].s) { free(unk); fail(&c, "BPE model has no \"merges\""); goto fail; }
    int32_t vs = 0;
    for (size_t e = 0; e < h->syms.n; e++) if (h->syms.val[e] >= vs) vs = h->syms.val[e] + 1;
    if (!vs) { free(unk); fail(&c, "model vocab is empty"); goto fail; }
    if (hf_bpe_finish(h, vs, msg, MSG)) { free(unk); goto fail; }
    h->unk_id = -1;
    if (unk) {
        long e = hf_strmap_find(&h->syms, unk, strlen(unk));
        if (e >= 0) h->unk_id = h->syms.val[e];
        free(unk);
    }
    for (int i = 1; i < 6; i++) {
        if (!ts[i].s) continue;
        if (small_member(&c, &j, ts[i].s, ts[i].e, top[i], &parts[i])) goto fail;
        if (json_is_null(parts[i])) { json_decref(parts[i]); parts[i] = NULL; }
    }
    if (parts[5] && parse_added(&c, parts[5])) goto fail;
    if (hf_added_build(h, msg, MSG)) goto fail;
    if (parts[1] && (!(h->norm = calloc(1, sizeof *h->norm)) || parse_norm(&c, parts[1], h->norm, 0))) goto fail_oom;
    if (parts[2] && (!(h->pre = calloc(1, sizeof *h->pre)) || parse_pre(&c, parts[2], h->pre, 0))) goto fail_oom;
    if (parts[4] && (!(h->dec = calloc(1, sizeof *h->dec)) || parse_dec(&c, parts[4], h->dec, 0))) goto fail_oom;
    if (parts[3] && parse_post(&c, parts[3], 0)) goto fail;
    if (h->pre) {
        char m[MSG];
        if (hf_regex_compile(GPT2_PATTERN, &h->gpt2_re, m, sizeof m)) { fail(&c, "%s", m); goto fail; }
    }
    for (int i = 0; i < 8; i++) json_decref(parts[i]);
    iv_unmap(&map);
    return hf_make_tokenizer(h, out, err);
fail_oom:
    if (!msg[0]) snprintf(msg, MSG, "%s: out of memory", path);
fail:
    for (int i = 0; i < 8; i++) json_decref(parts[i]);
    hf_tok_free(h);
    iv_unmap(&map);
    return iv_errf(err, "%s", msg);
}
