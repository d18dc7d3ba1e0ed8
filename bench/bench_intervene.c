/* bench_intervene: what an intervention costs during generation, on a
 * random-weight GPT-2-small-shape model (f32 or bf16), clean and with a method's
 * edit measured interleaved in the same run (the host is shared: ratios are what
 * carry over, absolute numbers move with the neighbours' load).
 *   batched: P prompts (4..19 random tokens) x N new tokens, greedy, batch B,
 *            through iv_generate with a per-step target-probability reader as
 *            `interv run` has; clean and edit alternate, best of each.
 *   batch 1: one row, a 16-token prompt, then decode steps alternating clean and
 *            edit on the same state; median ms per step of each.
 * Methods: logit (logit lens, layer 9 by default), tuned (random translator),
 * sae (random TopK SAE, 24576 features, k 64), steering (random direction); artifacts are
 * written to a temporary folder.
 * Usage: bench_intervene [--method logit|tuned|sae|steering|all] [--threads 2]
 *        [--prompts 210] [--new 30] [--batch 32] [--reps 2] [--b1-steps 40]
 *        [--layer 9] [--bf16] [--compute bf16] [--mode edit|bottleneck] [--no-batched] [--no-b1]
 *   --bf16: bf16 weights (widened to f32); --compute bf16: iv_model_set_compute
 *   (bf16 weights and bf16 products, the lens's z product too)
 * OPENBLAS_CORETYPE is removed by re-executing once, as bench_model does. */
#include "interv/kernels.h"
#include "bench_common.h"
#include "interv/method.h"
#include "interv/model.h"
#include "interv/train.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t rng_next(uint64_t *s) {
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

/* ---- GPT-2 small shape, weights as the loader holds them ([out, in]) ---------- */
typedef struct {
    iv_model m;
    void *blob;
    float *ones, *zeros;
} rmodel;

static iv_wmat view(char **cur, iv_dtype t, int64_t out, int64_t in) {
    iv_wmat w = {*cur, t, IV_OUT_IN, out, in, in};
    *cur += (size_t)out * in * iv_dtype_size(t);
    return w;
}

static int build(rmodel *r, iv_dtype dt) {
    memset(r, 0, sizeof *r);
    const int d = 768, L = 12, nh = 12, V = 50257, ctx = 1024;
    iv_config *c = &r->m.cfg;
    c->arch = IV_ARCH_GPT2;
    snprintf(c->arch_name, sizeof c->arch_name, "GPT2LMHeadModel");
    c->dim = d; c->hidden_dim = 4 * d; c->n_layers = L; c->n_heads = nh; c->n_kv_heads = nh;
    c->head_dim = d / nh; c->vocab_size = V; c->max_seq = ctx; c->norm_eps = 1e-5f;
    c->query_scale = 1.f / sqrtf((float)(d / nh)); c->embed_scale = 1.f;
    c->tied_embeddings = 1; c->bos_id = c->eos_id = -1;
    c->act = IV_ACT_GELU_TANH; /* GPT-2's gelu_new, as its config.json names it */
    size_t n = (size_t)12 * d * d * L + (size_t)V * d + (size_t)ctx * d, es = iv_dtype_size(dt);
    r->blob = malloc(n * es);
    r->ones = malloc((size_t)12 * d * sizeof(float));
    r->zeros = calloc((size_t)12 * d, sizeof(float));
    r->m.w.layers = calloc((size_t)L, sizeof(iv_layer_weights));
    if (!r->blob || !r->ones || !r->zeros || !r->m.w.layers) return -1;
    for (int i = 0; i < 12 * d; i++) r->ones[i] = 1;
    fill_random(r->blob, dt, n, 7);
    char *cur = r->blob;
    iv_weights *w = &r->m.w;
    w->tok_emb = view(&cur, dt, V, d);
    w->pos_emb = view(&cur, dt, ctx, d);
    for (int l = 0; l < L; l++) {
        iv_layer_weights *lw = &w->layers[l];
        lw->attn_norm_w = lw->mlp_norm_w = r->ones;
        lw->attn_norm_b = lw->mlp_norm_b = r->zeros;
        iv_wmat qkv = view(&cur, dt, 3 * d, d);
        iv_wmat *p[3] = {&lw->wq, &lw->wk, &lw->wv};
        for (int i = 0; i < 3; i++) {
            *p[i] = qkv;
            p[i]->data = (const char *)qkv.data + (size_t)i * d * d * es;
            p[i]->out = d;
        }
        lw->bq = r->zeros, lw->bk = r->zeros + d, lw->bv = r->zeros + 2 * d;
        lw->bo = lw->b_up = lw->b_down = r->zeros;
        lw->wo = view(&cur, dt, d, d);
        lw->w_up = view(&cur, dt, 4 * d, d);
        lw->w_down = view(&cur, dt, d, 4 * d);
    }
    w->final_norm_w = r->ones;
    w->final_norm_b = r->zeros;
    w->lm_head = w->tok_emb;
    return 0;
}

