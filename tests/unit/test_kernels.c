/* Kernels: every optimised kernel against its reference twin, on random data,
 * for every instruction set this CPU has, every dtype and layout, odd sizes,
 * strided/offset views (padding filled with NaN so any stray read shows), bias
 * on and off; dtype conversions against known bit patterns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/kernels.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float urand(void) { /* uniform in [-1, 1) */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 40) * (1.0 / (1 << 23)) - 1.0);
}
static void fill(float *p, size_t n) { for (size_t i = 0; i < n; i++) p[i] = urand(); }

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static uint32_t f_bits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* Stores v as dtype t at element k of p. */
static void put(void *p, iv_dtype t, int64_t k, float v) {
    if (t == IV_F32) ((float *)p)[k] = v;
    else ((uint16_t *)p)[k] = t == IV_BF16 ? iv_f32_to_bf16(v) : iv_f32_to_f16(v);
}
static float get(const void *p, iv_dtype t, int64_t k) {
    if (t == IV_F32) return ((const float *)p)[k];
    uint16_t h = ((const uint16_t *)p)[k];
    return t == IV_BF16 ? iv_bf16_to_f32(h) : iv_f16_to_f32(h);
}
/* A NaN in every dtype. */
static void put_nan(void *p, iv_dtype t, int64_t k) {
    if (t == IV_F32) ((float *)p)[k] = NAN;
    else ((uint16_t *)p)[k] = t == IV_BF16 ? 0x7fc0 : 0x7e00;
}

static const iv_dtype dtypes[] = {IV_F32, IV_BF16, IV_F16};
static const iv_isa isas[] = {IV_ISA_SCALAR, IV_ISA_AVX2, IV_ISA_AVX512};

/* The ISAs this CPU really has (set_isa clamps; skip duplicates). */
static int isa_list(iv_isa *out) {
    int n = 0;
    for (int i = 0; i < 3; i++) {
        iv_isa got = iv_kernels_set_isa(isas[i]);
        if (got == isas[i]) out[n++] = got;
    }
    return n;
}

static int fails;
static void check(float got, float want, double scale, double rel, const char *fmt, ...) {
    double err = fabs((double)got - want);
    if (!(err <= rel * scale + 1e-30) && fails++ < 10) {
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        print_message("MISMATCH %s: got %.9g want %.9g (scale %.3g)\n", buf, got, want, scale);
    }
}

static void test_dot(void **state) {
    (void)state;
    iv_isa is[3];
    int nis = isa_list(is);
    const int64_t ns[] = {1, 7, 15, 16, 17, 33, 63, 64, 65, 100, 1000, 4099};
    fails = 0;
    for (int ii = 0; ii < nis; ii++) {
        iv_kernels_set_isa(is[ii]);
        for (int d = 0; d < 3; d++)
            for (size_t q = 0; q < sizeof ns / sizeof *ns; q++) {
                int64_t n = ns[q];
                float *x = malloc(n * 4), *wf = malloc(n * 4);
                void *w = malloc(n * 4);
                fill(x, n); fill(wf, n);
                double sc = 0;
                for (int64_t k = 0; k < n; k++) {
                    put(w, dtypes[d], k, wf[k]);
                    sc += fabs(x[k] * get(w, dtypes[d], k));
                }
                check(iv_dot(x, w, dtypes[d], n), iv_dot_ref(x, w, dtypes[d], n), sc, 1e-5,
                      "dot %s %s n=%lld", iv_isa_name(is[ii]), iv_dtype_name(dtypes[d]), (long long)n);
                free(x); free(wf); free(w);
            }
    }
    iv_kernels_set_isa(IV_ISA_AVX512);
    assert_int_equal(fails, 0);
}

/* One iv_linear case: a view with `pad` extra elements per stored row and the
 * data pointer `off` elements into the buffer; everything outside the view is
 * NaN. */
