/* libFuzzer target: config.json of an HF folder, loaded with iv_model_load next to
 * fixed tiny weights that fit Llama, Gemma-2 and GPT-2 configs; a config that loads
 * runs one short forward pass. */
#include "fuzz_models.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    static int ready;
    char path[512], st[512];
    if (!ready) {
        snprintf(st, sizeof st, "%s/cfg/model.safetensors", fz_scratch());
        fz_write(path, sizeof path, "cfg/config.json", (const uint8_t *)"{}", 2);
        fz_write_tiny(st, 0);
        ready = 1;
    }
    fz_write(path, sizeof path, "cfg/config.json", d, n);
    snprintf(path, sizeof path, "%s/cfg", fz_scratch());
    iv_model *m = NULL;
    iv_err err = {{0}};
    if (iv_model_load(path, NULL, &m, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    fz_forward(m);
    iv_model_free(m);
    return 0;
}