static void unbuild(rmodel *r) {
    free(r->blob); free(r->ones); free(r->zeros); free(r->m.w.layers);
}

/* ---- random artifacts ---------------------------------------------------------- */
static float *rand_f32(size_t n, float scale, uint64_t seed) {
    float *v = malloc(n * sizeof(float));
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (size_t i = 0; v && i < n; i++)
        v[i] = scale * (float)((double)(rng_next(&s) >> 11) / 9007199254740992.0 * 2 - 1);
    return v;
}

static int make_artifact(const char *method, const iv_model *m, int layer, const char *tmp,
                         char *path, size_t np, iv_err *err) {
    int d = m->cfg.dim, rc = 0;
    if (!strcmp(method, "steering")) {
        snprintf(path, np, "%s/steer.safetensors", tmp);
        float *v = rand_f32((size_t)d, 0.05f, 3);
        rc = v ? iv_steering_save(path, v, d, layer, "bench", 0, 0, err) : -1;
        free(v);
    } else if (!strcmp(method, "tuned")) {
        snprintf(path, np, "%s/tuned", tmp);
        int nl = m->cfg.n_layers;
        iv_tuned_lens t = {.n_layers = nl, .dim = d};
        t.A = rand_f32((size_t)nl * d * d, 0.5f / d, 4);
        t.b = rand_f32((size_t)nl * d, 0.01f, 5);
        t.kl_logit = calloc((size_t)nl, sizeof(double));
        t.kl_tuned = calloc((size_t)nl, sizeof(double));
        rc = t.A && t.b && t.kl_logit && t.kl_tuned ? iv_tuned_lens_save(path, &t, "bench", err) : -1;
        iv_tuned_lens_free(&t);
    } else if (!strcmp(method, "sae")) {
        snprintf(path, np, "%s/sae", tmp);
        int S = 24576;
        /* TopK with k = 64: as sparse as published SAEs (L0 of tens to a few
         * hundred); a ReLU SAE of random weights fires on half its features,
         * which no trained SAE does and which makes the replace-mode decode dense */
        iv_sae s = {.d_in = d, .d_sae = S, .k = 64, .layer = layer};
        s.W_enc = rand_f32((size_t)d * S, 0.1f, 6);
        s.b_enc = rand_f32((size_t)S, 0.05f, 7);
        s.W_dec = rand_f32((size_t)S * d, 0.05f, 8);
        s.b_dec = rand_f32((size_t)d, 0.01f, 9);
        rc = s.W_enc && s.b_enc && s.W_dec && s.b_dec ? iv_sae_save(path, &s, "bench", err) : -1;
        free(s.W_enc); free(s.b_enc); free(s.W_dec); free(s.b_dec);
    } else {
        path[0] = 0;
    }
    return rc;
}

/* ---- timing -------------------------------------------------------------------- */
typedef struct { const int32_t *tgt; int n_tgt; double acc; } probe_ctx;

static void on_step(void *user, int prompt, int step, const float *probs, int vocab) {
    (void)prompt; (void)step; (void)vocab;
    probe_ctx *c = user;
    for (int i = 0; i < c->n_tgt; i++) c->acc += probs[c->tgt[i]];
}