static void linear_case(iv_dtype t, iv_layout lay, int B, int64_t out, int64_t in, int pad, int off,
                        int with_bias, const char *isa) {
    int64_t rows = lay == IV_OUT_IN ? out : in, len = lay == IV_OUT_IN ? in : out;
    int64_t stride = len + pad, total = off + rows * stride;
    void *buf = malloc(total * 4);
    for (int64_t k = 0; k < total; k++) put_nan(buf, t, k);
    void *data = (char *)buf + off * (t == IV_F32 ? 4 : 2);
    for (int64_t r = 0; r < rows; r++)
        for (int64_t c = 0; c < len; c++) put(data, t, r * stride + c, urand());
    iv_wmat W = {data, t, lay, out, in, stride};
    float *x = malloc(B * in * 4), *bias = malloc(out * 4);
    float *y = malloc(B * out * 4), *yr = malloc(B * out * 4);
    fill(x, B * in); fill(bias, out);
    for (int64_t k = 0; k < B * out; k++) y[k] = NAN;
    iv_linear(y, x, B, &W, with_bias ? bias : NULL);
    iv_linear_ref(yr, x, B, &W, with_bias ? bias : NULL);
    for (int b = 0; b < B; b++)
        for (int64_t o = 0; o < out; o++) {
            double sc = with_bias ? fabs(bias[o]) : 0;
            for (int64_t i = 0; i < in; i++)
                sc += fabs(x[b * in + i] *
                           get(data, t, lay == IV_OUT_IN ? o * stride + i : i * stride + o));
            check(y[b * out + o], yr[b * out + o], sc, 1e-5,
                  "linear %s %s %s B=%d out=%lld in=%lld pad=%d bias=%d at b=%d o=%lld", isa,
                  iv_dtype_name(t), lay == IV_OUT_IN ? "OUT_IN" : "IN_OUT", B, (long long)out,
                  (long long)in, pad, with_bias, b, (long long)o);
        }
    free(buf); free(x); free(bias); free(y); free(yr);
}

static void test_linear(void **state) {
    (void)state;
    iv_isa is[3];
    int nis = isa_list(is);
    /* (out, in): out = 1; in not a multiple of 16; several SGEMM tiles (in 1000
     * -> 64-row tiles; in 257 -> 240-row tiles); big enough to go multi-threaded. */
    const int64_t shapes[][2] = {{1, 17}, {37, 100}, {300, 257}, {130, 1000}, {16, 64}};
    const int Bs[] = {1, 2, 7, 8, 24, 33};
    fails = 0;
    for (int ii = 0; ii < nis; ii++) {
        iv_kernels_set_isa(is[ii]);
        for (int d = 0; d < 3; d++)
            for (int lay = 0; lay < 2; lay++)
                for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
                    for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++) {
                        int variant = (int)(s + bi) % 2; /* alternate strided/bias to bound time */
                        linear_case(dtypes[d], (iv_layout)lay, Bs[bi], shapes[s][0], shapes[s][1],
                                    variant ? 5 : 0, variant ? 3 : 0, !variant, iv_isa_name(is[ii]));
                        linear_case(dtypes[d], (iv_layout)lay, Bs[bi], shapes[s][0], shapes[s][1],
                                    variant ? 0 : 11, variant ? 0 : 1, variant, iv_isa_name(is[ii]));
                    }
    }
    iv_kernels_set_isa(IV_ISA_AVX512);
    assert_int_equal(fails, 0);
}

/* Batches large enough for the SGEMM paths (bf16/f16 weights converted in
 * per-thread tiles; several tiles per matrix), under the portable and the best
 * conversion code. */
static void test_linear_gemm(void **state) {
    (void)state;
    iv_isa is[3];
    int nis = isa_list(is);
    fails = 0;
    for (int ii = 0; ii < nis; ii += nis - 1 > 0 ? nis - 1 : 1) {
        iv_kernels_set_isa(is[ii]);
        for (int d = 0; d < 3; d++)
            for (int lay = 0; lay < 2; lay++) {
                linear_case(dtypes[d], (iv_layout)lay, 100, 300, 257, 5, 3, 1, iv_isa_name(is[ii]));
                linear_case(dtypes[d], (iv_layout)lay, 97, 130, 1000, 0, 0, 0, iv_isa_name(is[ii]));
            }
    }
    iv_kernels_set_isa(IV_ISA_AVX512);
    assert_int_equal(fails, 0);
}

