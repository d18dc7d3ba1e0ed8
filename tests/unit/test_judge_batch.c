/* The judge and perplexity at prefill speed, on the real stories260K model as a
 * tiny judge: batched scoring with and without the template head's KV reuse
 * (same expected scores within 1e-5), both score spellings against the
 * model's next-token probabilities, batched per-token scoring and continuation
 * NLL against one sequence at a time, the reference protocol's greedy judge
 * against a token-by-token greedy decode, its strided-window perplexity
 * against the Hugging Face recipe written out here, and the pure helpers
 * (answer reading, character join, template file, low-mass warning) by hand. */
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

/* Items of ragged lengths (the last one long enough to need two token groups). */
#define NI 9
static const char *PROMPTS[NI] = {
    "Once upon a time", "Tom went to the park", "The cat", "Lily had a red ball and she",
    "One day, a little bird", "Sam and his mom baked a cake. It was", "The sun", "A dog ran",
    "There was a big tree in the garden. Every day the children played under it and"};
static const char *CONTS[NI] = {
    " there was a cat.", " with his dog. They played all day.", " sat.",
    " liked to throw it high in the sky.", " flew", " yummy and they ate it all.", " was hot and",
    "", " laughed. One day a storm came and the tree fell down. The children were sad, but they planted "
        "a new tree and watered it every day until it grew big and strong again."};

static void close_or_fail(double a, double b, double tol, const char *what, int i) {
    if (!(fabs(a - b) <= tol)) fail_msg("%s of item %d: %.9g vs %.9g (tolerance %g)", what, i, a, b, tol);
}

/* cmocka's assert_float_equal lets NAN through */
#define assert_num(a, b) close_or_fail((a), (b), 1e-12, #a, __LINE__)

static void check_reuse(const char *tmpl_text, int full) {
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_parse(tmpl_text, "tmpl", &t, &err), 0);
    iv_judge *a, *b, *c;
    assert_int_equal(iv_judge_new(M, &t, &a, &err), 0);
    assert_int_equal(iv_judge_new(M, &t, &b, &err), 0);
    assert_int_equal(iv_judge_new(M, &t, &c, &err), 0);
    iv_judge_set_prefix_reuse(b, 0);
    iv_judge_set_rows(b, 1);  /* one item at a time from BOS: the plain path */
    iv_judge_set_rows(c, 4);  /* reuse with chunks of 4 rows */
    iv_judge_out oa[NI], ob[NI], oc[NI];
    if (iv_judge_score_batch(a, PROMPTS, CONTS, NI, oa, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(iv_judge_score_batch(b, PROMPTS, CONTS, NI, ob, &err), 0);
    if (full) assert_int_equal(iv_judge_score_batch(c, PROMPTS, CONTS, NI, oc, &err), 0);
    for (int i = 0; i < NI; i++) {
        close_or_fail(oa[i].expected, ob[i].expected, 1e-5, "expected (reuse vs none)", i);
        if (full) close_or_fail(oc[i].expected, ob[i].expected, 1e-5, "expected (reuse, 4 rows vs none)", i);
        close_or_fail(oa[i].mass, ob[i].mass, 1e-5 * ob[i].mass, "mass", i);
        close_or_fail(oa[i].mass_space, ob[i].mass_space, 1e-5 * ob[i].mass, "space mass", i);
        for (int k = 0; k < IV_JUDGE_K; k++) close_or_fail(oa[i].dist[k], ob[i].dist[k], 1e-5, "dist", i);
        assert_true(oa[i].expected >= 1 && oa[i].expected <= 10);
        assert_true(oa[i].mass > 0 && oa[i].mass <= 1 + 1e-9 && oa[i].mass_space <= oa[i].mass);
        /* the single-item call is a batch of one */
        if (!full || i % 4) continue;
        double d[IV_JUDGE_K], e, m;
        assert_int_equal(iv_judge_score(a, PROMPTS[i], CONTS[i], d, &e, &m, &err), 0);
        close_or_fail(e, ob[i].expected, 1e-5, "expected (single)", i);
    }
    /* items differ, so the comparison is not vacuous */
    assert_true(fabs(oa[0].expected - oa[4].expected) > 1e-6);
    iv_judge_free(a);
    iv_judge_free(b);
    iv_judge_free(c);
    iv_judge_tmpl_free(&t);
}

static void test_prefix_reuse_same_scores(void **st) {
    (void)st;
    check_reuse(IV_JUDGE_PAPER_TEMPLATE, 1);
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_load("data/judge/coherence.txt", &t, &err), 0);
    check_reuse(t.text, 0);
    iv_judge_tmpl_free(&t);
    /* a template that opens with a placeholder has no head to share */
    check_reuse("{prompt}{continuation}\nScore:", 0);
}

