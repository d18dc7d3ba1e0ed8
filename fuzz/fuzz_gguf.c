/* libFuzzer target: iv_gguf_cv_read on arbitrary bytes; a control vector that
 * reads is written back and read again (the round trip must agree). */
#include "fuzz_util.h"
#include "interv/gguf.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512], back[512];
    fz_write(path, sizeof path, "cv.gguf", d, n);
    iv_gguf_cv cv;
    iv_err err = {{0}};
    if (iv_gguf_cv_read(path, &cv, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    if (cv.d <= 0 || cv.d > IV_GGUF_MAX_DIM || cv.n_layers < 0 || cv.n_layers > IV_GGUF_MAX_LAYERS) abort();
    volatile float sink = 0;
    for (int l = 0; l < cv.n_layers; l++)
        if (cv.vec[l]) sink += cv.vec[l][0] + cv.vec[l][cv.d - 1];
    (void)sink;
    snprintf(back, sizeof back, "%s/back.gguf", fz_scratch());
    err.msg[0] = 0;
    if (iv_gguf_cv_write(back, &cv, &err) == 0) {
        iv_gguf_cv cv2;
        err.msg[0] = 0;
        if (iv_gguf_cv_read(back, &cv2, &err) != 0) {
            fprintf(stderr, "fuzz: written control vector does not read back: %s\n", err.msg);
            abort();
        }
        if (cv2.d != cv.d) abort();
        for (int l = 0; l < cv.n_layers && l < cv2.n_layers; l++) {
            if (!cv.vec[l] != !cv2.vec[l]) abort();
            if (cv.vec[l] && memcmp(cv.vec[l], cv2.vec[l], (size_t)cv.d * sizeof(float))) abort();
        }
        iv_gguf_cv_free(&cv2);
    } else {
        fz_check_msg(err.msg);
    }
    iv_gguf_cv_free(&cv);
    return 0;
}
