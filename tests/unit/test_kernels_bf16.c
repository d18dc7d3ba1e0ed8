/* bf16 compute (iv_linear_bf16) against its reference twin (double sums of
 * bf16-rounded activations times the weights), over batch sizes that cross
 * every kernel boundary (dots below 16 rows, AMX tiles of 16 / 32 rows and
 * 32 inputs, odd input counts, output tails), with the AMX kernel, with
 * AVX512-BF16 only and with neither (the portable fallback); and the
 * rounding itself against hand-worked values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/kernels.h"

static float frand(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return (float)((*s >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static float bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static void test_round(void **st) {
    (void)st;
    /* ties go to even: 1 + 2^-8 is halfway between 1 and 1 + 2^-7 -> 1;
     * 1 + 3 * 2^-8 halfway between 1 + 2^-7 and 1 + 2^-6 -> 1 + 2^-6 */
    assert_true(iv_round_bf16(1.0f + 0x1p-8f) == 1.0f);
    assert_true(iv_round_bf16(1.0f + 3 * 0x1p-8f) == 1.0f + 0x1p-6f);
    assert_true(iv_round_bf16(1.0f + 0x1p-8f + 0x1p-20f) == 1.0f + 0x1p-7f); /* above half: up */
    assert_true(iv_round_bf16(-1.5f) == -1.5f);                               /* exact */
    assert_true(iv_round_bf16(bits(0x00000001u)) == 0.0f);                   /* subnormal -> 0 */
    assert_true(signbit(iv_round_bf16(bits(0x80400000u))));                  /* keeps the sign */
    assert_true(isnan(iv_round_bf16(NAN)));
    assert_true(isinf(iv_round_bf16(INFINITY)));
    assert_true(iv_round_bf16(bits(0x7f7fffffu)) == INFINITY); /* FLT_MAX rounds up to inf */
}

/* y and the reference agree to f32 rounding of the sum: |d| <= 1e-5 sum|w x|. */
static void check(int B, int out, int in, iv_dtype dt, iv_layout lay, int with_bias, uint64_t seed) {
    size_t ne = (size_t)out * in;
    void *w = malloc(ne * 4); /* [out, in] or [in, out] */
    float *x = malloc(sizeof(float) * (size_t)B * in), *bias = malloc(sizeof(float) * (size_t)out);
    float *y = malloc(sizeof(float) * (size_t)B * out), *yr = malloc(sizeof(float) * (size_t)B * out);
    float *mag = malloc(sizeof(float) * (size_t)B * out);
    assert_non_null(w); assert_non_null(x); assert_non_null(bias); assert_non_null(y); assert_non_null(yr);
    for (size_t i = 0; i < ne; i++) {
        float v = frand(&seed);
        if (dt == IV_BF16) ((uint16_t *)w)[i] = iv_f32_to_bf16(v);
        else ((float *)w)[i] = v;
    }
    for (size_t i = 0; i < (size_t)B * in; i++) x[i] = 4 * frand(&seed);
    for (int o = 0; o < out; o++) bias[o] = frand(&seed);
    iv_wmat W = {w, dt, lay, out, in, lay == IV_OUT_IN ? in : out};
    const float *bp = with_bias ? bias : NULL;
    iv_linear_bf16(y, x, B, &W, bp);
    iv_linear_bf16_ref(yr, x, B, &W, bp);
    /* sum |w x| per output, from the reference with |.| inputs */
    float *ax = malloc(sizeof(float) * (size_t)B * in);
    void *aw = malloc(ne * 4);
    for (size_t i = 0; i < (size_t)B * in; i++) ax[i] = fabsf(x[i]);
    for (size_t i = 0; i < ne; i++) {
        if (dt == IV_BF16) ((uint16_t *)aw)[i] = ((uint16_t *)w)[i] & 0x7fff;
        else ((float *)aw)[i] = fabsf(((float *)w)[i]);
    }
    iv_wmat AW = W;
    AW.data = aw;
    iv_linear_bf16_ref(mag, ax, B, &AW, NULL);
    for (size_t i = 0; i < (size_t)B * out; i++)
        if (!(fabsf(y[i] - yr[i]) <= 1e-5f * (mag[i] + 1e-3f))) {
            print_error("B=%d out=%d in=%d dtype=%d layout=%d at %zu: %g vs %g (|wx| %g)\n", B, out, in, (int)dt,
                        (int)lay, i, y[i], yr[i], mag[i]);
            fail();
        }
    free(w); free(x); free(bias); free(y); free(yr); free(mag); free(ax); free(aw);
}

static void sweep_shapes(void) {
    static const int Bs[] = {1, 2, 3, 5, 8, 15, 16, 17, 31, 32, 33, 48, 70};
    static const int shapes[][2] = {{1, 1}, {7, 3}, {33, 31}, {48, 64}, {100, 97}, {129, 256}, {50, 770}};
    uint64_t seed = 12345;
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++)
        for (size_t b = 0; b < sizeof Bs / sizeof *Bs; b++)
            check(Bs[b], shapes[s][0], shapes[s][1], IV_BF16, IV_OUT_IN, (int)(b & 1), seed++);
    /* weights the bf16 kernels do not take: rounded x through iv_linear */
    check(5, 40, 33, IV_F32, IV_OUT_IN, 1, seed++);
    check(20, 40, 33, IV_BF16, IV_IN_OUT, 0, seed++);
}

static void test_amx(void **st) {
    (void)st;
    iv_kernels_set_bf16(2); /* AMX where the CPU and OS give it */
    sweep_shapes();
    iv_kernels_set_bf16(2);
}

static void test_avx512_bf16_only(void **st) {
    (void)st;
    iv_kernels_set_bf16(1);
    sweep_shapes();
    iv_kernels_set_bf16(2);
}

static void test_portable(void **st) {
    (void)st;
    iv_kernels_set_bf16(0);
    assert_int_equal(iv_kernels_bf16(), 0);
    sweep_shapes();
    iv_kernels_set_bf16(2);
}

/* two threads split the rows; results equal one thread's bit for bit (each
 * output is one thread's sum in a fixed order) */
static void test_threads(void **st) {
    (void)st;
    int out = 3000, in = 512;
    uint16_t *w = malloc(sizeof *w * (size_t)out * in);
    float *x = malloc(sizeof(float) * 40 * in), *y1 = malloc(sizeof(float) * 40 * out), *y2 = malloc(sizeof(float) * 40 * out);
    uint64_t s = 99;
    for (size_t i = 0; i < (size_t)out * in; i++) w[i] = iv_f32_to_bf16(frand(&s));
    for (int i = 0; i < 40 * in; i++) x[i] = frand(&s);
    iv_wmat W = {w, IV_BF16, IV_OUT_IN, out, in, in};
    int nt = iv_kernels_threads();
    for (int B = 1; B <= 40; B += 13) {
        iv_kernels_set_threads(1);
        iv_linear_bf16(y1, x, B, &W, NULL);
        iv_kernels_set_threads(2);
        iv_linear_bf16(y2, x, B, &W, NULL);
        assert_memory_equal(y1, y2, sizeof(float) * (size_t)B * out);
    }
    iv_kernels_set_threads(nt);
    free(w); free(x); free(y1); free(y2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round), cmocka_unit_test(test_amx), cmocka_unit_test(test_avx512_bf16_only),
        cmocka_unit_test(test_portable), cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
