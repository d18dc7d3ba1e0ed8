/* Perplexity of a continuation given its prompt under a reference model (one
 * iv_score pass over prompt+continuation, summing the continuation part), and
 * the reference protocol's perplexity: strided windows over the judge model's
 * tokens of the character-joined text, scored together by iv_score_batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/model.h"

int iv_cont_nll_model(const iv_model *ref, const int32_t *prompt_ids, int n_prompt,
                      const int32_t *cont_ids, int n_cont, double *nll, iv_err *err) {
    if (n_prompt < 1) return iv_errf(err, "perplexity: the prompt needs at least one token (BOS)");
    if (n_cont < 0) return iv_errf(err, "perplexity: negative continuation length");
    *nll = 0;
    if (n_cont == 0) return 0;
    int n = n_prompt + n_cont;
    int32_t *ids = malloc((size_t)n * sizeof *ids);  /* [n] prompt then continuation */
    float *lp = malloc((size_t)(n - 1) * sizeof *lp); /* [n-1] log p(ids[j+1] | ids[..j]) */
    if (!ids || !lp) {
        free(ids);
        free(lp);
        return iv_errf(err, "perplexity: out of memory");
    }
    memcpy(ids, prompt_ids, (size_t)n_prompt * sizeof *ids);
    memcpy(ids + n_prompt, cont_ids, (size_t)n_cont * sizeof *ids);
    int rc = iv_score(ref, ids, n, NULL, lp, err);
    if (rc == 0) *nll = iv_cont_nll(lp, n_prompt, n_cont);
    free(ids);
    free(lp);
    return rc;
}

/* One window of an item: ids[b, e), labels from position j0 of the window. */
typedef struct { size_t item; int b, e, j0; } window;

int iv_ppl_strided_batch(const iv_model *m, const int32_t *const *ids, const int *n, size_t count,
                         int max_length, int stride, double *ppl, int *n_windows, iv_err *err) {
    if (max_length < 1 || stride < 1) return iv_errf(err, "perplexity: window %d and stride %d must be positive", max_length, stride);
    size_t nw = 0, cap = 0;
    window *w = NULL;
    for (size_t i = 0; i < count; i++) {
        int prev_end = 0;
        for (int b = 0; b < n[i]; b += stride) {
            int e = b + max_length < n[i] ? b + max_length : n[i];
            int trg = e - prev_end, len = e - b;  /* labels before len - trg are context only */
            if (nw == cap) {
                window *g = realloc(w, (cap = cap ? 2 * cap : 64) * sizeof *w);
                if (!g) { free(w); return iv_errf(err, "perplexity: out of memory"); }
                w = g;
            }
            w[nw++] = (window){i, b, e, len - trg > 1 ? len - trg : 1};
            prev_end = e;
            if (e == n[i]) break;
        }
    }
    const int32_t **seq = calloc(nw ? nw : 1, sizeof *seq);
    int *len = calloc(nw ? nw : 1, sizeof *len);
    float **lp = calloc(nw ? nw : 1, sizeof *lp);  /* [nw][len - 1] */
    int rc = 0;
    if (!seq || !len || !lp) rc = iv_errf(err, "perplexity: out of memory");
    for (size_t k = 0; k < nw && rc == 0; k++) {
        seq[k] = ids[w[k].item] + w[k].b;
        len[k] = w[k].e - w[k].b;
        if (len[k] > 1 && !(lp[k] = malloc((size_t)(len[k] - 1) * sizeof **lp))) rc = iv_errf(err, "perplexity: out of memory");
    }
    if (rc == 0) rc = iv_score_batch(m, seq, len, nw, lp, err);
    if (rc == 0) {
        double *sum = calloc(count ? count : 1, sizeof *sum);  /* sum of window losses */
        int *cnt = calloc(count ? count : 1, sizeof *cnt);
        if (!sum || !cnt) rc = iv_errf(err, "perplexity: out of memory");
        for (size_t k = 0; k < nw && rc == 0; k++) {
            /* the window's loss: mean NLL over labels j0..len-1 (label j is read
             * from position j-1); none when the window is one token (NAN, as 0/0) */
            double s = 0;
            for (int j = w[k].j0; j < len[k]; j++) s -= lp[k][j - 1];
            sum[w[k].item] += len[k] > w[k].j0 ? s / (len[k] - w[k].j0) : NAN;
            cnt[w[k].item]++;
        }
        for (size_t i = 0; i < count && rc == 0; i++) {
            ppl[i] = cnt[i] ? exp(sum[i] / cnt[i]) : NAN;
            if (n_windows) n_windows[i] = cnt[i];
        }
        free(sum);
        free(cnt);
    }
    for (size_t k = 0; k < nw && lp; k++) free(lp[k]);
    free(lp); free(len); free(seq); free(w);
    return rc;
}

#define PAPER_STRIDE 512

int iv_ppl_paper_batch(const iv_model *m, const char *const *prompts, const char *const *conts, size_t n,
                       double *ppl, unsigned *flags, iv_err *err) {
    if (!m->tok) return iv_errf(err, "%s: perplexity model has no tokenizer", m->path ? m->path : "judge");
    int32_t **ids = calloc(n ? n : 1, sizeof *ids);
    int *len = calloc(n ? n : 1, sizeof *len), *nwin = calloc(n ? n : 1, sizeof *nwin);
    int rc = 0;
    if (!ids || !len || !nwin) rc = iv_errf(err, "perplexity: out of memory");
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t lp = strlen(prompts[i]), lc = strlen(conts[i]);
        char *pc = malloc(lp + lc + 1), *joined = NULL;
        if (pc) {
            memcpy(pc, prompts[i], lp);
            memcpy(pc + lp, conts[i], lc + 1);
            joined = iv_paper_char_join(pc);
        }
        free(pc);
        if (!joined) { rc = iv_errf(err, "perplexity: out of memory"); break; }
        size_t nt;
        rc = iv_tok_encode(m->tok, joined, strlen(joined), 1, &ids[i], &nt, err);
        free(joined);
        len[i] = (int)nt;
    }
    if (rc == 0)
        rc = iv_ppl_strided_batch(m, (const int32_t *const *)ids, len, n, m->cfg.max_seq, PAPER_STRIDE, ppl, nwin, err);
    for (size_t i = 0; i < n && rc == 0; i++)
        flags[i] = IV_PAPER_PPL_CHAR_JOIN | (nwin[i] > 1 ? IV_PAPER_PPL_WINDOW_MEAN : 0u);
    for (size_t i = 0; i < n && ids; i++) free(ids[i]);
    free(ids); free(len); free(nwin);
    return rc;
}

int iv_ppl_paper(const iv_model *m, const char *prompt, const char *continuation, double *ppl, unsigned *flags,
                 iv_err *err) {
    return iv_ppl_paper_batch(m, &prompt, &continuation, 1, ppl, flags, err);
}
