/* Per-sample metrics and their aggregation; trade-off summaries.  Pure
 * arithmetic: no model here (the model-backed parts are in perplexity.c and
 * judge.c) so that tests and the report link without the runtime. */
#include <math.h>
#include <stdlib.h>
#include "interv/eval.h"

double iv_target_mass(const float *probs, int vocab, const int32_t *targets, int n_targets) {
    double s = 0;
    for (int i = 0; i < n_targets; i++) {
        int32_t t = targets[i];
        if (t < 0 || t >= vocab) continue;
        int dup = 0;  /* a token listed twice (e.g. with and without space) counts once */
        for (int k = 0; k < i; k++) dup |= targets[k] == t;
        if (!dup) s += probs[t];
    }
    return s;
}

void iv_edit_acc_add(iv_edit_acc *a, const float *x_before, const float *x_after, int dim) {
    double nx = 0, nd = 0;
    for (int i = 0; i < dim; i++) {
        double d = (double)x_after[i] - (double)x_before[i];
        nx += (double)x_before[i] * x_before[i];
        nd += d * d;
    }
    if (nx <= 0) return;
    a->sum += sqrt(nd / nx);
    a->n++;
}

double iv_edit_acc_mean(const iv_edit_acc *a) { return a->n ? a->sum / (double)a->n : NAN; }

double iv_cont_nll(const float *logprobs, int n_prompt, int n_cont) {
    double s = 0;
    if (n_prompt < 1) return NAN;
    for (int j = 0; j < n_cont; j++) s -= logprobs[n_prompt - 1 + j];
    return s;
}

void iv_mean_add(iv_mean_acc *a, double v) {
    if (isnan(v)) {
        a->n_missing++;
        return;
    }
    a->sum += v;
    a->n++;
}

double iv_mean_get(const iv_mean_acc *a) { return a->n ? a->sum / (double)a->n : NAN; }

void iv_ppl_add(iv_ppl_acc *a, double nll_sum, long n_tokens) {
    if (n_tokens <= 0 || isnan(nll_sum)) {
        a->n_empty++;
        return;
    }
    a->sum_ppl += exp(nll_sum / (double)n_tokens);
    a->sum_nll += nll_sum;
    a->sum_tokens += n_tokens;
    a->n++;
}

double iv_ppl_mean(const iv_ppl_acc *a) { return a->n ? a->sum_ppl / (double)a->n : NAN; }

double iv_ppl_corpus(const iv_ppl_acc *a) {
    return a->sum_tokens ? exp(a->sum_nll / (double)a->sum_tokens) : NAN;
}

static int by_success_desc(const void *a, const void *b) {
    const iv_tradeoff_pt *x = a, *y = b;
    return (x->success < y->success) - (x->success > y->success);
}

double iv_frontier_area(const iv_tradeoff_pt *pts, size_t n, double lo, double hi) {
    if (!(hi > lo)) return NAN;
    iv_tradeoff_pt *p = malloc((n ? n : 1) * sizeof *p);
    if (!p) return NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(pts[i].fluency) && !isnan(pts[i].success)) {
            p[m] = pts[i];
            if (p[m].success > 1) p[m].success = 1;
            if (p[m].success < 0) p[m].success = 0;
            m++;
        }
    if (m == 0) {
        free(p);
        return NAN;
    }
    qsort(p, m, sizeof *p, by_success_desc);
    /* Walk success levels from the top: on (s_{i+1}, s_i] F is the best
     * fluency among points with success >= s_i. */
    double area = 0, best = -INFINITY;
    for (size_t i = 0; i < m; i++) {
        if (p[i].fluency > best) best = p[i].fluency;
        double lower = (i + 1 < m) ? p[i + 1].success : 0;
        double h = (best - lo) / (hi - lo);
        if (h < 0) h = 0;
        if (h > 1) h = 1;
        area += (p[i].success - lower) * h;
    }
    free(p);
    return area;
}

int iv_best_within(const iv_tradeoff_pt *pts, size_t n, double clean_fluency, double tol) {
    int best = -1;
    for (size_t i = 0; i < n; i++) {
        if (isnan(pts[i].fluency) || isnan(pts[i].success)) continue;
        if (pts[i].fluency < clean_fluency - tol) continue;
        if (best < 0 || pts[i].success > pts[best].success ||
            (pts[i].success == pts[best].success && pts[i].alpha < pts[best].alpha))
            best = (int)i;
    }
    return best;
}
