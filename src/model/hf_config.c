/* config.json of a Hugging Face model folder -> iv_config.
 * Rule: every key that Hugging Face's modeling code reads and that changes
 * the numbers is either honoured here (with HF's default when absent) or the
 * model is refused with one line naming the key and its value.  The list per
 * architecture, with the upstream facts, is docs/config-keys.md. */
#include "model/model_internal.h"
#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A value outside int's range reads as -1, which every size check rejects. */
static int get_int(json_t *o, const char *k, int dflt) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) return dflt;
    json_int_t x = json_integer_value(v);
    return x < INT_MIN || x > INT_MAX ? -1 : (int)x;
}
/* eos_token_id may be an int or a list of ints (Llama-3): take the first. */
static int get_tok(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX
               ? (int)json_integer_value(v) : -1;
}

/* Reader state: the first refusal wins, later checks are skipped. */
typedef struct {
    json_t *o;
    const char *path;
    iv_err *err;
    int bad;
    double prf;  /* partial rotary factor: rotary_dim = int(head_dim * prf) */
} rd;

/* "<path>: <key>=<value as JSON> is not supported[ (why)]" */
static void refuse(rd *r, const char *key, json_t *v, const char *why) {
    if (r->bad) return;
    r->bad = 1;
    char *txt = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    char shown[80];
    snprintf(shown, sizeof shown, "%s", txt ? txt : "(missing)");
    if (txt && strlen(txt) >= sizeof shown) memcpy(shown + sizeof shown - 4, "...", 4);
    iv_errf(r->err, "%s: %s=%s is not supported%s%s%s", r->path, key, shown, why ? " (" : "", why ? why : "",
            why ? ")" : "");
    free(txt);
}

/* A number: absent -> dflt; null -> null_val (NAN: refused, as HF would fail). */
static double num(rd *r, json_t *o, const char *key, double dflt, double null_val) {
    json_t *v = json_object_get(o, key);
    if (!v) return dflt;
    if (json_is_number(v)) return json_number_value(v);
    if (json_is_null(v) && !isnan(null_val)) return null_val;
    refuse(r, key, v, "expected a number");
    return dflt;
}

/* A flag as Python's truth test reads it: absent -> dflt; null, false, 0 -> 0. */
static int flag(rd *r, const char *key, int dflt) {
    json_t *v = json_object_get(r->o, key);
    if (!v) return dflt;
    if (json_is_boolean(v)) return json_is_true(v);
    if (json_is_null(v)) return 0;
    if (json_is_number(v)) return json_number_value(v) != 0;
    refuse(r, key, v, "expected true or false");
    return dflt;
}

/* An activation name: absent -> dflt; a name interv does not implement is refused. */
static iv_act activation(rd *r, const char *key, const char *dflt) {
    json_t *v = json_object_get(r->o, key);
    const char *name = v ? json_string_value(v) : dflt;
    iv_act a = IV_ACT_SILU;
    if (iv_act_parse(name, &a) != 0) refuse(r, key, v, "see docs/config-keys.md for the activations implemented");
    return a;
}

/* How an architecture reads its rotary keys. */
enum {
    ROPE_LLAMA = 0,  /* default, linear, llama3; whole heads (Llama, Qwen2/3, Mistral, OLMo-2) */
    ROPE_GEMMA2 = 1, /* default only */
    ROPE_PHI3,       /* default only (longrope/su/yarn refused); partial_rotary_factor honoured */
    ROPE_NEOX,       /* default, linear; rotary_emb_base, rotary_pct (default 0.25) */
    ROPE_GEMMA3      /* default, linear on the global layers; rope_local_base_freq on the sliding ones */
};

/* Rotary settings: rope_theta, and rope_scaling (v4) or rope_parameters (v5),
 * which transformers merges as: rope_scaling if set, else rope_parameters;
 * theta from inside it, else the top-level rope_theta, else 10000.
 * *prf receives the partial rotary factor (1 unless the mode allows one). */
