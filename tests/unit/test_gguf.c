/* GGUF control vectors: fixtures written by scripts/make_io_fixtures.py (GGUF laid
 * out by hand with struct), our writer byte-identical to that layout, write/read
 * round trips, and a clear error naming the file for every malformed file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <math.h>
#include <cmocka.h>
#include "interv/gguf.h"
#include "interv/io.h"

#define FIX "tests/fixtures/io/gguf/"

static float cv_value(int layer, int j) { return (float)((layer * 7 + j * 3) % 17 - 8) / 4; }

static void test_read_v3(void **s) {
    (void)s;
    iv_gguf_cv cv;
    iv_err err = {{0}};
    if (iv_gguf_cv_read(FIX "cv.gguf", &cv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(cv.d, 8);
    assert_int_equal(cv.n_layers, 4);
    assert_null(cv.vec[0]);
    assert_string_equal(cv.model_hint, "llama");
    assert_int_equal(cv.layer_count, 3);
    for (int L = 1; L <= 3; L++)
        for (int j = 0; j < 8; j++) assert_true(cv.vec[L][j] == cv_value(L, j));
    iv_gguf_cv_free(&cv);
}

/* v2, alignment 64, tensors out of layer order, extra KVs of several types
 * (string array, u64 array, bool, f32, nested array), layer_count as i32, no hint. */
static void test_read_v2_align64(void **s) {
    (void)s;
    iv_gguf_cv cv;
    iv_err err = {{0}};
    if (iv_gguf_cv_read(FIX "cv_v2.gguf", &cv, &err)) fail_msg("%s", err.msg);
    assert_int_equal(cv.d, 5);
    assert_int_equal(cv.n_layers, 6);
    assert_null(cv.model_hint);
    assert_int_equal(cv.layer_count, 2);
    for (int L = 0; L < 6; L++) {
        if (L != 2 && L != 5) { assert_null(cv.vec[L]); continue; }
        for (int j = 0; j < 5; j++) assert_true(cv.vec[L][j] == cv_value(L, j));
    }
    iv_gguf_cv_free(&cv);
}

static char tmpdir[64];
static int setup(void **s) {
    (void)s;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/iv_gguf_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}
