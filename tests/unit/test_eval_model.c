/* Model-backed metrics on the real stories260K checkpoint: the continuation NLL
 * from iv_score against a token-by-token iv_forward computation, and the judge's
 * score distribution against the same model's next-token probabilities. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "interv/eval.h"
#include "interv/model.h"

static iv_model *M;

static int setup(void **st) {
    (void)st;
    const char *sh = getenv("SHARED");
    char path[1024];
    snprintf(path, sizeof path, "%s/models/stories260K/stories260K.bin", sh ? sh : "../shared");
    iv_err err = {{0}};
    if (iv_model_load(path, NULL, &M, &err) != 0) {
        fprintf(stderr, "cannot load %s: %s\n", path, err.msg);
        return -1;
    }
    return 0;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(M);
    return 0;
}

/* log p(next) after feeding tokens one at a time into a fresh state. */
static double nll_stepwise(const int32_t *ids, int n_prompt, int n) {
    iv_err err = {{0}};
    int V = M->cfg.vocab_size;
    iv_state *s = iv_state_new(M, 1, n, &err);
    assert_non_null(s);
    float *logits = malloc((size_t)V * sizeof *logits);
    double nll = 0;
    for (int i = 0; i + 1 < n; i++) {
        const int32_t *t = &ids[i];
        int one = 1;
        assert_int_equal(iv_forward(M, s, &t, &one, NULL, logits, NULL, &err), 0);
        if (i + 1 < n_prompt) continue;
        double mx = -INFINITY, z = 0;
        for (int v = 0; v < V; v++) mx = logits[v] > mx ? logits[v] : mx;
        for (int v = 0; v < V; v++) z += exp(logits[v] - mx);
        nll -= logits[ids[i + 1]] - mx - log(z);
    }
    free(logits);
    iv_state_free(s);
    return nll;
}

static void test_perplexity_real(void **st) {
    (void)st;
    iv_err err = {{0}};
    int32_t *p, *c;
    size_t np, nc;
    const char *prompt = "Once upon a time, there was a little dog", *cont = " named Max. He liked to play in the park.";
    assert_int_equal(iv_tok_encode(M->tok, prompt, strlen(prompt), 1, &p, &np, &err), 0);
    assert_int_equal(iv_tok_encode(M->tok, cont, strlen(cont), 0, &c, &nc, &err), 0);
    assert_true(np >= 2 && nc >= 5);
    double nll;
    assert_int_equal(iv_cont_nll_model(M, p, (int)np, c, (int)nc, &nll, &err), 0);
    int32_t *all = malloc((np + nc) * sizeof *all);
    memcpy(all, p, np * sizeof *all);
    memcpy(all + np, c, nc * sizeof *all);
    double ref = nll_stepwise(all, (int)np, (int)(np + nc));
    assert_true(nll > 0);
    if (fabs(nll - ref) > 1e-3 * (1 + ref)) fail_msg("iv_score NLL %.6f vs stepwise %.6f", nll, ref);
    /* A real story continuation is far likelier than uniform over 512 tokens. */
    double ppl = exp(nll / (double)nc);
    assert_true(ppl > 1 && ppl < 100);
    /* An empty continuation has no NLL; a prompt without tokens is an error. */
    assert_int_equal(iv_cont_nll_model(M, p, (int)np, c, 0, &nll, &err), 0);
    assert_float_equal(nll, 0, 0);
    assert_int_equal(iv_cont_nll_model(M, p, 0, c, (int)nc, &nll, &err), -1);
    free(all);
    free(p);
    free(c);
}

