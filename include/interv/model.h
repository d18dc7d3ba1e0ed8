/* Transformer models: configuration, weights (memory-mapped views) and the
 * forward pass with a KV cache, hooks on the residual stream, generation and
 * scoring.  Config, weights and run state are separate structs. */
#ifndef INTERV_MODEL_H
#define INTERV_MODEL_H
#include <stdint.h>
#include "interv/error.h"
#include "interv/tensor.h"
#include "interv/io.h"
#include "interv/tokenizer.h"

typedef enum {
    IV_ARCH_LLAMA = 0, IV_ARCH_GPT2 = 1, IV_ARCH_GEMMA2 = 2,
    IV_ARCH_QWEN2, IV_ARCH_QWEN3, IV_ARCH_MISTRAL, IV_ARCH_NEOX, IV_ARCH_OLMO2, IV_ARCH_PHI3, IV_ARCH_GEMMA3
} iv_arch;

#define IV_MAX_LAYERS 1024

/* Elementwise MLP activation, named as Hugging Face's ACT2FN keys (see
 * iv_act_parse for the accepted names; docs/config-keys.md). */
typedef enum {
    IV_ACT_SILU = 0,      /* x*sigmoid(x): "silu", "swish" (llama2.c, Llama) */
    IV_ACT_GELU_TANH,     /* tanh approximation: "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_accurate" */
    IV_ACT_GELU_ERF,      /* exact erf GELU: "gelu", "gelu_python" */
    IV_ACT_GELU_10,       /* erf GELU clipped to [-10, 10]: "gelu_10" */
    IV_ACT_QUICK_GELU,    /* x*sigmoid(1.702x): "quick_gelu" */
    IV_ACT_RELU,          /* "relu" */
    IV_ACT_RELU2,         /* relu(x)^2: "relu2" */
    IV_ACT_RELU6,         /* min(max(x,0),6): "relu6" */
    IV_ACT_LEAKY_RELU,    /* slope 0.01 below 0: "leaky_relu" */
    IV_ACT_SIGMOID,       /* "sigmoid" */
    IV_ACT_TANH,          /* "tanh" */
    IV_ACT_MISH,          /* x*tanh(softplus(x)): "mish" */
    IV_ACT_LINEAR         /* identity: "linear" */
} iv_act;

typedef struct iv_config {
    iv_arch arch;
    char arch_name[64];       /* as in config.json, or "llama2.c" */
    int dim;                  /* d_model */
    int hidden_dim;           /* MLP inner size */
    int n_layers;
    int n_heads;
    int n_kv_heads;
    int head_dim;
    int vocab_size;
    int max_seq;              /* context length */
    float norm_eps;
    float rope_theta;
    /* Llama-3 rope_scaling (rope_type "llama3"); factor 0 = none */
    float rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_orig_max_pos;
    float rope_linear_factor; /* rope_type "linear": inverse frequencies / factor; 0 = none */
    /* Gemma-2 */
    float attn_softcap;       /* 0 = off */
    float final_softcap;      /* 0 = off */
    int sliding_window;       /* 0 = off; applies to the layers set in sliding_layers */
    uint64_t sliding_layers[IV_MAX_LAYERS / 64]; /* bit l: layer l attends within sliding_window
                                 (Gemma-2 even layers, Mistral/Phi-3 all, Qwen layer_types, Gemma-3 pattern) */
    float rope_local_theta;   /* Gemma-3: rotary base of the sliding layers (default rotary); 0 = one table */
    int rotary_dim;           /* leading dims of each head that rotate (partial rotary); 0 = head_dim */
    int qk_norm;              /* RMSNorm on q and k before rope: 0 none, 1 per head over head_dim
                                 (Qwen3, Gemma-3), 2 over the whole projection (OLMo-2) */
    int parallel_residual;    /* GPT-NeoX: x + attn(ln1 x) + mlp(ln2 x) */
    int qkv_bias;             /* Qwen2: q/k/v_proj biases (o_proj none); attention_bias: all four */
    float query_scale;        /* multiplier on q·k: 1/sqrt(head_dim), Gemma-2 1/sqrt(query_pre_attn_scalar),
                                 GPT-2 scale_attn_weights=false 1 */
    int attn_scale_by_layer;  /* GPT-2 scale_attn_by_inverse_layer_idx: layer l's scores also / (l+1) */
    iv_act act;               /* MLP activation: GPT-2 act(c_fc x); gated act(gate x) * (up x) */
    int attention_bias;       /* Llama/Gemma-2: q/k/v/o_proj biases loaded (required); 0: none used */
    int mlp_bias;             /* Llama: gate/up/down_proj biases loaded (required); 0: none used */
    int rope_interleaved;     /* 1: llama2.c/Meta pairs (2i,2i+1); 0: HF rotate-half */
    float embed_scale;        /* 1, or sqrt(dim) for Gemma-2 */
    int tied_embeddings;
    int bos_id, eos_id;       /* -1 when unknown */
} iv_config;

