/* The judge's arithmetic, independent of any model: the 10-way score
 * distribution from the log-probabilities of the score spellings, the
 * instruction template, the low-mass warning, and the reference protocol's
 * reading of a greedy answer and its character join.
 *
 * Why the prefix correction: when "10" is two tokens "1","0", the probability
 * the judge gives to the token "1" is the probability that its answer *starts*
 * with 1, which includes every answer "10".  Reading P("1") as "the score is 1"
 * would count the 10s twice (once as 10, once as 1) and drag the expected score
 * down.  So the probability that the complete answer is k is its sequence
 * probability minus the probability of the score sequences that extend it:
 *   P(1) = p("1") - p("1") p("0"|"1") = p("1") (1 - p("0"|"1")). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/io.h"

/* Is a a proper prefix of b? */
static int proper_prefix(const int32_t *a, int na, const int32_t *b, int nb) {
    return na < nb && !memcmp(a, b, (size_t)na * sizeof *a);
}

int iv_judge_dist_from_lp(const int32_t *const *seqs, const int *lens, const int *answer,
                          const double *lp, int n, double dist[IV_JUDGE_K], double *expected,
                          double *mass, iv_err *err) {
    for (int i = 0; i < n; i++) {
        if (answer[i] < 1 || answer[i] > IV_JUDGE_K) return iv_errf(err, "judge: answer %d is not a score 1..10", answer[i]);
        if (lens[i] < 1) return iv_errf(err, "judge: score %d has a spelling without tokens", answer[i]);
        for (int j = 0; j < i; j++)
            if (answer[j] != answer[i] && lens[j] == lens[i] &&
                !memcmp(seqs[j], seqs[i], (size_t)lens[i] * sizeof(int32_t)))
                return iv_errf(err, "judge: scores %d and %d tokenise identically", answer[j], answer[i]);
    }
    double pa[IV_JUDGE_K] = {0}, total = 0;
    for (int i = 0; i < n; i++) {
        double p = exp(lp[i]);
        /* Subtract the shortest strict extensions (they contain the longer ones). */
        for (int j = 0; j < n; j++) {
            if (!proper_prefix(seqs[i], lens[i], seqs[j], lens[j])) continue;
            int minimal = 1;
            for (int m = 0; m < n && minimal; m++)
                if (m != j && proper_prefix(seqs[i], lens[i], seqs[m], lens[m]) &&
                    proper_prefix(seqs[m], lens[m], seqs[j], lens[j]))
                    minimal = 0;
            if (minimal) p -= exp(lp[j]);
        }
        if (p > 0) pa[answer[i] - 1] += p;  /* negative only by rounding */
    }
    for (int k = 0; k < IV_JUDGE_K; k++) total += pa[k];
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

int iv_judge_from_seqs(iv_next_logp_fn fn, void *user, int vocab, const int32_t *ctx, int n_ctx,
                       const int32_t *const *seqs, const int *lens, double dist[IV_JUDGE_K],
                       double *expected, double *mass, iv_err *err) {
    int maxlen = 0, answer[IV_JUDGE_K];
    for (int k = 0; k < IV_JUDGE_K; k++) {
        answer[k] = k + 1;
        if (lens[k] < 1) return iv_errf(err, "judge: score %d has no tokens", k + 1);
        for (int i = 0; i < lens[k]; i++)
            if (seqs[k][i] < 0 || seqs[k][i] >= vocab)
                return iv_errf(err, "judge: score %d token id %d out of range", k + 1, seqs[k][i]);
        if (lens[k] > maxlen) maxlen = lens[k];
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
    return iv_judge_dist_from_lp(seqs, lens, answer, lp, IV_JUDGE_K, dist, expected, mass, err);
}

int iv_judge_mass_warning(const double *mass, size_t n, char *buf, size_t cap) {
    size_t low = 0, measured = 0;
    double sum = 0, mn = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (isnan(mass[i])) continue;
        measured++;
        sum += mass[i];
        if (mass[i] < mn) mn = mass[i];
        if (mass[i] < IV_JUDGE_MASS_WARN) low++;
    }
    if (low == 0) return 0;
    if (buf && cap)
        snprintf(buf, cap,
                 "judge: %zu of %zu records gave the score tokens less than %.2g of the judge's probability "
                 "(mean %.2f, min %.2g): its coherence is unreliable (a judge that does not answer in "
                 "this format)",
                 low, measured, IV_JUDGE_MASS_WARN, sum / (double)measured, mn);
    return low > (size_t)INT32_MAX ? INT32_MAX : (int)low;
}

/* ---- the reference's reading of the answer ---------------------------------------------- */

const char *iv_paper_flag_text(unsigned flag) {
    switch (flag) {
    case IV_PAPER_JUDGE_GREEDY:
        return "coherence: the first character of a greedy two-token answer, divided by 10 (scale 0-0.9, "
               "not the judge's distribution)";
    case IV_PAPER_JUDGE_TEN:
        return "coherence: the judge answered 10, read as 1 (score 0.1)";
    case IV_PAPER_JUDGE_NO_DIGIT:
        return "coherence: no digit where the score was read (the reference raised an error); null";
    case IV_PAPER_PPL_CHAR_JOIN:
        return "perplexity: under the judge model, of the characters of prompt + continuation joined "
               "with blank lines";
    case IV_PAPER_PPL_WINDOW_MEAN:
        return "perplexity: several 512-token windows, exp of the mean of per-window mean NLLs";
    default:
        return NULL;
    }
}

/* Length of the UTF-8 character starting at s (1 for a byte that starts no
 * valid sequence), and its code point. */
static int utf8_char(const unsigned char *s, uint32_t *cp) {
    int n = s[0] < 0x80 ? 1 : (s[0] >> 5) == 6 ? 2 : (s[0] >> 4) == 14 ? 3 : (s[0] >> 3) == 30 ? 4 : 0;
    if (n == 0) { *cp = s[0]; return 1; }
    uint32_t c = n == 1 ? s[0] : s[0] & (0x7f >> n);
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) { *cp = s[0]; return 1; }
        c = c << 6 | (s[i] & 0x3f);
    }
    *cp = c;
    return n;
}

