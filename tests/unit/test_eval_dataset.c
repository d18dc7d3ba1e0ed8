/* Prompt and pairs CSV files: quoted cells with commas, quotes and newlines;
 * the line numbers in error messages; ragged rows; empty files; bad headers;
 * invalid UTF-8; the select/report split; concepts.json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "interv/eval.h"

static char dir[] = "/tmp/test_eval_dsXXXXXX";

static const char *put(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite(text, 1, strlen(text), f);
    fclose(f);
    return path;
}

static void expect_error(const char *name, const char *text, const char *needle, int pairs) {
    const char *p = put(name, text);
    iv_err err = {{0}};
    int rc;
    if (pairs) {
        iv_pair_set s;
        rc = iv_pairs_load(p, &s, &err);
    } else {
        iv_prompt_set s;
        rc = iv_prompts_load(p, &s, &err);
    }
    assert_int_equal(rc, -1);
    if (!strstr(err.msg, name) || !strstr(err.msg, needle)) fail_msg("message '%s' lacks '%s'", err.msg, needle);
}

static void test_prompts_quoted(void **st) {
    (void)st;
    const char *p = put("p.csv",
                        "\xEF\xBB\xBFidx,Poetry,Travel\n"
                        "0,\"Roses, and more\",Once upon a time\n"
                        "\n"
                        "1,\"He said \"\"hi\"\"\nand left\",\n"
                        "2,,\"The road\"\r\n"
                        "3,Last one,\"x\"");
    iv_prompt_set s;
    iv_err err = {{0}};
    assert_int_equal(iv_prompts_load(p, &s, &err), 0);
    assert_int_equal(s.n_cat, 2);
    assert_string_equal(s.categories[0], "Poetry");
    assert_string_equal(s.categories[1], "Travel");
    assert_int_equal(s.n, 6);
    assert_string_equal(s.p[0].text, "Roses, and more");
    assert_int_equal(s.p[0].category, 0);
    assert_int_equal(s.p[0].line, 2);
    assert_string_equal(s.p[1].text, "Once upon a time");
    assert_int_equal(s.p[1].category, 1);
    assert_string_equal(s.p[2].text, "He said \"hi\"\nand left");
    assert_int_equal(s.p[2].line, 4);
    assert_string_equal(s.p[2].row_label, "1");
    assert_string_equal(s.p[3].text, "The road");
    assert_int_equal(s.p[3].line, 6);
    assert_string_equal(s.p[5].text, "x");
    /* Split alternates within each category: Poetry 0,2,4 -> S,R,S; Travel 1,3,5 -> S,R,S */
    int want[6] = {0, 0, 1, 1, 0, 0};
    for (size_t i = 0; i < 6; i++) assert_int_equal(iv_prompt_split(&s, i), want[i]);
    iv_prompts_free(&s);
}

static void test_prompts_errors(void **st) {
    (void)st;
    expect_error("ragged.csv", "i,A,B\n0,a,b\n1,\"x,y\"\n", "line 3: ragged row", 0);
    expect_error("ragged2.csv", "i,A\n0,\"a\nb\"\n1,c,d\n", "line 4: ragged row", 0);
    expect_error("empty.csv", "", "empty file", 0);
    expect_error("blank.csv", "\n\n  \n", "empty file", 0);
    expect_error("noprompts.csv", "i,A,B\n0,,\n1, ,\n", "no prompts", 0);
    expect_error("onecol.csv", "index\n0\n", "at least one category", 0);
    expect_error("nocat.csv", "i,A,\n0,a,b\n", "no category name", 0);
    expect_error("dup.csv", "i,A,A\n0,a,b\n", "appears twice", 0);
    expect_error("utf8.csv", "i,A\n0,ok\n1,bad \xC3\x28 byte\n", "line 3: invalid UTF-8", 0);
    expect_error("quote.csv", "i,A\n0,\"open\n1,b\n", "unterminated", 0);
    expect_error("stray.csv", "i,A\n0,a\"b\n", "line 2", 0);
    iv_prompt_set s;
    iv_err err = {{0}};
    assert_int_equal(iv_prompts_load("/nonexistent/p.csv", &s, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/p.csv"));
}

static void test_pairs(void **st) {
    (void)st;
    const char *p = put("pairs.csv", "neg_prompt,pos_prompt\n\"I saw a car, red\",\"I saw a dog, brown\"\nx,y\n");
    iv_pair_set s;
    iv_err err = {{0}};
    assert_int_equal(iv_pairs_load(p, &s, &err), 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.pos[0], "I saw a dog, brown");
    assert_string_equal(s.neg[0], "I saw a car, red");
    assert_string_equal(s.pos[1], "y");
    iv_pairs_free(&s);
    expect_error("nohdr.csv", "pos,neg\na,b\n", "neg_prompt", 1);
    expect_error("nopos.csv", "neg_prompt\na\n", "pos_prompt", 1);
    expect_error("pempty.csv", "", "empty file", 1);
    expect_error("ponly.csv", "pos_prompt,neg_prompt\n", "no pairs", 1);
    expect_error("pragged.csv", "pos_prompt,neg_prompt\na,b\nc\n", "line 3: ragged", 1);
    expect_error("pcell.csv", "pos_prompt,neg_prompt\na,b\n,d\n", "line 3: empty pos_prompt", 1);
}

static void test_concepts(void **st) {
    (void)st;
    const char *p = put("c.json", "{\"dog\": [\"dogs\", \"puppy\"], \"cat\": {\"surface_forms\": [\"cats\", \"cat\"]}}");
    iv_concept_set s;
    iv_err err = {{0}};
    assert_int_equal(iv_concepts_load(p, &s, &err), 0);
    const iv_concept *d = iv_concept_find(&s, "dog"), *c = iv_concept_find(&s, "cat");
    assert_non_null(d);
    assert_int_equal(d->n_forms, 3);
    assert_int_equal(c->n_forms, 2);  /* "cat" not repeated */
    assert_true(iv_text_mentions("Two puppy friends", (const char *const *)d->forms, d->n_forms));
    assert_null(iv_concept_find(&s, "bird"));
    iv_concepts_free(&s);
    p = put("c2.json", "[{\"concept\": \"sun\", \"surface_forms\": [\"sunny\"]}]");
    assert_int_equal(iv_concepts_load(p, &s, &err), 0);
    assert_int_equal(s.c[0].n_forms, 2);
    iv_concepts_free(&s);
    p = put("c3.json", "{\"dog\": [1]}");
    assert_int_equal(iv_concepts_load(p, &s, &err), -1);
    assert_non_null(strstr(err.msg, "c3.json"));
}

static int setup(void **st) {
    (void)st;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_prompts_quoted),
        cmocka_unit_test(test_prompts_errors),
        cmocka_unit_test(test_pairs),
        cmocka_unit_test(test_concepts),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
