/* Dispatch from a path to the right tokenizer implementation. */
#include "interv/tokenizer.h"
#include "tok/hf_tokenizer.h"
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

/* Path of `name` in the folder holding `path`. */
static void sibling(char *out, size_t cap, const char *path, const char *name) {
    const char *slash = strrchr(path, '/');
    if (slash) snprintf(out, cap, "%.*s/%s", (int)(slash - path), path, name);
    else snprintf(out, cap, "%s", name);
}

int iv_tok_load(const char *path, iv_tokenizer **out, iv_err *err) {
    char other[4096];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return iv_tok_load_dir(path, out, err);
    if (ends_with(path, "vocab.json") || ends_with(path, "encoder.json")) {
        sibling(other, sizeof other, path, ends_with(path, "vocab.json") ? "merges.txt" : "vocab.bpe");
        return iv_tok_load_gpt2_files(path, other, out, err);
    }
    if (ends_with(path, ".json")) return iv_tok_load_hf_json(path, out, err);
    return iv_tok_load_llama2c(path, out, err);
}

/* A model folder: tokenizer.json, else a GPT-2 vocabulary pair, else
 * tokenizer.bin or the first tok*.bin (sorted), as llama2.c folders hold. */
int iv_tok_load_dir(const char *dir, iv_tokenizer **out, iv_err *err) {
    static const char *const pairs[][2] = {{"vocab.json", "merges.txt"}, {"encoder.json", "vocab.bpe"}};
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/tokenizer.json", dir);
    if (access(a, R_OK) == 0) return iv_tok_load_hf_json(a, out, err);
    for (size_t i = 0; i < 2; i++) {
        snprintf(a, sizeof a, "%s/%s", dir, pairs[i][0]);
        snprintf(b, sizeof b, "%s/%s", dir, pairs[i][1]);
        if (access(a, R_OK) == 0) return iv_tok_load_gpt2_files(a, b, out, err);
    }
    snprintf(a, sizeof a, "%s/tokenizer.bin", dir);
    if (access(a, R_OK) == 0) return iv_tok_load_llama2c(a, out, err);
    snprintf(a, sizeof a, "%s/tok*.bin", dir);
    glob_t g;
    if (glob(a, 0, NULL, &g) == 0) {   /* glob sorts */
        int rc = g.gl_pathc ? iv_tok_load_llama2c(g.gl_pathv[0], out, err) : 1;
        globfree(&g);
        if (rc <= 0) return rc;
    }
    return iv_errf(err, "%s: no tokenizer in the folder (looked for tokenizer.json, vocab.json + merges.txt, "
                        "encoder.json + vocab.bpe, tok*.bin)", dir);
}

int iv_tok_encode(const iv_tokenizer *t, const char *text, size_t len, int add_special,
                  int32_t **ids, size_t *n, iv_err *err) {
    return t->ops->encode(t, text, len, add_special, ids, n, err);
}
int iv_tok_decode(const iv_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                  char **text, size_t *len, iv_err *err) {
    return t->ops->decode(t, ids, n, skip_special, text, len, err);
}
const char *iv_tok_piece(const iv_tokenizer *t, int32_t id) {
    return (id >= 0 && id < t->vocab_size) ? t->ops->piece(t, id) : NULL;
}
void iv_tok_free(iv_tokenizer *t) {
    if (t) t->ops->destroy(t);
}
