/* Forward pass of HF model folders against an independent float64 PyTorch
 * reference (scripts/make_model_fixtures.py): GPT-2 (plain and "transformer."
 * prefixed), Llama (GQA, Llama-3 rope scaling, sharded) and Gemma-2
 * (soft-capping, sliding window, explicit head_dim), each in f32 and bf16;
 * and one small f32 folder per config.json key interv honours beyond those
 * (docs/config-keys.md), named after the key.
 * Checks full-sequence logits, token-by-token decoding, additive and identity
 * hooks at resid_post.L, and batched decoding of rows at different positions.
 * Fixtures are found relative to the working directory (the repo root). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>
#include <jansson.h>
#include "interv/model.h"

#define FIXDIR "tests/fixtures/models/"

/* f32 folders: the reference is float64 on the same f32 weights, so only f32
 * rounding separates them (measured ~1e-5 on logits of magnitude ~10).
 * bf16 folders: interv widens bf16 weights exactly to f32, so the arithmetic
 * error is the same as for f32; 1e-3 leaves room for other accumulation
 * orders yet stays 9x below the 9e-3 logit shift that Gemma-2 shows when the
 * embedding normalizer is sqrt(48) instead of HF's bf16-rounded 6.9375. */
#define TOL_F32 1e-4f
#define TOL_BF16 1e-3f
/* batched vs single-row interv runs: the same products, f32 sums in other
 * orders (batch 1 runs 4-accumulator dots, batches from 5 the batch-vectorised
 * GEMM); measured up to 1.03e-5 (neox-sequential), most fixtures < 4e-6 */
#define TOL_BATCH 3e-5f

typedef struct fixture {
    const char *name;
    float tol;
    int key;           /* a config-key fixture: test_load checks the architecture only */
    int arch;          /* issue-14 zoo fixtures (scripts/make_zoo_fixtures.py): their iv_arch */
    /* filled by setup */
    iv_model *m;
    int T, V, dim, hook_layer;
    int32_t *tokens;   /* [T] */
    float *ref;        /* [T, V] clean logits */
    float *ref_hook;   /* [T, V] hook added at every position */
    float *ref_last;   /* [T, V] hook added at the last position only */
    float *hook_vec;   /* [dim] */
} fixture;

