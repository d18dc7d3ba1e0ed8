/* config.json keys (docs/config-keys.md): each numerics-changing key is parsed
 * to what transformers would use (its defaults when the key is absent), or the
 * model is refused with one line naming the key and its value.  The forward
 * effect of every honoured key is checked against PyTorch in
 * test_model_fixtures; the activations here against a PyTorch table
 * (tests/fixtures/models/activations.json, scripts/make_model_fixtures.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include "interv/kernels.h"
#include "model/model_internal.h"

static char dir[64];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/iv_cfgkeys_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char p[128];
    snprintf(p, sizeof p, "%s/config.json", dir);
    unlink(p);
    rmdir(dir);
    return 0;
}

/* Parses json as config.json: returns iv_hf_config's rc, message in err. */
static int parse(const char *json, iv_config *c, iv_err *err) {
    char p[128];
    snprintf(p, sizeof p, "%s/config.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(json, f);
    fclose(f);
    memset(c, 0, sizeof *c);
    memset(err, 0, sizeof *err);
    return iv_hf_config(c, p, err);
}

static void accept(const char *json, iv_config *c) {
    iv_err err;
    int rc = parse(json, c, &err);
    if (rc) fprintf(stderr, "unexpected refusal: %s\n", err.msg);
    assert_int_equal(rc, 0);
}

/* Refused with one line "<dir>/config.json: <expect>". */
static void refuse(const char *json, const char *expect) {
    iv_config c;
    iv_err err;
    assert_int_equal(parse(json, &c, &err), -1);
    if (!strstr(err.msg, expect)) fprintf(stderr, "message lacks '%s': %s\n", expect, err.msg);
    assert_non_null(strstr(err.msg, expect));
    assert_non_null(strstr(err.msg, "config.json: "));
    assert_null(strchr(err.msg, '\n'));
}

#define GPT2 "{\"architectures\":[\"GPT2LMHeadModel\"],\"n_embd\":16,\"n_head\":2,\"n_layer\":2,\"vocab_size\":64"
#define LLAMA "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":40," \
              "\"num_attention_heads\":2,\"num_hidden_layers\":2,\"vocab_size\":64"
#define GEMMA "{\"architectures\":[\"Gemma2ForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":32," \
              "\"num_attention_heads\":8,\"num_hidden_layers\":4,\"vocab_size\":64"

static void test_gpt2_keys(void **state) {
    (void)state;
    iv_config c;
    /* GPT2Config defaults; n_ctx is not read by transformers (n_positions 1024) */
    accept(GPT2 ",\"n_ctx\":16}", &c);
    assert_int_equal(c.max_seq, 1024);
    assert_int_equal(c.hidden_dim, 64);
    assert_float_equal(c.query_scale, 1.f / sqrtf(8.f), 1e-7f);
    assert_int_equal(c.attn_scale_by_layer, 0);
    assert_int_equal(c.act, IV_ACT_GELU_TANH);
    assert_true(c.tied_embeddings);
    assert_float_equal(c.norm_eps, 1e-5f, 0);
    accept(GPT2 ",\"scale_attn_weights\":false,\"scale_attn_by_inverse_layer_idx\":true,\"tie_word_embeddings\":false,"
                "\"activation_function\":\"gelu\",\"n_inner\":null,\"n_positions\":16,\"layer_norm_epsilon\":0.001,"
                "\"reorder_and_upcast_attn\":true}", &c);
    assert_float_equal(c.query_scale, 1.f, 0);
    assert_int_equal(c.attn_scale_by_layer, 1);
    assert_false(c.tied_embeddings);
    assert_int_equal(c.act, IV_ACT_GELU_ERF);
    assert_int_equal(c.hidden_dim, 64); /* n_inner null: 4 * n_embd */
    assert_int_equal(c.max_seq, 16);
    assert_float_equal(c.norm_eps, 1e-3f, 0);
    accept(GPT2 ",\"activation_function\":\"relu\",\"n_inner\":24,\"tie_word_embeddings\":null}", &c);
    assert_int_equal(c.act, IV_ACT_RELU);
    assert_int_equal(c.hidden_dim, 24);
    assert_false(c.tied_embeddings); /* None is falsy in transformers' tie check */
}

static void test_llama_keys(void **state) {
    (void)state;
    iv_config c;
    /* LlamaConfig defaults; query_pre_attn_scalar is not a Llama key */
    accept(LLAMA ",\"query_pre_attn_scalar\":24,\"pretraining_tp\":2}", &c);
    assert_int_equal(c.n_kv_heads, 2);
    assert_int_equal(c.head_dim, 8);
    assert_int_equal(c.max_seq, 2048);
    assert_float_equal(c.query_scale, 1.f / sqrtf(8.f), 1e-7f);
    assert_float_equal(c.rope_theta, 10000.f, 0);
    assert_float_equal(c.norm_eps, 1e-6f, 0);
    assert_int_equal(c.act, IV_ACT_SILU);
    assert_false(c.tied_embeddings);
    assert_false(c.attention_bias);
    assert_false(c.mlp_bias);
    assert_float_equal(c.attn_softcap, 0, 0);
    assert_int_equal(c.sliding_window, 0);
    accept(LLAMA ",\"attention_bias\":true,\"mlp_bias\":true,\"head_dim\":12,\"hidden_act\":\"gelu_pytorch_tanh\","
                 "\"rope_scaling\":{\"type\":\"linear\",\"factor\":4},\"rope_theta\":500}", &c);
    assert_true(c.attention_bias);
    assert_true(c.mlp_bias);
    assert_int_equal(c.head_dim, 12);
    assert_float_equal(c.query_scale, 1.f / sqrtf(12.f), 1e-7f);
    assert_int_equal(c.act, IV_ACT_GELU_TANH);
    assert_float_equal(c.rope_linear_factor, 4.f, 0);
    assert_float_equal(c.rope_factor, 0.f, 0);
    assert_float_equal(c.rope_theta, 500.f, 0);
    /* transformers v5 layout: theta inside rope_parameters */
    accept(LLAMA ",\"rope_parameters\":{\"rope_type\":\"default\",\"rope_theta\":250.0}}", &c);
    assert_float_equal(c.rope_theta, 250.f, 0);
    assert_float_equal(c.rope_linear_factor, 0.f, 0);
    accept(LLAMA ",\"rope_theta\":5e5,\"rope_parameters\":{\"rope_type\":\"llama3\",\"factor\":8,\"low_freq_factor\":1,"
                 "\"high_freq_factor\":4,\"original_max_position_embeddings\":8192}}", &c);
    assert_float_equal(c.rope_theta, 5e5f, 0);
    assert_float_equal(c.rope_factor, 8.f, 0);
    assert_int_equal(c.rope_orig_max_pos, 8192);
}

static void test_gemma2_keys(void **state) {
    (void)state;
    iv_config c;
    /* every key left out: Gemma2Config's defaults (hidden_act is never read) */
    accept(GEMMA ",\"hidden_act\":\"silu\",\"mlp_bias\":true}", &c);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.head_dim, 256);
    assert_float_equal(c.query_scale, 1.f / 16.f, 0);
    assert_float_equal(c.attn_softcap, 50.f, 0);
    assert_float_equal(c.final_softcap, 30.f, 0);
    assert_int_equal(c.sliding_window, 4096);
    assert_int_equal(c.max_seq, 8192);
    assert_int_equal(c.act, IV_ACT_GELU_TANH);
    assert_true(c.tied_embeddings);
    assert_false(c.mlp_bias);
    assert_false(c.attention_bias);
    assert_float_equal(c.embed_scale, 4.f, 0);
    /* null switches the caps and the window off; the default layer_types is accepted */
    accept(GEMMA ",\"attn_logit_softcapping\":null,\"final_logit_softcapping\":null,\"sliding_window\":null,"
                 "\"head_dim\":8,\"query_pre_attn_scalar\":24,\"attention_bias\":true,"
                 "\"layer_types\":[\"sliding_attention\",\"full_attention\",\"sliding_attention\",\"full_attention\"]}",
           &c);
    assert_float_equal(c.attn_softcap, 0.f, 0);
    assert_float_equal(c.final_softcap, 0.f, 0);
    assert_int_equal(c.sliding_window, 0);
    assert_float_equal(c.query_scale, 1.f / sqrtf(24.f), 1e-7f);
    assert_true(c.attention_bias);
}