/* log-softmax of the model after ids (a fresh batch-1 state). */
static void next_logp(const int32_t *ids, int n, double *lp) {
    iv_err err = {{0}};
    int V = M->cfg.vocab_size;
    iv_state *s = iv_state_new(M, 1, n, &err);
    float *lg = malloc((size_t)V * sizeof *lg);
    assert_non_null(s);
    assert_int_equal(iv_forward(M, s, &ids, &n, NULL, lg, NULL, &err), 0);
    double mx = -INFINITY, z = 0;
    for (int v = 0; v < V; v++) mx = lg[v] > mx ? lg[v] : mx;
    for (int v = 0; v < V; v++) z += exp(lg[v] - mx);
    for (int v = 0; v < V; v++) lp[v] = lg[v] - mx - log(z);
    free(lg);
    iv_state_free(s);
}

/* After "Score =" this vocabulary writes "7" as one token and " 7" as the
 * space token then "7"; "10" is "1","0".  The prefix correction moves mass
 * between 1 and 10 but not out of the total, so
 *   mass = sum_{d=1..9} p(d) + p(" ") sum_{d=1..9} p(d | " "),
 *   mass_space = p(" ") sum_{d=1..9} p(d | " "). */
static void test_spellings_and_mass(void **st) {
    (void)st;
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_parse(IV_JUDGE_PAPER_TEMPLATE, "paper", &t, &err), 0);
    char *filled = iv_judge_tmpl_fill(&t, PROMPTS[1], CONTS[1]);
    int32_t *ctx;
    size_t n;
    assert_int_equal(iv_tok_encode(M->tok, filled, strlen(filled), 1, &ctx, &n, &err), 0);
    iv_judge_spellings sp;
    assert_int_equal(iv_judge_spellings_find(M->tok, filled, ctx, n, &sp, &err), 0);
    int32_t space = -1, digit[10];
    for (int d = 0; d < 10; d++) {
        char s[2] = {(char)('0' + d), 0};
        int32_t *x;
        size_t nx;
        assert_int_equal(iv_tok_encode(M->tok, s, 1, 0, &x, &nx, &err), 0);
        assert_int_equal(nx, 2); /* the tokenizer's leading-space marker, then the digit */
        digit[d] = x[1];
        space = x[0];
        free(x);
    }
    assert_int_equal(sp.n, 20);
    for (int i = 0; i < sp.n; i++) {
        int k = sp.answer[i], L = k == 10 ? 2 : 1;
        assert_int_equal(sp.len[i], L + sp.space[i]);
        const int32_t *p = sp.ids[i] + sp.space[i];
        if (sp.space[i]) assert_int_equal(sp.ids[i][0], space);
        if (k == 10) { assert_int_equal(p[0], digit[1]); assert_int_equal(p[1], digit[0]); }
        else assert_int_equal(p[0], digit[k]);
    }
    iv_judge_spellings_free(&sp);

    int V = M->cfg.vocab_size;
    double *lp0 = malloc((size_t)V * sizeof *lp0), *lp1 = malloc((size_t)V * sizeof *lp1);
    int32_t *ext = malloc((n + 1) * sizeof *ext);
    memcpy(ext, ctx, n * sizeof *ext);
    ext[n] = space;
    next_logp(ctx, (int)n, lp0);
    next_logp(ext, (int)n + 1, lp1);
    double plain = 0, spaced = 0;
    for (int d = 1; d <= 9; d++) plain += exp(lp0[digit[d]]), spaced += exp(lp1[digit[d]]);
    spaced *= exp(lp0[space]);
    iv_judge *j;
    assert_int_equal(iv_judge_new(M, &t, &j, &err), 0);
    iv_judge_out o;
    assert_int_equal(iv_judge_score_batch(j, &PROMPTS[1], &CONTS[1], 1, &o, &err), 0);
    close_or_fail(o.mass, plain + spaced, 1e-4 * (plain + spaced), "mass", 1);
    close_or_fail(o.mass_space, spaced, 1e-4 * (plain + spaced), "space mass", 1);
    assert_true(spaced > 0);
    char buf[512];
    double ms[3] = {o.mass, NAN, 0.9};
    assert_int_equal(iv_judge_mass_warning(ms, 3, buf, sizeof buf), o.mass < IV_JUDGE_MASS_WARN);
    iv_judge_free(j);
    free(lp0);
    free(lp1);
    free(ext);
    free(ctx);
    free(filled);
    iv_judge_tmpl_free(&t);
}