static fixture FIX[] = {
    {.name = "gpt2", .tol = TOL_F32},       {.name = "gpt2-prefixed", .tol = TOL_F32},
    {.name = "gpt2-bf16", .tol = TOL_BF16}, {.name = "llama", .tol = TOL_F32},
    {.name = "llama-bf16", .tol = TOL_BF16}, {.name = "gemma2", .tol = TOL_F32},
    {.name = "gemma2-bf16", .tol = TOL_BF16},
    /* config.json keys */
    {.name = "gpt2-layer-scale", .tol = TOL_F32, .key = 1},     /* scale_attn_by_inverse_layer_idx */
    {.name = "gpt2-no-attn-scale", .tol = TOL_F32, .key = 1},   /* scale_attn_weights=false */
    {.name = "gpt2-untied", .tol = TOL_F32, .key = 1},          /* tie_word_embeddings=false */
    {.name = "gpt2-act-inner-eps", .tol = TOL_F32, .key = 1},   /* activation_function, n_inner, eps */
    {.name = "llama-mlp-bias", .tol = TOL_F32, .key = 1},       /* mlp_bias */
    {.name = "llama-attn-bias", .tol = TOL_F32, .key = 1},      /* attention_bias */
    {.name = "llama-rope-linear", .tol = TOL_F32, .key = 1},    /* rope_scaling linear */
    {.name = "llama-act-headdim-v5", .tol = TOL_F32, .key = 1}, /* hidden_act, head_dim, rope_parameters */
    {.name = "gemma2-defaults", .tol = TOL_F32, .key = 1},      /* omitted keys take HF defaults */
    /* the model zoo (scripts/make_zoo_fixtures.py): resid_post.L of every layer checked too */
    {.name = "qwen2", .tol = TOL_F32, .arch = IV_ARCH_QWEN2},   /* q/k/v biases, GQA, sharded */
    {.name = "qwen2-bf16", .tol = TOL_BF16, .arch = IV_ARCH_QWEN2},
    {.name = "qwen2-tied-swa", .tol = TOL_F32, .arch = IV_ARCH_QWEN2}, /* tied, window on layers >= max_window_layers */
    {.name = "mistral", .tol = TOL_F32, .arch = IV_ARCH_MISTRAL}, /* window 5 < 16 tokens, head_dim 10 */
    {.name = "mistral-bf16", .tol = TOL_BF16, .arch = IV_ARCH_MISTRAL},
    {.name = "qwen3", .tol = TOL_F32, .arch = IV_ARCH_QWEN3},   /* per-head q/k norm, head_dim 12, tied */
    {.name = "qwen3-bf16", .tol = TOL_BF16, .arch = IV_ARCH_QWEN3},
    {.name = "qwen3-bias-swa", .tol = TOL_F32, .arch = IV_ARCH_QWEN3}, /* attention_bias, layer_types, head_dim 6 */
    {.name = "neox", .tol = TOL_F32, .arch = IV_ARCH_NEOX},     /* parallel residual, rotary_pct 0.25, untied */
    {.name = "neox-bf16", .tol = TOL_BF16, .arch = IV_ARCH_NEOX},
    {.name = "neox-sequential", .tol = TOL_F32, .arch = IV_ARCH_NEOX}, /* use_parallel_residual false, tied, linear rope */
    {.name = "olmo2", .tol = TOL_F32, .arch = IV_ARCH_OLMO2},   /* post norms, whole-projection q/k norm */
    {.name = "olmo2-bf16", .tol = TOL_BF16, .arch = IV_ARCH_OLMO2},
    {.name = "phi3", .tol = TOL_F32, .arch = IV_ARCH_PHI3},     /* fused qkv/gate_up, partial rotary, window 6 */
    {.name = "phi3-bf16", .tol = TOL_BF16, .arch = IV_ARCH_PHI3},
    {.name = "gemma3", .tol = TOL_F32, .arch = IV_ARCH_GEMMA3}, /* local/global layers and rope bases, q/k norm */
    {.name = "gemma3-bf16", .tol = TOL_BF16, .arch = IV_ARCH_GEMMA3},
    {.name = "gemma3-mm", .tol = TOL_F32, .arch = IV_ARCH_GEMMA3}, /* Gemma3ForConditionalGeneration's language model */
};

/* Reads exactly n little-endian f32 values from dir/name. */
static float *read_f32(const char *dir, const char *name, size_t n) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    float *buf = malloc(n * sizeof(float) + 1);
    size_t got = buf ? fread(buf, sizeof(float), n + 1, f) : 0;
    fclose(f);
    if (got != n) {
        fprintf(stderr, "%s: expected %zu floats, read %zu\n", path, n, got);
        free(buf);
        return NULL;
    }
    return buf;
}

static const char *jstr(json_t *o, const char *k) {
    const char *s = json_string_value(json_object_get(o, k));
    assert_non_null(s);
    return s;
}

