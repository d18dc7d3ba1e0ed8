/* Internal: AVX-512 helpers shared by the AVX-512 kernel files: weight loads
 * and a 16x16 transpose. */
#ifndef IV_KERNELS_AVX512_LOAD_H
#define IV_KERNELS_AVX512_LOAD_H
#include "isa.h"
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define AI static inline __attribute__((always_inline))

/* 16 weights from element k, widened to f32: bf16 -> f32 is a 16-bit shift,
 * f16 -> f32 the hardware conversion (exact). */
T512 AI __m512 ld(const void *w, iv_dtype t, int64_t k) {
    if (t == IV_F32) return _mm512_loadu_ps((const float *)w + k);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + k));
    if (t == IV_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}

/* Same, for the first popcount(m) elements (the rest read as 0, not touched). */
T512 AI __m512 ldm(const void *w, iv_dtype t, int64_t k, __mmask16 m) {
    if (t == IV_F32) return _mm512_maskz_loadu_ps(m, (const float *)w + k);
    __m256i h = _mm256_maskz_loadu_epi16(m, (const uint16_t *)w + k);
    if (t == IV_BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    return _mm512_cvtph_ps(h);
}
/* In-register transpose of a 16x16 block: r[i][j] -> r[j][i].  Four rounds of
 * 16 shuffles: 32-bit and 64-bit interleaves inside 128-bit lanes, then two
 * rounds of lane moves. */
T512 AI void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    /* u[4g + c], lane L: rows 4g..4g+3 of column 4L + c */
    for (int g = 0; g < 4; g++) {
        u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
        u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
        u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
        u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        __m512 a = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x88);
        __m512 b = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xDD);
        __m512 d = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x88);
        __m512 e = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xDD);
        r[c] = _mm512_shuffle_f32x4(a, d, 0x88);
        r[8 + c] = _mm512_shuffle_f32x4(a, d, 0xDD);
        r[4 + c] = _mm512_shuffle_f32x4(b, e, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(b, e, 0xDD);
    }
}
#endif