static void test_mass_warning(void **st) {
    (void)st;
    double m[5] = {0.9, 0.3, NAN, 0.6, 0.49};
    char buf[512];
    assert_int_equal(iv_judge_mass_warning(m, 5, buf, sizeof buf), 2);
    assert_non_null(strstr(buf, "2 of 4 records"));
    assert_non_null(strstr(buf, "min 0.3"));
    double ok[2] = {0.5, NAN};
    buf[0] = 0;
    assert_int_equal(iv_judge_mass_warning(ok, 2, buf, sizeof buf), 0);
    assert_int_equal(buf[0], 0);
}

/* ---- the reference judge ---------------------------------------------------------------- */

static void test_paper_parse(void **st) {
    (void)st;
    unsigned f;
    /* the reference: int(text[-2:].strip()[0]) / 10 */
    assert_num(iv_judge_paper_parse("...\n\nScore = 7", &f), 0.7);
    assert_int_equal(f, IV_PAPER_JUDGE_GREEDY);
    assert_num(iv_judge_paper_parse("Score = 10", &f), 0.1);
    assert_int_equal(f, IV_PAPER_JUDGE_GREEDY | IV_PAPER_JUDGE_TEN);
    assert_num(iv_judge_paper_parse("Score = 8.", &f), 0.8);   /* "8." */
    assert_num(iv_judge_paper_parse("Score =7\n", &f), 0.7);  /* "7\n" */
    assert_num(iv_judge_paper_parse("Score = 5 ", &f), 0.5);  /* "5 " */
    assert_num(iv_judge_paper_parse("7", &f), 0.7);           /* one character */
    assert_num(iv_judge_paper_parse("Score = 0", &f), 0.0);
    assert_num(iv_judge_paper_parse("x\xc2\xa0" "9", &f), 0.9); /* NBSP is stripped */
    assert_num(iv_judge_paper_parse("Score = 78", &f), 0.7);  /* "78" -> '7' */
    assert_int_equal(f, IV_PAPER_JUDGE_GREEDY);
    /* no digit: the reference raised; NAN + flag */
    const char *bad[] = {"Score =\n\n", "Score =", "Score = a", "", "   ", "Score \xc3\xa9" "9", "Score = .5"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_true(isnan(iv_judge_paper_parse(bad[i], &f)));
        assert_int_equal(f, IV_PAPER_JUDGE_GREEDY | IV_PAPER_JUDGE_NO_DIGIT);
    }
    for (unsigned b = 1; b <= IV_PAPER_PPL_WINDOW_MEAN; b <<= 1) assert_non_null(iv_paper_flag_text(b));
    assert_null(iv_paper_flag_text(1u << 12));
}

static void test_paper_template(void **st) {
    (void)st;
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_load("data/judge/paper.txt", &t, &err), 0);
    assert_string_equal(t.text, IV_JUDGE_PAPER_TEMPLATE);
    /* the reference concatenates: text = head + prompt + mid + output + tail */
    char *f = iv_judge_tmpl_fill(&t, "P {x}", " C.");
    assert_string_equal(f, "Score the following dialogue response on a scale from 1 to 10 for just grammar and "
                           "comprehension, ignoring incomplete sentences.\n\nContext: P {x}\nDialogue Response: "
                           "C.\n\nScore =");
    free(f);
    iv_judge_tmpl_free(&t);
}