static int setup(void **state) {
    fixture *fx = *state;
    char dir[256], path[300];
    snprintf(dir, sizeof dir, FIXDIR "%s", fx->name);
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        fprintf(stderr, "%s: %s (run from the repo root)\n", path, jerr.text);
        return -1;
    }
    json_t *toks = json_object_get(root, "tokens"), *hook = json_object_get(root, "hook");
    fx->T = (int)json_array_size(toks);
    fx->V = (int)json_integer_value(json_object_get(root, "vocab"));
    fx->dim = (int)json_integer_value(json_object_get(root, "dim"));
    if (fx->T <= 0 || fx->V <= 0 || fx->dim <= 0 || !json_is_object(hook)) {
        json_decref(root);
        return -1;
    }
    fx->tokens = malloc(sizeof(int32_t) * (size_t)fx->T);
    for (int t = 0; t < fx->T; t++)
        fx->tokens[t] = (int32_t)json_integer_value(json_array_get(toks, (size_t)t));
    size_t TV = (size_t)fx->T * (size_t)fx->V;
    fx->ref = read_f32(dir, jstr(root, "logits_f32"), TV);
    fx->ref_hook = read_f32(dir, jstr(hook, "logits_all"), TV);
    fx->ref_last = read_f32(dir, jstr(hook, "logits_last"), TV);
    fx->hook_vec = read_f32(dir, jstr(hook, "vector"), (size_t)fx->dim);

    iv_err err = {{0}};
    int layer = -2;
    int rc = iv_model_load(dir, NULL, &fx->m, &err);
    if (rc != 0) fprintf(stderr, "%s: load failed: %s\n", fx->name, err.msg);
    if (rc == 0 && iv_hook_point_parse(jstr(hook, "point"), fx->m->cfg.n_layers, &layer, &err) != 0) {
        fprintf(stderr, "%s: %s\n", fx->name, err.msg);
        rc = -1;
    }
    fx->hook_layer = layer;
    if (rc == 0 && layer != (int)json_integer_value(json_object_get(hook, "layer"))) rc = -1;
    json_decref(root);
    if (rc != 0 || !fx->ref || !fx->ref_hook || !fx->ref_last || !fx->hook_vec) return -1;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    iv_model_free(fx->m);
    free(fx->tokens);
    free(fx->ref);
    free(fx->ref_hook);
    free(fx->ref_last);
    free(fx->hook_vec);
    fx->m = NULL;
    fx->tokens = NULL;
    fx->ref = fx->ref_hook = fx->ref_last = fx->hook_vec = NULL;
    return 0;
}

/* Max |a-b| over n values; reports where it occurs (row = index / V). */
static float max_err(const float *a, const float *b, size_t n, size_t *where) {
    float e = 0;
    *where = 0;
    for (size_t i = 0; i < n; i++) {
        float d = fabsf(a[i] - b[i]);
        if (!(d <= e)) { /* catches NaN too */
            e = isnan(d) ? INFINITY : d;
            *where = i;
        }
    }
    return e;
}

static void expect_close(const fixture *fx, const char *what, const float *got, const float *ref,
                         int rows, int row0, float tol) {
    size_t at;
    size_t n = (size_t)rows * (size_t)fx->V;
    float e = max_err(got, ref, n, &at);
    if (getenv("IV_FIXTURE_VERBOSE")) /* prints the measured margins */
        fprintf(stderr, "%-14s %-32s max |err| %.3g (tol %.1g)\n", fx->name, what, (double)e, (double)tol);
    if (!(e <= tol)) {
        fprintf(stderr, "%s %s: max |err| %.3g > %.1g at position %d token %d (got %g, ref %g)\n",
                fx->name, what, (double)e, (double)tol, row0 + (int)(at / (size_t)fx->V),
                (int)(at % (size_t)fx->V), (double)got[at], (double)ref[at]);
        fail();
    }
}

/* One full-sequence pass of a batch-1 state; all: [T, V]. */
static void run_full(const fixture *fx, const iv_hooks *hooks, float *all) {
    iv_err err = {{0}};
    iv_state *s = iv_state_new(fx->m, 1, fx->T, &err);
    if (!s) fprintf(stderr, "%s: %s\n", fx->name, err.msg);
    assert_non_null(s);
    const int32_t *rows[1] = {fx->tokens};
    int n[1] = {fx->T};
    float *last = malloc(sizeof(float) * (size_t)fx->V);
    int rc = iv_forward(fx->m, s, rows, n, hooks, last, all, &err);
    if (rc) fprintf(stderr, "%s: %s\n", fx->name, err.msg);
    assert_int_equal(rc, 0);
    assert_int_equal(iv_state_pos(s, 0), fx->T);
    /* logits of the last new token agree with the last all_logits row */
    assert_memory_equal(last, all + (size_t)(fx->T - 1) * (size_t)fx->V, sizeof(float) * (size_t)fx->V);
    free(last);
    iv_state_free(s);
}