#define SIZES "\"hidden_size\":32,\"intermediate_size\":64,\"num_attention_heads\":4,\"num_hidden_layers\":3,\"vocab_size\":64"
#define ZOO(a) "{\"architectures\":[\"" a "\"]," SIZES

/* Qwen2/Qwen3/Mistral/OLMo-2/Phi-3/GPT-NeoX/Gemma-3: each config class's defaults. */
static void test_zoo_keys(void **state) {
    (void)state;
    iv_config c;
    /* Qwen2Config: num_key_value_heads absent -> 32 (null -> heads); q/k/v biases; no window unless asked */
    accept(ZOO("Qwen2ForCausalLM") ",\"num_key_value_heads\":null,\"sliding_window\":4,\"attention_bias\":false}", &c);
    assert_int_equal(c.arch, IV_ARCH_QWEN2);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.head_dim, 8);
    assert_true(c.qkv_bias);
    assert_false(c.attention_bias);
    assert_int_equal(c.sliding_window, 0);
    assert_int_equal(c.max_seq, 32768);
    assert_float_equal(c.norm_eps, 1e-6f, 0);
    assert_false(c.tied_embeddings);
    refuse(ZOO("Qwen2ForCausalLM") "}", "missing or inconsistent sizes"); /* 4 heads, 32 kv heads */
    /* use_sliding_window: layers >= max_window_layers slide */
    accept(ZOO("Qwen2ForCausalLM") ",\"num_key_value_heads\":2,\"use_sliding_window\":true,\"sliding_window\":7,"
           "\"max_window_layers\":1}", &c);
    assert_int_equal(c.sliding_window, 7);
    assert_false(iv_cfg_sliding(&c, 0));
    assert_true(iv_cfg_sliding(&c, 1) && iv_cfg_sliding(&c, 2));
    /* Qwen3Config: head_dim absent -> 128; attention_bias; q/k norm per head */
    accept(ZOO("Qwen3ForCausalLM") ",\"num_key_value_heads\":2,\"attention_bias\":true,\"use_sliding_window\":true,"
           "\"layer_types\":[\"full_attention\",\"sliding_attention\",\"full_attention\"]}", &c);
    assert_int_equal(c.head_dim, 128);
    assert_int_equal(c.qk_norm, 1);
    assert_true(c.attention_bias);
    assert_int_equal(c.sliding_window, 4096);
    assert_true(!iv_cfg_sliding(&c, 0) && iv_cfg_sliding(&c, 1) && !iv_cfg_sliding(&c, 2));
    /* MistralConfig: kv absent -> 8 (so 8 heads here), window 4096 on every layer; null -> none */
    accept("{\"architectures\":[\"MistralForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":64,"
           "\"num_attention_heads\":8,\"num_hidden_layers\":2,\"vocab_size\":64,\"attention_bias\":true}", &c);
    assert_int_equal(c.n_kv_heads, 8);
    assert_int_equal(c.sliding_window, 4096);
    assert_true(iv_cfg_sliding(&c, 0) && iv_cfg_sliding(&c, 1));
    assert_false(c.attention_bias); /* MistralAttention has no biases */
    assert_int_equal(c.max_seq, 131072);
    accept(ZOO("MistralForCausalLM") ",\"num_key_value_heads\":2,\"sliding_window\":null,\"head_dim\":10}", &c);
    assert_int_equal(c.sliding_window, 0);
    assert_int_equal(c.head_dim, 10);
    assert_float_equal(c.query_scale, 1.f / sqrtf(10.f), 1e-7f);
    /* Olmo2Config: kv -> heads, eps 1e-5, q/k norm over the projection, no pre-norms */
    accept(ZOO("Olmo2ForCausalLM") ",\"clip_qkv\":8}", &c);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.qk_norm, 2);
    assert_float_equal(c.norm_eps, 1e-5f, 0);
    assert_int_equal(c.sliding_window, 0);
    /* Phi3Config: partial rotary honoured, window only when set */
    accept(ZOO("Phi3ForCausalLM") ",\"partial_rotary_factor\":0.75}", &c);
    assert_int_equal(c.rotary_dim, 6);
    assert_int_equal(c.sliding_window, 0);
    assert_int_equal(c.max_seq, 4096);
    /* GPTNeoXConfig: rotary_pct 0.25, rotary_emb_base, parallel residual, biases, gelu, untied */
    accept(ZOO("GPTNeoXForCausalLM") ",\"rotary_emb_base\":500}", &c);
    assert_int_equal(c.arch, IV_ARCH_NEOX);
    assert_int_equal(c.rotary_dim, 2);
    assert_float_equal(c.rope_theta, 500.f, 0);
    assert_true(c.parallel_residual);
    assert_true(c.attention_bias);
    assert_int_equal(c.act, IV_ACT_GELU_ERF);
    assert_false(c.tied_embeddings);
    assert_int_equal(c.max_seq, 2048);
    accept(ZOO("GPTNeoXForCausalLM") ",\"use_parallel_residual\":false,\"rotary_pct\":1.0,"
           "\"rope_scaling\":{\"type\":\"linear\",\"factor\":2}}", &c);
    assert_false(c.parallel_residual);
    assert_int_equal(c.rotary_dim, 8);
    assert_float_equal(c.rope_linear_factor, 2.f, 0);
    /* Gemma3TextConfig: pattern 6 (layers 5, 11, ... global), two rope bases, no caps */
    accept("{\"architectures\":[\"Gemma3ForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":32,"
           "\"num_attention_heads\":8,\"num_hidden_layers\":7,\"vocab_size\":64}", &c);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.head_dim, 256);
    assert_int_equal(c.sliding_window, 4096);
    for (int l = 0; l < 7; l++) assert_int_equal(iv_cfg_sliding(&c, l), l != 5);
    assert_float_equal(c.rope_theta, 1e6f, 0);
    assert_float_equal(c.rope_local_theta, 1e4f, 0);
    assert_float_equal(c.attn_softcap, 0.f, 0);
    assert_float_equal(c.final_softcap, 0.f, 0);
    assert_float_equal(c.query_scale, 1.f / 16.f, 0);
    assert_int_equal(c.qk_norm, 1);
    assert_true(c.tied_embeddings);
    /* transformers v5: rope_parameters per layer type */
    accept("{\"architectures\":[\"Gemma3ForCausalLM\"],\"hidden_size\":16,\"intermediate_size\":32,"
           "\"num_attention_heads\":8,\"num_hidden_layers\":2,\"vocab_size\":64,\"rope_parameters\":{"
           "\"sliding_attention\":{\"rope_type\":\"default\",\"rope_theta\":20.0},"
           "\"full_attention\":{\"rope_type\":\"linear\",\"factor\":8.0,\"rope_theta\":300.0}}}", &c);
    assert_float_equal(c.rope_local_theta, 20.f, 0);
    assert_float_equal(c.rope_theta, 300.f, 0);
    assert_float_equal(c.rope_linear_factor, 8.f, 0);
    /* Gemma3ForConditionalGeneration: its text_config, sparse as on the hub (Gemma3TextConfig's sizes fill in) */
    accept("{\"architectures\":[\"Gemma3ForConditionalGeneration\"],\"vocab_size\":7,\"text_config\":{"
           "\"hidden_size\":2560,\"intermediate_size\":10240,\"num_hidden_layers\":34,\"sliding_window\":1024,"
           "\"rope_scaling\":{\"factor\":8.0,\"rope_type\":\"linear\"}}}", &c);
    assert_int_equal(c.arch, IV_ARCH_GEMMA3);
    assert_int_equal(c.n_heads, 8);
    assert_int_equal(c.n_kv_heads, 4);
    assert_int_equal(c.vocab_size, 262208); /* the text model's, not the wrapper's */
    assert_int_equal(c.sliding_window, 1024);
    assert_float_equal(c.rope_linear_factor, 8.f, 0);
    assert_true(iv_cfg_sliding(&c, 4) && !iv_cfg_sliding(&c, 5));
    /* model_type alone names the architecture */
    accept("{\"model_type\":\"qwen3\"," SIZES ",\"num_key_value_heads\":4}", &c);
    assert_int_equal(c.arch, IV_ARCH_QWEN3);
}

