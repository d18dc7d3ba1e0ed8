/* Metrics against hand-computed cases: success matching, perplexity and mean
 * aggregation, frontier area, best-within-tolerance, the judge's expected score
 * on stub distributions (single- and two-token "10"), templates, records. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/eval.h"

static void test_success_words(void **st) {
    (void)st;
    const char *dog[] = {"dog", "dogs", "puppy"};
    assert_true(iv_text_mentions("The Dog ran.", dog, 3));
    assert_true(iv_text_mentions("two DOGS!", dog, 3));
    assert_true(iv_text_mentions("the dog's bone", dog, 3));
    assert_true(iv_text_mentions("puppy", dog, 3));
    assert_false(iv_text_mentions("a hotdog stand", dog, 3));
    assert_false(iv_text_mentions("pure dogma", dog, 3));
    assert_false(iv_text_mentions("dog2 is a name", dog, 1));
    assert_false(iv_text_mentions("", dog, 3));
    const char *beauty[] = {"beauty", "beautiful"};
    assert_true(iv_text_mentions("What a beautiful day", beauty, 2));
    assert_false(iv_text_mentions("beautifully done", beauty, 2));
    /* Unicode case folding and letters as boundaries. */
    const char *cafe[] = {"café"};
    assert_true(iv_text_mentions("CAFÉ time", cafe, 1));
    assert_false(iv_text_mentions("caféé", cafe, 1));
    const char *ice[] = {"ice cream"};
    assert_true(iv_text_mentions("I like Ice Cream.", ice, 1));
    assert_false(iv_text_mentions("nice creamy", ice, 1));
    /* A second occurrence counts when the first is inside a word. */
    assert_true(iv_text_mentions("hotdog and dog", dog, 1));
    /* Invalid UTF-8 falls back to bytes and does not crash. */
    assert_true(iv_text_mentions("\xff dog \xfe", dog, 1));
}

static void test_success_compat(void **st) {
    (void)st;
    const char *cat[] = {"cat"};
    assert_false(iv_success("My cat", " sat on the mat.", cat, 1, 0));
    assert_true(iv_success("My cat", " sat on the mat.", cat, 1, 1));
    assert_true(iv_success("The", " cat sat", cat, 1, 0));
    /* Joined without a separator, as the reference code did. */
    assert_false(iv_success("the bob", "cat", cat, 1, 1));
}

static void test_ppl_aggregation(void **st) {
    (void)st;
    /* sample A: 2 tokens, NLL 2 ln 2 -> ppl 2;  sample B: 6 tokens, NLL 6 ln 4 -> ppl 4 */
    iv_ppl_acc a = {0};
    iv_ppl_add(&a, 2 * log(2.0), 2);
    iv_ppl_add(&a, 6 * log(4.0), 6);
    iv_ppl_add(&a, 0, 0);  /* empty continuation: skipped */
    assert_float_equal(iv_ppl_mean(&a), 3.0, 1e-12);
    /* corpus: exp((2 ln2 + 6 ln4) / 8) = exp(14 ln2 / 8) = 2^(1.75) */
    assert_float_equal(iv_ppl_corpus(&a), pow(2.0, 1.75), 1e-12);
    assert_int_equal(a.n_empty, 1);
    iv_ppl_acc e = {0};
    assert_true(isnan(iv_ppl_corpus(&e)) && isnan(iv_ppl_mean(&e)));
    /* continuation part of iv_score output: prompt of 3 tokens, 2 continuation */
    float lp[4] = {-9, -9, -0.5f, -1.5f};
    assert_float_equal(iv_cont_nll(lp, 3, 2), 2.0, 1e-6);
    iv_mean_acc m = {0};
    iv_mean_add(&m, 1);
    iv_mean_add(&m, NAN);
    iv_mean_add(&m, 3);
    assert_float_equal(iv_mean_get(&m), 2.0, 1e-12);
    assert_int_equal(m.n_missing, 1);
}

static void test_target_edit(void **st) {
    (void)st;
    float p[5] = {0.1f, 0.2f, 0.3f, 0.15f, 0.25f};
    int32_t t[] = {1, 4, 1, 7, -1};  /* duplicate and out-of-range ids ignored */
    assert_float_equal(iv_target_mass(p, 5, t, 5), 0.45, 1e-6);
    iv_edit_acc a = {0};
    float x[2] = {3, 4}, y[2] = {3, 0};    /* ||y-x|| = 4, ||x|| = 5 -> 0.8 */
    float z[2] = {0, 0}, w[2] = {1, 1};    /* zero-norm x: skipped */
    float u[2] = {6, 8};                   /* ||u-x|| = 5 -> 1.0 */
    iv_edit_acc_add(&a, x, y, 2);
    iv_edit_acc_add(&a, z, w, 2);
    iv_edit_acc_add(&a, x, u, 2);
    assert_int_equal(a.n, 2);
    assert_float_equal(iv_edit_acc_mean(&a), 0.9, 1e-9);
}

