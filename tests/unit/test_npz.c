/* .npz reader against fixtures from scripts/make_io_fixtures.py: exact values for
 * every supported dtype (stored and deflated archives), and one clear error naming
 * the file for each malformed archive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/npz.h"
#include "io/npz_internal.h"

#define FIX "tests/fixtures/io/npz/"

static float *get(iv_npz *z, const char *name, int want_ndim, const int64_t *want_shape) {
    iv_err err = {{0}};
    float *d = NULL;
    int ndim = -1;
    int64_t shape[IV_NPZ_MAX_DIMS];
    int rc = iv_npz_get_f32(z, name, &d, &ndim, shape, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(ndim, want_ndim);
    for (int i = 0; i < ndim; i++) assert_int_equal(shape[i], want_shape[i]);
    for (int i = ndim; i < IV_NPZ_MAX_DIMS; i++) assert_int_equal(shape[i], 0);
    return d;
}

static void check_good(const char *path) {
    iv_err err = {{0}};
    iv_npz *z = NULL;
    assert_int_equal(iv_npz_open(path, &z, &err), 0);
    const char *names[] = {"W_enc", "b_enc", "W_dec", "threshold", "count", "big", "scalar",
                           "empty", "v2", "v3"};
    assert_int_equal(iv_npz_count(z), 10);
    for (size_t i = 0; i < 10; i++) assert_string_equal(iv_npz_name(z, i), names[i]);
    assert_null(iv_npz_name(z, 10));
    assert_true(iv_npz_has(z, "W_dec"));
    assert_false(iv_npz_has(z, "W_dec.npy"));

    float *d = get(z, "W_enc", 2, (int64_t[]){4, 6}); /* [4, 6] */
    for (int i = 0; i < 24; i++) assert_true(d[i] == (float)(i - 7) / 4);
    free(d);
    d = get(z, "b_enc", 1, (int64_t[]){6});
    for (int i = 0; i < 6; i++) assert_true(d[i] == (float)(i * 3 - 5) / 8);
    free(d);
    d = get(z, "W_dec", 2, (int64_t[]){6, 4}); /* f16 source */
    for (int i = 0; i < 24; i++) assert_true(d[i] == (float)(i - 11) / 16);
    free(d);
    d = get(z, "threshold", 1, (int64_t[]){6}); /* f64 source, rounded to f32 */
    for (int i = 0; i < 6; i++) assert_true(d[i] == (float)(0.1 * (i + 1)));
    free(d);
    d = get(z, "count", 1, (int64_t[]){3});
    assert_true(d[0] == -2.0f && d[1] == 0.0f && d[2] == 7.0f);
    free(d);
    d = get(z, "big", 1, (int64_t[]){2});
    assert_true(d[0] == -1099511627776.0f && d[1] == 12345.0f);
    free(d);
    d = get(z, "scalar", 0, NULL);
    assert_true(d[0] == 2.5f);
    free(d);
    d = get(z, "empty", 2, (int64_t[]){0, 3});
    free(d);
    d = get(z, "v2", 1, (int64_t[]){3});
    assert_true(d[0] == 1.0f && d[1] == -1.0f && d[2] == 0.5f);
    free(d);
    d = get(z, "v3", 1, (int64_t[]){2});
    assert_true(d[0] == 0.25f && d[1] == 8.0f);
    free(d);

    int ndim;
    int64_t shape[IV_NPZ_MAX_DIMS];
    assert_int_equal(iv_npz_shape(z, "W_dec", &ndim, shape, &err), 0);
    assert_int_equal(ndim, 2);
    assert_int_equal(shape[0], 6);
    assert_int_equal(shape[1], 4);
    assert_int_equal(iv_npz_get_f32(z, "nope", &d, NULL, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no member 'nope.npy'"));
    assert_non_null(strstr(err.msg, path));
    iv_npz_close(z);
}

static void test_good_stored(void **s) { (void)s; check_good(FIX "good.npz"); }
static void test_good_deflate(void **s) { (void)s; check_good(FIX "good_deflate.npz"); }

/* Each malformed file fails, at open or at reading member "a", with a message that
 * names the file and contains the expected phrase. */
static void test_malformed(void **s) {
    (void)s;
    static const struct { const char *file, *want; } cases[] = {
        {"bad_notzip.npz", "not a readable .npz"},
        {"bad_truncated.npz", "not a readable .npz"},
        {"bad_magic.npz", "bad magic"},
        {"bad_version.npz", "unsupported .npy version 4.0"},
        {"bad_fortran.npz", "Fortran-order"},
        {"bad_bigendian.npz", "big-endian dtype '>f4'"},
        {"bad_object.npz", "object arrays"},
        {"bad_structured.npz", "structured dtypes"},
        {"bad_complex.npz", "unsupported dtype '<c8'"},
        {"bad_negative.npz", "negative dimension"},
        {"bad_overflow.npz", "shape"},
        {"bad_cap.npz", "exceeds the 4294967296-byte cap"},
        {"bad_ndim.npz", "more than 8 dimensions"},
        {"bad_dict.npz", "expected ',' or '}'"},
        {"bad_nokey.npz", "missing 'shape'"},
        {"bad_short.npz", "zip declares"},
        {"bad_hlen.npz", "header length 65535 exceeds the member"},
        {"bad_truncheader.npz", "truncated header"},
        {"bad_member.npz", "'readme.txt' is not a .npy file"},
        {"bad_bomb.npz", "zip bomb"},
        {"bad_bomb_forged.npz", "more data than the header declares"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        iv_err err = {{0}};
        iv_npz *z = NULL;
        float *d = NULL;
        int rc = iv_npz_open(path, &z, &err);
        if (rc == 0) {
            rc = iv_npz_get_f32(z, "a", &d, NULL, NULL, &err);
            iv_npz_close(z);
        }
        if (rc != -1 || !strstr(err.msg, path) || !strstr(err.msg, cases[i].want))
            fail_msg("%s: rc=%d msg='%s' (want '%s')", cases[i].file, rc, err.msg, cases[i].want);
        assert_null(d);
    }
}

/* The header parser alone, on texts numpy would not write. */
static void test_header_dict(void **s) {
    (void)s;
    npy_info info;
    char why[256];
    const char *ok = "{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 2), }  \n";
    assert_int_equal(iv_npy_parse_dict(ok, strlen(ok), &info, why, sizeof why), 0);
    assert_int_equal(info.kind, NPY_F8);
    assert_int_equal(info.ndim, 2);
    assert_int_equal(info.numel, 6);
    assert_int_equal(info.nbytes, 48);
    static const struct { const char *text, *want; } bad[] = {
        {"", "not a dict"},
        {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': ()}", "repeated key"},
        {"{'descr': '<f4', 'fortran_order': Maybe, 'shape': ()}", "True/False"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (2,}", "malformed shape"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': 7}", "not a tuple"},
        {"{'descr': '<f4\\n', 'fortran_order': False, 'shape': ()}", "escapes"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()} x", "trailing"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", "too large"},
        {"{'descr': '|O', 'fortran_order': False, 'shape': ()}", "object"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': (), 'extra': 1}", "unexpected"},
        {"{'descr' '<f4', 'fortran_order': False}", "expected ':'"},
        {"{'descr': '<f4', 'fortran_order': False, 'shape': ()", "expected ',' or '}'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = 0;
        int rc = iv_npy_parse_dict(bad[i].text, strlen(bad[i].text), &info, why, sizeof why);
        if (rc != -1 || !strstr(why, bad[i].want))
            fail_msg("case %zu: rc=%d why='%s' (want '%s')", i, rc, why, bad[i].want);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_stored),
        cmocka_unit_test(test_good_deflate),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_header_dict),
    };
    return cmocka_run_group_tests_name("npz", tests, NULL, NULL);
}