static void test_refused(void **state) {
    (void)state;
    refuse(GPT2 ",\"activation_function\":\"laplace\"}", "activation_function=\"laplace\" is not supported");
    refuse(GPT2 ",\"scale_attn_weights\":\"yes\"}", "scale_attn_weights=\"yes\" is not supported");
    refuse(GPT2 ",\"layer_norm_epsilon\":null}", "layer_norm_epsilon=null is not supported");
    refuse(LLAMA ",\"hidden_act\":\"xielu\"}", "hidden_act=\"xielu\" is not supported");
    refuse(LLAMA ",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2}}", "rope_scaling.type=\"dynamic\" is not supported");
    refuse(LLAMA ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}", "rope_scaling.rope_type=\"yarn\" is not supported");
    refuse(LLAMA ",\"rope_parameters\":{\"rope_type\":\"longrope\",\"rope_theta\":1e4}}",
           "rope_parameters.rope_type=\"longrope\" is not supported");
    refuse(LLAMA ",\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}}", "rope_scaling.low_freq_factor=(missing) is not supported");
    refuse(LLAMA ",\"rope_scaling\":{\"rope_type\":\"linear\",\"factor\":0.5}}", "rope_scaling.factor=0.5 is not supported");
    refuse(LLAMA ",\"rope_scaling\":\"linear\"}", "rope_scaling=\"linear\" is not supported");
    refuse(LLAMA ",\"partial_rotary_factor\":0.5}", "partial_rotary_factor=0.5 is not supported");
    refuse(LLAMA ",\"rms_norm_eps\":null}", "rms_norm_eps=null is not supported");
    refuse(LLAMA ",\"mlp_bias\":\"no\"}", "mlp_bias=\"no\" is not supported");
    refuse(GEMMA ",\"rope_scaling\":{\"type\":\"linear\",\"factor\":2}}", "rope_scaling.type=\"linear\" is not supported");
    refuse(GEMMA ",\"hidden_activation\":null}", "hidden_activation=null is not supported");
    refuse(GEMMA ",\"use_bidirectional_attention\":true}", "use_bidirectional_attention=true is not supported");
    refuse(GEMMA ",\"layer_types\":[\"full_attention\",\"full_attention\",\"full_attention\",\"full_attention\"]}",
           "layer_types=[\"full_attention\"");
    refuse(GEMMA ",\"query_pre_attn_scalar\":0}", "query_pre_attn_scalar=0 is not supported");
    refuse(ZOO("Phi3ForCausalLM") ",\"rope_scaling\":{\"type\":\"longrope\",\"short_factor\":[1],\"long_factor\":[1]}}",
           "rope_scaling.type=\"longrope\" is not supported");
    refuse(ZOO("Phi3ForCausalLM") ",\"rope_scaling\":{\"type\":\"su\"}}", "rope_scaling.type=\"su\" is not supported");
    refuse(ZOO("Phi3ForCausalLM") ",\"partial_rotary_factor\":0.625}", "partial_rotary_factor=0.625 is not supported"); /* 5 dims */
    refuse(ZOO("GPTNeoXForCausalLM") ",\"rope_scaling\":{\"type\":\"dynamic\",\"factor\":2}}",
           "rope_scaling.type=\"dynamic\" is not supported");
    refuse(ZOO("GPTNeoXForCausalLM") ",\"rotary_pct\":0}", "rotary_pct=0.0 is not supported");
    refuse(ZOO("GPTNeoXForCausalLM") ",\"rotary_emb_base\":100,\"rope_theta\":10000}", "rope_theta=10000 is not supported");
    refuse(ZOO("Qwen2ForCausalLM") ",\"num_key_value_heads\":2,\"partial_rotary_factor\":0.5}",
           "partial_rotary_factor=0.5 is not supported");
    refuse(ZOO("Qwen3ForCausalLM") ",\"num_key_value_heads\":2,\"layer_types\":[\"full_attention\"]}",
           "layer_types=[\"full_attention\"] is not supported");
    refuse(ZOO("MistralForCausalLM") ",\"num_key_value_heads\":2,\"sliding_window\":-1}", "sliding_window=-1 is not supported");
    refuse(ZOO("Olmo2ForCausalLM") ",\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}",
           "rope_scaling.rope_type=\"yarn\" is not supported");
    refuse(ZOO("Gemma3ForCausalLM") ",\"rope_scaling\":{\"rope_type\":\"dynamic\",\"factor\":4}}",
           "rope_scaling.rope_type=\"dynamic\" is not supported");
    refuse(ZOO("Gemma3ForCausalLM") ",\"sliding_window_pattern\":0}", "sliding_window_pattern=0 is not supported");
    refuse(ZOO("Gemma3ForCausalLM") ",\"use_bidirectional_attention\":true}", "use_bidirectional_attention=true is not supported");
    refuse(ZOO("Gemma3ForConditionalGeneration") "}", "Gemma3ForConditionalGeneration without a text_config object");
    refuse("{\"architectures\":[\"Gemma3ForConditionalGeneration\"],\"text_config\":{\"tie_word_embeddings\":false}}",
           "text_config.tie_word_embeddings=false is not supported");
    refuse("{\"architectures\":[\"PaliGemmaForConditionalGeneration\"]," SIZES "}", "architecture PaliGemmaForConditionalGeneration is not supported");
}

