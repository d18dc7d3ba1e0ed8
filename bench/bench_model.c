/* bench_model: one run that puts the kernels and the forward pass next to the
 * machine's limits.
 *   1. memory read bandwidth: whole passes over a 1 GiB buffer (best of 4)
 *   2. SGEMM peak (cblas_sgemm 1536^3, best of up to 40 runs in ~3 s) and the
 *      bf16-compute peak (iv_linear_bf16, 1536 x 1536 weights, 1536 rows)
 *   3. iv_linear throughput on the big matrices of each shape
 *   4. random-weight models built in memory (GPT-2-small f32 and bf16, a ~1.1B
 *      Llama in bf16, a stories15M-shape llama2.c model in f32; bf16 weights
 *      also in bf16 compute): prefill tokens/s, batch-1 decode ms/token
 *      against the bandwidth floor, batch-32 decode tokens/s against the
 *      peak; each the best over a time budget of repetitions (see budget), as
 *      the peak is.  The floor's bandwidth is itself re-measured, a whole
 *      1 GiB pass after every 4 decode steps, and the best pass is used.
 *   5. batch sweep: ms per decode step for B = 1 .. 32 (all CPUs), GPT-2
 *      small bf16 in f32 and bf16 compute, steps of the configurations
 *      interleaved.
 * Every measurement of 1-4 at 1 thread and at all CPUs.  Prints markdown tables.
 * Usage: bench_model [--no-1b] [--no-linear] [--no-sweep] [--only NAME] [--threads N] [--compute f32|bf16]
 *   --compute: only that compute mode in the model rows (default: f32, and
 *   bf16 too for bf16 weights where the CPU has AVX512-BF16)
 *   --only: gpt2-f32, gpt2-bf16, llama, stories15m or qwen2 (one model, for profiling;
 *   the GPT-2 ones with the sweep), or sweep (the sweep alone)
 * OPENBLAS_CORETYPE (which pins OpenBLAS to one kernel family) is removed by
 * re-executing once; the output says so. */
#include "interv/kernels.h"
#include "bench_common.h"
#include "interv/model.h"
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- 1. bandwidth ------------------------------------------------------------ */
/* One buffer of 1 GiB (more than any cache here, L3 included), read whole:
 * the floor of a decode step is a read of all its weights, so the bandwidth
 * it is held to must come from a read of that size too (the best short slice
 * of a long read measured up to 1.6x more on this host). */
static float *big; /* [big_n] */
static const size_t big_n = (size_t)1 << 28;

static double full_read(int nt) { return read_pass(big, big_n, nt); }

static double bandwidth(int nt) { return read_bandwidth(big, big_n, nt); }

/* ---- 3. iv_linear ---------------------------------------------------------------- */
typedef struct { double bw, peak, bpeak; } limits; /* GB/s, SGEMM and bf16 GFLOP/s */

static void bench_linear(const char *name, iv_dtype t, iv_layout lay, int64_t out, int64_t in, int nt,
                         const limits *lim) {
    size_t ne = (size_t)out * in, bytes = ne * iv_dtype_size(t);
    int ncopy = (int)((160u << 20) / bytes) + 1; /* rotate copies: weights come from DRAM, not L3 */
    void *w = malloc(ncopy * bytes);
    float *x = malloc((size_t)128 * in * 4), *y = malloc((size_t)128 * out * 4); /* [B, in] [B, out] */
    if (!w || !x || !y) { free(w); free(x); free(y); return; }
    fill_random(w, t, ne * ncopy, 3);
    fill_random(x, IV_F32, (size_t)128 * in, 4);
    iv_wmat W = {w, t, lay, out, in, lay == IV_OUT_IN ? in : out};
    iv_kernels_set_threads(nt);
    const int Bs[] = {1, 8, 32, 128};
    for (int q = 0; q < 4; q++) {
        int B = Bs[q];
        iv_linear(y, x, B, &W, NULL); /* warm */
        double best = 1e30, budget = now() + 0.4;
        for (int rep = 0; rep < 50 && (rep < 2 || now() < budget); rep++) {
            W.data = (const char *)w + (size_t)(rep % ncopy) * bytes;
            double t0 = now();
            iv_linear(y, x, B, &W, NULL);
            double dt = now() - t0;
            if (dt < best) best = dt;
        }
        double gbs = ne * iv_dtype_size(t) / best / 1e9, gf = 2.0 * ne * B / best / 1e9;
        printf("| %s %s %s %lldx%lld | %d | %d | %.3f | %.1f (%.0f%%) | %.1f (%.0f%%) |\n", name,
               iv_dtype_name(t), lay == IV_OUT_IN ? "out×in" : "in×out", (long long)out, (long long)in,
               B, nt, best * 1e3, gbs, 100 * gbs / lim->bw, gf, 100 * gf / lim->peak);
    }
    free(w); free(x); free(y);
}

