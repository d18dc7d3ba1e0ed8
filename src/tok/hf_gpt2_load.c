/* Loads GPT-2 style vocab.json + merges.txt (or OpenAI's encoder.json +
 * vocab.bpe): byte-level BPE with the GPT-2 split regex.  With vocab.json
 * (the Hugging Face layout) <|endoftext|> is a special token matched in the
 * text, as GPT2TokenizerFast does; with encoder.json it is ordinary text, as
 * OpenAI's encoder (and gpt-3-encoder) does. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "tok/hf_tokenizer.h"
#include "tok/hf_internal.h"

#define MSG 512
static const char GPT2_PATTERN[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

static int read_merges(hf_tok *h, const char *path, char *msg) {
    char *buf; size_t len;
    iv_err e;
    if (iv_read_file(path, &buf, &len, &e)) { snprintf(msg, MSG, "%.500s", e.msg); return -1; }
    int32_t rank = 0;
    size_t line = 0;
    int rc = 0;
    for (size_t p = 0; p < len && !rc;) {
        size_t q = p;
        while (q < len && buf[q] != '\n') q++;
        line++;
        const char *s = buf + p, *end = buf + q;
        p = q + 1;
        if (line == 1 && end - s >= 8 && !memcmp(s, "#version", 8)) continue;
        const char *part[3]; size_t plen[3]; int np = 0;
        for (const char *c = s; c < end;) {
            while (c < end && is_ws(*c)) c++;
            if (c >= end) break;
            const char *w = c;
            while (c < end && !is_ws(*c)) c++;
            if (np < 3) { part[np] = w; plen[np] = (size_t)(c - w); }
            np++;
        }
        if (!np) continue;
        if (np != 2) {
            snprintf(msg, MSG, "%s: line %zu: a merge must be two tokens separated by a space", path, line);
            rc = -1;
        } else if (hf_bpe_add_merge(h, part[0], plen[0], part[1], plen[1], rank++)) {
            snprintf(msg, MSG, "%s: out of memory", path);
            rc = -1;
        }
    }
    if (!rc && !rank) { snprintf(msg, MSG, "%s: no merges in the file", path); rc = -1; }
    free(buf);
    return rc;
}

int iv_tok_load_gpt2_files(const char *vocab_path, const char *merges_path, iv_tokenizer **out, iv_err *err) {
    char msg[MSG] = {0};
    json_error_t je;
    hf_tok *h = calloc(1, sizeof *h);
    json_t *v = NULL;
    if (!h || !(h->path = strdup(vocab_path))) { snprintf(msg, MSG, "%s: out of memory", vocab_path); goto fail; }
    hf_bytelevel_init();
    h->unk_id = -1;
    v = json_load_file(vocab_path, 0, &je);
    if (!v) { snprintf(msg, MSG, "%s: malformed JSON at line %d, column %d: %s", vocab_path, je.line, je.column, je.text); goto fail; }
    if (!json_is_object(v) || !json_object_size(v)) { snprintf(msg, MSG, "%s: the vocabulary must be a non-empty JSON object of token: id", vocab_path); goto fail; }
    const char *k; json_t *idv;
    json_object_foreach(v, k, idv) {
        if (!json_is_integer(idv)) { snprintf(msg, MSG, "%s: id of token \"%.60s\" is not an integer", vocab_path, k); goto fail; }
        if (hf_bpe_add_vocab(h, k, strlen(k), (long)json_integer_value(idv), vocab_path, msg, MSG)) goto fail;
    }
    json_decref(v); v = NULL;
    if (read_merges(h, merges_path, msg)) goto fail;
    int32_t vs = 0;
    for (size_t e = 0; e < h->syms.n; e++) if (h->syms.val[e] >= vs) vs = h->syms.val[e] + 1;
    if (hf_bpe_finish(h, vs, msg, MSG)) goto fail;
    const char *base = strrchr(vocab_path, '/');
    base = base ? base + 1 : vocab_path;
    long eot = hf_strmap_find(&h->syms, "<|endoftext|>", 13);
    /* only a real vocabulary entry (merges may name symbols that have no id) */
    if (strcmp(base, "encoder.json") != 0 && eot >= 0 && h->syms.val[eot] >= 0) {
        if (!(h->added = calloc(1, sizeof *h->added)) || !(h->added[0].content = strdup("<|endoftext|>"))) {
            snprintf(msg, MSG, "%s: out of memory", vocab_path); goto fail;
        }
        h->nadded = 1;
        h->added[0].len = 13; h->added[0].id = h->syms.val[eot]; h->added[0].special = 1;
    }
    if (hf_added_build(h, msg, MSG)) goto fail;
    if (!(h->pre = calloc(1, sizeof *h->pre)) || !(h->dec = calloc(1, sizeof *h->dec))) {
        snprintf(msg, MSG, "%s: out of memory", vocab_path); goto fail;
    }
    h->pre->kind = HF_PRE_BYTELEVEL; h->pre->use_regex = 1; h->pre->add_prefix_space = 0;
    h->dec->kind = HF_DEC_BYTELEVEL;
    char m[MSG];
    if (hf_regex_compile(GPT2_PATTERN, &h->gpt2_re, m, sizeof m)) { snprintf(msg, MSG, "%.200s: %.300s", vocab_path, m); goto fail; }
    return hf_make_tokenizer(h, out, err);
fail:
    json_decref(v);
    hf_tok_free(h);
    return iv_errf(err, "%s", msg);
}
