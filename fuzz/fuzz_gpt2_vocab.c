/* libFuzzer target: a GPT-2 vocab.json (the input up to its first NUL byte) with
 * merges.txt (the rest), then encode + decode of a fixed text. */
#include "fuzz_util.h"
#include "interv/tokenizer.h"

static const char *TEXT = "Hello world! It's 2024: caf\xc3\xa9 \xe2\x82\xac\xf0\x9f\x90\xb6  spaces\n\ttabs 'll 's";

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char vocab[512], merges[512];
    const uint8_t *rest;
    size_t rest_n;
    size_t vn = fz_split(d, n, &rest, &rest_n);
    fz_write(vocab, sizeof vocab, "gpt2/vocab.json", d, vn);
    fz_write(merges, sizeof merges, "gpt2/merges.txt", rest ? rest : (const uint8_t *)"", rest_n);
    iv_tokenizer *t = NULL;
    iv_err err = {{0}};
    if (iv_tok_load(vocab, &t, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    int32_t *ids = NULL;
    size_t m = 0;
    err.msg[0] = 0;
    if (iv_tok_encode(t, TEXT, strlen(TEXT), 1, &ids, &m, &err) != 0) {
        fz_check_msg(err.msg);
    } else {
        for (size_t i = 0; i < m; i++)
            if (ids[i] < 0 || ids[i] >= t->vocab_size) abort();
        char *out = NULL;
        size_t len = 0;
        err.msg[0] = 0;
        if (iv_tok_decode(t, ids, m, 0, &out, &len, &err) != 0) fz_check_msg(err.msg);
        free(out);
        free(ids);
    }
    iv_tok_free(t);
    return 0;
}