static void test_judge_real(void **st) {
    (void)st;
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_parse("Story: {prompt}{continuation}\nScore from 1 to 10: ", "tmpl", &t, &err), 0);
    iv_judge *j;
    assert_int_equal(iv_judge_new(M, &t, &j, &err), 0);
    double d[10], e, mass;
    if (iv_judge_score(j, "Once upon a time", " there was a cat.", d, &e, &mass, &err) != 0)
        fail_msg("judge: %s", err.msg);
    double sum = 0;
    for (int k = 0; k < 10; k++) {
        assert_true(d[k] >= 0);
        sum += d[k];
    }
    assert_float_equal(sum, 1, 1e-9);
    assert_true(e >= 1 && e <= 10 && mass > 0 && mass <= 1 + 1e-6);
    /* Same context twice: identical answer (the cache is reused correctly). */
    double d2[10], e2;
    assert_int_equal(iv_judge_score(j, "Once upon a time", " there was a cat.", d2, &e2, NULL, &err), 0);
    assert_float_equal(e, e2, 1e-9);
    /* Against the model directly.  In this vocabulary the template's trailing
     * space is its own token (410), "7" is one token and " 7" is [space, "7"];
     * "10" is "1","0".  So P(answer 7) = p("7") + p(" ") p("7" | " ") and
     * P(answer 1) + P(answer 10) = p("1") + p(" ") p("1" | " "). */
    char *filled = iv_judge_tmpl_fill(&t, "Once upon a time", " there was a cat.");
    int32_t *ids;
    size_t n;
    assert_int_equal(iv_tok_encode(M->tok, filled, strlen(filled), 1, &ids, &n, &err), 0);
    int32_t *ids7, *ids7s;
    size_t n7, n7s;
    char *f7 = malloc(strlen(filled) + 3);
    sprintf(f7, "%s7", filled);
    assert_int_equal(iv_tok_encode(M->tok, f7, strlen(f7), 1, &ids7, &n7, &err), 0);
    sprintf(f7, "%s 7", filled);
    assert_int_equal(iv_tok_encode(M->tok, f7, strlen(f7), 1, &ids7s, &n7s, &err), 0);
    assert_int_equal(n7, n + 1);  /* "7" is one token here */
    assert_int_equal(n7s, n + 2); /* " 7" is two */
    assert_memory_equal(ids, ids7s, n * sizeof *ids);
    {
        int V = M->cfg.vocab_size;
        iv_state *s = iv_state_new(M, 1, (int)n + 1, &err);
        float *lg = malloc((size_t)V * sizeof *lg), *lgs = malloc((size_t)V * sizeof *lgs);
        const int32_t *tp = ids;
        int nn = (int)n, one = 1;
        assert_int_equal(iv_forward(M, s, &tp, &nn, NULL, lg, NULL, &err), 0);
        tp = &ids7s[n];
        assert_int_equal(iv_forward(M, s, &tp, &one, NULL, lgs, NULL, &err), 0);
        double mx = -INFINITY, z = 0, mxs = -INFINITY, zs = 0;
        for (int v = 0; v < V; v++) mx = lg[v] > mx ? lg[v] : mx, mxs = lgs[v] > mxs ? lgs[v] : mxs;
        for (int v = 0; v < V; v++) z += exp(lg[v] - mx), zs += exp(lgs[v] - mxs);
        double psp = exp(lg[ids7s[n]] - mx) / z;  /* p(" ") */
        double p7 = exp(lg[ids7[n]] - mx) / z + psp * exp(lgs[ids7s[n + 1]] - mxs) / zs;
        if (fabs(d[6] * mass - p7) > 1e-4 * (p7 + 1e-6)) fail_msg("P(7) %.8g vs model %.8g", d[6] * mass, p7);
        int32_t *i1;
        size_t n1;
        char *f1 = malloc(strlen(filled) + 2);
        sprintf(f1, "%s1", filled);
        assert_int_equal(iv_tok_encode(M->tok, f1, strlen(f1), 1, &i1, &n1, &err), 0);
        assert_int_equal(n1, n + 1);
        double p1 = exp(lg[i1[n]] - mx) / z + psp * exp(lgs[i1[n]] - mxs) / zs;
        if (fabs((d[0] + d[9]) * mass - p1) > 1e-4 * p1) fail_msg("P(1)+P(10) %.8g vs p(1) %.8g", (d[0] + d[9]) * mass, p1);
        assert_true(d[9] > 0 && d[0] > 0);
        free(i1);
        free(f1);
        free(lg);
        free(lgs);
        iv_state_free(s);
    }
    free(ids7s);
    free(f7);
    free(ids7);
    free(ids);
    free(filled);
    iv_judge_free(j);
    iv_judge_tmpl_free(&t);
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_perplexity_real),
        cmocka_unit_test(test_judge_real),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