typedef struct iv_layer_weights {
    iv_vec attn_norm_w, attn_norm_b;   /* [dim]; b only for LayerNorm */
    iv_wmat wq, wk, wv, wo;            /* out×in: [n_heads*hd, dim] [n_kv*hd, dim] x2, [dim, n_heads*hd] */
    iv_vec bq, bk, bv, bo;             /* [n_heads*hd] [n_kv*hd] [n_kv*hd] [dim]: GPT-2, attention_bias; else NULL */
    iv_vec q_norm_w, k_norm_w;         /* qk_norm 1: [head_dim] each; 2: [n_heads*hd], [n_kv*hd]; else NULL */
    iv_vec post_attn_norm_w;           /* [dim] Gemma-2/3, OLMo-2 */
    iv_vec mlp_norm_w, mlp_norm_b;     /* [dim] */
    iv_wmat w_gate;                    /* [hidden, dim] gated MLPs only */
    iv_wmat w_up;                      /* [hidden, dim] (GPT-2 c_fc) */
    iv_wmat w_down;                    /* [dim, hidden] (GPT-2 c_proj) */
    iv_vec b_gate, b_up, b_down;       /* [hidden] [hidden] [dim]: GPT-2 c_fc/c_proj, Llama mlp_bias; else NULL */
    iv_vec post_mlp_norm_w;            /* [dim] Gemma-2/3, OLMo-2 */
} iv_layer_weights;

typedef struct iv_weights {
    iv_wmat tok_emb;          /* [vocab, dim] as out×in: row t is token t's embedding */
    iv_wmat pos_emb;          /* [max_seq, dim] GPT-2 only */
    iv_layer_weights *layers; /* [n_layers] */
    iv_vec final_norm_w, final_norm_b; /* [dim] */
    iv_wmat lm_head;          /* [vocab, dim]; equals tok_emb when tied */
} iv_weights;

typedef struct iv_model {
    iv_config cfg;
    iv_weights w;
    iv_tokenizer *tok;        /* may be NULL if none was found */
    char *path;
    /* owned storage behind the views */
    iv_mapped *maps; int n_maps;
    iv_safetensors *sts; int n_sts;
    void **owned; int n_owned, cap_owned; /* f32 copies of small vectors, tables */
    int compute;              /* iv_compute: how the forward pass multiplies (see below) */
} iv_model;

/* How matrix products run.  IV_COMPUTE_F32 (the default): weights widened
 * exactly to f32, f32 activations and sums.  IV_COMPUTE_BF16 (opt-in; what
 * PyTorch does for a bf16 model): every matrix weight held in bf16, the
 * activations rounded to bf16 at each product, f32 sums (iv_linear_bf16). */
typedef enum { IV_COMPUTE_F32 = 0, IV_COMPUTE_BF16 = 1 } iv_compute;
/* Sets m's compute mode.  BF16 converts f32/f16 matrix weights to owned bf16
 * copies (embedding lookups keep the file's values) and fails, naming the
 * missing feature, on CPUs without AVX512-BF16.  Once converted, the
 * weights stay bf16 (going back to F32 keeps them). */
int iv_model_set_compute(iv_model *m, iv_compute c, iv_err *err);
/* Parses "f32" or "bf16" (-1 otherwise). */
int iv_compute_parse(const char *s);

/* Loads an HF folder or a llama2.c checkpoint.  tok_path may be NULL: then the
 * folder's tokenizer, or a tok*.bin beside a llama2.c file, is used. */
int iv_model_load(const char *path, const char *tok_path, iv_model **out, iv_err *err);
void iv_model_free(iv_model *m);
/* Number of parameters (tied embeddings counted once). */
int64_t iv_model_n_params(const iv_model *m);

/* 1 when the model's norms are LayerNorms with biases (GPT-2, GPT-NeoX), 0 for RMSNorm. */
static inline int iv_cfg_layernorm(const iv_config *c) { return c->arch == IV_ARCH_GPT2 || c->arch == IV_ARCH_NEOX; }
/* 1 when layer l attends within c->sliding_window. */
static inline int iv_cfg_sliding(const iv_config *c, int l) {
    return c->sliding_window > 0 && l >= 0 && l < IV_MAX_LAYERS && (c->sliding_layers[l / 64] >> (l % 64) & 1);
}