/* Greedy decoding written out: one batch-1 state, argmax, feed, argmax. */
static void greedy2(const int32_t *ctx, int n, int32_t *gen, int *ngen) {
    iv_err err = {{0}};
    int V = M->cfg.vocab_size;
    iv_state *s = iv_state_new(M, 1, n + 2, &err);
    float *lg = malloc((size_t)V * sizeof *lg);
    assert_int_equal(iv_forward(M, s, &ctx, &n, NULL, lg, NULL, &err), 0);
    *ngen = 0;
    for (int step = 0; step < 2; step++) {
        int b = 0;
        for (int v = 1; v < V; v++) b = lg[v] > lg[b] ? v : b;
        gen[(*ngen)++] = b;
        if (b == M->cfg.eos_id || step == 1) break;
        const int32_t *tp = &gen[step];
        int one = 1;
        assert_int_equal(iv_forward(M, s, &tp, &one, NULL, lg, NULL, &err), 0);
    }
    free(lg);
    iv_state_free(s);
}

static void test_paper_judge_greedy(void **st) {
    (void)st;
    iv_err err = {{0}};
    iv_judge_tmpl t;
    assert_int_equal(iv_judge_tmpl_parse(IV_JUDGE_PAPER_TEMPLATE, "paper", &t, &err), 0);
    iv_judge *j, *k;
    assert_int_equal(iv_judge_new(M, &t, &j, &err), 0);
    assert_int_equal(iv_judge_new(M, &t, &k, &err), 0);
    iv_judge_set_rows(j, 4);
    iv_judge_set_prefix_reuse(k, 0);
    double sc[NI], sk[NI];
    unsigned fl[NI], fk[NI];
    char *text[NI];
    if (iv_judge_paper_batch(j, PROMPTS, CONTS, NI, sc, fl, text, &err) != 0) fail_msg("%s", err.msg);
    assert_int_equal(iv_judge_paper_batch(k, PROMPTS, CONTS, NI, sk, fk, NULL, &err), 0);
    for (int i = 0; i < NI; i++) {
        char *filled = iv_judge_tmpl_fill(&t, PROMPTS[i], CONTS[i]);
        int32_t *ctx, gen[2];
        size_t n;
        int ng;
        assert_int_equal(iv_tok_encode(M->tok, filled, strlen(filled), 1, &ctx, &n, &err), 0);
        greedy2(ctx, (int)n, gen, &ng);
        int32_t *all = malloc((n + 2) * sizeof *all);
        memcpy(all, ctx, n * sizeof *all);
        memcpy(all + n, gen, (size_t)ng * sizeof *all);
        char *full, *pre;
        size_t fl_, pl;
        assert_int_equal(iv_tok_decode(M->tok, all, n + (size_t)ng, 1, &full, &fl_, &err), 0);
        assert_int_equal(iv_tok_decode(M->tok, ctx, n, 1, &pre, &pl, &err), 0);
        assert_true(fl_ >= pl && !memcmp(full, pre, pl));
        assert_string_equal(text[i], full + pl);
        /* the reference's reading, for ASCII text: last two bytes, stripped, first */
        const char *e = full + (fl_ >= 2 ? fl_ - 2 : 0);
        while (*e == ' ' || *e == '\n' || *e == '\t' || *e == '\r') e++;
        double want = *e >= '0' && *e <= '9' ? (*e - '0') / 10.0 : NAN;
        if (isnan(want)) assert_true(isnan(sc[i]) && (fl[i] & IV_PAPER_JUDGE_NO_DIGIT));
        else assert_num(sc[i], want);
        assert_true(fl[i] & IV_PAPER_JUDGE_GREEDY);
        assert_true(isnan(sc[i]) ? isnan(sk[i]) : sc[i] == sk[i]);
        assert_int_equal(fl[i], fk[i]);
        free(all);
        free(full);
        free(pre);
        free(ctx);
        free(filled);
        free(text[i]);
    }
    iv_judge_free(j);
    iv_judge_free(k);
    iv_judge_tmpl_free(&t);
}

