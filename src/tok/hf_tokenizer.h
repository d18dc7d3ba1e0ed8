/* Hugging Face tokenizers (private to src/tok). */
#ifndef INTERV_HF_TOKENIZER_H
#define INTERV_HF_TOKENIZER_H
#include "interv/tokenizer.h"
int iv_tok_load_hf_json(const char *path, iv_tokenizer **out, iv_err *err);
int iv_tok_load_gpt2_files(const char *vocab_path, const char *merges_path, iv_tokenizer **out, iv_err *err);
#endif