static void test_frontier(void **st) {
    (void)st;
    /* Hand-made curve (coherence, lo 1, hi 10):
     *   (s 0.0, c 10) clean, (0.2, 8.2), (0.5, 5.5), (0.4, 4) dominated, (0.9, 1.9)
     * F(x) = 8.2 on (0, 0.2], 5.5 on (0.2, 0.5], 1.9 on (0.5, 0.9], none above.
     * area = 0.2*(7.2/9) + 0.3*(4.5/9) + 0.4*(0.9/9) = 0.16 + 0.15 + 0.04 = 0.35 */
    iv_tradeoff_pt p[] = {{0, 0.0, 10}, {1, 0.2, 8.2}, {2, 0.5, 5.5}, {3, 0.4, 4}, {4, 0.9, 1.9}};
    assert_float_equal(iv_frontier_area(p, 5, 1, 10), 0.35, 1e-12);
    /* The dominated point changes nothing; order does not matter. */
    iv_tradeoff_pt q[] = {{4, 0.9, 1.9}, {1, 0.2, 8.2}, {0, 0.0, 10}, {2, 0.5, 5.5}};
    assert_float_equal(iv_frontier_area(q, 4, 1, 10), 0.35, 1e-12);
    /* Perfect method: success 1 at full fluency -> 1. NAN fluency ignored. */
    iv_tradeoff_pt r[] = {{1, 1.0, 10}, {2, 0.5, NAN}};
    assert_float_equal(iv_frontier_area(r, 2, 1, 10), 1.0, 1e-12);
    assert_true(isnan(iv_frontier_area(r + 1, 1, 1, 10)));
    /* Best within 1 point of clean 10: fluency >= 9 -> only the clean point (s 0)
     * and, with a 2-point tolerance, (0.2, 8.2). */
    assert_int_equal(iv_best_within(p, 5, 10, 1), 0);
    assert_int_equal(iv_best_within(p, 5, 10, 2), 1);
    assert_int_equal(iv_best_within(p, 5, 10, 9), 4);
    assert_int_equal(iv_best_within(p, 5, 20, 1), -1);
}

/* Stub judge: vocab of 16; tokens 1..9 are "1".."9", token 11 is "10" (single)
 * and token 10 is "0".  After the context (length 3), p("k") as set in ctx_p;
 * after context + "1", p("0") = p0_after1. */
typedef struct {
    double ctx_p[16];
    double p0_after1;
    int calls;
} stub;

static int stub_next(void *user, const int32_t *ids, int n, float *logp, int vocab, iv_err *err) {
    stub *s = user;
    s->calls++;
    for (int i = 0; i < vocab; i++) logp[i] = -INFINITY;
    if (n == 3) {
        for (int i = 0; i < vocab; i++) logp[i] = s->ctx_p[i] > 0 ? (float)log(s->ctx_p[i]) : -INFINITY;
        return 0;
    }
    if (n == 4 && ids[3] == 1) {
        logp[10] = (float)log(s->p0_after1);
        logp[12] = (float)log(1 - s->p0_after1);  /* e.g. a newline */
        return 0;
    }
    return iv_errf(err, "stub: unexpected sequence of %d", n);
}

static void test_judge_single_token(void **st) {
    (void)st;
    stub s = {{0}, 0, 0};
    /* p over answers: "7" 0.3, "8" 0.2, "10" 0.1; 0.4 on non-score tokens */
    s.ctx_p[7] = 0.3, s.ctx_p[8] = 0.2, s.ctx_p[11] = 0.1, s.ctx_p[13] = 0.4;
    int32_t ctx[3] = {0, 14, 15}, toks[10];
    const int32_t *seqs[10];
    int lens[10];
    for (int k = 0; k < 10; k++) toks[k] = k < 9 ? k + 1 : 11, seqs[k] = &toks[k], lens[k] = 1;
    double d[10], e, mass;
    assert_int_equal(iv_judge_from_seqs(stub_next, &s, 16, ctx, 3, seqs, lens, d, &e, &mass, NULL), 0);
    assert_float_equal(mass, 0.6, 1e-6);
    assert_float_equal(d[6], 0.5, 1e-6);
    assert_float_equal(d[9], 1.0 / 6, 1e-6);
    /* E = (7*0.3 + 8*0.2 + 10*0.1) / 0.6 = 4.7 / 0.6 */
    assert_float_equal(e, 4.7 / 0.6, 1e-6);
    assert_int_equal(s.calls, 1);
}

