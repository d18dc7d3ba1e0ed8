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
    return fz_load_and_run(path);
}
