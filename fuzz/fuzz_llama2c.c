/* libFuzzer target: iv_model_load on a llama2.c checkpoint file; a model that loads
 * runs one short forward pass (views must stay inside the mapping). */
#include "fuzz_models.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    /* named so that no tok*.bin is found beside it */
    fz_write(path, sizeof path, "l2c/model.bin", d, n);
    return fz_load_and_run(path);
}
