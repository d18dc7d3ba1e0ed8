/* The judge's arithmetic, independent of any model: the 10-way score
 * distribution from next-token log-probabilities, and the instruction template.
 *
 * Why the prefix correction: when "10" is two tokens "1","0", the probability
 * the judge gives to the token "1" is the probability that its answer *starts*
 * with 1, which includes every answer "10".  Reading P("1") as "the score is 1"
 * would count the 10s twice (once as 10, once as 1) and drag the expected score
 * down.  So the probability that the complete answer is k is its sequence
 * probability minus the probability of the score sequences that extend it:
 *   P(1) = p("1") - p("1") p("0"|"1") = p("1") (1 - p("0"|"1")). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/io.h"

/* Is a a proper prefix of b? */
static int proper_prefix(const int32_t *a, int na, const int32_t *b, int nb) {
    return na < nb && !memcmp(a, b, (size_t)na * sizeof *a);
}

int iv_judge_from_seqs(iv_next_logp_fn fn, void *user, int vocab, const int32_t *ctx, int n_ctx,
                       const int32_t *const *seqs, const int *lens, double dist[IV_JUDGE_K],
                       double *expected, double *mass, iv_err *err) {
    int maxlen = 0;
    for (int k = 0; k < IV_JUDGE_K; k++) {
        if (lens[k] < 1) return iv_errf(err, "judge: score %d has no tokens", k + 1);
        for (int i = 0; i < lens[k]; i++)
            if (seqs[k][i] < 0 || seqs[k][i] >= vocab)
                return iv_errf(err, "judge: score %d token id %d out of range", k + 1, seqs[k][i]);
        if (lens[k] > maxlen) maxlen = lens[k];
        for (int j = 0; j < k; j++)
            if (lens[j] == lens[k] && !memcmp(seqs[j], seqs[k], (size_t)lens[k] * sizeof(int32_t)))
                return iv_errf(err, "judge: scores %d and %d tokenise identically", j + 1, k + 1);
    }
    float *logp = malloc((size_t)vocab * sizeof *logp);         /* [vocab] */
    int32_t *ids = malloc((size_t)(n_ctx + maxlen) * sizeof *ids); /* [n_ctx + maxlen] */
    if (!logp || !ids) {
        free(logp);
        free(ids);
        return iv_errf(err, "judge: out of memory");
    }
    memcpy(ids, ctx, (size_t)n_ctx * sizeof *ids);
    double lp[IV_JUDGE_K];  /* log P(seq_k) */
    int rc = fn(user, ids, n_ctx, logp, vocab, err);
    for (int k = 0; k < IV_JUDGE_K && rc == 0; k++) lp[k] = logp[seqs[k][0]];
    /* Extend the context by each proper prefix of the multi-token sequences.
     * Sequences sharing a prefix call fn again with the same ids; fn may cache. */
    for (int k = 0; k < IV_JUDGE_K && rc == 0; k++)
        for (int i = 1; i < lens[k] && rc == 0; i++) {
            memcpy(ids + n_ctx, seqs[k], (size_t)i * sizeof *ids);
            rc = fn(user, ids, n_ctx + i, logp, vocab, err);
            if (rc == 0) lp[k] += logp[seqs[k][i]];
        }
    free(logp);
    free(ids);
    if (rc != 0) return -1;

    double ps[IV_JUDGE_K], pa[IV_JUDGE_K], total = 0;
    for (int k = 0; k < IV_JUDGE_K; k++) ps[k] = exp(lp[k]);
    for (int k = 0; k < IV_JUDGE_K; k++) {
        pa[k] = ps[k];
        /* Subtract the shortest strict extensions (they contain the longer ones). */
        for (int j = 0; j < IV_JUDGE_K; j++) {
            if (!proper_prefix(seqs[k], lens[k], seqs[j], lens[j])) continue;
            int minimal = 1;
            for (int m = 0; m < IV_JUDGE_K && minimal; m++)
                if (m != j && proper_prefix(seqs[k], lens[k], seqs[m], lens[m]) &&
                    proper_prefix(seqs[m], lens[m], seqs[j], lens[j]))
                    minimal = 0;
            if (minimal) pa[k] -= ps[j];
        }
        if (!(pa[k] > 0)) pa[k] = 0;  /* rounding */
        total += pa[k];
    }
    if (!(total > 0) || !isfinite(total))
        return iv_errf(err, "judge: no probability on any score token 1..10");
    double e = 0;
    for (int k = 0; k < IV_JUDGE_K; k++) {
        dist[k] = pa[k] / total;
        e += (k + 1) * dist[k];
    }
    if (expected) *expected = e;
    if (mass) *mass = total;
    return 0;
}

/* ---- template --------------------------------------------------------------------- */

static const char PH_PROMPT[] = "{prompt}", PH_CONT[] = "{continuation}";

int iv_judge_tmpl_parse(const char *text, const char *name, iv_judge_tmpl *t, iv_err *err) {
    t->text = NULL;
    if (!strstr(text, PH_PROMPT))
        return iv_errf(err, "%s: judge template has no {prompt} placeholder", name);
    if (!strstr(text, PH_CONT))
        return iv_errf(err, "%s: judge template has no {continuation} placeholder", name);
    t->text = strdup(text);
    return t->text ? 0 : iv_errf(err, "%s: out of memory", name);
}

int iv_judge_tmpl_load(const char *path, iv_judge_tmpl *t, iv_err *err) {
    char *buf;
    size_t len;
    t->text = NULL;
    if (iv_read_file(path, &buf, &len, err) != 0) return -1;
    if (strlen(buf) != len) {
        free(buf);
        return iv_errf(err, "%s: judge template contains a NUL byte", path);
    }
    int rc = iv_judge_tmpl_parse(buf, path, t, err);
    free(buf);
    return rc;
}

char *iv_judge_tmpl_fill(const iv_judge_tmpl *t, const char *prompt, const char *continuation) {
    size_t lp = strlen(prompt), lc = strlen(continuation), n = 0;
    /* Size first: every placeholder may grow to the longer of the two texts. */
    size_t cap = strlen(t->text) + 1;
    for (const char *p = t->text; (p = strchr(p, '{')) != NULL; p++) cap += lp + lc;
    char *out = malloc(cap);
    if (!out) return NULL;
    for (const char *p = t->text; *p;) {
        if (!strncmp(p, PH_PROMPT, sizeof PH_PROMPT - 1)) {
            memcpy(out + n, prompt, lp);
            n += lp;
            p += sizeof PH_PROMPT - 1;
        } else if (!strncmp(p, PH_CONT, sizeof PH_CONT - 1)) {
            memcpy(out + n, continuation, lc);
            n += lc;
            p += sizeof PH_CONT - 1;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = 0;
    return out;
}

void iv_judge_tmpl_free(iv_judge_tmpl *t) {
    free(t->text);
    t->text = NULL;
}