/* Token-by-token decoding of a batch-1 state; out: [T, V]. */
static void run_decode(const fixture *fx, const iv_hooks *hooks, float *out) {
    iv_err err = {{0}};
    iv_state *s = iv_state_new(fx->m, 1, fx->T, &err);
    assert_non_null(s);
    for (int t = 0; t < fx->T; t++) {
        const int32_t *rows[1] = {fx->tokens + t};
        int n[1] = {1};
        int rc = iv_forward(fx->m, s, rows, n, hooks, out + (size_t)t * (size_t)fx->V, NULL, &err);
        if (rc) fprintf(stderr, "%s step %d: %s\n", fx->name, t, err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(iv_state_pos(s, 0), t + 1);
    }
    /* the state holds T positions: one more token must fail cleanly */
    const int32_t *rows[1] = {fx->tokens};
    int n[1] = {1};
    float *tmp = malloc(sizeof(float) * (size_t)fx->V);
    err.msg[0] = 0;
    assert_int_equal(iv_forward(fx->m, s, rows, n, hooks, tmp, NULL, &err), -1);
    assert_true(err.msg[0] != 0);
    free(tmp);
    iv_state_free(s);
}

/* ---- hooks ------------------------------------------------------------------ */
typedef struct hook_ctx {
    const float *v;   /* [dim] added when non-NULL */
    int layer, calls, bad;
    int seen_pos[64]; /* calls per position */
} hook_ctx;

/* calls counts positions (one per row of x), as the per-position hook did */
static int hook_fn(void *user, int layer, int n, const int *rows, const int *pos, float *xs, int dim) {
    hook_ctx *c = user;
    for (int k = 0; k < n; k++) {
        float *x = xs + (size_t)k * dim;
        c->calls++;
        if (layer != c->layer || rows[k] < 0 || pos[k] < 0 || pos[k] >= 64) {
            c->bad++;
            continue;
        }
        c->seen_pos[pos[k]]++;
        if (c->v)
            for (int i = 0; i < dim; i++) x[i] += c->v[i];
        else {
            volatile float sink = 0; /* reads only */
            for (int i = 0; i < dim; i++) sink += x[i];
            (void)sink;
        }
    }
    return 0;
}

static void add_hook(iv_hooks *hs, const fixture *fx, iv_hook_at at, hook_ctx *c, const float *v) {
    iv_err err = {{0}};
    memset(c, 0, sizeof *c);
    c->v = v;
    c->layer = fx->hook_layer;
    memset(hs, 0, sizeof *hs);
    assert_int_equal(iv_hooks_add(hs, fx->hook_layer, at, hook_fn, c, &err), 0);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_load(void **state) {
    fixture *fx = *state;
    const iv_config *c = &fx->m->cfg;
    assert_int_equal(c->vocab_size, fx->V);
    assert_int_equal(c->dim, fx->dim);
    assert_true(c->max_seq >= 16);
    assert_null(fx->m->tok); /* fixtures ship no tokenizer */
    if (fx->arch) {
        assert_int_equal(c->arch, fx->arch);
        assert_true(c->n_layers >= 2);
    } else if (fx->key) { /* the key's parsing is checked in test_config_keys */
        assert_int_equal(c->arch, !strncmp(fx->name, "gpt2", 4) ? IV_ARCH_GPT2
                                  : !strncmp(fx->name, "llama", 5) ? IV_ARCH_LLAMA : IV_ARCH_GEMMA2);
        assert_int_equal(c->n_layers, 2);
    } else if (!strncmp(fx->name, "gpt2", 4)) {
        assert_int_equal(c->arch, IV_ARCH_GPT2);
        assert_int_equal(c->n_layers, 2);
        assert_true(c->tied_embeddings);
    } else if (!strncmp(fx->name, "llama", 5)) {
        assert_int_equal(c->arch, IV_ARCH_LLAMA);
        assert_int_equal(c->n_heads, 4);
        assert_int_equal(c->n_kv_heads, 2);
        assert_int_equal(c->head_dim, 8);
        assert_false(c->tied_embeddings);
        assert_float_equal(c->rope_factor, 8.0f, 0);
        assert_int_equal(c->rope_orig_max_pos, 32);
    } else {
        assert_int_equal(c->arch, IV_ARCH_GEMMA2);
        assert_int_equal(c->head_dim, 16);
        assert_int_equal(c->n_kv_heads, 2);
        assert_int_equal(c->sliding_window, 4);
        assert_float_equal(c->attn_softcap, 5.0f, 0);
        assert_float_equal(c->final_softcap, 10.0f, 0);
        assert_float_equal(c->query_scale, 1.0f / sqrtf(24.0f), 1e-7f);
        assert_true(c->tied_embeddings);
    }
}

static void test_full_sequence(void **state) {
    fixture *fx = *state;
    size_t TV = (size_t)fx->T * (size_t)fx->V;
    float *a = malloc(sizeof(float) * TV), *b = malloc(sizeof(float) * TV);
    run_full(fx, NULL, a);
    expect_close(fx, "full sequence", a, fx->ref, fx->T, 0, fx->tol);
    run_full(fx, NULL, b); /* deterministic */
    assert_memory_equal(a, b, sizeof(float) * TV);
    free(a);
    free(b);
}

static void test_decode(void **state) {
    fixture *fx = *state;
    float *a = malloc(sizeof(float) * (size_t)fx->T * (size_t)fx->V);
    run_decode(fx, NULL, a);
    expect_close(fx, "token-by-token", a, fx->ref, fx->T, 0, fx->tol);
    free(a);
}

static void test_hooks(void **state) {
    fixture *fx = *state;
    size_t TV = (size_t)fx->T * (size_t)fx->V;
    float *clean = malloc(sizeof(float) * TV), *got = malloc(sizeof(float) * TV);
    iv_hooks hs;
    hook_ctx c;
    run_full(fx, NULL, clean);

    /* identity hook: bit-identical logits, called once per position */
    add_hook(&hs, fx, IV_AT_ALL, &c, NULL);
    run_full(fx, &hs, got);
    assert_memory_equal(got, clean, sizeof(float) * TV);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.calls, fx->T);
    for (int t = 0; t < fx->T; t++) assert_int_equal(c.seen_pos[t], 1);

    /* additive at every position, full pass and token by token */
    add_hook(&hs, fx, IV_AT_ALL, &c, fx->hook_vec);
    run_full(fx, &hs, got);
    assert_int_equal(c.calls, fx->T);
    expect_close(fx, "hook at all (full)", got, fx->ref_hook, fx->T, 0, fx->tol);
    add_hook(&hs, fx, IV_AT_ALL, &c, fx->hook_vec);
    run_decode(fx, &hs, got);
    assert_int_equal(c.calls, fx->T);
    expect_close(fx, "hook at all (decode)", got, fx->ref_hook, fx->T, 0, fx->tol);

    /* additive at the last position of a full pass: earlier rows stay clean */
    add_hook(&hs, fx, IV_AT_LAST, &c, fx->hook_vec);
    run_full(fx, &hs, got);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.seen_pos[fx->T - 1], 1);
    assert_memory_equal(got, clean, sizeof(float) * (TV - (size_t)fx->V));
    expect_close(fx, "hook at last", got, fx->ref_last, fx->T, 0, fx->tol);
    free(clean);
    free(got);
}

