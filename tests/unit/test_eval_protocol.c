/* The two protocols: the reference study's success rule and targets (hand-
 * computed cases), default surface forms, records and cell ids that carry the
 * protocol and its deviations, and the sweep config keys for the reference
 * study's file layout. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/eval.h"
#include "interv/method.h"
#include "interv/model.h"
#include "interv/sweep.h"

static iv_model *M;

static int setup(void **st) {
    (void)st;
    const char *sh = getenv("SHARED");
    char p[1024];
    snprintf(p, sizeof p, "%s/models/stories260K/stories260K.bin", sh ? sh : "../shared");
    iv_err err;
    return iv_model_load(p, NULL, &M, &err) ? -1 : 0;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(M);
    return 0;
}

static void test_success_paper(void **st) {
    (void)st;
    int sp;
    /* substring of prompt + continuation, lower-cased, no word boundaries */
    assert_int_equal(iv_success_paper("dog", "A", " hotdog stand", &sp), 1);
    assert_int_equal(sp, 0);
    assert_int_equal(iv_success_paper("Cat", "The CAT sat.", " Then it slept.", &sp), 1); /* prompt counts */
    assert_int_equal(iv_success_paper("cat", "The ca", "t sat", NULL), 1);  /* joined without a separator */
    assert_int_equal(iv_success_paper("cats", "The cat sat.", " It slept.", NULL), 0);
    assert_int_equal(iv_success_paper("San Francisco", "We went to", " san francisco.", NULL), 1);
    assert_int_equal(iv_success_paper("San Francisco", "We went to", " San  Francisco.", NULL), 0);
    /* special cases */
    assert_int_equal(iv_success_paper("beauty", "She was", " beautiful.", &sp), 1);
    assert_int_equal(sp, 1);
    assert_int_equal(iv_success_paper("beauty", "She was", " pretty.", NULL), 0);
    assert_int_equal(iv_success_paper("beautys", "She was", " beautiful.", NULL), 0); /* only "beauty" itself */
    assert_int_equal(iv_success_paper("big dog", "A", " small dog ran.", &sp), 1);
    assert_int_equal(sp, 1);
    assert_int_equal(iv_success_paper("big cat", "A", " small cat ran.", NULL), 0);
    assert_int_equal(iv_success_paper("big dog", "A", " big dog ran.", &sp), 1);
    assert_int_equal(sp, 0);
    /* the interv rule for comparison: whole words in the continuation only */
    const char *forms[] = {"dog"};
    assert_int_equal(iv_success("A", " hotdog stand", forms, 1, 0), 0);
}

static void check_forms(const char *concept, const char *a, const char *b) {
    char **f;
    size_t n;
    assert_int_equal(iv_concept_default_forms(concept, &f, &n), 0);
    assert_int_equal(n, b ? 2 : 1);
    assert_string_equal(f[0], a);
    if (b) assert_string_equal(f[1], b);
    for (size_t i = 0; i < n; i++) free(f[i]);
    free(f);
}

static void test_default_forms(void **st) {
    (void)st;
    check_forms("dog", "dog", "dogs");
    check_forms("dogs", "dogs", "dog");       /* not "dogss" */
    check_forms("berry", "berry", "berries");
    check_forms("berries", "berries", "berry");
    check_forms("day", "day", "days");         /* vowel + y */
    check_forms("box", "box", "boxes");
    check_forms("boxes", "boxes", "box");
    check_forms("glass", "glass", "glasses");  /* -ss is singular */
    check_forms("bus", "bus", "buses");
    check_forms("Cat", "Cat", "cats");
    check_forms("ice cream", "ice cream", NULL);  /* phrases keep their text */
    check_forms("San Francisco", "San Francisco", NULL);
}

/* Token ids of text (no BOS) on the model's tokenizer. */
static int ids_of(const char *text, int32_t *out) {
    int32_t *a;
    size_t n;
    assert_int_equal(iv_tok_encode(M->tok, text, strlen(text), 0, &a, &n, NULL), 0);
    memcpy(out, a, n * sizeof *a);
    free(a);
    return (int)n;
}

