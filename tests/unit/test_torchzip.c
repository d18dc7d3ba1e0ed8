/* PyTorch zip checkpoints: fixtures saved by torch 1.13 (scripts/make_io_fixtures.py)
 * read back exactly, the restricted unpickler on hand-written byte streams, and a
 * clear error naming the file for every malformed checkpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/torchzip.h"
#include "io/unpickle_internal.h"

#define FIX "tests/fixtures/io/torch/"

static iv_torchzip *open_ok(const char *path) {
    iv_err err = {{0}};
    iv_torchzip *tz = NULL;
    int rc = iv_torchzip_open(path, &tz, &err);
    if (rc) fail_msg("%s", err.msg);
    return tz;
}

static const iv_tz_tensor *find(const iv_torchzip *tz, const char *name, iv_dtype dt, int ndim,
                                const int64_t *shape) {
    const iv_tz_tensor *t = iv_torchzip_find(tz, name);
    if (!t) fail_msg("missing tensor %s", name);
    assert_int_equal(t->dtype, dt);
    assert_int_equal(t->ndim, ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        assert_int_equal(t->shape[i], shape[i]);
        n *= shape[i];
    }
    assert_int_equal(t->numel, n);
    return t;
}

/* tuned-lens layout: "{i}.weight" [4,4], "{i}.bias" [4] (values from the script). */
static void check_lens(const iv_torchzip *tz, int n_layers) {
    char nm[32];
    for (int i = 0; i < n_layers; i++) {
        snprintf(nm, sizeof nm, "%d.weight", i);
        const iv_tz_tensor *w = find(tz, nm, IV_F32, 2, (int64_t[]){4, 4});
        assert_int_equal(w->stride[0], 4);
        assert_int_equal(w->stride[1], 1);
        for (int r = 0; r < 4; r++)
            for (int c = 0; c < 4; c++) assert_true(w->data[r * 4 + c] == (float)(r * 4 + c + 16 * i - 5) / 8);
        snprintf(nm, sizeof nm, "%d.bias", i);
        const iv_tz_tensor *b = find(tz, nm, IV_F32, 1, (int64_t[]){4});
        for (int j = 0; j < 4; j++) assert_true(b->data[j] == (float)(j - i) / 4);
    }
}

static void test_lens_state_dict(void **s) {
    (void)s;
    iv_torchzip *tz = open_ok(FIX "lens.pt");
    assert_int_equal(tz->n, 6);
    assert_string_equal(tz->tensors[0].name, "0.weight"); /* insertion order kept */
    assert_string_equal(tz->tensors[5].name, "2.bias");
    check_lens(tz, 3);
    assert_null(iv_torchzip_find(tz, "3.weight"));
    iv_torchzip_close(tz);
}

static void test_parameters(void **s) {
    (void)s;
    iv_torchzip *tz = open_ok(FIX "params.pt");
    assert_int_equal(tz->n, 2);
    check_lens(tz, 1);
    iv_torchzip_close(tz);
}

static void check_mixed(const char *path) {
    iv_torchzip *tz = open_ok(path);
    assert_int_equal(tz->n, 9);
    const iv_tz_tensor *t = find(tz, "half", IV_F16, 2, (int64_t[]){2, 3});
    for (int k = 0; k < 6; k++) assert_true(t->data[k] == (float)(k - 3) / 4);
    t = find(tz, "bf16", IV_BF16, 1, (int64_t[]){5});
    for (int k = 0; k < 5; k++) assert_true(t->data[k] == (float)(k - 2) / 2);
    t = find(tz, "base", IV_F32, 1, (int64_t[]){8});
    for (int k = 0; k < 8; k++) assert_true(t->data[k] == (float)k);
    t = find(tz, "view", IV_F32, 1, (int64_t[]){4}); /* base[2:6], same storage */
    assert_int_equal(t->storage_offset, 2);
    for (int k = 0; k < 4; k++) assert_true(t->data[k] == (float)(k + 2));
    t = find(tz, "scalar", IV_F32, 0, NULL);
    assert_true(t->data[0] == 1.5f);
    t = find(tz, "cube", IV_F32, 3, (int64_t[]){2, 2, 2});
    assert_int_equal(t->stride[0], 4);
    for (int k = 0; k < 8; k++) assert_true(t->data[k] == (float)k / 2);
    t = find(tz, "four", IV_F32, 4, (int64_t[]){1, 2, 1, 3});
    for (int k = 0; k < 6; k++) assert_true(t->data[k] == (float)k);
    find(tz, "empty", IV_F32, 2, (int64_t[]){0, 4});
    t = find(tz, "wide", IV_F32, 1, (int64_t[]){3});
    assert_int_equal(t->storage_offset, 260);
    for (int k = 0; k < 3; k++) assert_true(t->data[k] == (float)(260 + k) / 4);
    iv_torchzip_close(tz);
}

static void test_mixed_dtypes(void **s) { (void)s; check_mixed(FIX "mixed.pt"); }
static void test_mixed_protocol4(void **s) { (void)s; check_mixed(FIX "mixed_p4.pt"); }