/* ---- batched scoring and perplexity ------------------------------------------------------ */

/* Pseudo-random token sequences of ragged lengths, BOS first. */
static int32_t *seq_make(int n, unsigned seed) {
    int32_t *s = malloc((size_t)n * sizeof *s);
    for (int i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        s[i] = i == 0 ? M->cfg.bos_id : (int32_t)((seed >> 8) % (unsigned)M->cfg.vocab_size);
    }
    return s;
}

static void test_score_batch_equals_single(void **st) {
    (void)st;
    iv_err err = {{0}};
    /* lengths: several over a full 2048-token call, so sequences are fed in pieces */
    int len[] = {300, 1, 2, 512, 17, 450, 299, 0, 333, 480, 129, 510};
    enum { NS = sizeof len / sizeof *len };
    int32_t *ids[NS];
    float *lp[NS];
    for (int i = 0; i < NS; i++) {
        ids[i] = seq_make(len[i] ? len[i] : 1, 77u + (unsigned)i);
        lp[i] = malloc((size_t)(len[i] > 1 ? len[i] - 1 : 1) * sizeof(float));
    }
    if (iv_score_batch(M, (const int32_t *const *)ids, len, NS, lp, &err) != 0) fail_msg("%s", err.msg);
    for (int i = 0; i < NS; i++) {
        if (len[i] < 2) continue;
        float *ref = malloc((size_t)(len[i] - 1) * sizeof *ref);
        assert_int_equal(iv_score(M, ids[i], len[i], NULL, ref, &err), 0);
        for (int k = 0; k < len[i] - 1; k++)
            if (fabsf(lp[i][k] - ref[k]) > 1e-4f * (1 + fabsf(ref[k])))
                fail_msg("sequence %d token %d: batched %.7g vs single %.7g", i, k, lp[i][k], ref[k]);
        free(ref);
    }
    /* continuation NLL: batched equals one at a time */
    int np[NS], nc[NS];
    const int32_t *pp[NS], *cp[NS];
    double nll[NS];
    for (int i = 0; i < NS; i++) {
        np[i] = len[i] > 3 ? len[i] / 3 : 1;
        nc[i] = len[i] - np[i] > 0 ? len[i] - np[i] : 0;
        pp[i] = ids[i];
        cp[i] = ids[i] + np[i];
    }
    assert_int_equal(iv_cont_nll_batch(M, pp, np, cp, nc, NS, nll, &err), 0);
    for (int i = 0; i < NS; i++) {
        double one;
        assert_int_equal(iv_cont_nll_model(M, pp[i], np[i], cp[i], nc[i], &one, &err), 0);
        close_or_fail(nll[i], one, 1e-5 * (1 + one), "continuation NLL", i);
        if (nc[i] > 0) assert_true(nll[i] > 0);
    }
    np[0] = 0;
    assert_int_equal(iv_cont_nll_batch(M, pp, np, cp, nc, NS, nll, &err), -1);
    for (int i = 0; i < NS; i++) { free(ids[i]); free(lp[i]); }

    /* more sequences than rows (64): rows are reset and reused */
    enum { NM = 150 };
    int ln[NM];
    int32_t *sq[NM];
    float *lq[NM];
    for (int i = 0; i < NM; i++) {
        ln[i] = 2 + (i * 7) % 23;
        sq[i] = seq_make(ln[i], 1000u + (unsigned)i);
        lq[i] = malloc((size_t)ln[i] * sizeof(float));
    }
    assert_int_equal(iv_score_batch(M, (const int32_t *const *)sq, ln, NM, lq, &err), 0);
    for (int i = 0; i < NM; i++) {
        float ref[32];
        assert_int_equal(iv_score(M, sq[i], ln[i], NULL, ref, &err), 0);
        for (int k = 0; k < ln[i] - 1; k++)
            if (fabsf(lq[i][k] - ref[k]) > 1e-4f * (1 + fabsf(ref[k])))
                fail_msg("short sequence %d token %d: batched %.7g vs single %.7g", i, k, lq[i][k], ref[k]);
        free(sq[i]);
        free(lq[i]);
    }
}