static void test_targets(void **st) {
    (void)st;
    int32_t dog[8], day[8], *ids;
    float *w;
    int n;
    int nd = ids_of("dog", dog), ny = ids_of("day", day);
    assert_int_equal(nd, 2); /* stories260K's 512-token vocabulary splits "dog" */
    assert_int_equal(ny, 1);
    /* paper: the text's own tokens, first of several weighs 2 */
    assert_int_equal(iv_concept_targets_paper(M->tok, "dog", &ids, &w, &n, NULL), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], dog[0]);
    assert_int_equal(ids[1], dog[1]);
    assert_float_equal(w[0], 2.0f, 0);
    assert_float_equal(w[1], 1.0f, 0);
    free(ids); free(w);
    assert_int_equal(iv_concept_targets_paper(M->tok, "day", &ids, &w, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], day[0]);
    assert_float_equal(w[0], 1.0f, 0);
    free(ids); free(w);
    /* interv: a one-token spelling weighs 1 whatever w_first says (alpha means
     * the same for every concept); ranks weigh multi-token spellings only */
    assert_int_equal(iv_concept_targets(M->tok, "day", 2, 1, 1, &ids, &w, &n, NULL), 0);
    for (int i = 0; i < n; i++) assert_float_equal(w[i], 1.0f, 0);
    int has_day = 0;
    for (int i = 0; i < n; i++) has_day |= ids[i] == day[0];
    assert_true(has_day);
    free(ids); free(w);
    assert_int_equal(iv_concept_targets(M->tok, "dog", 2, 1, 1, &ids, &w, &n, NULL), 0);
    assert_int_equal(ids[0], dog[0]);
    assert_float_equal(w[0], 2.0f, 0);
    free(ids); free(w);
    /* through the method: the protocol switch picks the rule */
    iv_method_opts o = iv_method_defaults();
    o.concept = "dog";
    o.protocol = IV_PROTOCOL_PAPER;
    iv_method *mm;
    assert_int_equal(iv_method_create(M, &o, &mm, NULL), 0);
    const int32_t *ti;
    const float *tw;
    iv_method_targets(mm, &ti, &tw, &n);
    assert_int_equal(n, 2);
    assert_float_equal(tw[0], 2.0f, 0);
    iv_method_free(mm);
    o.protocol = IV_PROTOCOL_INTERV;
    assert_int_equal(iv_method_create(M, &o, &mm, NULL), 0);
    iv_method_targets(mm, &ti, &tw, &n);
    for (int i = 0; i < n; i++) assert_float_equal(tw[i], 1.0f, 0);
    iv_method_free(mm);
}

static void test_record_protocol(void **st) {
    (void)st;
    iv_record r = {0};
    r.cell = (iv_cell){"m", "tuned", "ice cream", 2, 4, IV_MODE_EDIT, IV_PROTOCOL_PAPER, 0};
    r.prompt = "p";
    r.continuation = "c";
    r.category = "k";
    r.target_prob = r.edit_size = r.perplexity = r.coherence = NAN;
    r.judge_mass = 0.25;
    r.cont_tokens = -1;
    assert_int_equal(iv_paper_deviations(&r, 1), 0);
    assert_int_equal(iv_paper_deviations(&r, 1), 0); /* no duplicates */
    assert_int_equal(r.n_deviations, 4); /* success, special case, lens targets, tuned form */
    char *s = iv_record_to_json(&r);
    assert_non_null(strstr(s, "\"protocol\":\"paper\""));
    assert_non_null(strstr(s, "\"judge_mass\":0.25"));
    iv_record b;
    assert_int_equal(iv_record_from_json(s, "x:1", &b, NULL), 0);
    assert_int_equal(b.cell.protocol, IV_PROTOCOL_PAPER);
    assert_int_equal(b.n_deviations, 4);
    assert_string_equal(b.deviations[2], r.deviations[2]);
    assert_float_equal(b.judge_mass, 0.25, 1e-12);
    char id1[256], id2[256];
    iv_cell_id(&b.cell, id1, sizeof id1);
    b.cell.protocol = IV_PROTOCOL_INTERV;
    iv_cell_id(&b.cell, id2, sizeof id2);
    assert_string_not_equal(id1, id2);
    assert_non_null(strstr(id1, "_paper"));
    assert_null(strstr(id2, "_paper"));
    assert_non_null(strstr(id2, "m_L2_tuned_ice-cream_a4_edit_"));
    /* bf16 compute is another cell: its own id and a "compute" field */
    b.cell.bf16 = 1;
    char id3[256];
    iv_cell_id(&b.cell, id3, sizeof id3);
    assert_string_not_equal(id2, id3);
    assert_non_null(strstr(id3, "_bf16"));
    char *s3 = iv_record_to_json(&b);
    assert_non_null(strstr(s3, "\"compute\":\"bf16\""));
    iv_record c3;
    assert_int_equal(iv_record_from_json(s3, "x:2", &c3, NULL), 0);
    assert_int_equal(c3.cell.bf16, 1);
    iv_record_free(&c3);
    free(s3);
    b.cell.bf16 = 0;
    iv_record_free(&b);
    free(s);
    for (int k = 0; k < r.n_deviations; k++) free(r.deviations[k]);
    free(r.deviations);
    /* interv records say so and carry no deviations; old records read as interv */
    iv_err err;
    assert_int_equal(iv_record_from_json("{\"model\":\"m\",\"method\":\"x\",\"concept\":\"c\",\"mode\":\"edit\","
                                         "\"layer\":1,\"alpha\":1,\"prompt_index\":0,\"prompt\":\"\","
                                         "\"continuation\":\"\",\"success\":true}", "old:1", &b, &err), 0);
    assert_int_equal(b.cell.protocol, IV_PROTOCOL_INTERV);
    assert_true(isnan(b.judge_mass));
    iv_record_free(&b);
    assert_int_equal(iv_record_from_json("{\"model\":\"m\",\"method\":\"x\",\"concept\":\"c\",\"mode\":\"edit\","
                                         "\"layer\":1,\"alpha\":1,\"prompt_index\":0,\"prompt\":\"\","
                                         "\"continuation\":\"\",\"success\":true,\"protocol\":\"nature\"}",
                                         "bad:7", &b, &err), -1);
    assert_non_null(strstr(err.msg, "bad:7"));
    assert_non_null(strstr(err.msg, "protocol"));
}