/* Hugging Face activation name -> iv_act; -1 if not one interv implements. */
int iv_act_parse(const char *name, iv_act *out);
/* x = act(x) when u is NULL, else x = act(x) * u (gated MLP); x, u: [n]. */
void iv_act_apply(iv_act a, float *x, const float *u, int64_t n);

/* ---- hooks ---------------------------------------------------------------- */
/* A named point: layer -1 = "embed" (input to block 0), L = "resid_post.L". */
int iv_hook_point_parse(const char *name, int n_layers, int *layer, iv_err *err);

typedef enum { IV_AT_LAST = 0, IV_AT_ALL = 1 } iv_hook_at;

/* Called once per forward call with every position the hook applies to:
 * x: [n, dim] their residual vectors, contiguous, in the call's token order
 * (batch row, then position); rows[i] / pos[i]: the batch row and absolute
 * position of x's row i.  May modify x in place (never rows/pos).  n >= 1.
 * Returns 0, or -1 to abort the pass. */
typedef int (*iv_hook_fn)(void *user, int layer, int n, const int *rows, const int *pos, float *x,
                          int dim);

typedef struct iv_hook {
    int layer;
    iv_hook_at at;
    iv_hook_fn fn;
    void *user;
} iv_hook;

#define IV_MAX_HOOKS 16
typedef struct iv_hooks {
    iv_hook h[IV_MAX_HOOKS];
    int n;
} iv_hooks;

int iv_hooks_add(iv_hooks *hs, int layer, iv_hook_at at, iv_hook_fn fn, void *user, iv_err *err);

/* ---- run state and forward -------------------------------------------------- */
typedef struct iv_state iv_state;   /* KV cache for `batch` rows + scratch */

iv_state *iv_state_new(const iv_model *m, int batch, int max_seq, iv_err *err);
void iv_state_free(iv_state *s);
void iv_state_reset(iv_state *s);           /* every row back to position 0 */
void iv_state_reset_row(iv_state *s, int row);
int iv_state_pos(const iv_state *s, int row);
/* Copies the first n_pos cached positions of src's row src_row into dst's row
 * dst_row (every layer) and sets that row's position to n_pos: a prompt head
 * shared by many rows is computed once (states of models of one shape; n_pos at
 * most what src holds and what dst fits). */
int iv_state_copy_prefix(iv_state *dst, int dst_row, const iv_state *src, int src_row, int n_pos, iv_err *err);
/* Moves a row back to position pos (<= its position): what came after is forgotten. */
int iv_state_truncate_row(iv_state *s, int row, int pos, iv_err *err);

/* One forward call: row r appends n_tok[r] tokens (may be 0) tokens[r][0..] to
 * its cache.  logits: [batch, vocab] for the last new token of each row with
 * n_tok > 0 (other rows untouched); all_logits (optional, or NULL):
 * [sum of n_tok, vocab] for every new token, row 0's tokens first, each row's in
 * order (scoring many sequences in one call).  Hooks see the last new
 * position of each row (IV_AT_LAST) or every new position (IV_AT_ALL). */
int iv_forward(const iv_model *m, iv_state *s, const int32_t *const *tokens, const int *n_tok,
               const iv_hooks *hooks, float *logits, float *all_logits, iv_err *err);

/* ---- generation ------------------------------------------------------------- */
typedef struct iv_gen_opts {
    int max_new;          /* new tokens per prompt (ignored when steps > 0) */
    int steps;            /* total length incl. BOS and prompt, llama2.c style; 0 = off */
    float temperature;    /* 0 = greedy */
    float top_p;          /* 1 = off */
    uint64_t seed;
    int batch;            /* rows decoded together */
    int stop_at_eos;      /* stop a row at EOS (and at BOS, as llama2.c) */
    /* Optional: sees each step's next-token distribution (probabilities, [vocab])
     * for prompt p at generated step k before sampling. */
    void (*on_step)(void *user, int prompt, int step, const float *probs, int vocab);
    void *user;
} iv_gen_opts;

iv_gen_opts iv_gen_defaults(void);

/* Generates continuations for n prompts given as token ids (BOS included as the
 * caller wants).  out_ids[p] (malloc'd, caller frees) receives only the new
 * tokens, out_n[p] their count.  hooks may be NULL. */
int iv_generate(const iv_model *m, const int32_t *const *prompts, const int *prompt_len, int n,
                const iv_gen_opts *opt, const iv_hooks *hooks, int32_t **out_ids, int *out_n,
                iv_err *err);

/* Per-token log-probabilities of ids[1..n-1] given their prefixes:
 * logprobs: [n-1].  hooks may be NULL. */
int iv_score(const iv_model *m, const int32_t *ids, int n, const iv_hooks *hooks, float *logprobs,
             iv_err *err);

#endif
