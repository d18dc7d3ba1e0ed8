/* The coherence judge on a real model, at prefill speed.  Many (prompt,
 * continuation) items are scored together: each item is one row of a batched
 * KV cache, rows of different lengths share each forward call, and the
 * template's head (the instructions before the first placeholder) is run once
 * per judge and its cache copied into every row (prefix reuse), so an item
 * costs only its own tokens and the template's tail.
 *
 * Two readings of the judge's answer:
 *   - interv: the distribution over the score spellings "k" and " k"
 *     (judge_spell.c) after the filled template, one extra batched step per
 *     distinct proper prefix of a multi-token spelling ([" "], ["1"] of "10");
 *   - paper: greedy decoding of two tokens, read as the reference did
 *     (iv_judge_paper_parse). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/model.h"

#define KV_BUDGET ((size_t)256 << 20)  /* bytes of KV cache for the rows */
#define MAX_ROWS 32
#define TOKEN_BUDGET 2048              /* tokens per forward call (scratch ~ T x 4 x (d + 2 hidden)) */

struct iv_judge {
    const iv_model *m;
    iv_model *owned;
    iv_judge_tmpl tmpl;
    int reuse, rows_opt;
    /* the template head, run once */
    int head_done;
    iv_state *head;      /* 1 row holding n_head positions */
    int32_t *head_ids;   /* [n_head] */
    int n_head;
    int n_tail;          /* tokens of the text after the last placeholder, alone */
    /* rows */
    iv_state *st;
    int st_rows, st_seq;
    float *logits;       /* [st_rows, vocab] */
    float *logp;         /* [vocab] */
};

typedef struct {
    int32_t *ctx;        /* [n_ctx] tokens of the filled template */
    int n_ctx;
    int lcp;             /* leading tokens taken from the head's cache */
    iv_judge_spellings sp;
    double lp[IV_JUDGE_MAX_SPELL];  /* log P(spelling | ctx) */
    int32_t gen[2];      /* paper: greedy answer */
    int n_gen;
} jitem;

const iv_model *iv_judge_model(const iv_judge *j) { return j->m; }
void iv_judge_set_prefix_reuse(iv_judge *j, int on) { j->reuse = on != 0; }
void iv_judge_set_rows(iv_judge *j, int rows) { j->rows_opt = rows > 0 ? rows : 0; }

/* log-softmax of x: [n] into out. */
static void log_softmax(const float *x, float *out, int n) {
    double mx = -INFINITY, s = 0;
    for (int i = 0; i < n; i++) mx = x[i] > mx ? x[i] : mx;
    for (int i = 0; i < n; i++) s += exp((double)x[i] - mx);
    double lse = mx + log(s);
    for (int i = 0; i < n; i++) out[i] = (float)((double)x[i] - lse);
}

static int32_t argmax(const float *x, int n) {
    int32_t b = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[b]) b = i;  /* first of equal maxima, as torch.argmax */
    return b;
}

