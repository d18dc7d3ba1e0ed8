/* libFuzzer target: a llama2.c tok*.bin, then encode + decode of fixed strings and
 * decode of every id (decoding must stay inside each piece). */
#include "fuzz_util.h"
#include "interv/tokenizer.h"

static const char *TEXTS[] = {"Once upon a time, a little dog ran.", "", " ", "\xc3\xa9t\xc3\xa9 \xe2\x82\xac\xf0\x9f\x90\xb6",
                              "<0x41><s></s>\n\t"};

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "tok.bin", d, n);
    iv_tokenizer *t = NULL;
    iv_err err = {{0}};
    if (iv_tok_load_llama2c(path, &t, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    for (size_t k = 0; k < sizeof TEXTS / sizeof *TEXTS; k++) {
        int32_t *ids = NULL;
        size_t m = 0;
        err.msg[0] = 0;
        if (iv_tok_encode(t, TEXTS[k], strlen(TEXTS[k]), (int)(k & 1), &ids, &m, &err) != 0) {
            fz_check_msg(err.msg);
            continue;
        }
        char *text = NULL;
        size_t len = 0;
        err.msg[0] = 0;
        if (iv_tok_decode(t, ids, m, (int)(k & 1), &text, &len, &err) != 0) fz_check_msg(err.msg);
        else if (strlen(text) > len) abort(); /* NUL-terminated at len */
        free(text);
        free(ids);
    }
    int32_t all[256];
    int m = t->vocab_size < 256 ? t->vocab_size : 256;
    for (int i = 0; i < m; i++) {
        all[i] = i;
        (void)iv_tok_piece(t, i);
    }
    char *text = NULL;
    size_t len = 0;
    err.msg[0] = 0;
    if (iv_tok_decode(t, all, (size_t)m, 0, &text, &len, &err) != 0) fz_check_msg(err.msg);
    free(text);
    iv_tok_free(t);
    return 0;
}