/* iv_forward with all_logits on several rows: every new token's logits in row
 * order, and logits gets each row's last one. */
static void test_forward_all_logits_rows(void **st) {
    (void)st;
    iv_err err = {{0}};
    int V = M->cfg.vocab_size, n[3] = {5, 0, 3};
    int32_t *a = seq_make(5, 1u), *c = seq_make(3, 2u);
    const int32_t *tok[3] = {a, NULL, c};
    iv_state *s = iv_state_new(M, 3, 8, &err);
    float *all = malloc((size_t)8 * V * sizeof *all), *last = calloc((size_t)3 * V, sizeof *last);
    assert_int_equal(iv_forward(M, s, tok, n, NULL, last, all, &err), 0);
    assert_memory_equal(last, all + (size_t)4 * V, (size_t)V * sizeof *all);
    assert_memory_equal(last + (size_t)2 * V, all + (size_t)7 * V, (size_t)V * sizeof *all);
    /* row 2's logits equal a batch-1 run of the same tokens */
    float *one = malloc((size_t)3 * V * sizeof *one), *dummy = malloc((size_t)V * sizeof *dummy);
    iv_state *s1 = iv_state_new(M, 1, 8, &err);
    int three = 3;
    assert_int_equal(iv_forward(M, s1, (const int32_t *const *)&c, &three, NULL, dummy, one, &err), 0);
    for (size_t i = 0; i < (size_t)3 * V; i++)
        if (fabsf(one[i] - all[(size_t)5 * V + i]) > 1e-4f * (1 + fabsf(one[i]))) fail_msg("logit %zu differs", i);
    iv_state_free(s);
    iv_state_free(s1);
    free(a); free(c); free(all); free(last); free(one); free(dummy);
}

/* The Hugging Face recipe, literally: for begin in range(0, L, stride): end =
 * min(begin + max_length, L); trg_len = end - prev_end; labels = window with
 * labels[:-trg_len] = -100; loss = mean over the shifted labels that are not
 * -100; prev_end = end; stop when end == L.  ppl = exp(mean of the losses). */
static double hf_strided(const int32_t *ids, int L, int max_length, int stride, int *nwin) {
    iv_err err = {{0}};
    double sum = 0;
    int cnt = 0, prev_end = 0;
    for (int begin = 0; begin < L; begin += stride) {
        int end = begin + max_length < L ? begin + max_length : L, trg = end - prev_end, wl = end - begin;
        int *label_ok = calloc((size_t)wl, sizeof *label_ok);
        for (int j = 0; j < wl; j++) label_ok[j] = 1;
        /* labels[:-trg_len] = -100: Python slicing masks the first wl - trg (none if negative) */
        for (int j = 0; j < wl - trg; j++) label_ok[j] = 0;
        float *lp = malloc((size_t)(wl > 1 ? wl - 1 : 1) * sizeof *lp);
        if (wl > 1) assert_int_equal(iv_score(M, ids + begin, wl, NULL, lp, &err), 0);
        double s = 0;
        int nl = 0;
        for (int j = 1; j < wl; j++) /* the model shifts: label j is predicted at j - 1 */
            if (label_ok[j]) s -= lp[j - 1], nl++;
        sum += s / nl;  /* 0/0 = NAN, as CrossEntropyLoss with every label ignored */
        cnt++;
        free(label_ok);
        free(lp);
        prev_end = end;
        if (end == L) break;
    }
    *nwin = cnt;
    return cnt ? exp(sum / cnt) : NAN;
}

