/* dtype conversions (portable; bit-exact with PyTorch's conversions). */
#include "interv/tensor.h"
#include <string.h>
#include <math.h>

size_t iv_dtype_size(iv_dtype t) { return t == IV_F32 ? 4 : 2; }
const char *iv_dtype_name(iv_dtype t) {
    return t == IV_F32 ? "F32" : t == IV_F16 ? "F16" : "BF16";
}

float iv_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t iv_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

float iv_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, u;
    if (exp == 0) {
        if (man == 0) u = sign;
        else { /* subnormal: value = man * 2^-24 */
            float f = ldexpf((float)man, -24);
            return sign ? -f : f;
        }
    } else if (exp == 31) u = sign | 0x7f800000u | (man << 13);
    else u = sign | ((exp + 112) << 23) | (man << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t iv_f32_to_f16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00);
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00); /* overflow -> inf */
    if (a < 0x38800000u) { /* subnormal or zero: round(a * 2^24) */
        float v;
        memcpy(&v, &a, 4);
        return (uint16_t)(sign | (uint32_t)nearbyintf(v * 16777216.0f));
    }
    uint32_t r = a - 0x38000000u; /* rebias exponent */
    r += 0xfffu + ((r >> 13) & 1u);
    return (uint16_t)(sign | (r >> 13));
}

void iv_to_f32(float *dst, const void *src, iv_dtype t, size_t n) {
    if (t == IV_F32) { memcpy(dst, src, n * 4); return; }
    /* byte loads: a view into a file need not be 2-byte aligned */
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        memcpy(&h, s + 2 * i, 2);
        dst[i] = t == IV_BF16 ? iv_bf16_to_f32(h) : iv_f16_to_f32(h);
    }
}

/* In 32 x 32 blocks, so that both sides touch whole cache lines while a block
 * is in L1; threads take bands of 32 destination rows (GPT-2 small's Conv1D
 * weights, 340 MB in f32: 0.25 s on one thread).  Fixed-size memcpy compiles
 * to one move. */
#define TB 32
#define TRANSPOSE_ES(ES)                                                                       \
    _Pragma("omp parallel for schedule(static) if (rows * cols >= (1 << 20))")                 \
    for (int64_t c0 = 0; c0 < cols; c0 += TB)                                                  \
        for (int64_t r0 = 0; r0 < rows; r0 += TB) {                                            \
            int64_t r1 = r0 + TB < rows ? r0 + TB : rows, c1 = c0 + TB < cols ? c0 + TB : cols; \
            for (int64_t c = c0; c < c1; c++)                                                  \
                for (int64_t r = r0; r < r1; r++)                                              \
                    memcpy(d + (c * rows + r) * ES, s + (r * cols + c) * ES, ES);              \
        }

void iv_transpose(void *dst, const void *src, int64_t rows, int64_t cols, size_t es) {
    uint8_t *d = dst;
    const uint8_t *s = src;
    if (es == 4) TRANSPOSE_ES(4)
    else if (es == 2) TRANSPOSE_ES(2)
    else TRANSPOSE_ES(es)
}