static void test_config_layout(void **st) {
    (void)st;
    iv_sweep_config c;
    iv_err err;
    const char *t1 = "models = m.bin\nlayers = 2\nmethods = logit probe\n"
                     "concepts = \"San Francisco\" \"New York\" dog\n"
                     "prompts = p.csv\npairs = data/{concept}_pairs.csv\nprotocol = paper\n";
    assert_int_equal(iv_sweep_config_parse(t1, "t1", "/base", &c, &err), 0);
    assert_int_equal(c.n_concepts, 3);
    assert_string_equal(c.concepts[0], "San Francisco");
    assert_string_equal(c.concepts[1], "New York");
    assert_string_equal(c.concepts[2], "dog");
    assert_int_equal(c.protocol, IV_PROTOCOL_PAPER);
    assert_null(c.concepts_file);
    char *p = iv_sweep_pairs_path(&c, "New York");
    assert_string_equal(p, "/base/data/New York_pairs.csv");
    free(p);
    iv_sweep_config_free(&c);
    const char *t2 = "models = m.bin\nlayers = 2\nmethods = logit\nconcepts = San Francisco, New York\n"
                     "prompts = d/p.csv\nconcepts_file = c/concepts.json\n";
    assert_int_equal(iv_sweep_config_parse(t2, "t2", "", &c, &err), 0);
    assert_int_equal(c.n_concepts, 2);
    assert_string_equal(c.concepts[1], "New York");
    assert_int_equal(c.protocol, IV_PROTOCOL_INTERV);
    p = iv_sweep_pairs_path(&c, "dog");
    assert_string_equal(p, "c/concepts/dog.csv"); /* the old default: beside the concepts file */
    free(p);
    iv_sweep_config_free(&c);
    const char *bad[][2] = {
        {"models = m\nlayers = 1\nmethods = logit\nconcepts = a\nprompts = p\nprotocol = nature\n", "protocol"},
        {"models = m\nlayers = 1\nmethods = logit\nconcepts = \"a b\nprompts = p\n", "unterminated quote"},
        {"models = m\nlayers = 1\nmethods = logit\nconcepts = a\nprompts = p\npairs = x.csv\n", "{concept}"},
        {"models = m\nlayers = 1\nmethods = logit\nconcepts = a\nprompts = p\npairs = {concept}.csv\npairs_dir = d\n",
         "not both"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(iv_sweep_config_parse(bad[i][0], "bad.conf", "", &c, &err), -1);
        if (!strstr(err.msg, bad[i][1]) || !strstr(err.msg, "bad.conf")) fail_msg("case %zu: %s", i, err.msg);
    }
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_success_paper), cmocka_unit_test(test_default_forms),
        cmocka_unit_test(test_targets),       cmocka_unit_test(test_record_protocol),
        cmocka_unit_test(test_config_layout),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