/* Every ACT2FN name interv accepts, against torch on fixed inputs (f32). */
static void test_activations(void **state) {
    (void)state;
    json_error_t je;
    json_t *root = json_load_file("tests/fixtures/models/activations.json", 0, &je);
    if (!root) fprintf(stderr, "activations.json: %s (run from the repo root)\n", je.text);
    assert_non_null(root);
    json_t *xs = json_object_get(root, "x"), *acts = json_object_get(root, "act");
    size_t n = json_array_size(xs);
    assert_true(n > 50);
    float *x = malloc(n * sizeof *x), *u = malloc(n * sizeof *u);
    const char *name;
    json_t *ref;
    int checked = 0;
    json_object_foreach(acts, name, ref) {
        iv_act a;
        assert_int_equal(iv_act_parse(name, &a), 0);
        for (int gated = 0; gated < 2; gated++) {
            for (size_t i = 0; i < n; i++) {
                x[i] = (float)json_real_value(json_array_get(xs, i));
                u[i] = 0.25f + 0.5f * (float)(i % 5);
            }
            iv_act_apply(a, x, gated ? u : NULL, (int64_t)n);
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
                double r = json_real_value(json_array_get(ref, i)) * (gated ? u[i] : 1.0);
                double e = fabs(x[i] - r) / (1.0 + fabs(r));
                if (e > worst) worst = e;
            }
            if (!(worst < 2e-6)) fprintf(stderr, "%s%s: max relative error %.3g\n", name, gated ? " (gated)" : "", worst);
            assert_true(worst < 2e-6);
        }
        checked++;
    }
    assert_true(checked >= 18);
    iv_act a;
    assert_int_equal(iv_act_parse("laplace", &a), -1);
    assert_int_equal(iv_act_parse(NULL, &a), -1);
    free(x);
    free(u);
    json_decref(root);
}