static int teardown(void **s) {
    (void)s;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Our writer produces exactly the bytes of the hand-laid fixture. */
static void test_write_matches_fixture(void **s) {
    (void)s;
    iv_gguf_cv cv;
    iv_err err = {{0}};
    assert_int_equal(iv_gguf_cv_init(&cv, 8, 4, "llama", &err), 0);
    for (int L = 1; L <= 3; L++) {
        cv.vec[L] = malloc(8 * sizeof(float));
        for (int j = 0; j < 8; j++) cv.vec[L][j] = cv_value(L, j);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/out.gguf", tmpdir);
    if (iv_gguf_cv_write(path, &cv, &err)) fail_msg("%s", err.msg);
    char *a, *b;
    size_t la, lb;
    assert_int_equal(iv_read_file(path, &a, &la, &err), 0);
    assert_int_equal(iv_read_file(FIX "cv.gguf", &b, &lb, &err), 0);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    free(a);
    free(b);
    iv_gguf_cv_free(&cv);
}

/* Write then read: odd d (padding), sparse layers, no hint, extreme finite values. */
static void test_round_trip(void **s) {
    (void)s;
    iv_gguf_cv cv, back;
    iv_err err = {{0}};
    assert_int_equal(iv_gguf_cv_init(&cv, 13, 30, NULL, &err), 0);
    int layers[] = {1, 7, 29};
    for (int k = 0; k < 3; k++) {
        float *v = cv.vec[layers[k]] = malloc(13 * sizeof(float));
        for (int j = 0; j < 13; j++) v[j] = sinf((float)(k * 13 + j)) * 1e3f;
    }
    cv.vec[7][0] = 3.4028235e38f;
    cv.vec[7][1] = -1.4e-45f;
    char path[128];
    snprintf(path, sizeof path, "%s/rt.gguf", tmpdir);
    if (iv_gguf_cv_write(path, &cv, &err)) fail_msg("%s", err.msg);
    if (iv_gguf_cv_read(path, &back, &err)) fail_msg("%s", err.msg);
    assert_int_equal(back.d, 13);
    assert_int_equal(back.n_layers, 30);
    assert_null(back.model_hint);
    assert_int_equal(back.layer_count, 3);
    for (int L = 0; L < 30; L++) {
        if (!cv.vec[L]) { assert_null(back.vec[L]); continue; }
        assert_memory_equal(back.vec[L], cv.vec[L], 13 * sizeof(float));
    }
    /* no temp file left beside the output */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s/rt.gguf.tmp.%ld", tmpdir, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
    iv_gguf_cv_free(&back);
    iv_gguf_cv_free(&cv);
}

static void test_write_rejects(void **s) {
    (void)s;
    iv_gguf_cv cv;
    iv_err err = {{0}};
    char path[128];
    snprintf(path, sizeof path, "%s/bad.gguf", tmpdir);
    assert_int_equal(iv_gguf_cv_init(&cv, 4, 3, "x", &err), 0);
    assert_int_equal(iv_gguf_cv_write(path, &cv, &err), -1);
    assert_non_null(strstr(err.msg, "no layers"));
    cv.vec[0] = calloc(4, sizeof(float));
    assert_int_equal(iv_gguf_cv_write(path, &cv, &err), -1);
    assert_non_null(strstr(err.msg, "direction.0"));
    free(cv.vec[0]);
    cv.vec[0] = NULL;
    cv.vec[2] = calloc(4, sizeof(float));
    cv.vec[2][3] = NAN;
    assert_int_equal(iv_gguf_cv_write(path, &cv, &err), -1);
    assert_non_null(strstr(err.msg, "direction.2[3] is not finite"));
    assert_non_null(strstr(err.msg, path));
    assert_int_not_equal(access(path, F_OK), 0); /* nothing written */
    cv.vec[2][3] = 1;
    assert_int_equal(iv_gguf_cv_write("/nonexistent-dir/x.gguf", &cv, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent-dir/x.gguf"));
    iv_gguf_cv_free(&cv);
    assert_int_equal(iv_gguf_cv_init(&cv, 0, 3, NULL, &err), -1);
}

static void test_malformed(void **s) {
    (void)s;
    static const struct { const char *file, *want; } cases[] = {
        {"bad_magic.gguf", "bad magic"},
        {"bad_version1.gguf", "unsupported GGUF version 1"},
        {"bad_version4.gguf", "unsupported GGUF version 4"},
        {"bad_bigendian.gguf", "big-endian GGUF"},
        {"bad_trunc_header.gguf", "a key of 20 bytes at byte 24 runs past the end of the file"},
        {"bad_trunc_data.gguf", "direction.2 data (offset 32, 32 bytes) lies past the end"},
        {"bad_huge_key.gguf", "a key has length 4611686018427387904 (limit 65535)"},
        {"bad_huge_tensors.gguf", "1099511627776 tensors"},
        {"bad_huge_kv.gguf", "1099511627776 metadata keys"},
        {"bad_huge_array.gguf", "runs past the end of the file"},
        {"bad_kv_type.gguf", "unknown value type 99"},
        {"bad_bool.gguf", "bool holds 2"},
        {"bad_deep_array.gguf", "nested too deeply"},
        {"bad_arch.gguf", "general.architecture is 'llama', not 'controlvector'"},
        {"bad_no_arch.gguf", "no general.architecture"},
        {"bad_dup_key.gguf", "duplicate key 'general.architecture'"},
        {"bad_no_tensors.gguf", "no direction tensors"},
        {"bad_type_f16.gguf", "ggml type 1 (only F32"},
        {"bad_2d.gguf", "dimension 1 = 2"},
        {"bad_name.gguf", "'blk.1.direction' is not named direction.N"},
        {"bad_name_num.gguf", "'direction.x' is not named direction.N"},
        {"bad_dup_tensor.gguf", "direction.1 appears twice"},
        {"bad_dims_mismatch.gguf", "direction.2 has length 4 but earlier ones have 8"},
        {"bad_offset_past_end.gguf", "lies past the end of the file"},
        {"bad_misaligned.gguf", "offset 4 is not a multiple of the alignment 32"},
        {"bad_overlap.gguf", "direction.1 and direction.2 overlap"},
        {"bad_alignment.gguf", "general.alignment 48 is not a power of two"},
        {"bad_layer_count.gguf", "'controlvector.layer_count' is not an integer"},
        {"bad_nan.gguf", "direction.1[0] is not finite"},
        {"bad_hint_len.gguf", "controlvector.model_hint has length 1099511627776"},
        {"no_such_file.gguf", "cannot open"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        iv_err err = {{0}};
        iv_gguf_cv cv;
        int rc = iv_gguf_cv_read(path, &cv, &err);
        if (rc != -1 || !strstr(err.msg, path) || !strstr(err.msg, cases[i].want))
            fail_msg("%s: rc=%d msg='%s' (want '%s')", cases[i].file, rc, err.msg, cases[i].want);
        assert_null(cv.vec);
        assert_null(cv.model_hint);
    }
}

/* Every truncation of a valid file that cuts into its data fails cleanly (never
 * reads past the end); cutting only the last tensor's 44 padding bytes is fine. */
static void test_every_truncation(void **s) {
    (void)s;
    char *buf;
    size_t len;
    iv_err err = {{0}};
    assert_int_equal(iv_read_file(FIX "cv_v2.gguf", &buf, &len, &err), 0);
    char path[128];
    snprintf(path, sizeof path, "%s/trunc.gguf", tmpdir);
    for (size_t n = 0; n + 44 <= len; n++) {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(buf, 1, n, f), n);
        fclose(f);
        iv_gguf_cv cv;
        int rc = iv_gguf_cv_read(path, &cv, &err);
        if (n + 44 == len) { /* the data is complete */
            assert_int_equal(rc, 0);
            iv_gguf_cv_free(&cv);
            continue;
        }
        if (rc != -1) fail_msg("prefix of %zu bytes accepted", n);
        assert_non_null(strstr(err.msg, path));
    }
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_v3),
        cmocka_unit_test(test_read_v2_align64),
        cmocka_unit_test(test_write_matches_fixture),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_write_rejects),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_every_truncation),
    };
    return cmocka_run_group_tests_name("gguf", tests, setup, teardown);
}