/* Three rows holding prefixes of lengths T/4, T/2, 3T/4 (each prefilled alone),
 * then decoded together one token per row per call until each reaches T. */
static void run_batched(const fixture *fx, const iv_hooks *hooks, const float *single, float tol,
                        const char *what) {
    enum { B = 3 };
    iv_err err = {{0}};
    int T = fx->T, V = fx->V;
    iv_state *s = iv_state_new(fx->m, B, T, &err);
    if (!s) fprintf(stderr, "%s: %s\n", fx->name, err.msg);
    assert_non_null(s);
    int pos[B] = {T / 4, T / 2, (3 * T) / 4};
    float *logits = malloc(sizeof(float) * B * (size_t)V);
    for (int r = 0; r < B; r++) {
        const int32_t *rows[B] = {fx->tokens, fx->tokens, fx->tokens};
        int n[B] = {0, 0, 0};
        n[r] = pos[r];
        int rc = iv_forward(fx->m, s, rows, n, hooks, logits, NULL, &err);
        if (rc) fprintf(stderr, "%s prefill row %d: %s\n", fx->name, r, err.msg);
        assert_int_equal(rc, 0);
        assert_int_equal(iv_state_pos(s, r), pos[r]);
        expect_close(fx, what, logits + (size_t)r * V, single + (size_t)(pos[r] - 1) * V, 1, pos[r] - 1,
                     tol);
    }
    for (;;) {
        const int32_t *rows[B];
        int n[B], any = 0;
        for (int r = 0; r < B; r++) {
            n[r] = pos[r] < T;
            rows[r] = fx->tokens + (pos[r] < T ? pos[r] : 0);
            any |= n[r];
        }
        if (!any) break;
        int rc = iv_forward(fx->m, s, rows, n, hooks, logits, NULL, &err);
        if (rc) fprintf(stderr, "%s batched step: %s\n", fx->name, err.msg);
        assert_int_equal(rc, 0);
        for (int r = 0; r < B; r++) {
            if (!n[r]) continue;
            expect_close(fx, what, logits + (size_t)r * V, single + (size_t)pos[r] * V, 1, pos[r], tol);
            pos[r]++;
            assert_int_equal(iv_state_pos(s, r), pos[r]);
        }
    }
    /* a reset row starts again at position 0 and matches position 0 */
    iv_state_reset_row(s, 1);
    assert_int_equal(iv_state_pos(s, 1), 0);
    assert_int_equal(iv_state_pos(s, 0), T);
    {
        const int32_t *rows[B] = {fx->tokens, fx->tokens, fx->tokens};
        int n[B] = {0, 1, 0};
        assert_int_equal(iv_forward(fx->m, s, rows, n, hooks, logits, NULL, &err), 0);
        expect_close(fx, what, logits + V, single, 1, 0, tol);
    }
    free(logits);
    iv_state_free(s);
}