static double gen_once(const iv_model *m, int32_t **pr, const int *pl, int P, int N, int B,
                       const iv_hooks *h, probe_ctx *pc) {
    iv_gen_opts g = iv_gen_defaults();
    g.max_new = N;
    g.batch = B;
    g.on_step = on_step;
    g.user = pc;
    int32_t **out = calloc((size_t)P, sizeof *out);
    int *on = calloc((size_t)P, sizeof *on);
    iv_err err;
    double t0 = now();
    int rc = iv_generate(m, (const int32_t *const *)pr, pl, P, &g, h, out, on, &err);
    double dt = now() - t0;
    long tot = 0;
    for (int p = 0; p < P; p++) { tot += on[p]; free(out[p]); }
    free(out); free(on);
    if (rc) { fprintf(stderr, "bench_intervene: %s\n", err.msg); return -1; }
    return tot / dt;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Decode steps at batch `batch` (each row a 16-token prompt first), alternating
 * clean and edit on the same state; median seconds per step of each. */
static int bench_steps(const iv_model *m, const iv_hooks *h, int batch, int steps, double *clean_s,
                       double *edit_s) {
    iv_err err;
    int V = m->cfg.vocab_size;
    iv_state *s = iv_state_new(m, batch, 16 + 2 * steps + 2, &err);
    float *lg = malloc((size_t)batch * V * sizeof(float));
    double *tc = malloc(sizeof(double) * (size_t)steps), *te = malloc(sizeof(double) * (size_t)steps);
    int32_t *pr = malloc(sizeof(int32_t) * 16 * (size_t)batch), *tk = malloc(sizeof(int32_t) * (size_t)batch);
    const int32_t **rows = malloc(sizeof *rows * (size_t)batch);
    int *n = malloc(sizeof(int) * (size_t)batch);
    if (!s || !lg || !tc || !te || !pr || !tk || !rows || !n) return -1;
    for (int b = 0; b < batch; b++) {
        for (int i = 0; i < 16; i++) pr[b * 16 + i] = (int32_t)((i * 7919 + b * 104729 + 13) % V);
        rows[b] = pr + b * 16;
        n[b] = 16;
    }
    int rc = iv_forward(m, s, rows, n, NULL, lg, NULL, &err);
    for (int k = 0; k < 2 * steps && !rc; k++) {
        for (int b = 0; b < batch; b++) {
            tk[b] = (int32_t)((k * 31 + b * 17 + 5) % V);
            rows[b] = tk + b;
            n[b] = 1;
        }
        double t0 = now();
        rc = iv_forward(m, s, rows, n, (k & 1) ? h : NULL, lg, NULL, &err);
        double dt = now() - t0;
        if (k & 1) te[k / 2] = dt; else tc[k / 2] = dt;
    }
    if (rc) fprintf(stderr, "bench_intervene: %s\n", err.msg);
    else {
        qsort(tc, (size_t)steps, sizeof *tc, cmp_d);
        qsort(te, (size_t)steps, sizeof *te, cmp_d);
        *clean_s = tc[steps / 2];
        *edit_s = te[steps / 2];
    }
    iv_state_free(s);
    free(lg); free(tc); free(te); free(pr); free(tk); free(rows); free(n);
    return rc;
}

/* FLOPs of the batched workload: every prompt and generated token through the
 * blocks (24 d^2 L for GPT-2's matrices, 4 pos d L for attention), one row of
 * logits per generated token (2 V d), and per edited position the hook's own
 * products, hook_flops (the method's, below).  The compute ceiling is the peak
 * over these FLOPs. */
static double workload_flops(const iv_model *m, const int *pl, int P, int N, double hook_flops) {
    double d = m->cfg.dim, L = m->cfg.n_layers, V = m->cfg.vocab_size, f = 0;
    for (int p = 0; p < P; p++) {
        int T = pl[p] + N;
        f += T * 24.0 * d * d * L + 4.0 * d * L * (double)T * (T + 1) / 2 + N * 2.0 * V * d;
        f += N * hook_flops;
    }
    return f;
}

/* Weights multiplied per token: 12 d^2 per GPT-2 block, and the unembedding. */
static double matrix_params(const iv_config *c) {
    return (double)c->n_layers * 12 * c->dim * c->dim + (double)c->vocab_size * c->dim;
}

/* The matrix products of one decode step at batch B on the model's own weights
 * (fused qkv, wo, up and down per layer, the unembedding, and with the hook one
 * more unembedding product), timed alone, best of 5: GFLOP/s.  This is the rate
 * the workload's products reach at its batch size on these kernels (weights
 * read from memory once per step, only B rows to reuse each one), so the gap
 * between it and the 1536^3 peak is the shape's, not the generation loop's. */
static double step_gemm_rate(const iv_model *m, int B, int hook) {
    const iv_config *c = &m->cfg;
    int64_t d = c->dim, H = c->hidden_dim, V = c->vocab_size;
    float *x = malloc(sizeof(float) * (size_t)(B * H)), *y = malloc(sizeof(float) * (size_t)(B * V)); /* [B, H] [B, V] */
    if (!x || !y) { free(x); free(y); return 0; }
    fill_random(x, IV_F32, (size_t)(B * H), 12);
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now();
        for (int l = 0; l < c->n_layers; l++) {
            const iv_layer_weights *w = &m->w.layers[l];
            iv_wmat qkv = w->wq; /* the three views are adjacent (build) */
            qkv.out = 3 * d;
            const iv_wmat *ws[4] = {&qkv, &w->wo, &w->w_up, &w->w_down};
            for (int k = 0; k < 4; k++)
                if (m->compute == IV_COMPUTE_BF16) iv_linear_bf16(y, x, B, ws[k], NULL);
                else iv_linear(y, x, B, ws[k], NULL);
        }
        for (int k = 0; k < 1 + hook; k++)
            if (m->compute == IV_COMPUTE_BF16) iv_linear_bf16(y, x, B, &m->w.lm_head, NULL);
            else iv_linear(y, x, B, &m->w.lm_head, NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    free(x); free(y);
    double flops = 2.0 * B * (matrix_params(c) + hook * (double)V * d);
    return flops / best / 1e9;
}

/* Multiply-add FLOPs of one edited position: logit lens z = W_U x (2 V d);
 * tuned lens the same plus its translator and the solve back (2 x 2 d^2); SAE
 * the encoder (2 d S); steering a vector add (~0). */
static double hook_flops(const char *method, const iv_model *m) {
    double d = m->cfg.dim, V = m->cfg.vocab_size;
    if (!strcmp(method, "logit")) return 2 * V * d;
    if (!strcmp(method, "tuned")) return 2 * V * d + 4 * d * d;
    if (!strcmp(method, "sae")) return 2 * d * 24576;
    return 0;
}

int main(int argc, char **argv) {
    const char *ct = getenv("OPENBLAS_CORETYPE");
    if (ct && !getenv("IV_BENCH_REEXEC")) {
        setenv("IV_BENCH_REEXEC", ct, 1);
        unsetenv("OPENBLAS_CORETYPE");
        execv("/proc/self/exe", argv);
    }
    const char *method = "logit";
    int nt = 2, P = 210, N = 30, B = 32, reps = 2, b1steps = 40, layer = 9, bf16 = 0, nobatch = 0, nob1 = 0, cbf16 = 0;
    iv_method_mode mode = IV_MMODE_EDIT;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--method") && v) method = argv[++i];
        else if (!strcmp(a, "--threads") && v) nt = atoi(argv[++i]);
        else if (!strcmp(a, "--prompts") && v) P = atoi(argv[++i]);
        else if (!strcmp(a, "--new") && v) N = atoi(argv[++i]);
        else if (!strcmp(a, "--batch") && v) B = atoi(argv[++i]);
        else if (!strcmp(a, "--reps") && v) reps = atoi(argv[++i]);
        else if (!strcmp(a, "--b1-steps") && v) b1steps = atoi(argv[++i]);
        else if (!strcmp(a, "--layer") && v) layer = atoi(argv[++i]);
        else if (!strcmp(a, "--bf16")) bf16 = 1;
        else if (!strcmp(a, "--mode") && v) { if (iv_method_mode_parse(argv[++i], &mode)) return 2; }
        else if (!strcmp(a, "--compute") && v) cbf16 = !strcmp(argv[++i], "bf16");
        else if (!strcmp(a, "--no-batched")) nobatch = 1;
        else if (!strcmp(a, "--no-b1")) nob1 = 1;
        else {
            fprintf(stderr, "usage: bench_intervene [--method logit|tuned|sae|steering|all] [--threads N] "
                            "[--prompts P] [--new N] [--batch B] [--reps R] [--b1-steps S] [--layer L] "
                            "[--bf16] [--compute f32|bf16] [--mode edit|bottleneck] [--no-batched] [--no-b1]\n");
            return strcmp(a, "--help") ? 2 : 0;
        }
    }
    if (nt < 1 || P < 1 || N < 1 || B < 1 || reps < 1 || b1steps < 1) return 2;
    iv_kernels_set_threads(nt);
    rmodel r;
    if (build(&r, bf16 ? IV_BF16 : IV_F32)) { fprintf(stderr, "bench_intervene: out of memory\n"); return 1; }
    if (cbf16) {
        iv_err e;
        if (iv_model_set_compute(&r.m, IV_COMPUTE_BF16, &e)) { fprintf(stderr, "bench_intervene: %s\n", e.msg); return 1; }
    }
    const iv_model *m = &r.m;
    char tmp[] = "/tmp/bench_intervene.XXXXXX";
    if (!mkdtemp(tmp)) { perror("mkdtemp"); return 1; }
    /* prompts of 4..19 tokens */
    int32_t **pr = malloc(sizeof *pr * (size_t)P);
    int *pl = malloc(sizeof *pl * (size_t)P);
    uint64_t seed = 11;
    for (int p = 0; p < P; p++) {
        pl[p] = 4 + (int)(rng_next(&seed) % 16);
        pr[p] = malloc(sizeof(int32_t) * (size_t)pl[p]);
        for (int i = 0; i < pl[p]; i++) pr[p][i] = (int32_t)(rng_next(&seed) % (uint64_t)m->cfg.vocab_size);
    }
    static const int32_t tgt[2] = {1000, 20000};
    printf("## bench_intervene: GPT-2 small shape, %s weights, %s compute, %d threads%s\n\n", bf16 ? "BF16" : "F32",
           cbf16 ? "bf16" : "f32", nt,
           getenv("IV_BENCH_REEXEC") ? " (re-executed with OPENBLAS_CORETYPE unset)" : "");
    printf("workload: %d prompts (4..19 tokens) x %d new tokens through iv_generate at batch %d, best of %d "
           "runs, clean and edit alternating; steps: decode steps at batch %d and 1 (16-token prompts), "
           "clean and edit alternating step by step, median of %d each\n\n", P, N, B, reps, B, b1steps);
    double peak = cbf16 ? bf16_peak(nt) : sgemm_peak(nt), bw = 0;
    { /* read bandwidth: whole passes over 1 GiB, best of 4 */
        const size_t bn = (size_t)1 << 28;
        float *buf = malloc(bn * sizeof(float)); /* [bn] */
        if (buf) {
            fill_random(buf, IV_F32, bn, 13);
            bw = read_bandwidth(buf, bn, nt);
        }
        free(buf);
    }
    iv_kernels_set_threads(nt);
    double rate_clean = step_gemm_rate(m, B, 0), rate_edit = step_gemm_rate(m, B, 1);
    long gen_tokens = (long)P * N;
    double ceil_clean = peak * 1e9 / workload_flops(m, pl, P, N, 0) * gen_tokens;
    printf("%s peak measured in this run: %.1f GFLOP/s (%d threads); ceiling = peak / workload FLOPs "
           "(blocks, attention, logits, and the hook's products per edited position: logit 2Vd, tuned 2Vd + 4d^2, "
           "SAE 2dS, steering 0)\n", cbf16 ? "bf16 compute" : "SGEMM",
           peak, nt);
    printf("the same step's matrix products alone at batch %d (model weights, this compute mode): %.1f GFLOP/s clean, "
           "%.1f with the lens's extra [d x V] product (%.0f%% / %.0f%% of the peak); GEMM ceiling = the clean "
           "rate / workload FLOPs\n", B, rate_clean, rate_edit, 100 * rate_clean / peak, 100 * rate_edit / peak);
    { /* one decode step at batch B: its weight read at bw against its FLOPs at the peak */
        const iv_config *c = &m->cfg;
        double wbytes = matrix_params(c) * (cbf16 || bf16 ? 2 : 4), flops = 2.0 * B * matrix_params(c);
        if (bw > 0)
            printf("one decode step at batch %d reads %.0f MB of weights: %.1f ms at the read bandwidth measured now "
                   "(%.1f GB/s, whole 1 GiB passes), against %.1f ms for its %.1f GFLOP at the peak; the products "
                   "alone took %.1f ms\n", B, wbytes / 1e6, wbytes / bw / 1e6, bw, flops / peak / 1e6, flops / 1e9,
                   flops / rate_clean / 1e6);
    }
    printf("\n");
    printf("| method (%s, layer %d) | workload clean tok/s (%% ceiling, %% GEMM ceiling) | edit tok/s (%% ceiling, %% GEMM "
           "ceiling) | edit/clean | "
           "B=%d step clean tok/s | edit tok/s | edit/clean | B=1 clean ms | B=1 edit ms | edit/clean |\n"
           "|---|---|---|---|---|---|---|---|---|---|\n", iv_method_mode_name(mode), layer, B);
    double gceil_clean = ceil_clean * rate_clean / peak;
    const char *all[] = {"logit", "tuned", "sae", "steering"};
    int rc = 0;
    for (int k = 0; k < 4 && !rc; k++) {
        if (strcmp(method, "all") && strcmp(method, all[k])) continue;
        iv_err err;
        char art[512];
        if (make_artifact(all[k], m, layer, tmp, art, sizeof art, &err)) {
            fprintf(stderr, "bench_intervene: %s artifact: %s\n", all[k], err.msg);
            rc = 1;
            break;
        }
        double ceil_edit = peak * 1e9 / workload_flops(m, pl, P, N, hook_flops(all[k], m)) * gen_tokens,
               gceil_edit = ceil_edit * rate_clean / peak;
        iv_method_opts o = iv_method_defaults();
        iv_method_kind_parse(all[k], &o.kind);
        o.layer = layer;
        o.mode = mode;
        o.alpha = 4;
        o.target_ids = tgt;
        o.n_target_ids = 2;
        o.sae_feature = 5;
        o.artifact = art[0] ? art : NULL;
        o.cache_dir = tmp;
        iv_method *mm;
        if (iv_method_create(m, &o, &mm, &err)) {
            fprintf(stderr, "bench_intervene: %s: %s\n", all[k], err.msg);
            rc = 1;
            break;
        }
        iv_hooks h = {.n = 0};
        if (iv_method_install(mm, &h, &err)) { fprintf(stderr, "bench_intervene: %s\n", err.msg); rc = 1; }
        probe_ctx pc = {tgt, 2, 0};
        double bc = 0, be = 0, c1 = 0, e1 = 0, cb = 0, eb = 0;
        for (int rep = 0; rep < reps && !rc && !nobatch; rep++) {
            double c = gen_once(m, pr, pl, P, N, B, NULL, &pc);
            double e = gen_once(m, pr, pl, P, N, B, &h, &pc);
            if (c < 0 || e < 0) { rc = 1; break; }
            if (c > bc) bc = c;
            if (e > be) be = e;
        }
        if (!rc && bench_steps(m, &h, B, b1steps, &cb, &eb)) rc = 1;
        if (!rc && !nob1 && bench_steps(m, &h, 1, b1steps, &c1, &e1)) rc = 1;
        if (!rc)
            printf("| %s | %.1f (%.0f%%, %.0f%%) | %.1f (%.0f%%, %.0f%%) | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                   all[k], bc, 100 * bc / ceil_clean, 100 * bc / gceil_clean, be, 100 * be / ceil_edit,
                   100 * be / gceil_edit, bc > 0 ? be / bc : 0, cb > 0 ? B / cb : 0, eb > 0 ? B / eb : 0, eb > 0 ? cb / eb : 0,
                   c1 * 1e3, e1 * 1e3, c1 > 0 ? e1 / c1 : 0);
        fflush(stdout);
        iv_method_free(mm);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "bench_intervene: could not remove %s\n", tmp);
    for (int p = 0; p < P; p++) free(pr[p]);
    free(pr); free(pl);
    unbuild(&r);
    return rc;
}