/* Large arrays are split into chunks across threads: every activation, plain
 * and gated, gives bit for bit what slices below the split size give (n not a
 * multiple of the chunk, so the last chunk is short). */
static void test_activations_chunked(void **state) {
    (void)state;
    static const iv_act acts[] = {IV_ACT_SILU, IV_ACT_GELU_TANH, IV_ACT_GELU_ERF, IV_ACT_QUICK_GELU, IV_ACT_RELU};
    const int64_t n = 200003, slice = 1000;
    float *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y), *u = malloc((size_t)n * sizeof *u);
    assert_non_null(x); assert_non_null(y); assert_non_null(u);
    iv_kernels_set_threads(2);
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++)
        for (int gated = 0; gated < 2; gated++) {
            for (int64_t i = 0; i < n; i++) {
                x[i] = y[i] = (float)((i * 7919 % 2001) - 1000) / 150.0f;
                u[i] = 0.5f + (float)(i % 3);
            }
            iv_act_apply(acts[a], x, gated ? u : NULL, n);
            for (int64_t i = 0; i < n; i += slice)
                iv_act_apply(acts[a], y + i, gated ? u + i : NULL, n - i < slice ? n - i : slice);
            int64_t diff = -1;
            for (int64_t i = 0; i < n && diff < 0; i++)
                if (memcmp(&x[i], &y[i], sizeof x[i])) diff = i;
            if (diff >= 0) fail_msg("act %d%s: element %lld is %.9g chunked, %.9g sliced", (int)acts[a], gated ? " gated" : "",
                                    (long long)diff, x[diff], y[diff]);
        }
    free(x); free(y); free(u);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gpt2_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_llama_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gemma2_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zoo_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
        cmocka_unit_test(test_activations),
        cmocka_unit_test(test_activations_chunked),
    };
    return cmocka_run_group_tests_name("config_keys", tests, NULL, NULL);
}