static void test_judge_two_token_ten(void **st) {
    (void)st;
    stub s = {{0}, 0.75, 0};
    /* p("1") = 0.4 of which 75% continues as "10"; p("5") = 0.2; p("9") = 0.2 */
    s.ctx_p[1] = 0.4, s.ctx_p[5] = 0.2, s.ctx_p[9] = 0.2, s.ctx_p[13] = 0.2;
    int32_t ctx[3] = {0, 14, 15}, toks[9], ten[2] = {1, 10};
    const int32_t *seqs[10];
    int lens[10];
    for (int k = 0; k < 9; k++) toks[k] = k + 1, seqs[k] = &toks[k], lens[k] = 1;
    seqs[9] = ten, lens[9] = 2;
    double d[10], e, mass;
    assert_int_equal(iv_judge_from_seqs(stub_next, &s, 16, ctx, 3, seqs, lens, d, &e, &mass, NULL), 0);
    /* P(10) = 0.4*0.75 = 0.3; P(1) = 0.4*0.25 = 0.1; P(5) = P(9) = 0.2; total 0.8 */
    assert_float_equal(mass, 0.8, 1e-6);
    assert_float_equal(d[0], 0.1 / 0.8, 1e-6);
    assert_float_equal(d[9], 0.3 / 0.8, 1e-6);
    assert_float_equal(d[4], 0.25, 1e-6);
    /* E = (1*0.1 + 5*0.2 + 9*0.2 + 10*0.3) / 0.8 = 5.9 / 0.8 = 7.375; reading "1"
     * as the answer 1 without the correction would give (0.4+1+1.8+3)/1.1 = 5.64 */
    assert_float_equal(e, 7.375, 1e-6);
    double sum = 0;
    for (int k = 0; k < 10; k++) sum += d[k];
    assert_float_equal(sum, 1.0, 1e-9);
    /* No probability on any score: error, not an invented number. */
    stub z = {{0}, 0.5, 0};
    z.ctx_p[13] = 1;
    iv_err err;
    assert_int_equal(iv_judge_from_seqs(stub_next, &z, 16, ctx, 3, seqs, lens, d, &e, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "no probability"));
}

static void test_template(void **st) {
    (void)st;
    iv_judge_tmpl t;
    iv_err err;
    assert_int_equal(iv_judge_tmpl_parse("Rate {prompt} only", "t.txt", &t, &err), -1);
    assert_non_null(strstr(err.msg, "t.txt"));
    assert_non_null(strstr(err.msg, "{continuation}"));
    assert_int_equal(iv_judge_tmpl_parse("Rate {continuation}", "t.txt", &t, &err), -1);
    assert_non_null(strstr(err.msg, "{prompt}"));
    assert_int_equal(iv_judge_tmpl_parse("P: {prompt}\nC: {continuation} ({prompt})\nScore: ", "t", &t, &err), 0);
    char *f = iv_judge_tmpl_fill(&t, "Once {x}", "there was");
    assert_string_equal(f, "P: Once {x}\nC: there was (Once {x})\nScore: ");
    free(f);
    iv_judge_tmpl_free(&t);
}

static void test_record_roundtrip(void **st) {
    (void)st;
    iv_record r = {0};
    r.cell = (iv_cell){"m/x", "sae", "dog", 3, 2.5, IV_MODE_EDIT, IV_PROTOCOL_INTERV, 0};
    r.split = IV_SPLIT_SELECT;
    r.prompt_index = 4;
    r.category = "Travel";
    r.prompt = "a \"q\",\nb";
    r.continuation = " dog";
    r.success = 1;
    r.target_prob = 0.25;
    r.edit_size = NAN;
    r.perplexity = 3.5;
    r.cont_tokens = 7;
    r.coherence = NAN;
    char *s = iv_record_to_json(&r);
    assert_non_null(s);
    assert_non_null(strstr(s, "\"edit_size\":null"));
    assert_non_null(strstr(s, "\"coherence\":null"));
    assert_non_null(strstr(s, "\"judge_dist\":null"));
    iv_record b;
    assert_int_equal(iv_record_from_json(s, "x:1", &b, NULL), 0);
    assert_string_equal(b.prompt, r.prompt);
    assert_int_equal(b.cell.layer, 3);
    assert_int_equal(b.split, IV_SPLIT_SELECT);
    assert_true(isnan(b.edit_size) && isnan(b.coherence));
    assert_float_equal(b.target_prob, 0.25, 1e-12);
    assert_int_equal(b.cont_tokens, 7);
    char id1[256], id2[256];
    iv_cell_id(&b.cell, id1, sizeof id1);
    assert_string_equal(strstr(id1, "x_L3_sae_dog_a2.5_edit_") ? "ok" : id1, "ok");
    b.cell.alpha = 2.5000001;
    iv_cell_id(&b.cell, id2, sizeof id2);
    assert_string_not_equal(id1, id2);
    iv_record_free(&b);
    free(s);
    iv_err err;
    assert_int_equal(iv_record_from_json("{\"model\":\"m\"}", "f.jsonl:3", &b, &err), -1);
    assert_non_null(strstr(err.msg, "f.jsonl:3"));
    assert_int_equal(iv_record_from_json("{nope", "f.jsonl:4", &b, &err), -1);
    assert_non_null(strstr(err.msg, "f.jsonl:4"));
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_success_words),      cmocka_unit_test(test_success_compat),
        cmocka_unit_test(test_ppl_aggregation),    cmocka_unit_test(test_target_edit),
        cmocka_unit_test(test_frontier),           cmocka_unit_test(test_judge_single_token),
        cmocka_unit_test(test_judge_two_token_ten), cmocka_unit_test(test_template),
        cmocka_unit_test(test_record_roundtrip),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}