/* Python's str.isspace() (Unicode White_Space plus the separators U+001C..U+001F). */
static int py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

double iv_judge_paper_parse(const char *decoded, unsigned *flags) {
    uint32_t cp[2];
    size_t n = 0;
    /* the code points, keeping only the last two */
    for (const unsigned char *p = (const unsigned char *)decoded; *p;) {
        uint32_t c;
        p += utf8_char(p, &c);
        if (n == 2) { cp[0] = cp[1]; n = 1; }
        cp[n++] = c;
    }
    size_t a = 0, b = n;
    while (a < b && py_space(cp[a])) a++;
    while (b > a && py_space(cp[b - 1])) b--;
    unsigned f = IV_PAPER_JUDGE_GREEDY;
    double score = NAN;
    if (a < b && cp[a] >= '0' && cp[a] <= '9') {
        score = (double)(cp[a] - '0') / 10.0;
        if (b - a == 2 && cp[a] == '1' && cp[a + 1] == '0') f |= IV_PAPER_JUDGE_TEN;
    } else {
        f |= IV_PAPER_JUDGE_NO_DIGIT;
    }
    if (flags) *flags = f;
    return score;
}

char *iv_paper_char_join(const char *s) {
    size_t len = strlen(s), n = 0;
    char *out = malloc(3 * len + 1);  /* each character gains at most 2 bytes */
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        uint32_t c;
        int k = utf8_char(p, &c);
        if (n) { out[n++] = '\n'; out[n++] = '\n'; }
        memcpy(out + n, p, (size_t)k);
        n += (size_t)k;
        p += k;
    }
    out[n] = 0;
    return out;
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
