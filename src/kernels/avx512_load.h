/* Internal: AVX-512 weight loads shared by isa_avx512.c and gemm_avx512.c.
 * 16 weights from element k, widened to f32: bf16 -> f32 is a 16-bit shift,
 * f16 -> f32 the hardware conversion (exact). */
#ifndef IV_KERNELS_AVX512_LOAD_H
#define IV_KERNELS_AVX512_LOAD_H
#include "isa.h"
#include <immintrin.h>

#define T512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")))
#define AI static inline __attribute__((always_inline))

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
#endif