/* The batch-vectorised OUT_IN GEMM: batch groups of 32 with a full, partial
 * (17..31 rows: two vectors) and short (<= 16: one vector) last group; a
 * partial last block of 12 output rows; inputs over several 256-wide chunks
 * with a tail; more than one super-block of 8 groups (B=300: 256 + 44); under
 * 1 and 2 threads. */
static void test_linear_rows_groups(void **state) {
    (void)state;
    int keep = iv_kernels_threads();
    const int Bs[] = {16, 17, 32, 48, 65, 300};
    fails = 0;
    for (int nt = 1; nt <= 2; nt++) {
        iv_kernels_set_threads(nt);
        for (int d = 0; d < 3; d++)
            for (size_t bi = 0; bi < sizeof Bs / sizeof *Bs; bi++)
                linear_case(dtypes[d], IV_OUT_IN, Bs[bi], 25, 300, (int)bi % 2 * 3, (int)bi % 3, (int)bi % 2,
                            "rows");
    }
    iv_kernels_set_threads(keep);
    assert_int_equal(fails, 0);
}

/* Thread counts 1 and 3 give the same answers as the reference (the batch-1
 * IN_OUT kernel splits input rows by thread). */
static void test_linear_threads(void **state) {
    (void)state;
    int keep = iv_kernels_threads();
    fails = 0;
    for (int nt = 1; nt <= 3; nt += 2) {
        iv_kernels_set_threads(nt);
        assert_int_equal(iv_kernels_threads(), nt);
        for (int d = 0; d < 3; d++)
            for (int lay = 0; lay < 2; lay++)
                for (int B = 1; B <= 40; B += 39)
                    linear_case(dtypes[d], (iv_layout)lay, B, 333, 301, 2, 1, 1, "threads");
    }
    /* one thread over more columns than one packed panel (384): several
     * panels in one call, the next panel's first chunk prefetched */
    iv_kernels_set_threads(1);
    for (int d = 0; d < 3; d++)
        for (int lay = 0; lay < 2; lay++) linear_case(dtypes[d], (iv_layout)lay, 33, 1000, 150, 3, 2, 1, "panels");
    iv_kernels_set_threads(keep);
    assert_int_equal(fails, 0);
}

/* in = 0: y is the bias (or zero); B = 0 touches nothing. */
static void test_linear_degenerate(void **state) {
    (void)state;
    float w[1] = {0}, x[1] = {0}, bias[3] = {1, 2, 3}, y[6];
    iv_wmat W = {w, IV_F32, IV_OUT_IN, 3, 0, 0};
    iv_linear(y, x, 2, &W, bias);
    for (int i = 0; i < 6; i++) assert_true(y[i] == bias[i % 3]);
    iv_linear(y, x, 1, &W, NULL);
    for (int i = 0; i < 3; i++) assert_true(y[i] == 0.0f);
    y[0] = 42;
    iv_linear(y, x, 0, &W, bias);
    assert_true(y[0] == 42.0f);
}

