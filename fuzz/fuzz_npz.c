/* libFuzzer target: iv_npz_open on arbitrary bytes, then the header and data of
 * every member (at most 16). */
#include "fuzz_util.h"
#include "interv/npz.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "params.npz", d, n);
    iv_npz *z = NULL;
    iv_err err = {{0}};
    if (iv_npz_open(path, &z, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    size_t cnt = iv_npz_count(z);
    for (size_t i = 0; i < cnt && i < 16; i++) {
        const char *name = iv_npz_name(z, i);
        if (!name || !iv_npz_has(z, name)) abort();
        int ndim;
        int64_t shape[IV_NPZ_MAX_DIMS];
        err.msg[0] = 0;
        if (iv_npz_shape(z, name, &ndim, shape, &err) != 0) { fz_check_msg(err.msg); continue; }
        float *data = NULL;
        int nd2;
        int64_t shape2[IV_NPZ_MAX_DIMS];
        err.msg[0] = 0;
        if (iv_npz_get_f32(z, name, &data, &nd2, shape2, &err) != 0) { fz_check_msg(err.msg); continue; }
        if (nd2 != ndim || nd2 < 0 || nd2 > IV_NPZ_MAX_DIMS) abort();
        size_t numel = 1;
        for (int k = 0; k < nd2; k++) {
            if (shape2[k] != shape[k] || shape2[k] < 0) abort();
            numel *= (size_t)shape2[k];
        }
        volatile float sink = 0;
        if (numel) sink += data[0] + data[numel - 1]; /* the array holds prod(shape) floats */
        (void)sink;
        free(data);
    }
    iv_npz_close(z);
    return 0;
}
