/* config.json of a Hugging Face model folder -> iv_config. */
#include "model/model_internal.h"
#include <jansson.h>
#include <limits.h>
#include <string.h>

/* A value outside int's range reads as -1, which every size check rejects. */
static int get_int(json_t *o, const char *k, int dflt) {
    json_t *v = json_object_get(o, k);
    if (!json_is_integer(v)) return dflt;
    json_int_t x = json_integer_value(v);
    return x < INT_MIN || x > INT_MAX ? -1 : (int)x;
}
static double get_num(json_t *o, const char *k, double dflt) {
    json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : dflt;
}
/* eos_token_id may be an int or a list of ints (Llama-3): take the first. */
static int get_tok(json_t *o, const char *k) {
    json_t *v = json_object_get(o, k);
    if (json_is_array(v)) v = json_array_get(v, 0);
    return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= INT_MAX
               ? (int)json_integer_value(v) : -1;
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
    }
    if (!arch) { iv_errf(err, "%s: no \"architectures\" or known \"model_type\"", path); goto done; }
    snprintf(c->arch_name, sizeof c->arch_name, "%s", arch);
    c->embed_scale = 1.f;
    c->bos_id = get_tok(root, "bos_token_id");
    c->eos_id = get_tok(root, "eos_token_id");
    if (!strcmp(arch, "GPT2LMHeadModel")) {
        c->arch = IV_ARCH_GPT2;
        c->dim = get_int(root, "n_embd", -1);
        c->n_layers = get_int(root, "n_layer", -1);
        c->n_heads = get_int(root, "n_head", -1);
        c->n_kv_heads = c->n_heads;
        c->max_seq = get_int(root, "n_positions", get_int(root, "n_ctx", -1));
        c->hidden_dim = get_int(root, "n_inner", c->dim > 0 && c->dim <= 1 << 16 ? 4 * c->dim : -1);
        c->norm_eps = (float)get_num(root, "layer_norm_epsilon", 1e-5);
        c->tied_embeddings = 1;
        const char *act = json_string_value(json_object_get(root, "activation_function"));
        if (act && strcmp(act, "gelu_new") && strcmp(act, "gelu_pytorch_tanh")) {
            iv_errf(err, "%s: activation_function \"%s\" is not supported (gelu_new only)", path, act);
            goto done;
        }
    } else if (!strcmp(arch, "LlamaForCausalLM") || !strcmp(arch, "Gemma2ForCausalLM")) {
        int gemma = arch[0] == 'G';
        c->arch = gemma ? IV_ARCH_GEMMA2 : IV_ARCH_LLAMA;
        c->dim = get_int(root, "hidden_size", -1);
        c->hidden_dim = get_int(root, "intermediate_size", -1);
        c->n_layers = get_int(root, "num_hidden_layers", -1);
        c->n_heads = get_int(root, "num_attention_heads", -1);
        c->n_kv_heads = get_int(root, "num_key_value_heads", c->n_heads);
        c->head_dim = get_int(root, "head_dim", gemma ? 256 : (c->n_heads > 0 ? c->dim / c->n_heads : -1));
        c->max_seq = get_int(root, "max_position_embeddings", -1);
        c->norm_eps = (float)get_num(root, "rms_norm_eps", 1e-6);
        c->rope_theta = (float)get_num(root, "rope_theta", 10000.0);
        json_t *tie = json_object_get(root, "tie_word_embeddings");
        c->tied_embeddings = json_is_boolean(tie) ? json_is_true(tie) : gemma;
        json_t *rs = json_object_get(root, "rope_scaling");
        if (json_is_object(rs)) {
            const char *t = json_string_value(json_object_get(rs, "rope_type"));
            if (!t) t = json_string_value(json_object_get(rs, "type"));
            if (!t || strcmp(t, "llama3")) {
                iv_errf(err, "%s: rope_scaling type \"%s\" is not supported (llama3 only)", path, t ? t : "?");
                goto done;
            }
            c->rope_factor = (float)get_num(rs, "factor", 8);
            c->rope_low_freq_factor = (float)get_num(rs, "low_freq_factor", 1);
            c->rope_high_freq_factor = (float)get_num(rs, "high_freq_factor", 4);
            c->rope_orig_max_pos = get_int(rs, "original_max_position_embeddings", 8192);
        }
        if (gemma) {
            const char *act = json_string_value(json_object_get(root, "hidden_activation"));
            if (!act) act = json_string_value(json_object_get(root, "hidden_act"));
            if (act && strcmp(act, "gelu_pytorch_tanh")) {
                iv_errf(err, "%s: hidden_activation \"%s\" is not supported (gelu_pytorch_tanh only)", path, act);
                goto done;
            }
            c->attn_softcap = (float)get_num(root, "attn_logit_softcapping", 0);
            c->final_softcap = (float)get_num(root, "final_logit_softcapping", 0);
            c->sliding_window = get_int(root, "sliding_window", 0);
            c->embed_scale = sqrtf((float)c->dim);
        } else {
            const char *act = json_string_value(json_object_get(root, "hidden_act"));
            if (act && strcmp(act, "silu")) {
                iv_errf(err, "%s: hidden_act \"%s\" is not supported (silu only)", path, act);
                goto done;
            }
        }
        double qs = get_num(root, "query_pre_attn_scalar", c->head_dim);
        c->query_scale = (float)(1.0 / sqrt(qs > 0 ? qs : 1));
    } else {
        iv_errf(err, "%s: architecture %s is not supported (GPT2LMHeadModel, LlamaForCausalLM, Gemma2ForCausalLM)",
                path, arch);
        goto done;
    }
    if (c->head_dim <= 0 && c->n_heads > 0) c->head_dim = c->dim / c->n_heads;
    if (c->arch == IV_ARCH_GPT2) c->query_scale = 1.f / sqrtf((float)c->head_dim);
    c->vocab_size = get_int(root, "vocab_size", -1);
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
