/* A small validating JSON scanner for the two huge members of tokenizer.json
 * (model.vocab, model.merges): jansson alone needs ~0.9 s for Gemma's 33 MB,
 * so those are read here and only the small members go through jansson. */
#ifndef INTERV_HF_JSON_H
#define INTERV_HF_JSON_H
#include <stddef.h>
#include "tok/hf_internal.h"

typedef struct {
    const char *base, *end;   /* the whole document */
    const char *path;
    char *msg; size_t cap;    /* where failures are written */
} hf_js;

const char *hf_json_ws(const char *p, const char *end);
/* Skips one value; NULL on malformed input (message set). */
const char *hf_json_skip(hf_js *j, const char *p, int depth);
/* Reads a string at p into out (decoded); returns the position after it. */
const char *hf_json_str(hf_js *j, const char *p, hf_buf *out);
/* Sets the message "<path>: malformed JSON at line L, column C: what"; returns NULL. */
const char *hf_json_fail(hf_js *j, const char *at, const char *what);

#endif
