/* HF tokenizer loader: error cases (each message names the file and the
 * problem), invalid UTF-8 input, and pipeline pieces the four reference
 * vocabularies do not exercise (Split behaviours, Metaspace, Digits, NFKC). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "interv/tokenizer.h"

#define BAD "tests/tok/bad/"

static void expect_fail(const char *path, const char *words) {
    iv_tokenizer *t = NULL;
    iv_err err = {{0}};
    int rc = iv_tok_load(path, &t, &err);
    if (rc == 0) iv_tok_free(t);
    assert_int_equal(rc, -1);
    if (!strstr(err.msg, path) || !strstr(err.msg, words)) fail_msg("message \"%s\" lacks \"%s\" / \"%s\"", err.msg, path, words);
}

static void test_bad_files(void **s) {
    (void)s;
    expect_fail(BAD "malformed.json", "malformed JSON at line 1");
    expect_fail(BAD "truncated.json", "malformed JSON");
    expect_fail(BAD "unknown_model.json", "not supported (only BPE)");
    expect_fail(BAD "no_merges.json", "no \"merges\"");
    expect_fail(BAD "id_collision.json", "id 0 is used by two tokens");
    expect_fail(BAD "negative_id.json", "outside");
    expect_fail(BAD "bad_merge.json", "two tokens separated by one space");
    expect_fail(BAD "unknown_normalizer.json", "normalizer type \"Precompiled\" is not supported");
    expect_fail(BAD "bad_regex.json", "bad regex");
    expect_fail(BAD "bad_added.json", "added_tokens entry");
    expect_fail(BAD "no_model.json", "no \"model\"");
    expect_fail(BAD "missing.json", "cannot open");
    /* GPT-2 files: the message names the merges file beside vocab.json */
    iv_tokenizer *t = NULL;
    iv_err err = {{0}};
    assert_int_equal(iv_tok_load(BAD "gpt2/vocab.json", &t, &err), -1);
    assert_non_null(strstr(err.msg, BAD "gpt2/merges.txt: line 3: a merge must be two tokens"));
}

/* Writes a tokenizer.json with the given pre_tokenizer / normalizer and loads it. */
static iv_tokenizer *tiny(const char *extra) {
    char path[] = "/tmp/iv_tok_tinyXXXXXX.json";
    int fd = mkstemps(path, 5);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "{%s \"model\": {\"type\": \"BPE\", \"unk_token\": \"?\", \"vocab\": {\"?\": 0, \"a\": 1, \"b\": 2, \"-\": 3,"
               " \"a-\": 4, \"-b\": 5, \"--\": 6, \"1\": 7, \"2\": 8, \"12\": 9, \"x\": 10, \"_\": 11, \"_a\": 12,"
               " \"a_\": 13, \"f\": 14, \"i\": 15},"
               " \"merges\": [\"a -\", \"- b\", \"- -\", \"1 2\", \"_ a\", \"a _\"]}}", extra);
    fclose(f);
    iv_tokenizer *t = NULL;
    iv_err err;
    if (iv_tok_load(path, &t, &err)) fail_msg("%s", err.msg);
    unlink(path);
    return t;
}

static void expect_ids(iv_tokenizer *t, const char *text, const char *want) {
    int32_t *ids; size_t n;
    iv_err err;
    if (iv_tok_encode(t, text, strlen(text), 0, &ids, &n, &err)) fail_msg("%s", err.msg);
    char got[256] = "";
    for (size_t i = 0; i < n; i++) snprintf(got + strlen(got), sizeof got - strlen(got), i ? " %d" : "%d", ids[i]);
    free(ids);
    if (strcmp(got, want)) fail_msg("\"%s\": got [%s], want [%s]", text, got, want);
}

static void split_case(const char *behavior, int invert, const char *text, const char *want) {
    char extra[256];
    snprintf(extra, sizeof extra, "\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \"-\"},"
             " \"behavior\": \"%s\", \"invert\": %s},", behavior, invert ? "true" : "false");
    iv_tokenizer *t = tiny(extra);
    expect_ids(t, text, want);
    iv_tok_free(t);
}

static void test_split_behaviours(void **s) {
    (void)s;
    iv_tokenizer *t = tiny("");
    expect_ids(t, "a-b", "4 2");   /* no pre-tokenizer: "a -" merges first */
    iv_tok_free(t);
    split_case("Isolated", 0, "a-b", "1 3 2");
    split_case("Removed", 0, "a-b", "1 2");
    split_case("MergedWithPrevious", 0, "a-b", "4 2");
    split_case("MergedWithNext", 0, "a-b", "1 5");
    split_case("Isolated", 0, "a--b", "1 3 3 2");
    split_case("Contiguous", 0, "a--b", "1 6 2");
    split_case("Removed", 1, "a-b", "3");   /* inverted: the matches are kept */
}

static void test_metaspace_digits_nfkc(void **s) {
    (void)s;
    iv_tokenizer *t = tiny("\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"_\","
                           " \"prepend_scheme\": \"always\", \"split\": true},");
    expect_ids(t, "a a", "12 12");   /* "_a" "_a": split before each '_' */
    iv_tok_free(t);
    t = tiny("\"pre_tokenizer\": {\"type\": \"Metaspace\", \"replacement\": \"_\","
             " \"prepend_scheme\": \"never\", \"split\": false},");
    expect_ids(t, "a a", "1 12");   /* "a_a" unsplit: "_ a" outranks "a _" */
    iv_tok_free(t);
    t = tiny("\"pre_tokenizer\": {\"type\": \"Digits\", \"individual_digits\": true},");
    expect_ids(t, "12", "7 8");
    iv_tok_free(t);
    t = tiny("\"pre_tokenizer\": {\"type\": \"Digits\", \"individual_digits\": false},");
    expect_ids(t, "12", "9");
    iv_tok_free(t);
    t = tiny("\"normalizer\": {\"type\": \"NFKC\"},");
    expect_ids(t, "\xEF\xAC\x81", "14 15");   /* U+FB01 -> "f" "i" (one unk without NFKC) */
    iv_tok_free(t);
}

static void test_invalid_utf8(void **s) {
    (void)s;
    iv_tokenizer *t = tiny("");
    int32_t *ids; size_t n;
    iv_err err;
    assert_int_equal(iv_tok_encode(t, "ab\xC3(", 4, 1, &ids, &n, &err), -1);
    assert_non_null(strstr(err.msg, "not valid UTF-8 (byte 2)"));
    /* unknown characters fall back to unk (no byte_fallback here) */
    expect_ids(t, "axb", "1 10 2");
    expect_ids(t, "a\xC3\xA9", "1 0");
    char *txt; size_t len;
    int32_t bad[2] = {1, 99};
    assert_int_equal(iv_tok_decode(t, bad, 2, 0, &txt, &len, &err), -1);
    assert_non_null(strstr(err.msg, "token id 99 is not in the vocabulary"));
    iv_tok_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_split_behaviours),
        cmocka_unit_test(test_metaspace_digits_nfkc),
        cmocka_unit_test(test_invalid_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