static void test_ops(void **state) {
    (void)state;
    iv_isa is[3];
    int nis = isa_list(is);
    const int64_t ns[] = {1, 5, 16, 64, 77, 768, 2049};
    fails = 0;
    for (int ii = 0; ii < nis; ii++) {
        iv_kernels_set_isa(is[ii]);
        const char *nm = iv_isa_name(is[ii]);
        for (size_t q = 0; q < sizeof ns / sizeof *ns; q++) {
            int64_t n = ns[q];
            float *x = malloc(n * 4), *w = malloc(n * 4), *b = malloc(n * 4);
            float *y = malloc(n * 4), *yr = malloc(n * 4);
            fill(x, n); fill(w, n); fill(b, n);
            for (int v = 0; v < 3; v++) { /* no weight; w; 1 + w */
                const float *wp = v ? w : NULL;
                float add = v == 2 ? 1.0f : 0.0f;
                iv_rmsnorm(y, x, wp, add, 1e-5f, n);
                iv_rmsnorm_ref(yr, x, wp, add, 1e-5f, n);
                for (int64_t i = 0; i < n; i++)
                    check(y[i], yr[i], fabs(yr[i]) + 1e-6, 1e-5, "rmsnorm %s n=%lld v=%d", nm,
                          (long long)n, v);
                iv_layernorm(y, x, wp, v ? b : NULL, 1e-5f, n);
                iv_layernorm_ref(yr, x, wp, v ? b : NULL, 1e-5f, n);
                for (int64_t i = 0; i < n; i++)
                    check(y[i], yr[i], fabs(yr[i]) + (v ? fabs(b[i]) : 0) + 1, 1e-5, "layernorm %s n=%lld v=%d", nm,
                          (long long)n, v);
            }
            /* in place */
            memcpy(y, x, n * 4);
            iv_rmsnorm(y, y, w, 0, 1e-6f, n);
            iv_rmsnorm_ref(yr, x, w, 0, 1e-6f, n);
            for (int64_t i = 0; i < n; i++)
                check(y[i], yr[i], fabs(yr[i]) + 1e-6, 1e-5, "rmsnorm in place n=%lld", (long long)n);
            /* softmax with masked entries */
            for (int64_t i = 0; i < n; i++) y[i] = yr[i] = i % 3 == 1 ? -INFINITY : 8 * x[i];
            iv_softmax_inplace(y, n);
            iv_softmax_inplace_ref(yr, n);
            double tot = 0;
            for (int64_t i = 0; i < n; i++) {
                check(y[i], yr[i], yr[i] + 1e-9, 1e-5, "softmax %s n=%lld i=%lld", nm, (long long)n,
                      (long long)i);
                tot += y[i];
            }
            assert_true(fabs(tot - 1) < 1e-5);
            /* activations: spread inputs over [-12, 12] plus the far tails */
            for (int64_t i = 0; i < n; i++) y[i] = yr[i] = 12 * x[i];
            if (n > 4) y[0] = yr[0] = -95.f, y[1] = yr[1] = 95.f, y[2] = yr[2] = -1e-20f;
            iv_gelu(y, n);
            iv_gelu_ref(yr, n);
            for (int64_t i = 0; i < n; i++)
                check(y[i], yr[i], fabs(i < 3 && n > 4 ? yr[i] : 12.0 * x[i]) + 1e-6, 1e-6, "gelu %s n=%lld i=%lld (%g)", nm,
                      (long long)n, (long long)i, i < 3 && n > 4 ? 0.0 : 12.0 * x[i]);
            for (int g = 0; g < 2; g++) {
                for (int64_t i = 0; i < n; i++) y[i] = yr[i] = 12 * x[i];
                iv_gated_act(y, b, n, g);
                iv_gated_act_ref(yr, b, n, g);
                for (int64_t i = 0; i < n; i++)
                    check(y[i], yr[i], fabs(12.0 * x[i] * b[i]) + 1e-6, 1e-6, "gated %s gelu=%d n=%lld i=%lld", nm, g,
                          (long long)n, (long long)i);
            }
            /* axpy */
            memcpy(y, b, n * 4); memcpy(yr, b, n * 4);
            iv_axpy(y, 0.37f, x, n);
            iv_axpy_ref(yr, 0.37f, x, n);
            for (int64_t i = 0; i < n; i++)
                check(y[i], yr[i], fabs(b[i]) + fabs(0.37 * x[i]), 1e-6, "axpy %s n=%lld", nm,
                      (long long)n);
            free(x); free(w); free(b); free(y); free(yr);
        }
        /* attention over a cache with row pitch > head size */
        const int hds[] = {7, 32, 64, 80, 128, 256}, nts[] = {1, 5, 37};
        for (int h = 0; h < 6; h++)
            for (int q = 0; q < 3; q++) {
                int hd = hds[h], n = nts[q];
                int64_t ld = hd + 9;
                float *qv = malloc(hd * 4), *kc = malloc(n * ld * 4), *p = malloc(n * 4);
                float *s = malloc(n * 4), *sr = malloc(n * 4), *o = malloc(hd * 4), *orf = malloc(hd * 4);
                fill(qv, hd); fill(kc, n * ld); fill(p, n);
                for (int t = 0; t < n; t++)
                    for (int64_t j = hd; j < ld; j++) kc[t * ld + j] = NAN;
                iv_attn_scores(s, qv, kc, ld, n, hd, 0.125f);
                iv_attn_scores_ref(sr, qv, kc, ld, n, hd, 0.125f);
                for (int t = 0; t < n; t++) {
                    double sc = 0;
                    for (int j = 0; j < hd; j++) sc += fabs(0.125 * qv[j] * kc[t * ld + j]);
                    check(s[t], sr[t], sc, 1e-5, "attn_scores %s hd=%d n=%d", nm, hd, n);
                }
                iv_attn_mix(o, p, kc, ld, n, hd);
                iv_attn_mix_ref(orf, p, kc, ld, n, hd);
                for (int j = 0; j < hd; j++) {
                    double sc = 0;
                    for (int t = 0; t < n; t++) sc += fabs(p[t] * kc[t * ld + j]);
                    check(o[j], orf[j], sc, 1e-5, "attn_mix %s hd=%d n=%d", nm, hd, n);
                }
                free(qv); free(kc); free(p); free(s); free(sr); free(o); free(orf);
            }
    }
    iv_kernels_set_isa(IV_ISA_AVX512);
    float allmask[3] = {-INFINITY, -INFINITY, -INFINITY};
    iv_softmax_inplace(allmask, 3);
    for (int i = 0; i < 3; i++) assert_true(allmask[i] == 0.0f);
    assert_int_equal(fails, 0);
}