/* ---- 4. random models ----------------------------------------------------------- */
typedef struct {
    const char *name;
    iv_arch arch;
    int d, L, nh, nkv, hidden, V, ctx;
    iv_dtype dt;
} shape;

typedef struct {
    iv_model m;
    void *blob;          /* all weight matrices */
    float *ones, *zeros; /* [max vector length] shared by every norm weight / bias */
    double layer_params, head_params; /* matmul weights per token: blocks, lm_head */
} rmodel;

static iv_wmat view(char **cur, iv_dtype t, iv_layout lay, int64_t out, int64_t in) {
    iv_wmat w = {*cur, t, lay, out, in, lay == IV_OUT_IN ? in : out};
    *cur += (size_t)out * in * iv_dtype_size(t);
    return w;
}

static int build(const shape *sh, rmodel *r) {
    memset(r, 0, sizeof *r);
    iv_config *c = &r->m.cfg;
    int d = sh->d, hd = d / sh->nh, qd = sh->nh * hd, kvd = sh->nkv * hd, h = sh->hidden;
    int gpt2 = sh->arch == IV_ARCH_GPT2, qwen2 = sh->arch == IV_ARCH_QWEN2, tied = gpt2 || qwen2;
    c->arch = sh->arch;
    snprintf(c->arch_name, sizeof c->arch_name, "%s",
             gpt2 ? "GPT2LMHeadModel" : qwen2 ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
    c->dim = d; c->hidden_dim = h; c->n_layers = sh->L; c->n_heads = sh->nh; c->n_kv_heads = sh->nkv;
    c->head_dim = hd; c->vocab_size = sh->V; c->max_seq = sh->ctx; c->norm_eps = 1e-5f;
    c->rope_theta = 10000.f; c->query_scale = 1.f / sqrtf((float)hd); c->embed_scale = 1.f;
    c->tied_embeddings = tied; c->bos_id = c->eos_id = -1;
    c->act = gpt2 ? IV_ACT_GELU_TANH : IV_ACT_SILU; /* gelu_new; Llama and Qwen2 gate with SiLU */
    if (qwen2) { c->qkv_bias = 1; c->rope_theta = 1e6f; c->norm_eps = 1e-6f; }
    double per_layer = gpt2 ? 12.0 * d * d : (double)qd * d * 2 + 2.0 * kvd * d + 3.0 * h * d;
    double n = per_layer * sh->L + (double)sh->V * d * (tied ? 1 : 2) + (gpt2 ? (double)sh->ctx * d : 0);
    size_t es = iv_dtype_size(sh->dt);
    r->blob = malloc((size_t)n * es);
    size_t vl = (size_t)(4 * d > h ? 4 * d : h) * 3;
    r->ones = malloc(vl * 4);
    r->zeros = calloc(vl, 4);
    r->m.w.layers = calloc((size_t)sh->L, sizeof(iv_layer_weights));
    if (!r->blob || !r->ones || !r->zeros || !r->m.w.layers) return -1;
    for (size_t i = 0; i < vl; i++) r->ones[i] = 1;
    fill_random(r->blob, sh->dt, (size_t)n, 7);
    r->layer_params = per_layer * sh->L;
    r->head_params = (double)sh->V * d;
    char *cur = r->blob;
    iv_weights *w = &r->m.w;
    w->tok_emb = view(&cur, sh->dt, IV_OUT_IN, sh->V, d);
    if (gpt2) w->pos_emb = view(&cur, sh->dt, IV_OUT_IN, sh->ctx, d);
    for (int l = 0; l < sh->L; l++) {
        iv_layer_weights *lw = &w->layers[l];
        lw->attn_norm_w = lw->mlp_norm_w = r->ones;
        if (gpt2) { /* Conv1D weights as the loader holds them: transposed to [out, in], q|k|v fused along out */
            lw->attn_norm_b = lw->mlp_norm_b = r->zeros;
            iv_wmat qkv = view(&cur, sh->dt, IV_OUT_IN, 3 * d, d);
            iv_wmat *p[3] = {&lw->wq, &lw->wk, &lw->wv};
            for (int i = 0; i < 3; i++) {
                *p[i] = qkv;
                p[i]->data = (const char *)qkv.data + (size_t)i * d * d * es;
                p[i]->out = d;
            }
            lw->bo = lw->b_up = lw->b_down = r->zeros;
            lw->bq = r->zeros, lw->bk = r->zeros + d, lw->bv = r->zeros + 2 * d; /* one [3d] bias, as loaded */
            lw->wo = view(&cur, sh->dt, IV_OUT_IN, d, d);
            lw->w_up = view(&cur, sh->dt, IV_OUT_IN, 4 * d, d);
            lw->w_down = view(&cur, sh->dt, IV_OUT_IN, d, 4 * d);
        } else {
            lw->wq = view(&cur, sh->dt, IV_OUT_IN, qd, d);
            lw->wk = view(&cur, sh->dt, IV_OUT_IN, kvd, d);
            lw->wv = view(&cur, sh->dt, IV_OUT_IN, kvd, d);
            lw->wo = view(&cur, sh->dt, IV_OUT_IN, d, qd);
            lw->w_gate = view(&cur, sh->dt, IV_OUT_IN, h, d);
            lw->w_up = view(&cur, sh->dt, IV_OUT_IN, h, d);
            lw->w_down = view(&cur, sh->dt, IV_OUT_IN, d, h);
            if (qwen2) lw->bq = r->zeros, lw->bk = r->zeros + qd, lw->bv = r->zeros + qd + kvd; /* q|k|v biases */
        }
    }
    w->final_norm_w = r->ones;
    if (gpt2) w->final_norm_b = r->zeros;
    w->lm_head = tied ? w->tok_emb : view(&cur, sh->dt, IV_OUT_IN, sh->V, d);
    return 0;
}

static void unbuild(rmodel *r) {
    free(r->blob); free(r->ones); free(r->zeros); free(r->m.w.layers);
}

typedef struct { double prefill_tps, prefill_gf, b1_ms, bw, bN_tps, bN_gf; } mresult; /* bw: best whole-buffer read, GB/s */

/* FLOPs of T new tokens at contexts pos0+1 .. pos0+T (matmuls + attention),
 * plus `nlog` rows of logits. */
static double flops(const rmodel *r, int T, int pos0, int nlog) {
    const iv_config *c = &r->m.cfg;
    double att = 0;
    for (int t = 0; t < T; t++) att += 4.0 * c->n_layers * c->n_heads * c->head_dim * (pos0 + t + 1);
    return 2.0 * r->layer_params * T + att + 2.0 * r->head_params * nlog;
}

/* Repetitions of each timed phase: at least `min`, then more until `secs`
 * have passed, at most `max`.  The peak is a best over ~3 s on this shared
 * host; the model rows get the same chance to catch a quiet moment. */
typedef struct { int min, max; double secs; } budget;
static int more(const budget *b, int rep, double start) {
    return rep < b->max && (rep < b->min || now() - start < b->secs);
}

static int run_model(const rmodel *r, int nt, int prompt, int batch, budget bp, budget b1, budget bn,
                     mresult *res) {
    iv_err err;
    const iv_model *m = &r->m;
    int V = m->cfg.vocab_size;
    iv_kernels_set_threads(nt);
    int32_t *toks = malloc((size_t)prompt * sizeof *toks);
    float *logits = malloc((size_t)batch * V * sizeof(float)); /* [batch, V] */
    if (!toks || !logits) return -1;
    for (int i = 0; i < prompt; i++) toks[i] = (int32_t)((i * 7919 + 13) % V);
    /* prefill + batch-1 decode */
    iv_state *s = iv_state_new(m, 1, prompt + b1.max + 1, &err);
    if (!s) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    const int32_t *rows[1] = {toks};
    int n1[1] = {prompt};
    /* prefill: best over the budget, on the same state reset in between (the
     * first call also pays for first-touch page faults of the cache) */
    double best = 1e30, t0, dt, start = now();
    for (int rep = 0; more(&bp, rep, start); rep++) {
        iv_state_reset(s);
        t0 = now();
        if (iv_forward(m, s, rows, n1, NULL, logits, NULL, &err)) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
        dt = now() - t0;
        if (dt < best) best = dt;
    }
    res->prefill_tps = prompt / best;
    res->prefill_gf = flops(r, prompt, 0, 1) / best / 1e9;
    best = 1e30, start = now();
    res->bw = 0;
    for (int k = 0; more(&b1, k, start) || res->bw == 0; k++) {
        if (k % 4 == 0) { /* the floor's read, interleaved: both see the same host */
            double g = full_read(nt);
            if (g > res->bw) res->bw = g;
        }
        int32_t tk = (int32_t)((k * 31 + 5) % V);
        const int32_t *one[1] = {&tk};
        int n[1] = {1};
        t0 = now();
        if (iv_forward(m, s, one, n, NULL, logits, NULL, &err)) return -1;
        dt = now() - t0;
        if (dt < best) best = dt;
    }
    res->b1_ms = best * 1e3;
    iv_state_free(s);
    /* batched decode: each row gets a short prompt, then steps of one token per row */
    int pl = prompt / batch > 0 ? prompt / batch : 1;
    s = iv_state_new(m, batch, pl + bn.max + 1, &err);
    if (!s) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    const int32_t **br = malloc((size_t)batch * sizeof *br);
    int *bn_tok = malloc((size_t)batch * sizeof *bn_tok);
    int32_t *bt = malloc((size_t)batch * sizeof *bt);
    for (int b = 0; b < batch; b++) { br[b] = toks + (b % (prompt - pl + 1)); bn_tok[b] = pl; }
    if (iv_forward(m, s, br, bn_tok, NULL, logits, NULL, &err)) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
    best = 1e30, start = now();
    double best_gf = 0;
    for (int k = 0; more(&bn, k, start); k++) {
        for (int b = 0; b < batch; b++) { bt[b] = (int32_t)((b * 101 + k * 17) % V); br[b] = bt + b; bn_tok[b] = 1; }
        t0 = now();
        if (iv_forward(m, s, br, bn_tok, NULL, logits, NULL, &err)) return -1;
        dt = now() - t0;
        if (dt < best) best = dt, best_gf = flops(r, 1, pl + k, 1) * batch / dt / 1e9; /* context pl + k + 1 */
    }
    res->bN_tps = batch / best;
    res->bN_gf = best_gf;
    iv_state_free(s);
    free(br); free(bn_tok); free(bt); free(toks); free(logits);
    return 0;
}

/* ---- 5. batch sweep ------------------------------------------------------------ */
/* ms per decode step at B = 1 .. 32, all CPUs: each configuration gets its
 * own state (4-token prompts, then one token per row per step) and the steps
 * of the configurations alternate, so a busy moment of the host hits all
 * alike; best step of each over two passes through 1 .. 32 (one pass left
 * single 6-9% outliers that a second pass did not repeat). */
typedef struct { rmodel *r; int compute; const char *name; } sweep_cfg;

static int batch_sweep(sweep_cfg *cf, int nc, int nt) {
    iv_err err;
    iv_kernels_set_threads(nt);
    printf("\n### batch sweep: ms per decode step (%d threads; best step of each, configurations interleaved)\n\n| B |", nt);
    for (int c = 0; c < nc; c++) printf(" %s |", cf[c].name);
    printf("\n|---|");
    for (int c = 0; c < nc; c++) printf("---|");
    printf("\n");
    double ms[8][33];
    for (int c = 0; c < 8; c++)
        for (int B = 0; B <= 32; B++) ms[c][B] = 1e30;
    for (int pass = 0; pass < 2; pass++)
    for (int B = 1; B <= 32; B++) {
        iv_state *st[8];
        const int32_t **rows = malloc((size_t)B * sizeof *rows);
        int *n = malloc((size_t)B * sizeof *n);
        int32_t *tk = malloc((size_t)B * 4 * sizeof *tk); /* [B, 4] */
        float *logits = malloc((size_t)B * cf[0].r->m.cfg.vocab_size * sizeof(float)); /* [B, V] */
        if (!rows || !n || !tk || !logits) return -1;
        const int maxs = 12;
        for (int c = 0; c < nc; c++) {
            cf[c].r->m.compute = cf[c].compute;
            st[c] = iv_state_new(&cf[c].r->m, B, 4 + maxs + 1, &err);
            if (!st[c]) { fprintf(stderr, "bench_model: %s\n", err.msg); return -1; }
            for (int b = 0; b < B; b++) {
                for (int i = 0; i < 4; i++) tk[b * 4 + i] = (int32_t)((b * 7 + i * 13 + 1) % 1000);
                rows[b] = tk + b * 4, n[b] = 4;
            }
            if (iv_forward(&cf[c].r->m, st[c], rows, n, NULL, logits, NULL, &err)) return -1;
        }
        double best[8];
        for (int c = 0; c < nc; c++) best[c] = 1e30;
        double start = now();
        for (int k = 0; k < maxs && (k < 3 || now() - start < 1.5); k++)
            for (int c = 0; c < nc; c++) {
                cf[c].r->m.compute = cf[c].compute;
                for (int b = 0; b < B; b++) tk[b] = (int32_t)((b * 101 + k * 17) % 1000), rows[b] = tk + b, n[b] = 1;
                double t0 = now();
                if (iv_forward(&cf[c].r->m, st[c], rows, n, NULL, logits, NULL, &err)) return -1;
                double dt = now() - t0;
                if (dt < best[c]) best[c] = dt;
            }
        for (int c = 0; c < nc; c++) {
            if (best[c] * 1e3 < ms[c][B]) ms[c][B] = best[c] * 1e3;
            iv_state_free(st[c]);
        }
        free(rows); free(n); free(tk); free(logits);
    }
    for (int B = 1; B <= 32; B++) {
        printf("| %d |", B);
        for (int c = 0; c < nc; c++) printf(" %.2f |", ms[c][B]);
        printf("\n");
    }
    fflush(stdout);
    /* monotone: no B slower than a larger one by more than 5% (timing noise
     * on a shared host); the worst such inversion is named */
    for (int c = 0; c < nc; c++) {
        double worst = 1;
        int wb = 0, wl = 0;
        for (int B = 1; B <= 32; B++)
            for (int L = B + 1; L <= 32; L++)
                if (ms[c][B] / ms[c][L] > worst) worst = ms[c][B] / ms[c][L], wb = B, wl = L;
        if (worst > 1.05) printf("%s: not monotone: B=%d takes %.2f ms, B=%d %.2f ms (%.0f%% slower)\n", cf[c].name, wb,
                                 ms[c][wb], wl, ms[c][wl], 100 * (worst - 1));
        else printf("%s: monotone within 5%% (largest inversion %.1f%%); B=1 %.2f ms, B=8 %.2f, B=32 %.2f\n", cf[c].name,
                    100 * (worst - 1), ms[c][1], ms[c][8], ms[c][32]);
    }
    return 0;
}

int main(int argc, char **argv) {
    const char *ct = getenv("OPENBLAS_CORETYPE");
    if (ct && !getenv("IV_BENCH_REEXEC")) {
        setenv("IV_BENCH_REEXEC", ct, 1);
        unsetenv("OPENBLAS_CORETYPE");
        execv("/proc/self/exe", argv); /* on failure: carry on with it set */
    }
    int no1b = 0, nolin = 0, nosweep = 0, maxt = omp_get_num_procs();
    const char *only = NULL;
    int only_cm = -1; /* --compute: -1 both */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-1b")) no1b = 1;
        else if (!strcmp(argv[i], "--no-linear")) nolin = 1;
        else if (!strcmp(argv[i], "--no-sweep")) nosweep = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) maxt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--compute") && i + 1 < argc) {
            only_cm = iv_compute_parse(argv[++i]);
            if (only_cm < 0) {
                fprintf(stderr, "bench_model: --compute: expected f32 or bf16, got '%s'\n", argv[i]);
                return 2;
            }
            if (only_cm == IV_COMPUTE_BF16 && !iv_kernels_bf16()) {
                fprintf(stderr, "bench_model: --compute bf16 is unavailable: it needs AVX512-BF16, which this CPU "
                                "(or IV_ISA) does not give\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--help")) {
            printf("usage: bench_model [--no-1b] [--no-linear] [--no-sweep] [--only gpt2-f32|gpt2-bf16|llama|stories15m|qwen2|sweep] "
                   "[--threads N] [--compute f32|bf16]\n");
            return 0;
        } else {
            fprintf(stderr, "bench_model: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (maxt < 1) maxt = 1;
    int th[2] = {1, maxt}, nth = maxt > 1 ? 2 : 1;
    double T0 = now();
    printf("## interv bench_model\n\ncommand: `%s", argv[0]);
    for (int i = 1; i < argc; i++) printf(" %s", argv[i]);
    printf("` (run by `make bench`)\n");
    if (getenv("IV_BENCH_REEXEC"))
        printf("note: re-executed with OPENBLAS_CORETYPE (was %s) unset, so OpenBLAS picks its own "
               "kernels for this CPU\n", getenv("IV_BENCH_REEXEC"));
    int bf = iv_kernels_bf16();
    printf("kernels: %s, %d CPUs, OpenBLAS: %s; bf16 compute: %s\n\n", iv_isa_name(iv_kernels_isa()),
           omp_get_num_procs(), openblas_get_config(),
           !bf ? "unavailable (no AVX512-BF16)" : iv_kernels_set_bf16(2) == 2 ? "AVX512-BF16 + AMX" : "AVX512-BF16");
    big = malloc(big_n * sizeof(float));
    if (!big) { fprintf(stderr, "bench_model: out of memory for the 1 GiB read buffer\n"); return 1; }
    iv_kernels_set_threads(maxt);
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < big_n; i++) big[i] = (float)(i & 7);

    limits lim[2];
    printf("| threads | read bandwidth GB/s (whole 1 GiB passes) | SGEMM 1536³ GFLOP/s | bf16 compute 1536³ GFLOP/s |\n"
           "|---|---|---|---|\n");
    for (int i = 0; i < nth; i++) {
        lim[i].bw = bandwidth(th[i]);
        lim[i].peak = sgemm_peak(th[i]);
        lim[i].bpeak = bf16_peak(th[i]);
        printf("| %d | %.1f | %.1f | %.1f |\n", th[i], lim[i].bw, lim[i].peak, lim[i].bpeak);
    }
    fflush(stdout);

    if (!nolin) {
    printf("\n### iv_linear (best of several calls; %% of the same thread count's bandwidth / SGEMM peak)\n\n");
    printf("| matrix | B | threads | ms | weight GB/s (%% bw) | GFLOP/s (%% peak) |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < nth; i++) {
        bench_linear("llama-1B w_up", IV_BF16, IV_OUT_IN, 8192, 2048, th[i], &lim[i]);
        bench_linear("llama-1B w_up", IV_F32, IV_OUT_IN, 8192, 2048, th[i], &lim[i]);
        bench_linear("gpt2 c_fc", IV_BF16, IV_OUT_IN, 3072, 768, th[i], &lim[i]);
        bench_linear("gpt2 c_fc", IV_F32, IV_OUT_IN, 3072, 768, th[i], &lim[i]);
        fflush(stdout);
    }
    }

    const shape shapes[] = {
        {"GPT-2 small (124M)", IV_ARCH_GPT2, 768, 12, 12, 12, 3072, 50257, 1024, IV_F32},
        {"GPT-2 small (124M)", IV_ARCH_GPT2, 768, 12, 12, 12, 3072, 50257, 1024, IV_BF16},
        {"Llama ~1.1B", IV_ARCH_LLAMA, 2048, 16, 32, 8, 8192, 32000, 2048, IV_BF16},
        {"stories15M shape", IV_ARCH_LLAMA, 288, 6, 6, 6, 768, 32000, 256, IV_F32},
        {"Qwen2 ~0.5B (Qwen2.5-0.5B shape)", IV_ARCH_QWEN2, 896, 24, 14, 2, 4864, 151936, 2048, IV_BF16},
    };
    const char *keys[] = {"gpt2-f32", "gpt2-bf16", "llama", "stories15m", "qwen2"};
    printf("\n### forward pass, random weights (prefill: one 128-token prompt; "
           "batch 32: 4-token prompts then one token per row per step; each the best of repeated runs over 2-4 s, "
           "as the peak is; %% peak is against the best SGEMM (f32 compute) or bf16 (bf16 compute) rate "
           "measured so far, re-measured after each row; the floor's read: whole 1 GiB passes interleaved "
           "with the batch-1 steps, best pass)\n\n");
    printf("| model | dtype | compute | threads | prefill tok/s | prefill GFLOP/s (%% peak) | decode B=1 ms/tok | "
           "read GB/s | bandwidth floor ms | floor / actual | decode B=32 tok/s | B=32 GFLOP/s (%% peak) |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
        const shape *sh = &shapes[k];
        if (no1b && sh->arch == IV_ARCH_LLAMA && sh->d > 1024) continue;
        if (only && strcmp(only, keys[k])) continue;
        rmodel r;
        iv_kernels_set_threads(maxt);
        if (build(sh, &r)) {
            fprintf(stderr, "bench_model: out of memory building %s\n", sh->name);
            unbuild(&r);
            continue;
        }
        int large = (sh->arch == IV_ARCH_LLAMA && sh->d > 1024) || sh->V > 100000;
        /* bf16 weights: f32 compute, then bf16 compute where the CPU has it */
        for (int cm = 0; cm < (sh->dt == IV_BF16 && bf ? 2 : 1); cm++)
            for (int i = 0; i < nth && (only_cm < 0 || only_cm == cm); i++) {
                mresult res;
                r.m.compute = cm ? IV_COMPUTE_BF16 : IV_COMPUTE_F32;
                /* repetitions: prefill, batch-1 steps, batch-32 steps (see budget) */
                budget bp = {3, 30, 2.0}, b1 = {large ? 4 : 16, 64, 2.0}, bn = {large ? 3 : 8, 40, 4.0};
                if (run_model(&r, th[i], 128, 32, bp, b1, bn, &res)) return 1;
                /* the peak again, right after: the ratios use the best seen so far */
                double pk = cm ? bf16_peak(th[i]) : sgemm_peak(th[i]);
                double *lp = cm ? &lim[i].bpeak : &lim[i].peak;
                if (pk > *lp) *lp = pk;
                double bytes = (r.layer_params + r.head_params) * iv_dtype_size(sh->dt);
                double floor_ms = bytes / (res.bw * 1e9) * 1e3;
                printf("| %s | %s | %s | %d | %.1f | %.1f (%.0f%%) | %.2f | %.1f | %.2f | %.0f%% | %.1f | %.1f (%.0f%%) |\n",
                       sh->name, iv_dtype_name(sh->dt), cm ? "bf16" : "f32", th[i], res.prefill_tps, res.prefill_gf,
                       100 * res.prefill_gf / *lp, res.b1_ms, res.bw, floor_ms, 100 * floor_ms / res.b1_ms,
                       res.bN_tps, res.bN_gf, 100 * res.bN_gf / *lp);
                fflush(stdout);
            }
        unbuild(&r);
    }
    if (!nosweep && (!only || !strcmp(only, "gpt2-bf16") || !strcmp(only, "gpt2-f32") || !strcmp(only, "sweep"))) {
        rmodel rb, rf;
        if (build(&shapes[1], &rb) || build(&shapes[0], &rf)) {
            fprintf(stderr, "bench_model: out of memory building the sweep's models\n");
            return 1;
        }
        sweep_cfg cf[3] = {{&rf, IV_COMPUTE_F32, "GPT-2 f32"},
                           {&rb, IV_COMPUTE_F32, "GPT-2 bf16, f32 compute"},
                           {&rb, IV_COMPUTE_BF16, "GPT-2 bf16, bf16 compute"}};
        if (batch_sweep(cf, bf ? 3 : 2, maxt)) return 1;
        unbuild(&rb);
        unbuild(&rf);
    }
    printf("\n(total bench time %.0f s)\n", now() - T0);
    free(big);
    return 0;
}
