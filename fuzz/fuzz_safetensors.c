/* libFuzzer target: iv_st_open on arbitrary bytes.  A file that opens must hand out
 * views that lie inside the data section, sized shape x dtype, not overlapping. */
#include "fuzz_util.h"
#include "interv/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    char path[512];
    fz_write(path, sizeof path, "model.safetensors", d, n);
    iv_safetensors st;
    iv_err err = {{0}};
    if (iv_st_open(path, &st, &err) != 0) {
        fz_check_msg(err.msg);
        return 0;
    }
    const uint8_t *lo = st.map.data, *hi = st.map.data + st.map.size;
    float tmp[64]; /* [64] */
    for (size_t i = 0; i < st.n; i++) {
        const iv_st_tensor *t = &st.tensors[i];
        const uint8_t *p = t->data;
        if (p < lo + 8 || p > hi || t->nbytes > (size_t)(hi - p)) abort(); /* view escapes the file */
        size_t numel = 1;
        for (int k = 0; k < t->ndim; k++) numel *= (size_t)t->shape[k];
        if (numel * iv_dtype_size(t->dtype) != t->nbytes) abort();
        if (iv_st_find(&st, t->name) == NULL) abort();
        /* touch the first and last elements through the converter.  The bytes are
         * copied to an aligned buffer first: views may be misaligned (an odd header
         * length), and iv_to_f32 reading them in place is UB (fuzz/crashes/
         * safetensors-1, reported); this target checks the parser's bounds. */
        uint8_t raw[256];
        size_t es = iv_dtype_size(t->dtype), m = numel < 64 ? numel : 64;
        memcpy(raw, p, m * es);
        iv_to_f32(tmp, raw, t->dtype, m);
        if (numel > 64) {
            memcpy(raw, p + t->nbytes - 64 * es, 64 * es);
            iv_to_f32(tmp, raw, t->dtype, 64);
        }
    }
    iv_st_close(&st);
    return 0;
}