static void rope(rd *r, iv_config *c, int mode, double *prf_out) {
    json_t *rs = json_object_get(r->o, "rope_scaling");
    const char *key = "rope_scaling";
    if (!json_is_object(rs) || !json_object_size(rs)) {
        if (rs && !json_is_null(rs) && !json_is_object(rs)) { refuse(r, key, rs, "expected an object"); return; }
        rs = json_object_get(r->o, "rope_parameters");
        key = "rope_parameters";
        if (rs && !json_is_null(rs) && !json_is_object(rs)) { refuse(r, key, rs, "expected an object"); return; }
    }
    char k[96];
    /* Gemma-3 in transformers v5: one entry per layer type */
    if (mode == ROPE_GEMMA3 && json_is_object(rs) && json_is_object(json_object_get(rs, "full_attention"))) {
        json_t *loc = json_object_get(rs, "sliding_attention");
        json_t *lt = json_object_get(loc, "rope_type");
        if (!json_is_object(loc) || (lt && !(json_is_string(lt) && !strcmp(json_string_value(lt), "default")))) {
            snprintf(k, sizeof k, "%s.sliding_attention", key);
            refuse(r, k, loc, "default rotary with a rope_theta only");
            return;
        }
        c->rope_local_theta = (float)num(r, loc, "rope_theta", 10000.0, NAN);
        rs = json_object_get(rs, "full_attention");
        key = "rope_parameters.full_attention";
    }
    const char *base = mode == ROPE_NEOX && json_object_get(r->o, "rotary_emb_base") ? "rotary_emb_base" : "rope_theta";
    c->rope_theta = (float)num(r, r->o, base, mode == ROPE_GEMMA3 ? 1e6 : 10000.0, NAN); /* Gemma3TextConfig: 1e6 */
    /* GPT-NeoX configs saved by transformers carry both; versions disagree on which wins */
    if (mode == ROPE_NEOX && json_is_number(json_object_get(r->o, "rope_theta")) &&
        json_number_value(json_object_get(r->o, "rope_theta")) != c->rope_theta)
        refuse(r, "rope_theta", json_object_get(r->o, "rope_theta"), "differs from rotary_emb_base");
    if (json_is_object(rs) && json_object_get(rs, "rope_theta")) c->rope_theta = (float)num(r, rs, "rope_theta", 1e4, NAN);
    const char *pk = mode == ROPE_NEOX && json_object_get(r->o, "rotary_pct") ? "rotary_pct" : "partial_rotary_factor";
    double prf = num(r, r->o, pk, mode == ROPE_NEOX ? 0.25 : 1.0, 1.0);
    if (json_is_object(rs)) prf = num(r, rs, "partial_rotary_factor", prf, 1.0);
    *prf_out = prf;
    if (prf != 1.0 && mode != ROPE_PHI3 && mode != ROPE_NEOX) {
        json_t *v = json_real(prf);
        refuse(r, "partial_rotary_factor", v, "rotary over the whole head only");
        json_decref(v);
    }
    if (!(prf > 0 && prf <= 1)) {
        json_t *v = json_real(prf);
        refuse(r, pk, v, "must be in (0, 1]");
        json_decref(v);
    }
    if (!json_is_object(rs)) return;
    json_t *tv = json_object_get(rs, "rope_type");
    if (!tv) tv = json_object_get(rs, "type");
    const char *t = tv ? json_string_value(tv) : "default";
    snprintf(k, sizeof k, "%s.%s", key, json_object_get(rs, "rope_type") ? "rope_type" : "type");
    if (!t) { refuse(r, k, tv, NULL); return; }
    if (!strcmp(t, "default")) return;
    if (mode == ROPE_GEMMA2) { refuse(r, k, tv, "Gemma2ForCausalLM: default rotary only"); return; }
    if (mode == ROPE_PHI3) { refuse(r, k, tv, "Phi3ForCausalLM: default rotary only; longrope/su/yarn are not implemented"); return; }
    const char *need_l3[] = {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"};
    int n_need = !strcmp(t, "llama3") && mode == ROPE_LLAMA ? 4 : !strcmp(t, "linear") ? 1 : 0;
    if (!n_need) { refuse(r, k, tv, mode == ROPE_LLAMA ? "default, linear and llama3 only" : "default and linear only"); return; }
    for (int i = 0; i < n_need; i++)
        if (!json_is_number(json_object_get(rs, need_l3[i]))) {
            char kk[128];
            snprintf(kk, sizeof kk, "%s.%s", key, need_l3[i]);
            refuse(r, kk, json_object_get(rs, need_l3[i]), "required for this rope_type, a number");
            return;
        }
    double f = json_number_value(json_object_get(rs, "factor"));
    if (!(f >= 1.0)) {
        snprintf(k, sizeof k, "%s.factor", key);
        refuse(r, k, json_object_get(rs, "factor"), "must be >= 1");
        return;
    }
    if (!strcmp(t, "linear")) { c->rope_linear_factor = (float)f; return; }
    c->rope_factor = (float)f;
    c->rope_low_freq_factor = (float)json_number_value(json_object_get(rs, "low_freq_factor"));
    c->rope_high_freq_factor = (float)json_number_value(json_object_get(rs, "high_freq_factor"));
    c->rope_orig_max_pos = (int)json_number_value(json_object_get(rs, "original_max_position_embeddings"));
    if (!(c->rope_high_freq_factor > c->rope_low_freq_factor) || c->rope_orig_max_pos <= 0)
        refuse(r, key, rs, "llama3 needs high_freq_factor > low_freq_factor and original_max_position_embeddings > 0");
}

static void set_sliding(iv_config *c, int l) {
    if (l >= 0 && l < IV_MAX_LAYERS) c->sliding_layers[l / 64] |= (uint64_t)1 << (l % 64);
}

/* num_key_value_heads: absent -> the config class's default; null -> num_attention_heads. */
static int kv_heads(rd *r, iv_config *c, int absent) {
    json_t *v = json_object_get(r->o, "num_key_value_heads");
    if (!v) return absent;
    return json_is_null(v) ? c->n_heads : get_int(r->o, "num_key_value_heads", -1);
}

/* head_dim: absent -> dflt; null -> hidden_size / num_attention_heads. */
static int head_dim(rd *r, iv_config *c, int dflt) {
    json_t *v = json_object_get(r->o, "head_dim");
    int split = c->n_heads > 0 ? c->dim / c->n_heads : -1;
    if (!v) return dflt;
    return json_is_null(v) ? split : get_int(r->o, "head_dim", -1);
}

/* A window size: absent -> dflt; null -> 0 (no window). */
static int window(rd *r, const char *key, double dflt) {
    double sw = num(r, r->o, key, dflt, 0);
    if (!(sw >= 0 && sw <= INT_MAX && sw == floor(sw))) { refuse(r, key, json_object_get(r->o, key), "expected a size"); return 0; }
    return (int)sw;
}

/* An explicit layer_types list (any mix of sliding_attention / full_attention,
 * one per layer) sets sliding_layers; returns 0 when absent or null. */
static int layer_types(rd *r, iv_config *c) {
    json_t *lt = json_object_get(r->o, "layer_types");
    if (!lt || json_is_null(lt)) return 0;
    size_t n = json_array_size(lt);
    int ok = json_is_array(lt) && c->n_layers > 0 && n == (size_t)c->n_layers && n <= IV_MAX_LAYERS;
    for (size_t i = 0; ok && i < n; i++) {
        const char *t = json_string_value(json_array_get(lt, i));
        ok = t && (!strcmp(t, "sliding_attention") || !strcmp(t, "full_attention"));
        if (ok && !strcmp(t, "sliding_attention")) set_sliding(c, (int)i);
    }
    if (!ok) refuse(r, "layer_types", lt, "one sliding_attention or full_attention per layer");
    return 1;
}

/* GPT2Config / GPT2LMHeadModel (modeling_gpt2.py). */
static void gpt2(rd *r, iv_config *c) {
    json_t *o = r->o;
    c->arch = IV_ARCH_GPT2;
    c->dim = get_int(o, "n_embd", -1);
    c->n_layers = get_int(o, "n_layer", -1);
    c->n_heads = get_int(o, "n_head", -1);
    c->n_kv_heads = c->n_heads;
    c->max_seq = get_int(o, "n_positions", 1024); /* n_ctx is not read by transformers */
    c->hidden_dim = get_int(o, "n_inner", c->dim > 0 && c->dim <= 1 << 16 ? 4 * c->dim : -1); /* null -> 4 d */
    c->norm_eps = (float)num(r, o, "layer_norm_epsilon", 1e-5, NAN);
    c->act = activation(r, "activation_function", "gelu_new");
    c->tied_embeddings = flag(r, "tie_word_embeddings", 1);
    c->attn_scale_by_layer = flag(r, "scale_attn_by_inverse_layer_idx", 0);
    /* scale_attn_weights: 1/sqrt(head_dim) once head_dim is known (below) */
    c->query_scale = flag(r, "scale_attn_weights", 1) ? -1.f : 1.f;
    /* reorder_and_upcast_attn only changes the dtype of q·k to fp32: interv is fp32 there anyway */
}

/* LlamaConfig and Gemma2Config (modeling_llama.py, modeling_gemma2.py). */
static void llama_like(rd *r, iv_config *c, int gemma) {
    json_t *o = r->o;
    c->arch = gemma ? IV_ARCH_GEMMA2 : IV_ARCH_LLAMA;
    c->dim = get_int(o, "hidden_size", -1);
    c->hidden_dim = get_int(o, "intermediate_size", -1);
    c->n_layers = get_int(o, "num_hidden_layers", -1);
    c->n_heads = get_int(o, "num_attention_heads", -1);
    /* null and absent alike mean HF's default */
    c->n_kv_heads = get_int(o, "num_key_value_heads", gemma ? 4 : c->n_heads);
    c->head_dim = get_int(o, "head_dim", gemma ? 256 : (c->n_heads > 0 ? c->dim / c->n_heads : -1));
    c->max_seq = get_int(o, "max_position_embeddings", gemma ? 8192 : 2048);
    c->norm_eps = (float)num(r, o, "rms_norm_eps", 1e-6, NAN);
    c->tied_embeddings = flag(r, "tie_word_embeddings", gemma);
    c->attention_bias = flag(r, "attention_bias", 0);
    c->mlp_bias = gemma ? 0 : flag(r, "mlp_bias", 0); /* Gemma2MLP has no biases, whatever the config says */
    rope(r, c, gemma ? ROPE_GEMMA2 : ROPE_LLAMA, &r->prf);
    if (!gemma) {
        c->act = activation(r, "hidden_act", "silu");
        c->query_scale = -1.f; /* 1/sqrt(head_dim) below */
        return;
    }
    c->act = activation(r, "hidden_activation", "gelu_pytorch_tanh"); /* Gemma-2 never reads hidden_act */
    double qs = num(r, o, "query_pre_attn_scalar", 256, NAN);
    if (!(qs > 0)) { refuse(r, "query_pre_attn_scalar", json_object_get(o, "query_pre_attn_scalar"), "must be > 0"); qs = 1; }
    c->query_scale = (float)(1.0 / sqrt(qs));
    c->attn_softcap = (float)num(r, o, "attn_logit_softcapping", 50.0, 0);  /* null = off */
    c->final_softcap = (float)num(r, o, "final_logit_softcapping", 30.0, 0);
    if (c->attn_softcap < 0 || c->final_softcap < 0) refuse(r, "*_logit_softcapping", NULL, "must be >= 0");
    double sw = num(r, o, "sliding_window", 4096, 0);                     /* null = no window */
    if (!(sw >= 0 && sw <= INT_MAX && sw == floor(sw))) { refuse(r, "sliding_window", json_object_get(o, "sliding_window"), NULL); sw = 0; }
    c->sliding_window = (int)sw;
    for (int l = 0; l < c->n_layers && l < IV_MAX_LAYERS; l += 2) set_sliding(c, l);
    if (flag(r, "use_bidirectional_attention", 0))
        refuse(r, "use_bidirectional_attention", json_object_get(o, "use_bidirectional_attention"), "causal only");
    /* layer_types: only the default, sliding on even layers (0, 2, ...) */
    json_t *lt = json_object_get(o, "layer_types");
    if (lt && !json_is_null(lt)) {
        size_t n = json_array_size(lt);
        int ok = json_is_array(lt) && n == (size_t)(c->n_layers > 0 ? c->n_layers : 0);
        for (size_t i = 0; ok && i < n; i++) {
            const char *t = json_string_value(json_array_get(lt, i));
            ok = t && !strcmp(t, i % 2 ? "full_attention" : "sliding_attention");
        }
        if (!ok) refuse(r, "layer_types", lt, "only sliding_attention on even layers, full_attention on odd");
    }
}

/* Qwen2Config, Qwen3Config, MistralConfig, Olmo2Config, Phi3Config: Llama-like
 * decoders (modeling_qwen2.py, modeling_qwen3.py, modeling_mistral.py,
 * modeling_olmo2.py, modeling_phi3.py).  Defaults are each config class's. */
static void llama_family(rd *r, iv_config *c, iv_arch a) {
    json_t *o = r->o;
    int qwen = a == IV_ARCH_QWEN2 || a == IV_ARCH_QWEN3;
    c->arch = a;
    c->dim = get_int(o, "hidden_size", -1);
    c->hidden_dim = get_int(o, "intermediate_size", -1);
    c->n_layers = get_int(o, "num_hidden_layers", -1);
    c->n_heads = get_int(o, "num_attention_heads", -1);
    c->n_kv_heads = kv_heads(r, c, qwen ? 32 : a == IV_ARCH_MISTRAL ? 8 : c->n_heads);
    c->head_dim = head_dim(r, c, a == IV_ARCH_QWEN3 ? 128 : (c->n_heads > 0 ? c->dim / c->n_heads : -1));
    c->max_seq = get_int(o, "max_position_embeddings", qwen ? 32768 : a == IV_ARCH_MISTRAL ? 131072
                                                      : a == IV_ARCH_OLMO2 ? 2048 : 4096);
    c->norm_eps = (float)num(r, o, "rms_norm_eps", qwen || a == IV_ARCH_MISTRAL ? 1e-6 : 1e-5, NAN);
    c->tied_embeddings = flag(r, "tie_word_embeddings", 0);
    c->act = activation(r, "hidden_act", "silu");
    c->query_scale = -1.f; /* 1/sqrt(head_dim) */
    /* biases: Qwen2 q/k/v always (o_proj none); Qwen3 and OLMo-2 attention_bias on
     * all four; Mistral and Phi-3 build their projections without biases */
    c->qkv_bias = a == IV_ARCH_QWEN2;
    c->attention_bias = (a == IV_ARCH_QWEN3 || a == IV_ARCH_OLMO2) ? flag(r, "attention_bias", 0) : 0;
    c->qk_norm = a == IV_ARCH_QWEN3 ? 1 : a == IV_ARCH_OLMO2 ? 2 : 0;
    rope(r, c, a == IV_ARCH_PHI3 ? ROPE_PHI3 : ROPE_LLAMA, &r->prf);
    if (qwen) {
        /* sliding_window counts only with use_sliding_window; the default
         * layer_types slide on layers >= max_window_layers */
        int use = flag(r, "use_sliding_window", 0);
        int sw = window(r, "sliding_window", 4096);
        c->sliding_window = use ? sw : 0;
        if (!layer_types(r, c)) {
            int mwl = get_int(o, "max_window_layers", 28);
            for (int l = mwl < 0 ? 0 : mwl; l < c->n_layers && l < IV_MAX_LAYERS; l++) set_sliding(c, l);
        }
    } else if (a == IV_ARCH_MISTRAL || a == IV_ARCH_PHI3) {
        /* one window on every layer (MistralModel's sliding-window mask); layer_types is not read */
        c->sliding_window = window(r, "sliding_window", a == IV_ARCH_MISTRAL ? 4096 : 0);
        for (int l = 0; l < c->n_layers && l < IV_MAX_LAYERS; l++) set_sliding(c, l);
    }
}

/* GPTNeoXConfig / GPTNeoXForCausalLM (modeling_gpt_neox.py). */
static void neox(rd *r, iv_config *c) {
    json_t *o = r->o;
    c->arch = IV_ARCH_NEOX;
    c->dim = get_int(o, "hidden_size", -1);
    c->hidden_dim = get_int(o, "intermediate_size", -1);
    c->n_layers = get_int(o, "num_hidden_layers", -1);
    c->n_heads = get_int(o, "num_attention_heads", -1);
    c->n_kv_heads = c->n_heads;
    c->head_dim = c->n_heads > 0 && c->dim > 0 && c->dim % c->n_heads == 0 ? c->dim / c->n_heads : -1;
    c->max_seq = get_int(o, "max_position_embeddings", 2048);
    c->norm_eps = (float)num(r, o, "layer_norm_eps", 1e-5, NAN);
    c->act = activation(r, "hidden_act", "gelu");
    c->tied_embeddings = flag(r, "tie_word_embeddings", 0);
    c->parallel_residual = flag(r, "use_parallel_residual", 1);
    c->attention_bias = flag(r, "attention_bias", 1);
    c->query_scale = -1.f;
    rope(r, c, ROPE_NEOX, &r->prf);
}

/* Gemma3TextConfig / Gemma3ForCausalLM (modeling_gemma3.py), text only.
 * mm: the text_config of a Gemma3ForConditionalGeneration folder, which the
 * hub's files write sparsely: absent sizes take Gemma3TextConfig's defaults
 * there, as transformers fills them. */
static void gemma3(rd *r, iv_config *c, int mm) {
    json_t *o = r->o;
    c->arch = IV_ARCH_GEMMA3;
    c->dim = get_int(o, "hidden_size", mm ? 2304 : -1);
    c->hidden_dim = get_int(o, "intermediate_size", mm ? 9216 : -1);
    c->n_layers = get_int(o, "num_hidden_layers", mm ? 26 : -1);
    c->n_heads = get_int(o, "num_attention_heads", mm ? 8 : -1);
    c->n_kv_heads = get_int(o, "num_key_value_heads", 4);
    c->head_dim = get_int(o, "head_dim", 256);
    c->max_seq = get_int(o, "max_position_embeddings", 131072);
    c->norm_eps = (float)num(r, o, "rms_norm_eps", 1e-6, NAN);
    c->tied_embeddings = flag(r, "tie_word_embeddings", 1);
    c->attention_bias = flag(r, "attention_bias", 0);
    c->act = activation(r, "hidden_activation", "gelu_pytorch_tanh");
    c->qk_norm = 1;
    double qs = num(r, o, "query_pre_attn_scalar", 256, NAN);
    if (!(qs > 0)) { refuse(r, "query_pre_attn_scalar", json_object_get(o, "query_pre_attn_scalar"), "must be > 0"); qs = 1; }
    c->query_scale = (float)(1.0 / sqrt(qs));
    c->attn_softcap = (float)num(r, o, "attn_logit_softcapping", 0, 0); /* default None */
    c->final_softcap = (float)num(r, o, "final_logit_softcapping", 0, 0);
    if (c->attn_softcap < 0 || c->final_softcap < 0) refuse(r, "*_logit_softcapping", NULL, "must be >= 0");
    c->sliding_window = window(r, "sliding_window", 4096);
    if (flag(r, "use_bidirectional_attention", 0))
        refuse(r, "use_bidirectional_attention", json_object_get(o, "use_bidirectional_attention"), "causal only");
    c->rope_local_theta = (float)num(r, o, "rope_local_base_freq", 10000.0, NAN);
    rope(r, c, ROPE_GEMMA3, &r->prf);
    if (!layer_types(r, c)) { /* every sliding_window_pattern-th layer is global */
        int pat = get_int(o, "sliding_window_pattern", 6);
        if (pat <= 0) { refuse(r, "sliding_window_pattern", json_object_get(o, "sliding_window_pattern"), "must be > 0"); return; }
        for (int l = 0; l < c->n_layers && l < IV_MAX_LAYERS; l++)
            if ((l + 1) % pat) set_sliding(c, l);
    }
}

int iv_hf_config(iv_config *c, const char *path, iv_err *err) {
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return iv_errf(err, "%s: malformed JSON at line %d: %s", path, je.line, je.text);
    int rc = -1;
    if (!json_is_object(root)) { iv_errf(err, "%s: not a JSON object", path); goto done; }
    json_t *archs = json_object_get(root, "architectures");
    const char *arch = json_is_array(archs) ? json_string_value(json_array_get(archs, 0)) : NULL;
    if (!arch) {
        const char *mt = json_string_value(json_object_get(root, "model_type"));
        arch = mt && !strcmp(mt, "gpt2") ? "GPT2LMHeadModel" : mt && !strcmp(mt, "llama") ? "LlamaForCausalLM"
             : mt && !strcmp(mt, "gemma2") ? "Gemma2ForCausalLM" : NULL;
        static const char *mts[][2] = {{"qwen2", "Qwen2ForCausalLM"}, {"qwen3", "Qwen3ForCausalLM"},
                                       {"mistral", "MistralForCausalLM"}, {"gpt_neox", "GPTNeoXForCausalLM"},
                                       {"olmo2", "Olmo2ForCausalLM"}, {"phi3", "Phi3ForCausalLM"},
                                       {"gemma3_text", "Gemma3ForCausalLM"}, {"gemma3", "Gemma3ForConditionalGeneration"}};
        for (size_t i = 0; mt && !arch && i < sizeof mts / sizeof mts[0]; i++)
            if (!strcmp(mt, mts[i][0])) arch = mts[i][1];
    }
    if (!arch) { iv_errf(err, "%s: no \"architectures\" or known \"model_type\"", path); goto done; }
    snprintf(c->arch_name, sizeof c->arch_name, "%s", arch);
    c->embed_scale = 1.f;
    c->bos_id = get_tok(root, "bos_token_id");
    c->eos_id = get_tok(root, "eos_token_id");
    rd r = {root, path, err, 0, 1.0};
    if (!strcmp(arch, "GPT2LMHeadModel")) gpt2(&r, c);
    else if (!strcmp(arch, "LlamaForCausalLM")) llama_like(&r, c, 0);
    else if (!strcmp(arch, "Gemma2ForCausalLM")) llama_like(&r, c, 1);
    else if (!strcmp(arch, "Qwen2ForCausalLM")) llama_family(&r, c, IV_ARCH_QWEN2);
    else if (!strcmp(arch, "Qwen3ForCausalLM")) llama_family(&r, c, IV_ARCH_QWEN3);
    else if (!strcmp(arch, "MistralForCausalLM")) llama_family(&r, c, IV_ARCH_MISTRAL);
    else if (!strcmp(arch, "Olmo2ForCausalLM")) llama_family(&r, c, IV_ARCH_OLMO2);
    else if (!strcmp(arch, "Phi3ForCausalLM")) llama_family(&r, c, IV_ARCH_PHI3);
    else if (!strcmp(arch, "GPTNeoXForCausalLM")) neox(&r, c);
    else if (!strcmp(arch, "Gemma3ForCausalLM")) gemma3(&r, c, 0);
    else if (!strcmp(arch, "Gemma3ForConditionalGeneration")) { /* its language model, text only */
        json_t *tc = json_object_get(root, "text_config");
        if (!json_is_object(tc)) { iv_errf(err, "%s: Gemma3ForConditionalGeneration without a text_config object", path); goto done; }
        if (!flag(&r, "tie_word_embeddings", 1)) refuse(&r, "tie_word_embeddings", json_object_get(root, "tie_word_embeddings"), "tied head only");
        r.o = tc;
        gemma3(&r, c, 1);
        if (!c->tied_embeddings) refuse(&r, "text_config.tie_word_embeddings", json_object_get(tc, "tie_word_embeddings"), "tied head only");
    }
    else {
        iv_errf(err, "%s: architecture %s is not supported (GPT2LMHeadModel, LlamaForCausalLM, Gemma2ForCausalLM, "
                "Qwen2ForCausalLM, Qwen3ForCausalLM, MistralForCausalLM, GPTNeoXForCausalLM, Olmo2ForCausalLM, "
                "Phi3ForCausalLM, Gemma3ForCausalLM, Gemma3ForConditionalGeneration (text))", path, arch);
        goto done;
    }
    if (r.bad) goto done;
    if (c->head_dim <= 0 && c->n_heads > 0) c->head_dim = c->dim / c->n_heads;
    if (c->query_scale < 0) c->query_scale = c->head_dim > 0 ? 1.f / sqrtf((float)c->head_dim) : 1.f;
    if (c->arch == IV_ARCH_GEMMA2 || c->arch == IV_ARCH_GEMMA3) c->embed_scale = sqrtf((float)c->dim);
    /* partial rotary: int(head_dim * factor) leading dims of each head, an even count */
    c->rotary_dim = c->head_dim > 0 ? (int)(c->head_dim * r.prf) : 0;
    if (c->head_dim > 0 && (c->rotary_dim <= 0 || c->rotary_dim % 2)) {
        json_t *v = json_real(r.prf);
        refuse(&r, c->arch == IV_ARCH_NEOX ? "rotary_pct" : "partial_rotary_factor", v,
               "int(head_dim * factor) must be a positive even number of dims");
        json_decref(v);
        goto done;
    }
    c->vocab_size = get_int(r.o, "vocab_size", r.o != root ? 262208 : -1); /* r.o: Gemma-3's text_config */
    if (c->dim <= 0 || c->hidden_dim <= 0 || c->n_layers <= 0 || c->n_heads <= 0 || c->n_kv_heads <= 0 ||
        c->head_dim <= 0 || c->vocab_size <= 0 || c->max_seq <= 0 || c->n_heads % c->n_kv_heads ||
        c->head_dim % 2 || c->dim > 1 << 16 || c->n_layers > 1024 || c->n_heads > 4096 || c->head_dim > 4096 ||
        c->hidden_dim > 1 << 20 || c->vocab_size > 1 << 24 ||
        /* GPT-2 splits dim into heads (c_attn is [dim, 3*dim]) */
        (c->arch == IV_ARCH_GPT2 && c->n_heads * c->head_dim != c->dim)) {
        iv_errf(err, "%s: missing or inconsistent sizes (dim %d hidden %d layers %d heads %d kv %d head_dim %d vocab %d ctx %d)",
                path, c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->vocab_size,
                c->max_seq);
        goto done;
    }
    if (c->max_seq > 1 << 20) c->max_seq = 1 << 20;
    rc = 0;
done:
    json_decref(root);
    return rc;
}