int iv_judge_new(const iv_model *m, const iv_judge_tmpl *tmpl, iv_judge **out, iv_err *err) {
    *out = NULL;
    if (!m->tok) return iv_errf(err, "%s: judge model has no tokenizer", m->path ? m->path : "judge");
    iv_judge *j = calloc(1, sizeof *j);
    if (!j) return iv_errf(err, "judge: out of memory");
    j->m = m;
    j->reuse = 1;
    j->tmpl.text = strdup(tmpl->text);
    j->logp = malloc((size_t)m->cfg.vocab_size * sizeof *j->logp);
    if (!j->tmpl.text || !j->logp) {
        iv_judge_free(j);
        return iv_errf(err, "judge: out of memory");
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

void iv_judge_free(iv_judge *j) {
    if (!j) return;
    iv_state_free(j->st);
    iv_state_free(j->head);
    if (j->owned) iv_model_free(j->owned);
    iv_judge_tmpl_free(&j->tmpl);
    free(j->head_ids);
    free(j->logits);
    free(j->logp);
    free(j);
}

/* Runs the template's head (text before the first placeholder) once. */
static int head_prepare(iv_judge *j, iv_err *err) {
    if (j->head_done) return 0;
    const char *t = j->tmpl.text, *a = strstr(t, "{prompt}"), *b = strstr(t, "{continuation}");
    size_t len = (size_t)((a && (!b || a < b) ? a : b) - t);
    size_t n;
    if (iv_tok_encode(j->m->tok, t, len, 1, &j->head_ids, &n, err) != 0) return -1;
    j->n_head = (int)n;
    if (j->n_head > j->m->cfg.max_seq) j->n_head = j->m->cfg.max_seq;
    if (j->n_head > 0) {
        j->head = iv_state_new(j->m, 1, j->n_head, err);
        if (!j->head) return -1;
        float *lg = malloc((size_t)j->m->cfg.vocab_size * sizeof *lg); /* [vocab], unused */
        if (!lg) return iv_errf(err, "judge: out of memory");
        const int32_t *tp = j->head_ids;
        int rc = iv_forward(j->m, j->head, &tp, &j->n_head, NULL, lg, NULL, err);
        free(lg);
        if (rc != 0) return -1;
    }
    const char *c = t; /* after the last placeholder */
    for (const char *q = t; (q = strchr(q, '{')) != NULL; q++) {
        if (!strncmp(q, "{prompt}", 8)) c = q + 8;
        else if (!strncmp(q, "{continuation}", 14)) c = q + 14;
    }
    int32_t *tail;
    if (iv_tok_encode(j->m->tok, c, strlen(c), 0, &tail, &n, err) != 0) return -1;
    free(tail);
    j->n_tail = (int)n;
    j->head_done = 1;
    return 0;
}

static void items_free(jitem *it, size_t n) {
    for (size_t i = 0; i < n && it; i++) {
        free(it[i].ctx);
        iv_judge_spellings_free(&it[i].sp);
    }
    free(it);
}

static int spellings_copy(const iv_judge_spellings *a, iv_judge_spellings *b, iv_err *err) {
    *b = *a;
    for (int s = 0; s < a->n; s++) {
        b->ids[s] = malloc((size_t)a->len[s] * sizeof(int32_t));
        if (!b->ids[s]) {
            b->n = s;
            return iv_errf(err, "judge: out of memory");
        }
        memcpy(b->ids[s], a->ids[s], (size_t)a->len[s] * sizeof(int32_t));
    }
    return 0;
}

/* Tokenises every filled template (and its score spellings when spell). */
static int items_prepare(iv_judge *j, const char *const *prompts, const char *const *conts, size_t n, int spell,
                         jitem **out, int *max_len, iv_err *err) {
    jitem *it = calloc(n ? n : 1, sizeof *it);
    if (!it) return iv_errf(err, "judge: out of memory");
    int rc = 0, mx = 0;
    long ref = -1;  /* the last item whose spellings were computed */
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *filled = iv_judge_tmpl_fill(&j->tmpl, prompts[i], conts[i]);
        if (!filled) { rc = iv_errf(err, "judge: out of memory"); break; }
        size_t nc;
        rc = iv_tok_encode(j->m->tok, filled, strlen(filled), 1, &it[i].ctx, &nc, err);
        it[i].n_ctx = (int)nc;
        if (rc == 0 && nc == 0) rc = iv_errf(err, "judge: item %zu: the filled template has no tokens", i);
        if (rc == 0 && spell) {
            /* The spellings depend on how the template's tail ends, not on the
             * item: with reuse on, an item whose last tokens (the tail's and
             * one more) equal those of the last item computed takes its
             * spellings instead of tokenising filled + "k" twenty times. */
            int K = j->n_tail + 1, same = ref >= 0 && j->reuse && (int)nc >= K && it[ref].n_ctx >= K &&
                   !memcmp(it[i].ctx + nc - K, it[ref].ctx + it[ref].n_ctx - K, (size_t)K * sizeof(int32_t));
            if (same) rc = spellings_copy(&it[ref].sp, &it[i].sp, err);
            else {
                rc = iv_judge_spellings_find(j->m->tok, filled, it[i].ctx, nc, &it[i].sp, err);
                ref = (long)i;
            }
        }
        free(filled);
        if (rc != 0) break;
        int extra = 2;  /* paper: two generated tokens */
        for (int s = 0; spell && s < it[i].sp.n; s++) extra = it[i].sp.len[s] > extra ? it[i].sp.len[s] : extra;
        if (it[i].n_ctx + extra > j->m->cfg.max_seq)
            rc = iv_errf(err, "judge: item %zu: %d tokens exceed the judge model's context of %d", i,
                         it[i].n_ctx + extra, j->m->cfg.max_seq);
        if (it[i].n_ctx + extra > mx) mx = it[i].n_ctx + extra;
        /* the head's cache serves the tokens the item shares with it (not the last:
         * its logits are needed) */
        int l = 0;
        if (j->reuse && j->head)
            while (l < j->n_head && l < it[i].n_ctx - 1 && j->head_ids[l] == it[i].ctx[l]) l++;
        it[i].lcp = l;
    }
    if (rc != 0) {
        items_free(it, n);
        return -1;
    }
    *out = it;
    *max_len = mx;
    return 0;
}

/* Rows per chunk and a state that holds them. */
static int rows_prepare(iv_judge *j, size_t n, int seq, int *rows, iv_err *err) {
    const iv_config *c = &j->m->cfg;
    size_t per_row = (size_t)c->n_layers * seq * c->n_kv_heads * c->head_dim * 2 * sizeof(float);
    size_t r = j->rows_opt ? (size_t)j->rows_opt : KV_BUDGET / (per_row ? per_row : 1);
    if (r > MAX_ROWS && !j->rows_opt) r = MAX_ROWS;
    if (r > n) r = n;
    if (r < 1) r = 1;
    if (!j->st || j->st_rows < (int)r || j->st_seq < seq) {
        iv_state_free(j->st);
        free(j->logits);
        j->logits = NULL;
        j->st = iv_state_new(j->m, (int)r, seq, err);
        if (!j->st) return -1;
        j->st_rows = (int)r;
        j->st_seq = seq;
        j->logits = malloc((size_t)r * c->vocab_size * sizeof *j->logits);
        if (!j->logits) return iv_errf(err, "judge: out of memory");
    }
    *rows = (int)r;
    return 0;
}

/* Calls iv_forward for rows 0..k-1 with tok[r] / ntok[r], grouped so that a
 * call holds at most TOKEN_BUDGET tokens; logits of each row's last token. */
static int forward_rows(iv_judge *j, const int32_t **tok, const int *ntok, int k, iv_err *err) {
    int B = j->st_rows, *nt = calloc((size_t)B, sizeof *nt);
    const int32_t **tp = calloc((size_t)B, sizeof *tp);
    if (!nt || !tp) { free(nt); free(tp); return iv_errf(err, "judge: out of memory"); }
    int rc = 0;
    for (int r0 = 0; r0 < k && rc == 0;) {
        int used = 0, r = r0;
        memset(nt, 0, (size_t)B * sizeof *nt);
        for (; r < k && (r == r0 || used + ntok[r] <= TOKEN_BUDGET); r++) {
            nt[r] = ntok[r];
            tp[r] = tok[r];
            used += ntok[r];
        }
        if (used > 0) rc = iv_forward(j->m, j->st, tp, nt, NULL, j->logits, NULL, err);
        r0 = r;
    }
    free(nt);
    free(tp);
    return rc;
}

/* Every row starts from the head's cache (or from nothing) and reads its
 * filled template. */
static int prefill(iv_judge *j, jitem *it, int k, iv_err *err) {
    const int32_t **tok = malloc((size_t)k * sizeof *tok);
    int *ntok = malloc((size_t)k * sizeof *ntok), rc = 0;
    if (!tok || !ntok) rc = iv_errf(err, "judge: out of memory");
    for (int r = 0; r < k && rc == 0; r++) {
        if (it[r].lcp > 0) rc = iv_state_copy_prefix(j->st, r, j->head, 0, it[r].lcp, err);
        else iv_state_reset_row(j->st, r);
        tok[r] = it[r].ctx + it[r].lcp;
        ntok[r] = it[r].n_ctx - it[r].lcp;
    }
    if (rc == 0) rc = forward_rows(j, tok, ntok, k, err);
    free(tok);
    free(ntok);
    return rc;
}

/* A distinct proper prefix of a spelling: the first len tokens of spelling s. */
typedef struct { int s, len; } prefix;

static int prefixes(const iv_judge_spellings *sp, prefix *p) {
    int n = 0;
    for (int s = 0; s < sp->n; s++)
        for (int l = 1; l < sp->len[s]; l++) {
            int dup = 0;
            for (int q = 0; q < n && !dup; q++)
                dup = p[q].len == l && !memcmp(sp->ids[p[q].s], sp->ids[s], (size_t)l * sizeof(int32_t));
            if (!dup) p[n++] = (prefix){s, l};
        }
    return n;
}

#define MAX_PREFIX (IV_JUDGE_MAX_SPELL * 8)

static int score_chunk(iv_judge *j, jitem *it, int k, iv_judge_out *out, iv_err *err) {
    int V = j->m->cfg.vocab_size, rc = prefill(j, it, k, err);
    for (int r = 0; r < k && rc == 0; r++) {
        log_softmax(j->logits + (size_t)r * V, j->logp, V);
        for (int s = 0; s < it[r].sp.n; s++) it[r].lp[s] = j->logp[it[r].sp.ids[s][0]];
    }
    /* multi-token spellings: one batched step per distinct proper prefix, each
     * row moved back to the end of its template first */
    prefix (*pre)[MAX_PREFIX] = malloc((size_t)k * sizeof *pre);
    int *npre = malloc((size_t)k * sizeof *npre), maxpre = 0;
    const int32_t **tok = malloc((size_t)k * sizeof *tok);
    int *ntok = malloc((size_t)k * sizeof *ntok);
    if (rc == 0 && (!pre || !npre || !tok || !ntok)) rc = iv_errf(err, "judge: out of memory");
    for (int r = 0; r < k && rc == 0; r++) {
        int total = 0;
        for (int s = 0; s < it[r].sp.n; s++) total += it[r].sp.len[s] - 1;
        if (total > MAX_PREFIX) { rc = iv_errf(err, "judge: score spellings of too many tokens"); break; }
        npre[r] = prefixes(&it[r].sp, pre[r]);
        if (npre[r] > maxpre) maxpre = npre[r];
    }
    for (int q = 0; q < maxpre && rc == 0; q++) {
        for (int r = 0; r < k && rc == 0; r++) {
            ntok[r] = 0;
            tok[r] = NULL;
            if (q >= npre[r]) continue;
            rc = iv_state_truncate_row(j->st, r, it[r].n_ctx, err);
            tok[r] = it[r].sp.ids[pre[r][q].s];
            ntok[r] = pre[r][q].len;
        }
        if (rc == 0) rc = forward_rows(j, tok, ntok, k, err);
        for (int r = 0; r < k && rc == 0; r++) {
            if (q >= npre[r]) continue;
            const int32_t *p = it[r].sp.ids[pre[r][q].s];
            int l = pre[r][q].len;
            log_softmax(j->logits + (size_t)r * V, j->logp, V);
            for (int s = 0; s < it[r].sp.n; s++)
                if (it[r].sp.len[s] > l && !memcmp(it[r].sp.ids[s], p, (size_t)l * sizeof *p))
                    it[r].lp[s] += j->logp[it[r].sp.ids[s][l]];
        }
    }
    for (int r = 0; r < k && rc == 0; r++) {
        const iv_judge_spellings *sp = &it[r].sp;
        iv_judge_out *o = &out[r];
        rc = iv_judge_dist_from_lp((const int32_t *const *)sp->ids, sp->len, sp->answer, it[r].lp, sp->n, o->dist,
                                   &o->expected, &o->mass, err);
        /* the " k" spellings alone (no spelling of one kind extends one of the
         * other: they start with different tokens) */
        const int32_t *ids[IV_JUDGE_MAX_SPELL];
        int len[IV_JUDGE_MAX_SPELL], ans[IV_JUDGE_MAX_SPELL], ns = 0;
        double lp[IV_JUDGE_MAX_SPELL], d[IV_JUDGE_K];
        for (int s = 0; s < sp->n; s++)
            if (sp->space[s]) ids[ns] = sp->ids[s], len[ns] = sp->len[s], ans[ns] = sp->answer[s], lp[ns++] = it[r].lp[s];
        o->mass_space = 0;
        if (rc == 0 && ns > 0 && iv_judge_dist_from_lp(ids, len, ans, lp, ns, d, NULL, &o->mass_space, NULL) != 0)
            o->mass_space = 0;
    }
    free(pre);
    free(npre);
    free(tok);
    free(ntok);
    return rc;
}

int iv_judge_score_batch(iv_judge *j, const char *const *prompts, const char *const *conts, size_t n,
                         iv_judge_out *out, iv_err *err) {
    if (n == 0) return 0;
    if (j->reuse && head_prepare(j, err) != 0) return -1;
    jitem *it = NULL;
    int seq = 0, rows = 0;
    if (items_prepare(j, prompts, conts, n, 1, &it, &seq, err) != 0) return -1;
    int rc = rows_prepare(j, n, seq, &rows, err);
    for (size_t c0 = 0; c0 < n && rc == 0; c0 += (size_t)rows) {
        int k = n - c0 < (size_t)rows ? (int)(n - c0) : rows;
        rc = score_chunk(j, it + c0, k, out + c0, err);
    }
    items_free(it, n);
    return rc;
}

int iv_judge_score(iv_judge *j, const char *prompt, const char *continuation, double dist[IV_JUDGE_K],
                   double *expected, double *mass, iv_err *err) {
    iv_judge_out o;
    if (iv_judge_score_batch(j, &prompt, &continuation, 1, &o, err) != 0) return -1;
    memcpy(dist, o.dist, sizeof o.dist);
    if (expected) *expected = o.expected;
    if (mass) *mass = o.mass;
    return 0;
}

/* ---- the reference judge: greedy two tokens ------------------------------------------- */

static int paper_chunk(iv_judge *j, jitem *it, int k, iv_err *err) {
    int V = j->m->cfg.vocab_size, eos = j->m->cfg.eos_id >= 0 ? j->m->cfg.eos_id : j->m->tok->eos_id;
    int rc = prefill(j, it, k, err);
    const int32_t **tok = malloc((size_t)k * sizeof *tok);
    int *ntok = malloc((size_t)k * sizeof *ntok);
    if (rc == 0 && (!tok || !ntok)) rc = iv_errf(err, "judge: out of memory");
    for (int r = 0; r < k && rc == 0; r++) {
        it[r].gen[0] = argmax(j->logits + (size_t)r * V, V);
        it[r].n_gen = 1;
        int go = it[r].gen[0] != eos;  /* generate() stops a sequence at EOS */
        tok[r] = it[r].gen;
        ntok[r] = go;
    }
    if (rc == 0) rc = forward_rows(j, tok, ntok, k, err);
    for (int r = 0; r < k && rc == 0; r++)
        if (ntok[r]) it[r].gen[it[r].n_gen++] = argmax(j->logits + (size_t)r * V, V);
    free(tok);
    free(ntok);
    return rc;
}

/* Decodes template + answer; text gets the answer's part. */
static int paper_read(const iv_judge *j, const jitem *it, double *score, unsigned *flags, char **text, iv_err *err) {
    int n = it->n_ctx + it->n_gen;
    int32_t *all = malloc((size_t)n * sizeof *all);
    if (!all) return iv_errf(err, "judge: out of memory");
    memcpy(all, it->ctx, (size_t)it->n_ctx * sizeof *all);
    memcpy(all + it->n_ctx, it->gen, (size_t)it->n_gen * sizeof *all);
    char *full = NULL, *pre = NULL;
    size_t fl, pl;
    int rc = iv_tok_decode(j->m->tok, all, (size_t)n, 1, &full, &fl, err);
    free(all);
    if (rc != 0) return -1;
    *score = iv_judge_paper_parse(full, flags);
    if (text) {
        rc = iv_tok_decode(j->m->tok, it->ctx, (size_t)it->n_ctx, 1, &pre, &pl, err);
        if (rc == 0) {
            *text = strdup(fl >= pl && !memcmp(full, pre, pl) ? full + pl : full);
            if (!*text) rc = iv_errf(err, "judge: out of memory");
        }
        free(pre);
    }
    free(full);
    return rc;
}

int iv_judge_paper_batch(iv_judge *j, const char *const *prompts, const char *const *conts, size_t n,
                         double *score, unsigned *flags, char **text, iv_err *err) {
    if (text)
        for (size_t i = 0; i < n; i++) text[i] = NULL;
    if (n == 0) return 0;
    if (j->reuse && head_prepare(j, err) != 0) return -1;
    jitem *it = NULL;
    int seq = 0, rows = 0;
    if (items_prepare(j, prompts, conts, n, 0, &it, &seq, err) != 0) return -1;
    int rc = rows_prepare(j, n, seq, &rows, err);
    for (size_t c0 = 0; c0 < n && rc == 0; c0 += (size_t)rows) {
        int k = n - c0 < (size_t)rows ? (int)(n - c0) : rows;
        rc = paper_chunk(j, it + c0, k, err);
    }
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = paper_read(j, &it[i], &score[i], &flags[i], text ? &text[i] : NULL, err);
    if (rc != 0 && text)
        for (size_t i = 0; i < n; i++) { free(text[i]); text[i] = NULL; }
    items_free(it, n);
    return rc;
}