static void test_bf16_bits(void **state) {
    (void)state;
    assert_int_equal(iv_f32_to_bf16(1.0f), 0x3f80);
    assert_int_equal(iv_f32_to_bf16(-0.0f), 0x8000);
    assert_int_equal(iv_f32_to_bf16(bits_f(0x3f808000)), 0x3f80); /* tie -> even (down) */
    assert_int_equal(iv_f32_to_bf16(bits_f(0x3f818000)), 0x3f82); /* tie -> even (up) */
    assert_int_equal(iv_f32_to_bf16(bits_f(0x3f808001)), 0x3f81); /* above tie */
    assert_int_equal(iv_f32_to_bf16(bits_f(0x3f807fff)), 0x3f80); /* below tie */
    assert_int_equal(iv_f32_to_bf16(bits_f(0x7f7fffff)), 0x7f80); /* FLT_MAX rounds to inf */
    assert_int_equal(iv_f32_to_bf16(INFINITY), 0x7f80);
    assert_int_equal(iv_f32_to_bf16(-INFINITY), 0xff80);
    assert_int_equal(iv_f32_to_bf16(bits_f(0x00008000)), 0x0000); /* subnormal tie -> even */
    assert_int_equal(iv_f32_to_bf16(bits_f(0x00018000)), 0x0002);
    /* NaNs stay NaN, even when only low payload bits are set */
    uint16_t n1 = iv_f32_to_bf16(bits_f(0x7f800001)), n2 = iv_f32_to_bf16(bits_f(0xffc00000));
    assert_true((n1 & 0x7f80) == 0x7f80 && (n1 & 0x7f) != 0);
    assert_true((n2 & 0xff80) == 0xff80 && (n2 & 0x7f) != 0);
    assert_true(iv_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(iv_bf16_to_f32(0xc049) == bits_f(0xc0490000));
    assert_true(isinf(iv_bf16_to_f32(0xff80)) && iv_bf16_to_f32(0xff80) < 0);
    assert_true(isnan(iv_bf16_to_f32(0x7fc0)));
    /* random finite values: result is a nearest bf16, ties to even */
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)(rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17, rng);
        if (i % 4 == 0) u = (u & 0xffff0000u) | 0x8000u; /* force exact ties */
        float v = bits_f(u);
        if (!isfinite(v) || fabsf(v) > 3.38e38f) continue;
        uint16_t h = iv_f32_to_bf16(v), a = h & 0x7fff; /* sign is kept: compare magnitudes */
        double m = fabsf(v), e = fabs(fabsf(iv_bf16_to_f32(h)) - m);
        double lo = a ? fabs(fabsf(iv_bf16_to_f32(a - 1)) - m) : m + iv_bf16_to_f32(1);
        double hi = fabs(fabsf(iv_bf16_to_f32(a + 1)) - m);
        assert_int_equal(h >> 15, f_bits(v) >> 31);
        assert_true(e <= lo && e <= hi);
        if (e == lo || e == hi) assert_int_equal(h & 1, 0);
    }
}