static void test_malformed(void **s) {
    (void)s;
    static const struct { const char *file, *want; } cases[] = {
        {"bad_os_system.pt", "forbidden GLOBAL 'os.system'"},
        {"bad_builtins.pt", "forbidden GLOBAL 'builtins.eval'"},
        {"bad_opcode.pt", "unsupported pickle opcode 0x49 'I' at byte 2"},
        {"bad_trunc_pkl.pt", "truncated pickle"},
        {"bad_trunc_zip.pt", "not a readable zip checkpoint"},
        {"bad_short_storage.pt", "storage '0' is 60 bytes but data.pkl declares 16 elements"},
        {"bad_missing_storage.pt", "missing member 'lens/data/0'"},
        {"bad_noncontig.pt", "tensor 'w' is not contiguous"},
        {"bad_offset.pt", "lie outside storage '0'"},
        {"bad_huge_shape.pt", "shape too large"},
        {"bad_numel.pt", "storage '0' is 64 bytes but data.pkl declares 1000 elements"},
        {"bad_persid.pt", "persistent id is not"},
        {"bad_storage_type.pt", "torch.LongStorage"},
        {"bad_memo.pt", "memo lookup of an unset index"},
        {"bad_stack.pt", "stack underflow"},
        {"bad_not_dict.pt", "top-level object is not a dict"},
        {"bad_nested.pt", "entry 'a' is not a tensor"},
        {"bad_storage_key.pt", "bad storage key"},
        {"bad_trailing.pt", "trailing bytes after STOP"},
        {"bad_no_pkl.pt", "no <archive>/data.pkl"},
        {"bad_byteorder.pt", "big-endian"},
        {"bad_version.pt", "archive version"},
        {"no_such_file.pt", "not a readable zip checkpoint"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        iv_err err = {{0}};
        iv_torchzip *tz = (iv_torchzip *)1;
        int rc = iv_torchzip_open(path, &tz, &err);
        if (rc != -1 || tz != NULL || !strstr(err.msg, path) || !strstr(err.msg, cases[i].want))
            fail_msg("%s: rc=%d msg='%s' (want '%s')", cases[i].file, rc, err.msg, cases[i].want);
    }
}

/* ---- the unpickler alone ----------------------------------------------------- */

#define PK(s) (const uint8_t *)(s), sizeof(s) - 1

/* {"w": FloatStorage tensor}, written with LONG_BINPUT/LONG_BINGET, BININT and
 * LONG1 values, and a SETITEM instead of SETITEMS. */
static void test_unpickle_opcodes(void **s) {
    (void)s;
    iv_pk_dict d;
    iv_err err = {{0}};
    /* after SETITEM the dict is fetched back from memo[256], so STOP returns it */
    static const char fixed[] = "\x80\x02}r\x00\x01\x00\x00"
        "X\x01\x00\x00\x00w"
        "ctorch._utils\n_rebuild_tensor_v2\n("
        "(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x03\x00\x00\x00keyX\x03\x00\x00\x00" "cpu"
        "J\xa0\x86\x01\x00tQ"
        "\x8a\x02\x10\x27"
        "K\x02K\x03\x86K\x03K\x01\x86\x88}N"
        "tRsj\x00\x01\x00\x00.";
    int rc = iv_unpickle_state_dict(PK(fixed), "mem", &d, &err);
    if (rc) fail_msg("%s", err.msg);
    assert_int_equal(d.nt, 1);
    assert_int_equal(d.ns, 1);
    assert_string_equal(d.t[0].name, "w");
    assert_string_equal(d.s[0].key, "key");
    assert_int_equal(d.s[0].numel, 100000);
    assert_int_equal(d.s[0].dtype, IV_F32);
    assert_int_equal(d.t[0].offset, 10000);
    assert_int_equal(d.t[0].ndim, 2);
    assert_int_equal(d.t[0].shape[1], 3);
    assert_int_equal(d.t[0].stride[0], 3);
    iv_pk_dict_free(&d);
}

static void test_unpickle_rejects(void **s) {
    (void)s;
    static const struct { const char *bytes; size_t len; const char *want; } cases[] = {
#define C(b, w) {b, sizeof(b) - 1, w}
        C("", "truncated pickle"),
        C("\x80\x01}.", "unsupported pickle protocol"),
        C("\x80\x02}", "truncated pickle"),
        C("\x80\x02.", "stack underflow"),
        C("\x80\x02X\xff\xff\xff\x7f", "truncated pickle"),
        C("\x80\x02X\x02\x00\x00\x00" "a\x00.", "NUL byte"),
        C("\x80\x02" "c__builtin__\nexec\n.", "forbidden GLOBAL '__builtin__.exec'"),
        C("\x80\x02" "cposix\nsystem", "truncated GLOBAL"),
        C("\x80\x02" "ctorch\nFloatStorage\n)R.", "REDUCE on a storage type"),
        C("\x80\x02K\x01)R.", "REDUCE on a non-callable"),
        C("\x80\x02" "ccollections\nOrderedDict\nK\x01\x85R.", "OrderedDict called with arguments"),
        C("\x80\x02" "ccollections\nOrderedDict\nK\x01R.", "not a tuple"),
        C("\x80\x02}(K\x01u.", "odd number"),
        C("\x80\x02(K\x01K\x02u.", "SETITEMS without a dict"),
        C("\x80\x02}K\x01K\x02u.", "SETITEMS without MARK"),
        C("\x80\x02K\x01K\x02K\x03s.", "SETITEM(S) on a non-dict"),
        C("\x80\x02}K\x01" "a.", "APPEND to a non-list"),
        C("\x80\x02}t.", "no MARK"),
        C("\x80\x02}r\xff\xff\xff\xff.", "memo index too large"),
        C("\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00.", "wider than 64 bits"),
        C("\x80\x02}(X\x01\x00\x00\x00" "aK\x01u.", "entry 'a' is not a tensor"),
        C("\x80\x02}(K\x01K\x01u.", "key is not a string"),
        C("\x80\x02}b.", "BUILD on something other than a dict"),
        C("\x80\x02}K\x01" "b.", "BUILD with a non-dict state"),
        C("\x80\x02K\x01}b.", "BUILD on something other than a dict"),
        C("\x80\x02(X\x07\x00\x00\x00storageK\x01tQ.", "persistent id is not"),
        C("\x80\x02" "ctorch._utils\n_rebuild_parameter\n(K\x01\x88}tR.", "_rebuild_parameter"),
        C("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\n)R.", "wrong argument count"),
        C("\x80\x02" "ctorch\nLongStorage\n.", "torch.LongStorage"),
        C("\x80\x02\x93.", "stack underflow"),
        C("\x80\x02K\x01K\x02\x93.", "STACK_GLOBAL on non-strings"),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        iv_pk_dict d;
        iv_err err = {{0}};
        int rc = iv_unpickle_state_dict((const uint8_t *)cases[i].bytes, cases[i].len, "mem.pkl",
                                        &d, &err);
        if (rc != -1 || strncmp(err.msg, "mem.pkl: ", 9) != 0 || !strstr(err.msg, cases[i].want))
            fail_msg("case %zu: rc=%d msg='%s' (want '%s')", i, rc, err.msg, cases[i].want);
        assert_int_equal(d.nt, 0);
    }
}

/* _rebuild_tensor_v2 argument checks: offsets, sizes and strides that make no sense. */
static void test_unpickle_tensor_args(void **s) {
    (void)s;
#define HEAD "\x80\x02}(X\x01\x00\x00\x00w" "ctorch._utils\n_rebuild_tensor_v2\n(" \
    "(X\x07\x00\x00\x00storagectorch\nHalfStorage\nX\x01\x00\x00\x00" "0X\x03\x00\x00\x00" "cpuK\x04tQ"
    static const struct { const char *bytes; size_t len; const char *want; } cases[] = {
#define C(b, w) {HEAD b, sizeof(HEAD b) - 1, w}
        C("J\xff\xff\xff\xff(K\x04t(K\x01t\x89}tRu.", "bad storage offset"),
        C("K\x00(J\xfe\xff\xff\xfft(K\x01t\x89}tRu.", "size is not a tuple"),
        C("K\x00(K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01K\x01t(K\x01t\x89}tRu.", "size is not a tuple"),
        C("K\x00(K\x04t(K\x01K\x01t\x89}tRu.", "stride"),
        C("K\x00(K\x04t(K\x01tK\x00}tRu.", "requires_grad"),
        C("K\x00(K\x04t(K\x01t\x89}(K\x01K\x02utRu.", "backward hooks"),
        C("K\x00(K\x04t(K\x01t\x89}K\x05tRu.", "metadata"),
        C("K\x00(K\x04t(K\x01t\x89}K\x05K\x06tRu.", "wrong argument count"),
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        iv_pk_dict d;
        iv_err err = {{0}};
        int rc = iv_unpickle_state_dict((const uint8_t *)cases[i].bytes, cases[i].len, "t.pkl", &d, &err);
        if (rc != -1 || !strstr(err.msg, cases[i].want))
            fail_msg("case %zu: rc=%d msg='%s' (want '%s')", i, rc, err.msg, cases[i].want);
    }
    /* the same stream with sane arguments parses (guards against a broken HEAD) */
    static const char ok[] = HEAD "K\x00(K\x04t(K\x01t\x89}tRu.";
    iv_pk_dict d;
    iv_err err = {{0}};
    assert_int_equal(iv_unpickle_state_dict((const uint8_t *)ok, sizeof ok - 1, "t.pkl", &d, &err), 0);
    assert_int_equal(d.s[0].dtype, IV_F16);
    iv_pk_dict_free(&d);
#undef HEAD
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lens_state_dict),
        cmocka_unit_test(test_parameters),
        cmocka_unit_test(test_mixed_dtypes),
        cmocka_unit_test(test_mixed_protocol4),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_unpickle_opcodes),
        cmocka_unit_test(test_unpickle_rejects),
        cmocka_unit_test(test_unpickle_tensor_args),
    };
    return cmocka_run_group_tests_name("torchzip", tests, NULL, NULL);
}