static void test_batched(void **state) {
    fixture *fx = *state;
    float *single = malloc(sizeof(float) * (size_t)fx->T * (size_t)fx->V);
    run_decode(fx, NULL, single);
    run_batched(fx, NULL, single, TOL_BATCH, "batched vs single row");
    /* the same schedule with the additive hook on every row and position */
    iv_hooks hs;
    hook_ctx c;
    add_hook(&hs, fx, IV_AT_ALL, &c, fx->hook_vec);
    run_batched(fx, &hs, fx->ref_hook, fx->tol, "batched with hook vs reference");
    assert_int_equal(c.bad, 0);
    free(single);
}

/* resid_post.L of every layer against the reference's (resid.bin, [n_layers, T, d]),
 * read by an identity hook at every position: full sequence and token by token. */
typedef struct resid_ctx {
    float *got; /* [n_layers, T, d] */
    int T, calls;
} resid_ctx;

static int resid_fn(void *user, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    resid_ctx *c = user;
    (void)rows;
    for (int k = 0; k < n; k++)
        memcpy(c->got + ((size_t)layer * c->T + (size_t)pos[k]) * dim, x + (size_t)k * dim, sizeof(float) * (size_t)dim);
    c->calls++;
    return 0;
}

static void test_resid(void **state) {
    fixture *fx = *state;
    char dir[256], path[300];
    snprintf(dir, sizeof dir, FIXDIR "%s", fx->name);
    snprintf(path, sizeof path, "%s/expected.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    assert_non_null(root);
    json_t *rp = json_object_get(root, "resid_post");
    if (!rp) { json_decref(root); skip(); }
    int L = (int)json_integer_value(json_object_get(rp, "layers"));
    assert_int_equal(L, fx->m->cfg.n_layers);
    size_t n = (size_t)L * (size_t)fx->T * (size_t)fx->dim, at;
    float *ref = read_f32(dir, jstr(rp, "file"), n);
    json_decref(root);
    assert_non_null(ref);
    resid_ctx rc = {calloc(n, sizeof(float)), fx->T, 0};
    iv_hooks hs;
    memset(&hs, 0, sizeof hs);
    iv_err err = {{0}};
    for (int l = 0; l < L; l++) assert_int_equal(iv_hooks_add(&hs, l, IV_AT_ALL, resid_fn, &rc, &err), 0);
    float *all = malloc(sizeof(float) * (size_t)fx->T * (size_t)fx->V);
    for (int mode = 0; mode < 2; mode++) {
        memset(rc.got, 0, n * sizeof(float));
        if (mode == 0) run_full(fx, &hs, all);
        else run_decode(fx, &hs, all);
        float e = max_err(rc.got, ref, n, &at);
        if (getenv("IV_FIXTURE_VERBOSE"))
            fprintf(stderr, "%-14s %-32s max |err| %.3g (tol %.1g)\n", fx->name,
                    mode ? "resid_post (token-by-token)" : "resid_post (full)", (double)e, (double)fx->tol);
        if (!(e <= fx->tol)) {
            fprintf(stderr, "%s resid_post.%d position %d: max |err| %.3g > %.1g\n", fx->name,
                    (int)(at / ((size_t)fx->T * fx->dim)), (int)(at / fx->dim % fx->T), (double)e, (double)fx->tol);
            fail();
        }
    }
    free(all);
    free(rc.got);
    free(ref);
}

#define FIX_TESTS(i)                                                            \
    cmocka_unit_test_prestate_setup_teardown(test_load, setup, teardown, &FIX[i]),          \
    cmocka_unit_test_prestate_setup_teardown(test_full_sequence, setup, teardown, &FIX[i]), \
    cmocka_unit_test_prestate_setup_teardown(test_decode, setup, teardown, &FIX[i]),        \
    cmocka_unit_test_prestate_setup_teardown(test_hooks, setup, teardown, &FIX[i]),         \
    cmocka_unit_test_prestate_setup_teardown(test_batched, setup, teardown, &FIX[i]),       \
    cmocka_unit_test_prestate_setup_teardown(test_resid, setup, teardown, &FIX[i])

int main(void) {
    const struct CMUnitTest tests[] = {
        FIX_TESTS(0), FIX_TESTS(1), FIX_TESTS(2), FIX_TESTS(3), FIX_TESTS(4), FIX_TESTS(5), FIX_TESTS(6),
        FIX_TESTS(7), FIX_TESTS(8), FIX_TESTS(9), FIX_TESTS(10), FIX_TESTS(11), FIX_TESTS(12), FIX_TESTS(13),
        FIX_TESTS(14), FIX_TESTS(15), FIX_TESTS(16), FIX_TESTS(17), FIX_TESTS(18), FIX_TESTS(19), FIX_TESTS(20),
        FIX_TESTS(21), FIX_TESTS(22), FIX_TESTS(23), FIX_TESTS(24), FIX_TESTS(25), FIX_TESTS(26), FIX_TESTS(27),
        FIX_TESTS(28), FIX_TESTS(29), FIX_TESTS(30), FIX_TESTS(31), FIX_TESTS(32), FIX_TESTS(33),
    };
    return cmocka_run_group_tests_name("model_fixtures", tests, NULL, NULL);
}
