/* Batched generation with continuous refill: each of `batch` rows holds one
 * prompt; a row whose prompt is done is reset and refilled with the next prompt
 * within the same forward call as the other rows' decode steps.  Each prompt has
 * its own random stream (seed + prompt index), so results do not depend on the
 * batch size. */
#include "model/state_internal.h"
#include <stdlib.h>
#include <string.h>

iv_gen_opts iv_gen_defaults(void) {
    iv_gen_opts o = {0};
    o.max_new = 30;
    o.top_p = 1.f;
    o.batch = 1;
    o.stop_at_eos = 1;
    return o;
}

/* xorshift* stream, as small as it gets and reproducible everywhere. */
static uint32_t rng_u32(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return (uint32_t)((*s * 0x2545F4914F6CDD1Dull) >> 32);
}
static float rng_f32(uint64_t *s) { return (rng_u32(s) >> 8) / 16777216.0f; }

static void softmax(float *p, const float *x, int n, float temp) {
    float mx = x[0];
    for (int i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++) { p[i] = expf((x[i] - mx) / temp); sum += p[i]; }
    for (int i = 0; i < n; i++) p[i] = (float)(p[i] / sum);
}

static int argmax(const float *x, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return b;
}

typedef struct { float p; int i; } prob_idx;
static int cmp_desc(const void *a, const void *b) {
    float x = ((const prob_idx *)a)->p, y = ((const prob_idx *)b)->p;
    return (x < y) - (x > y);
}

/* Samples from probs (temperature already applied), nucleus-truncated at top_p. */
static int sample(const float *probs, int n, float top_p, uint64_t *rng, prob_idx *work) {
    float u = rng_f32(rng);
    if (top_p <= 0 || top_p >= 1) {
        float c = 0;
        for (int i = 0; i < n; i++) { c += probs[i]; if (u < c) return i; }
        return n - 1;
    }
    int m = 0;
    float cut = (1 - top_p) / (n - 1); /* tokens below this can never be in the nucleus */
    for (int i = 0; i < n; i++) if (probs[i] >= cut) { work[m].p = probs[i]; work[m].i = i; m++; }
    qsort(work, (size_t)m, sizeof *work, cmp_desc);
    float cum = 0;
    int last = m - 1;
    for (int i = 0; i < m; i++) { cum += work[i].p; if (cum > top_p) { last = i; break; } }
    float r = u * cum, c = 0;
    for (int i = 0; i <= last; i++) { c += work[i].p; if (r < c) return work[i].i; }
    return work[last].i;
}

typedef struct {
    int prompt;       /* index of the prompt in this row, -1 = idle */
    int fed;          /* prompt tokens already fed */
    int produced;     /* new tokens generated */
    int limit;        /* new tokens allowed */
    uint64_t rng;
    int32_t next;     /* token to feed at the next step */
} row_state;

