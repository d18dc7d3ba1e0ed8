/* libFuzzer target: iv_torchzip_open (zip + restricted unpickler) on arbitrary
 * bytes; every tensor handed out must be consistent with its shape. */
#include "fuzz_util.h"
#include "interv/torchzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "params.pt", d, n);
    iv_torchzip *tz = NULL;
    iv_err err = {{0}};
    if (iv_torchzip_open(path, &tz, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    for (size_t i = 0; i < tz->n; i++) {
        const iv_tz_tensor *t = &tz->tensors[i];
        if (!t->name || t->ndim < 0 || t->ndim > IV_TZ_MAX_DIMS) abort();
        int64_t numel = 1;
        for (int k = 0; k < t->ndim; k++) {
            if (t->shape[k] < 0) abort();
            numel *= t->shape[k];
        }
        if (numel != t->numel) abort();
        volatile float sink = 0;
        if (numel) sink += t->data[0] + t->data[numel - 1];
        (void)sink;
        if (iv_torchzip_find(tz, t->name) == NULL) abort();
    }
    iv_torchzip_close(tz);
    return 0;
}
