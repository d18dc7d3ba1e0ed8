/* The coherence judge on a real model: fills the template, finds how each score
 * "1".."10" tokenises after it, and reads the judge's next-token distributions
 * through iv_forward with a KV cache that is reused while the token sequence
 * only grows (the context, then the context + "1" for a two-token "10"). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/model.h"

struct iv_judge {
    const iv_model *m;
    iv_model *owned;
    iv_judge_tmpl tmpl;
    iv_state *st;
    int st_seq;          /* capacity of st */
    int32_t *cached;     /* [n_cached] tokens in the cache */
    int n_cached, cap_cached;
    float *logits;       /* [vocab] after the cached tokens */
};

static void log_softmax(const float *x, float *out, int n) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) s += exp((double)x[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < n; i++) out[i] = (float)((double)x[i] - lse);
}

static int judge_next(void *user, const int32_t *ids, int n, float *logp, int vocab, iv_err *err) {
    iv_judge *j = user;
    int keep = 0;  /* cached tokens that are a prefix of ids */
    if (j->n_cached > 0 && j->n_cached <= n && !memcmp(j->cached, ids, (size_t)j->n_cached * sizeof *ids))
        keep = j->n_cached;
    if (keep == n && n > 0) {  /* same sequence as last time */
        log_softmax(j->logits, logp, vocab);
        return 0;
    }
    if (n > j->st_seq)
        return iv_errf(err, "judge: %d tokens exceed the judge model's context of %d", n, j->st_seq);
    if (keep == 0) {
        iv_state_reset(j->st);
        j->n_cached = 0;
    }
    if (n > j->cap_cached) {
        int32_t *nc = realloc(j->cached, (size_t)n * sizeof *nc);
        if (!nc) return iv_errf(err, "judge: out of memory");
        j->cached = nc;
        j->cap_cached = n;
    }
    const int32_t *toks = ids + keep;
    int nt = n - keep;
    if (iv_forward(j->m, j->st, &toks, &nt, NULL, j->logits, NULL, err) != 0) {
        j->n_cached = 0;
        iv_state_reset(j->st);
        return -1;
    }
    memcpy(j->cached, ids, (size_t)n * sizeof *ids);
    j->n_cached = n;
    log_softmax(j->logits, logp, vocab);
    return 0;
}

int iv_judge_new(const iv_model *m, const iv_judge_tmpl *tmpl, iv_judge **out, iv_err *err) {
    *out = NULL;
    if (!m->tok) return iv_errf(err, "%s: judge model has no tokenizer", m->path ? m->path : "judge");
    iv_judge *j = calloc(1, sizeof *j);
    if (!j) return iv_errf(err, "judge: out of memory");
    j->m = m;
    j->st_seq = m->cfg.max_seq;
    j->tmpl.text = strdup(tmpl->text);
    j->logits = malloc((size_t)m->cfg.vocab_size * sizeof *j->logits);
    if (!j->tmpl.text || !j->logits) {
        iv_judge_free(j);
        return iv_errf(err, "judge: out of memory");
    }
    j->st = iv_state_new(m, 1, j->st_seq, err);
    if (!j->st) {
        iv_judge_free(j);
        return -1;
    }
    *out = j;
    return 0;
}

int iv_judge_open(const char *model_path, const char *template_path, iv_judge **out, iv_err *err) {
    *out = NULL;
    iv_judge_tmpl t;
    if (iv_judge_tmpl_load(template_path, &t, err) != 0) return -1;
    iv_model *m;
    if (iv_model_load(model_path, NULL, &m, err) != 0) {
        iv_judge_tmpl_free(&t);
        return -1;
    }
    int rc = iv_judge_new(m, &t, out, err);
    iv_judge_tmpl_free(&t);
    if (rc != 0) {
        iv_model_free(m);
        return -1;
    }
    (*out)->owned = m;
    return 0;
}

/* Token ids of the score string after the filled template: tokenise
 * filled + digits and strip the tokens of filled, which must be a prefix. */
static int score_tokens(const iv_judge *j, const char *filled, const int32_t *ctx, size_t n_ctx,
                        int k, int32_t **seq, int *len, iv_err *err) {
    size_t lf = strlen(filled);
    char *s = malloc(lf + 16);
    if (!s) return iv_errf(err, "judge: out of memory");
    memcpy(s, filled, lf);
    snprintf(s + lf, 16, "%d", k);
    int32_t *ids;
    size_t n;
    int rc = iv_tok_encode(j->m->tok, s, strlen(s), 1, &ids, &n, err);
    free(s);
    if (rc != 0) return -1;
    if (n <= n_ctx || memcmp(ids, ctx, n_ctx * sizeof *ids) != 0) {
        free(ids);
        return iv_errf(err, "judge: the score \"%d\" merges with the end of the judge template; "
                            "end the template with \": \" or a newline", k);
    }
    *len = (int)(n - n_ctx);
    *seq = malloc((size_t)*len * sizeof **seq);
    if (!*seq) {
        free(ids);
        return iv_errf(err, "judge: out of memory");
    }
    memcpy(*seq, ids + n_ctx, (size_t)*len * sizeof **seq);
    free(ids);
    return 0;
}

int iv_judge_score(iv_judge *j, const char *prompt, const char *continuation,
                   double dist[IV_JUDGE_K], double *expected, double *mass, iv_err *err) {
    char *filled = iv_judge_tmpl_fill(&j->tmpl, prompt, continuation);
    if (!filled) return iv_errf(err, "judge: out of memory");
    int32_t *ctx = NULL, *seqs[IV_JUDGE_K] = {0};
    int lens[IV_JUDGE_K] = {0};
    size_t n_ctx = 0;
    int rc = iv_tok_encode(j->m->tok, filled, strlen(filled), 1, &ctx, &n_ctx, err);
    for (int k = 0; k < IV_JUDGE_K && rc == 0; k++)
        rc = score_tokens(j, filled, ctx, n_ctx, k + 1, &seqs[k], &lens[k], err);
    if (rc == 0)
        rc = iv_judge_from_seqs(judge_next, j, j->m->cfg.vocab_size, ctx, (int)n_ctx,
                                (const int32_t *const *)seqs, lens, dist, expected, mass, err);
    for (int k = 0; k < IV_JUDGE_K; k++) free(seqs[k]);
    free(ctx);
    free(filled);
    return rc;
}

void iv_judge_free(iv_judge *j) {
    if (!j) return;
    if (j->st) iv_state_free(j->st);
    if (j->owned) iv_model_free(j->owned);
    iv_judge_tmpl_free(&j->tmpl);
    free(j->cached);
    free(j->logits);
    free(j);
}
