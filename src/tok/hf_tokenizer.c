/* Placeholder until the HF tokenizer lands. */
#include "tok/hf_tokenizer.h"
int iv_tok_load_hf_json(const char *path, iv_tokenizer **out, iv_err *err) {
    (void)out;
    return iv_errf(err, "%s: tokenizer.json support not built yet", path);
}
int iv_tok_load_gpt2_files(const char *vocab_path, const char *merges_path, iv_tokenizer **out, iv_err *err) {
    (void)out; (void)merges_path;
    return iv_errf(err, "%s: GPT-2 vocab support not built yet", vocab_path);
}