int iv_generate(const iv_model *m, const int32_t *const *prompts, const int *prompt_len, int n,
                const iv_gen_opts *opt, const iv_hooks *hooks, int32_t **out_ids, int *out_n, iv_err *err) {
    const iv_config *c = &m->cfg;
    int B = opt->batch > 0 ? opt->batch : 1;
    if (B > n) B = n > 0 ? n : 1;
    int V = c->vocab_size, ctx = c->max_seq;
    for (int p = 0; p < n; p++) {
        out_ids[p] = NULL; out_n[p] = 0;
        if (prompt_len[p] <= 0) return iv_errf(err, "prompt %d is empty (no tokens)", p);
        if (prompt_len[p] > ctx)
            return iv_errf(err, "prompt %d has %d tokens, longer than the model's context of %d", p, prompt_len[p], ctx);
    }
    iv_state *s = iv_state_new(m, B, ctx, err);
    if (!s) return -1;
    /* probs/raw: one [V] slice per row, so the rows' softmaxes run in parallel;
     * only when a callback or the sampler reads them (greedy needs neither) */
    const int want_p = opt->on_step || opt->temperature > 0;
    float *logits = malloc((size_t)B * V * sizeof(float));
    float *probs = want_p ? malloc((size_t)B * V * sizeof(float)) : NULL;             /* [B, V] */
    float *raw = opt->on_step && opt->temperature > 0 ? malloc((size_t)B * V * sizeof(float)) : NULL; /* [B, V] */
    prob_idx *work = malloc((size_t)V * sizeof *work);
    row_state *rows = calloc((size_t)B, sizeof *rows);
    const int32_t **feed = calloc((size_t)B, sizeof *feed);
    int *nfeed = calloc((size_t)B, sizeof *nfeed);
    int *tok_of = calloc((size_t)B, sizeof *tok_of); /* greedy token of each row */
    int rc = 0, next_prompt = 0, active = 0;
    if (!logits || (want_p && !probs) || !work || !rows || !feed || !nfeed || !tok_of || (opt->on_step && opt->temperature > 0 && !raw)) {
        rc = iv_errf(err, "out of memory");
        goto done;
    }
    for (int r = 0; r < B; r++) rows[r].prompt = -1;
    for (;;) {
        /* refill idle rows, then build this step's token lists */
        for (int r = 0; r < B; r++) {
            row_state *w = &rows[r];
            if (w->prompt < 0 && next_prompt < n) {
                int p = next_prompt++;
                w->prompt = p; w->fed = 0; w->produced = 0;
                /* llama2.c: positions 0..steps-1 are forwarded, each yields the next token */
                w->limit = opt->steps > 0 ? opt->steps - prompt_len[p] + 1 : opt->max_new;
                if (w->limit > ctx - prompt_len[p] + 1) w->limit = ctx - prompt_len[p] + 1;
                if (w->limit < 0) w->limit = 0;
                w->rng = opt->seed + 0x9E3779B97F4A7C15ull * (uint64_t)(p + 1);
                iv_state_reset_row(s, r);
                out_ids[p] = malloc((size_t)(w->limit + 1) * sizeof(int32_t));
                if (!out_ids[p]) { rc = iv_errf(err, "out of memory"); goto done; }
                active++;
            }
            nfeed[r] = 0;
            if (w->prompt < 0) continue;
            if (w->fed < prompt_len[w->prompt]) {
                feed[r] = prompts[w->prompt];
                nfeed[r] = prompt_len[w->prompt];
                w->fed = nfeed[r];
            } else {
                feed[r] = &w->next;
                nfeed[r] = 1;
            }
        }
        if (active == 0) break;
        /* rows that need no new token (limit 0) finish without a forward step */
        for (int r = 0; r < B; r++) {
            row_state *w = &rows[r];
            if (w->prompt >= 0 && w->limit == 0) { nfeed[r] = 0; w->prompt = -1; active--; }
        }
        if (active == 0 && next_prompt >= n) break;
        if (iv_forward(m, s, feed, nfeed, hooks, logits, NULL, err) != 0) { rc = -1; goto done; }
        /* The rows' softmaxes and argmaxes (each a pass over V, 32 of them cost
         * as much as a layer at batch 32) run in parallel; the callbacks and the
         * sampling stay in row order. */
#pragma omp parallel for schedule(dynamic, 1) if (B > 1)
        for (int r = 0; r < B; r++) {
            const row_state *w = &rows[r];
            if (w->prompt < 0 || nfeed[r] == 0) continue;
            const float *lg = logits + (size_t)r * V;
            if (want_p) softmax(probs + (size_t)r * V, lg, V, opt->temperature > 0 ? opt->temperature : 1.f);
            if (raw) softmax(raw + (size_t)r * V, lg, V, 1.f); /* the untempered distribution */
            if (opt->temperature <= 0) tok_of[r] = argmax(lg, V);
        }
        for (int r = 0; r < B; r++) {
            row_state *w = &rows[r];
            if (w->prompt < 0 || nfeed[r] == 0) continue;
            const float *pr = probs ? probs + (size_t)r * V : NULL;
            int tok;
            if (opt->on_step) opt->on_step(opt->user, w->prompt, w->produced, raw ? raw + (size_t)r * V : pr, V);
            tok = opt->temperature > 0 ? sample(pr, V, opt->top_p, &w->rng, work) : tok_of[r];
            int p = w->prompt;
            int stop = opt->stop_at_eos && (tok == c->eos_id || tok == c->bos_id);
            if (!stop) out_ids[p][out_n[p]++] = tok;
            w->produced++;
            w->next = tok;
            if (stop || w->produced >= w->limit) { w->prompt = -1; active--; }
        }
    }
done:
    if (rc != 0)
        for (int p = 0; p < n; p++) { free(out_ids[p]); out_ids[p] = NULL; out_n[p] = 0; }
    iv_state_free(s);
    free(logits); free(probs); free(raw); free(work); free(rows); free(feed); free(nfeed); free(tok_of);
    return rc;
}

int iv_score(const iv_model *m, const int32_t *ids, int n, const iv_hooks *hooks, float *logprobs, iv_err *err) {
    if (n < 2) return 0;
    if (n > m->cfg.max_seq) return iv_errf(err, "text of %d tokens is longer than the context of %d", n, m->cfg.max_seq);
    iv_state *s = iv_state_new(m, 1, n, err);
    if (!s) return -1;
    int V = m->cfg.vocab_size, chunk = 128, rc = 0;
    float *lg = malloc((size_t)chunk * V * sizeof(float));
    if (!lg) { iv_state_free(s); return iv_errf(err, "out of memory"); }
    for (int i = 0; i < n - 1 && rc == 0; i += chunk) {
        int k = n - 1 - i < chunk ? n - 1 - i : chunk;
        const int32_t *p = ids + i;
        if (iv_forward(m, s, &p, &k, hooks, NULL, lg, err) != 0) { rc = -1; break; }
        for (int j = 0; j < k; j++) {
            const float *x = lg + (size_t)j * V;
            float mx = x[0];
            for (int v = 1; v < V; v++) if (x[v] > mx) mx = x[v];
            double sum = 0;
            for (int v = 0; v < V; v++) sum += exp((double)x[v] - mx);
            logprobs[i + j] = (float)((double)x[ids[i + j + 1]] - mx - log(sum));
        }
    }
    free(lg);
    iv_state_free(s);
    return rc;
}
