/* Tokenizers behind one interface: llama2.c tok*.bin, Hugging Face tokenizer.json
 * (BPE: GPT-2/Llama-3 byte-level, SentencePiece-style Llama-2/Mistral/Gemma), and
 * GPT-2 vocab.json+merges.txt (a.k.a. encoder.json+vocab.bpe). */
#ifndef INTERV_TOKENIZER_H
#define INTERV_TOKENIZER_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"

typedef struct iv_tokenizer iv_tokenizer;

struct iv_tokenizer_ops {
    int (*encode)(const iv_tokenizer *t, const char *text, size_t len, int add_special,
                  int32_t **ids, size_t *n, iv_err *err);
    int (*decode)(const iv_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                  char **text, size_t *len, iv_err *err);
    const char *(*piece)(const iv_tokenizer *t, int32_t id); /* raw vocab string or NULL */
    void (*destroy)(iv_tokenizer *t);
};

struct iv_tokenizer {
    const struct iv_tokenizer_ops *ops;
    int32_t vocab_size;
    int32_t bos_id, eos_id;  /* -1 when the vocabulary has none */
    void *impl;
};

/* Loads by file name: *.json tokenizer.json; vocab.json/encoder.json (merges
 * beside it); a folder as iv_tok_load_dir; anything else is read as a
 * llama2.c tok*.bin. */
int iv_tok_load(const char *path, iv_tokenizer **out, iv_err *err);
/* Loads the tokenizer of a model folder: tokenizer.json, else vocab.json +
 * merges.txt or encoder.json + vocab.bpe, else tokenizer.bin (written by
 * `interv convert`) or the first tok*.bin; none: one line naming the folder. */
int iv_tok_load_dir(const char *dir, iv_tokenizer **out, iv_err *err);
int iv_tok_load_llama2c(const char *path, iv_tokenizer **out, iv_err *err);
/* Writes a llama2.c tokenizer back in the tok*.bin layout (atomically). */
int iv_tok_save_llama2c(const iv_tokenizer *t, const char *path, iv_err *err);

/* Encode UTF-8 text. add_special: add BOS (etc.) the way the tokenizer's
 * post-processor says.  *ids is malloc'd; caller frees. */
int iv_tok_encode(const iv_tokenizer *t, const char *text, size_t len, int add_special,
                  int32_t **ids, size_t *n, iv_err *err);
/* Decode ids to UTF-8; *text is malloc'd and NUL-terminated. */
int iv_tok_decode(const iv_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                  char **text, size_t *len, iv_err *err);
const char *iv_tok_piece(const iv_tokenizer *t, int32_t id);
void iv_tok_free(iv_tokenizer *t);

#endif