/* iv_transpose for 2-, 4- and 3-byte elements over shapes with partial
 * 32 x 32 blocks on both sides, from a source that is not aligned. */
static void test_transpose(void **state) {
    (void)state;
    const int64_t shapes[][2] = {{1, 1}, {37, 45}, {64, 32}, {33, 1}, {1, 70}};
    for (size_t es = 2; es <= 4; es++)
        for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++) {
            int64_t R = shapes[si][0], C = shapes[si][1];
            uint8_t *src = malloc((size_t)(R * C) * es + 1), *dst = malloc((size_t)(R * C) * es);
            assert_non_null(src);
            assert_non_null(dst);
            for (size_t i = 0; i < (size_t)(R * C) * es + 1; i++) src[i] = (uint8_t)(i * 131 + 7);
            iv_transpose(dst, src + 1, R, C, es);
            for (int64_t r = 0; r < R; r++)
                for (int64_t c = 0; c < C; c++)
                    assert_memory_equal(dst + (c * R + r) * es, src + 1 + (r * C + c) * es, es);
            free(src);
            free(dst);
        }
}

static void test_f16_bits(void **state) {
    (void)state;
    assert_int_equal(iv_f32_to_f16(1.0f), 0x3c00);
    assert_int_equal(iv_f32_to_f16(-2.0f), 0xc000);
    assert_int_equal(iv_f32_to_f16(65504.0f), 0x7bff);
    assert_int_equal(iv_f32_to_f16(65519.0f), 0x7bff);
    assert_int_equal(iv_f32_to_f16(65520.0f), 0x7c00); /* tie at the top -> inf */
    assert_int_equal(iv_f32_to_f16(1e10f), 0x7c00);
    assert_int_equal(iv_f32_to_f16(-INFINITY), 0xfc00);
    assert_int_equal(iv_f32_to_f16(ldexpf(1, -24)), 0x0001);    /* smallest subnormal */
    assert_int_equal(iv_f32_to_f16(ldexpf(1, -25)), 0x0000);    /* tie -> even (0) */
    assert_int_equal(iv_f32_to_f16(ldexpf(3, -26)), 0x0001);    /* 0.75 ulp -> 1 */
    assert_int_equal(iv_f32_to_f16(ldexpf(3, -25)), 0x0002);    /* 1.5 ulp tie -> 2 */
    assert_int_equal(iv_f32_to_f16(ldexpf(1023, -24)), 0x03ff); /* largest subnormal */
    assert_int_equal(iv_f32_to_f16(ldexpf(2047, -25)), 0x0400); /* tie up into the normals */
    assert_int_equal(iv_f32_to_f16(ldexpf(1, -14)), 0x0400);
    assert_int_equal(iv_f32_to_f16(-ldexpf(5, -24)), 0x8005);
    assert_int_equal(iv_f32_to_f16(1.0f + ldexpf(1, -11)), 0x3c00); /* tie -> even */
    assert_int_equal(iv_f32_to_f16(1.0f + ldexpf(3, -11)), 0x3c02); /* tie -> even (up) */
    assert_int_equal(iv_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)), 0x3c01);
    assert_int_equal(iv_f32_to_f16(1e-9f), 0x0000);
    assert_int_equal(iv_f32_to_f16(-0.0f), 0x8000);
    uint16_t nan = iv_f32_to_f16(NAN);
    assert_true((nan & 0x7c00) == 0x7c00 && (nan & 0x3ff) != 0);
    assert_true(iv_f16_to_f32(0x0001) == ldexpf(1, -24));
    assert_true(iv_f16_to_f32(0x83ff) == -ldexpf(1023, -24));
    assert_true(iv_f16_to_f32(0x3555) == 0.333251953125f);
    assert_true(iv_f16_to_f32(0x7bff) == 65504.0f);
    assert_true(isinf(iv_f16_to_f32(0x7c00)) && isinf(iv_f16_to_f32(0xfc00)));
    assert_true(isnan(iv_f16_to_f32(0x7e00)) && isnan(iv_f16_to_f32(0x7c01)));
    /* every f16: round trip is exact, and the SIMD conversion (F16C on x86)
     * agrees with the portable one */
    iv_isa is[3];
    int nis = isa_list(is);
    float one = 1.0f;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = iv_f16_to_f32((uint16_t)h);
        uint16_t h16 = (uint16_t)h;
        if (isnan(f)) continue;
        assert_int_equal(iv_f32_to_f16(f), h);
        for (int ii = 0; ii < nis; ii++) {
            iv_kernels_set_isa(is[ii]);
            float g = iv_dot(&one, &h16, IV_F16, 1);
            if (f_bits(g) != f_bits(f) && !(f == 0 && g == 0))
                fail_msg("f16 0x%04x: %s gives %.9g, portable %.9g", h, iv_isa_name(is[ii]), g, f);
        }
    }
    iv_kernels_set_isa(IV_ISA_AVX512);
    /* random finite values in range: nearest f16, ties to even */
    for (int i = 0; i < 200000; i++) {
        float v = ldexpf(urand(), (int)(rng % 44) - 28);
        if (i % 4 == 0) { /* exact ties between neighbours */
            uint16_t h = (uint16_t)(rng % 0x7bff);
            v = (float)(((double)iv_f16_to_f32(h) + iv_f16_to_f32(h + 1)) / 2);
        }
        uint16_t h = iv_f32_to_f16(v);
        double got = iv_f16_to_f32(h), e = fabs(got - v);
        uint16_t a = h & 0x7fff;
        double lo = a ? fabs(iv_f16_to_f32((h & 0x8000) | (a - 1)) - v) : INFINITY;
        double hi = a < 0x7bff ? fabs(iv_f16_to_f32((h & 0x8000) | (a + 1)) - v) : INFINITY;
        if (a == 0) lo = fabs(-(double)iv_f16_to_f32(1) - v);
        assert_true(e <= lo && e <= hi);
        if (e == lo || e == hi) assert_int_equal(h & 1, 0);
    }
    /* iv_to_f32 matches the element-wise conversions */
    uint16_t src[5] = {0x3c00, 0x0001, 0xfc00, 0x3555, 0x8000};
    float dst[5];
    iv_to_f32(dst, src, IV_F16, 5);
    for (int i = 0; i < 5; i++) assert_true(f_bits(dst[i]) == f_bits(iv_f16_to_f32(src[i])));
    iv_to_f32(dst, src, IV_BF16, 5);
    for (int i = 0; i < 5; i++) assert_true(f_bits(dst[i]) == f_bits(iv_bf16_to_f32(src[i])));
}

static void test_isa(void **state) {
    (void)state;
    assert_int_equal(iv_kernels_set_isa(IV_ISA_SCALAR), IV_ISA_SCALAR);
    assert_string_equal(iv_isa_name(IV_ISA_SCALAR), "scalar");
    iv_isa best = iv_kernels_set_isa(IV_ISA_AVX512);
    assert_true(best >= IV_ISA_SCALAR && best <= IV_ISA_AVX512);
    assert_int_equal(iv_kernels_isa(), best);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa),
        cmocka_unit_test(test_bf16_bits),
        cmocka_unit_test(test_f16_bits),
        cmocka_unit_test(test_transpose),
        cmocka_unit_test(test_dot),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_linear_gemm),
        cmocka_unit_test(test_linear_threads),
        cmocka_unit_test(test_linear_rows_groups),
        cmocka_unit_test(test_linear_degenerate),
        cmocka_unit_test(test_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