static void test_strided_perplexity(void **st) {
    (void)st;
    iv_err err = {{0}};
    int len[] = {150, 64, 65, 10, 1, 2, 129};
    enum { NS = sizeof len / sizeof *len };
    int32_t *ids[NS];
    for (int i = 0; i < NS; i++) ids[i] = seq_make(len[i], 5u + (unsigned)i);
    int shapes[][2] = {{64, 24}, {32, 40}, {512, 512}, {20, 20}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        double ppl[NS];
        int nw[NS];
        assert_int_equal(iv_ppl_strided_batch(M, (const int32_t *const *)ids, len, NS, shapes[s][0], shapes[s][1], ppl,
                                              nw, &err), 0);
        for (int i = 0; i < NS; i++) {
            int want_nw;
            double want = hf_strided(ids[i], len[i], shapes[s][0], shapes[s][1], &want_nw);
            assert_int_equal(nw[i], want_nw);
            if (isnan(want)) assert_true(isnan(ppl[i]));
            else close_or_fail(ppl[i], want, 1e-4 * want, "strided perplexity", i);
        }
    }
    /* 150 tokens, windows of 64 every 24: [0,64) [24,88) [48,112) [72,136) [96,150) */
    double p;
    int nw;
    assert_int_equal(iv_ppl_strided_batch(M, (const int32_t *const *)ids, len, 1, 64, 24, &p, &nw, &err), 0);
    assert_int_equal(nw, 5);
    for (int i = 0; i < NS; i++) free(ids[i]);
}

static void test_char_join_and_paper_ppl(void **st) {
    (void)st;
    char *s = iv_paper_char_join("ab");
    assert_string_equal(s, "a\n\nb");
    free(s);
    s = iv_paper_char_join("");
    assert_string_equal(s, "");
    free(s);
    s = iv_paper_char_join("x");
    assert_string_equal(s, "x");
    free(s);
    s = iv_paper_char_join("\xc3\xa9!\xe2\x82\xac"); /* é ! € : three characters */
    assert_string_equal(s, "\xc3\xa9\n\n!\n\n\xe2\x82\xac");
    free(s);
    s = iv_paper_char_join("a\xff"); /* an invalid byte is one character */
    assert_string_equal(s, "a\n\n\xff");
    free(s);

    /* The reference perplexity: tokens of the joined prompt + continuation with
     * special tokens, windows of the model's context every 512 tokens. */
    iv_err err = {{0}};
    const char *pr[2] = {PROMPTS[8], "Hi"}, *co[2] = {CONTS[8], " there."};
    double ppl[2];
    unsigned fl[2];
    assert_int_equal(iv_ppl_paper_batch(M, pr, co, 2, ppl, fl, &err), 0);
    for (int i = 0; i < 2; i++) {
        char *pc = malloc(strlen(pr[i]) + strlen(co[i]) + 1);
        sprintf(pc, "%s%s", pr[i], co[i]);
        char *joined = iv_paper_char_join(pc);
        int32_t *ids;
        size_t n;
        assert_int_equal(iv_tok_encode(M->tok, joined, strlen(joined), 1, &ids, &n, &err), 0);
        assert_int_equal(ids[0], M->cfg.bos_id);
        int nw;
        double want = hf_strided(ids, (int)n, M->cfg.max_seq, 512, &nw);
        close_or_fail(ppl[i], want, 1e-4 * want, "paper perplexity", i);
        assert_int_equal(fl[i], IV_PAPER_PPL_CHAR_JOIN | (nw > 1 ? IV_PAPER_PPL_WINDOW_MEAN : 0u));
        if (i == 0) assert_true(nw > 1); /* the long text needs two windows of 512 */
        double one;
        unsigned f1;
        assert_int_equal(iv_ppl_paper(M, pr[i], co[i], &one, &f1, &err), 0);
        close_or_fail(one, ppl[i], 1e-5 * want, "paper perplexity (single)", i);
        free(ids);
        free(joined);
        free(pc);
    }
}

int main(void) {
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_prefix_reuse_same_scores),
        cmocka_unit_test(test_spellings_and_mass),
        cmocka_unit_test(test_mass_warning),
        cmocka_unit_test(test_paper_parse),
        cmocka_unit_test(test_paper_template),
        cmocka_unit_test(test_paper_judge_greedy),
        cmocka_unit_test(test_score_batch_equals_single),
        cmocka_unit_test(test_forward_all_logits_rows),
        cmocka_unit_test(test_strided_perplexity),
        cmocka_unit_test(test_char_join_and_paper_ppl),
    };
    return cmocka_run_group_tests(t, setup, teardown);
}
