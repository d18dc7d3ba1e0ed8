/* Per-token log-probabilities of many sequences at prefill speed: sequences
 * are rows of one batched state, as many tokens per forward call as the
 * logits budget allows (ragged rows; a long sequence is fed in pieces and its
 * cache carries over), and a row that finishes takes the next sequence. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/model.h"

#define KV_BUDGET ((size_t)256 << 20)     /* bytes of KV cache */
#define LOGIT_BUDGET ((size_t)256 << 20)  /* bytes of logits of one call */
#define MAX_ROWS 64
#define MAX_TOKENS 2048                   /* per call (scratch grows with it) */

int iv_score_batch(const iv_model *m, const int32_t *const *ids, const int *n, size_t count,
                   float *const *logprobs, iv_err *err) {
    const iv_config *c = &m->cfg;
    int V = c->vocab_size, maxn = 0;
    size_t active = 0;
    for (size_t i = 0; i < count; i++) {
        if (n[i] < 2) continue;
        if (n[i] > c->max_seq)
            return iv_errf(err, "score: sequence %zu has %d tokens, more than the model's context of %d", i, n[i],
                           c->max_seq);
        active++;
        if (n[i] - 1 > maxn) maxn = n[i] - 1;  /* the last token is only a label */
    }
    if (active == 0) return 0;
    size_t per_row = (size_t)c->n_layers * maxn * c->n_kv_heads * c->head_dim * 2 * sizeof(float);
    size_t R = KV_BUDGET / (per_row ? per_row : 1);
    if (R > MAX_ROWS) R = MAX_ROWS;
    if (R > active) R = active;
    if (R < 1) R = 1;
    size_t TB = LOGIT_BUDGET / ((size_t)V * sizeof(float));
    if (TB > MAX_TOKENS) TB = MAX_TOKENS;
    if (TB < 16) TB = 16;

    iv_state *st = iv_state_new(m, (int)R, maxn, err);
    if (!st) return -1;
    float *all = malloc(TB * (size_t)V * sizeof *all);     /* [TB, V] */
    float **dst = malloc(TB * sizeof *dst);                /* [TB] where each token's log-prob goes */
    int32_t *tgt = malloc(TB * sizeof *tgt);               /* [TB] its label */
    long *item = malloc(R * sizeof *item);                 /* [R] sequence of each row, -1 = free */
    int *fed = calloc(R, sizeof *fed), *nt = calloc(R, sizeof *nt);
    const int32_t **tp = calloc(R, sizeof *tp);
    int rc = 0;
    if (!all || !dst || !tgt || !item || !fed || !nt || !tp) rc = iv_errf(err, "score: out of memory");
    size_t next = 0;
    for (size_t r = 0; r < R && item; r++) item[r] = -1;
    while (rc == 0) {
        /* free rows take the next sequences */
        for (size_t r = 0; r < R; r++)
            if (item[r] < 0) {
                while (next < count && n[next] < 2) next++;
                if (next == count) break;
                item[r] = (long)next++;
                fed[r] = 0;
                iv_state_reset_row(st, (int)r);
            }
        size_t used = 0;
        for (size_t r = 0; r < R; r++) {
            nt[r] = 0;
            if (item[r] < 0 || used == TB) continue;
            int rem = n[item[r]] - 1 - fed[r];
            nt[r] = rem < (int)(TB - used) ? rem : (int)(TB - used);
            tp[r] = ids[item[r]] + fed[r];
            for (int k = 0; k < nt[r]; k++) {
                int p = fed[r] + k;
                dst[used + (size_t)k] = logprobs[item[r]] + p;
                tgt[used + (size_t)k] = ids[item[r]][p + 1];
            }
            used += (size_t)nt[r];
        }
        if (used == 0) break;
        for (size_t t = 0; t < used && rc == 0; t++)
            if (tgt[t] < 0 || tgt[t] >= V) rc = iv_errf(err, "score: token id %d outside the vocabulary of %d", tgt[t], V);
        if (rc == 0) rc = iv_forward(m, st, tp, nt, NULL, NULL, all, err);
        if (rc != 0) break;
#pragma omp parallel for schedule(static)
        for (size_t t = 0; t < used; t++) {
            const float *x = all + t * (size_t)V;
            float mx = x[0];
            for (int v = 1; v < V; v++) mx = x[v] > mx ? x[v] : mx;
            double s = 0;
            for (int v = 0; v < V; v++) s += expf(x[v] - mx);
            *dst[t] = (float)((double)x[tgt[t]] - mx - log(s));
        }
        for (size_t r = 0; r < R; r++) {
            if (item[r] < 0) continue;
            fed[r] += nt[r];
            if (fed[r] == n[item[r]] - 1) item[r] = -1;
        }
    }
    iv_state_free(st);
    free(all); free(dst); free(tgt); free(item); free(fed); free(nt); free(tp);
    return rc;
}

int iv_cont_nll_batch(const iv_model *ref, const int32_t *const *prompt_ids, const int *n_prompt,
                      const int32_t *const *cont_ids, const int *n_cont, size_t count, double *nll,
                      iv_err *err) {
    for (size_t i = 0; i < count; i++) {
        if (n_prompt[i] < 1) return iv_errf(err, "perplexity: item %zu: the prompt needs at least one token (BOS)", i);
        if (n_cont[i] < 0) return iv_errf(err, "perplexity: item %zu: negative continuation length", i);
    }
    int32_t **seq = calloc(count ? count : 1, sizeof *seq);  /* [count][n] prompt then continuation */
    float **lp = calloc(count ? count : 1, sizeof *lp);      /* [count][n-1] */
    int *len = calloc(count ? count : 1, sizeof *len);
    int rc = 0;
    if (!seq || !lp || !len) rc = iv_errf(err, "perplexity: out of memory");
    for (size_t i = 0; i < count && rc == 0; i++) {
        len[i] = n_cont[i] > 0 ? n_prompt[i] + n_cont[i] : 0;  /* nothing to score without a continuation */
        if (!len[i]) continue;
        seq[i] = malloc((size_t)len[i] * sizeof **seq);
        lp[i] = malloc((size_t)len[i] * sizeof **lp);
        if (!seq[i] || !lp[i]) { rc = iv_errf(err, "perplexity: out of memory"); break; }
        memcpy(seq[i], prompt_ids[i], (size_t)n_prompt[i] * sizeof **seq);
        memcpy(seq[i] + n_prompt[i], cont_ids[i], (size_t)n_cont[i] * sizeof **seq);
    }
    if (rc == 0) rc = iv_score_batch(ref, (const int32_t *const *)seq, len, count, lp, err);
    for (size_t i = 0; i < count && rc == 0; i++)
        nll[i] = len[i] ? iv_cont_nll(lp[i], n_prompt[i], n_cont[i]) : 0;
    for (size_t i = 0; i < count && seq; i++) { free(seq[i]); free(lp[i]); }
    free(seq); free(lp); free(len);
    return rc;
}
