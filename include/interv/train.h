/* Training on the project's own model: activation collection, Adam, and the four
 * trainers (steering vector, linear probe, tuned lens, SAE) with their writers.
 *
 * Layers follow model.h: hook layer -1 = "embed" (HF hidden_states[0]), layer L =
 * "resid_post.L" (HF hidden_states[L+1]).  Every text is tokenised with the model's
 * tokenizer with BOS first (added when the tokenizer does not add it).  "Positions
 * after BOS" = every position except position 0 when token 0 is BOS.
 *
 * Library code: no printing; long loops report through an optional progress
 * callback so the CLI can draw step / loss / ETA. */
#ifndef INTERV_TRAIN_H
#define INTERV_TRAIN_H
#include <stdint.h>
#include "interv/error.h"
#include "interv/model.h"
#include "interv/protocol.h"

/* done/total in the unit of `phase` (texts, steps); loss < 0 when none yet. */
typedef void (*iv_progress_fn)(void *user, const char *phase, int64_t done, int64_t total,
                               double loss);

/* ---- texts ------------------------------------------------------------------ */
typedef struct iv_texts {
    char **s;  /* [n] NUL-terminated */
    int n;
} iv_texts;
/* Paragraph corpus: texts separated by one or more blank lines; each text's lines
 * are joined with '\n' and trimmed. */
int iv_texts_read_paragraphs(const char *path, iv_texts *out, iv_err *err);
void iv_texts_free(iv_texts *t);

/* Pairs files are read with iv_pairs_load (interv/eval.h); trainers take the
 * positive and negative sentences as two iv_texts of equal length (wrap an
 * iv_pair_set as {.s = set.pos, .n = set.n}). */

/* Token ids of texts, BOS first, truncated to max_len tokens (0 = model max_seq). */
typedef struct iv_token_texts {
    int32_t **ids;  /* [n][len[i]] */
    int *len;       /* [n] */
    int n;
    int first;      /* 1 when ids start with BOS (pooling skips it), else 0 */
} iv_token_texts;
int iv_tokenize_texts(const iv_model *m, const iv_texts *t, int max_len, iv_token_texts *out,
                      iv_err *err);
void iv_token_texts_free(iv_token_texts *t);

/* ---- activations --------------------------------------------------------------- */
typedef struct iv_act_opts {
    int batch;                /* texts per forward call (default 8) */
    iv_progress_fn progress;  /* optional */
    void *user;
} iv_act_opts;
iv_act_opts iv_act_defaults(void);

/* Mean over positions after BOS of the residual at `layer` (-1..n_layers-1), one
 * row per text.  out: [t->n, dim]. Read-only hook at IV_AT_ALL. */
int iv_act_pooled(const iv_model *m, int layer, const iv_token_texts *t, const iv_act_opts *o,
                  float *out, iv_err *err);

/* Per-position residuals at several layers, positions after BOS, texts in order,
 * at most max_pos positions (0 = all; later texts are cut).  Position p of every
 * layer is the same token.  Layers beyond IV_MAX_HOOKS are collected in extra
 * passes. */
typedef struct iv_act_set {
    int n_sel;       /* layers collected */
    int *layers;     /* [n_sel] */
    int dim;
    int64_t n_pos;
    float **x;       /* [n_sel][n_pos * dim] */
    int32_t *text;   /* [n_pos] text index */
    int32_t *pos;    /* [n_pos] position in its text */
} iv_act_set;
int iv_act_positions(const iv_model *m, const int *layers, int n_sel, const iv_token_texts *t,
                     int64_t max_pos, const iv_act_opts *o, iv_act_set *out, iv_err *err);
void iv_act_set_free(iv_act_set *a);

/* ---- Adam ----------------------------------------------------------------------- */
/* Adam (Kingma & Ba) with bias correction over a flat float array:
 *   m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g²;
 *   p -= lr · (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). */
typedef struct iv_adam {
    int64_t n;
    float lr, b1, b2, eps;   /* defaults .9 .999 1e-8 */
    int64_t t;               /* steps taken */
    float *m, *v;            /* [n] */
} iv_adam;
int iv_adam_init(iv_adam *a, int64_t n, float lr, iv_err *err);
void iv_adam_step(iv_adam *a, float *param, const float *grad);  /* param, grad: [n] */
void iv_adam_free(iv_adam *a);

/* ---- small seeded RNG (splitmix64) ---------------------------------------------- */
typedef struct iv_rng { uint64_t s; } iv_rng;
uint64_t iv_rng_next(iv_rng *r);
double iv_rng_uniform(iv_rng *r);              /* [0,1) */
float iv_rng_normal(iv_rng *r);
void iv_rng_shuffle(iv_rng *r, int *a, int n);

/* ---- steering vector -------------------------------------------------------------- */
typedef struct iv_steer_opts {
    int layer;
    int pca;          /* 0: mean difference; 1: first principal direction */
    iv_act_opts act;
} iv_steer_opts;
/* v = mean_i [pool(pos_i) − pool(neg_i)].  With pca: u = top eigenvector of
 * DᵀD/n (uncentred, D the [n_pairs,d] differences — the same direction as PCA of
 * the differences with random sign flips, as in RepE), sign-aligned with the mean
 * difference and scaled to v·u so α keeps the mean difference's scale.
 * direction: [dim] (caller-allocated). */
int iv_train_steering(const iv_model *m, const iv_texts *pos, const iv_texts *neg,
                      const iv_steer_opts *o, float *direction, iv_err *err);
/* safetensors "direction" [d] F32, metadata interv_method=steering, layer, d_model,
 * concept, method (mean_diff|pca), n_pairs. */
int iv_steering_save(const char *path, const float *dir, int dim, int layer, const char *concept,
                     int pca, int n_pairs, iv_err *err);

/* ---- linear probe ----------------------------------------------------------------- */
typedef struct iv_probe_opts {
    int layer;
    int steps;        /* full-batch Adam steps (default 500) */
    float lr;         /* default 0.01 */
    float l1;         /* λ on sum |w| (standardised units), default 1e-3 */
    uint64_t seed;    /* split seed */
    float train_frac; /* default 0.8 */
    iv_act_opts act;
    /* IV_PROTOCOL_PAPER: the reference recipe instead (DESIGN.md 3b: sigmoid probe,
     * N(0,0.02) init, BCE + 0.3 L1 on w and b, Adam with coupled weight decay 0.1,
     * betas 0.9/0.95, lr 1e-3, batches of 16, 50 epochs, lr x 0.75 on no test
     * improvement, stratified 80/20 split with seed 12345, final-epoch weights). */
    iv_protocol protocol;
} iv_probe_opts;
iv_probe_opts iv_probe_defaults(void);
typedef struct iv_probe {
    int dim;
    float *w;         /* [dim] acts on RAW activations */
    float b;
    float train_acc, test_acc, train_loss;
    int n_train, n_test;
    iv_protocol protocol;  /* the recipe that trained it (saved as metadata) */
} iv_probe;
/* Logistic regression on pooled activations, pos prompts label 1, neg label 0.
 * The split is stratified and by pair: a pair's two sentences land on the same
 * side, so both sides hold equal numbers of each label and no matched sentence
 * leaks across.  Features are standardised with the training mean/std inside; the
 * result is folded back (w_raw = w/σ, b_raw = b − Σ w μ/σ) so σ(w·x + b) is the
 * probability on raw activations. */
int iv_train_probe(const iv_model *m, const iv_texts *pos, const iv_texts *neg,
                   const iv_probe_opts *o, iv_probe *out, iv_err *err);
/* Same on given features (x: [n, dim], y: [n] 0/1, is_train: [n]). */
int iv_probe_fit(const float *x, const int *y, const int *is_train, int n, int dim,
                 const iv_probe_opts *o, iv_probe *out, iv_err *err);
void iv_probe_free(iv_probe *p);

/* ---- linear probe, the reference recipe (IV_PROTOCOL_PAPER, src/train/probe_paper.c) --
 * p = σ(w·x + b) on RAW pooled activations; w ~ N(0, 0.02²), b = 0;
 * per batch: loss = mean BCE (PyTorch BCELoss on σ: log clamped at −100) + 0.3 (Σ|w| + |b|);
 * Adam (β 0.9/0.95, ε 1e-8) with coupled L2 decay 0.1 (g += 0.1 θ, torch.optim.Adam's
 * weight_decay), lr 1e-3; batches of 16 in a fresh shuffle each epoch (last batch
 * short); 50 epochs; after each epoch the test BCE steps ReduceLROnPlateau(mode min,
 * factor 0.75, patience 0, threshold 1e-4 rel, eps 1e-8): lr × 0.75 whenever the
 * test loss is not below (1 − 1e-4) × the best test loss so far.  Final-epoch w, b.
 * Computed in double. */
#define IV_PROBE_PAPER_EPOCHS 50
#define IV_PROBE_PAPER_BATCH 16
#define IV_PROBE_PAPER_SEED 12345
typedef struct iv_probe_paper_plan {
    const float *w0;       /* [dim] initial weights, or NULL = N(0, 0.02²) from the seed */
    const int32_t *order;  /* [epochs, n_train] each epoch's order of the training rows
                              (0..n_train-1 = training rows in x order), or NULL = shuffled */
    double *lr_used;       /* [epochs] out (optional): learning rate during each epoch */
    double *test_loss;     /* [epochs] out (optional): test BCE after each epoch */
} iv_probe_paper_plan;
/* Stratified split by label (sentences, not pairs): n_test = ceil(0.2 n), each
 * label's share of the training rows proportional to its count; rows drawn by a
 * seeded shuffle within each label.  y: [n] 0/1, is_train: [n] out. */
int iv_probe_paper_split(const int *y, int n, uint64_t seed, int *is_train, iv_err *err);
/* The recipe on given features (x: [n, dim], y: [n] 0/1, is_train: [n]); seed
 * drives the init and the shuffles when plan (may be NULL) does not fix them. */
int iv_probe_paper_fit(const float *x, const int *y, const int *is_train, int n, int dim,
                       uint64_t seed, const iv_probe_paper_plan *plan, iv_probe *out,
                       iv_err *err);

/* safetensors "weight" [d], "bias" [1]; metadata interv_method=probe, layer,
 * d_model, concept, train_acc, test_acc, l1, protocol (interv|paper). */
int iv_probe_save(const char *path, const iv_probe *p, int layer, const char *concept,
                  float l1, iv_err *err);

/* ---- final norm + unembedding (shared by tuned lens and its decoder) --------------- */
/* logits = softcap(W_U · norm(y)), norm = the model's final norm:
 *   RMSNorm (Llama, Gemma-2 whose (1 + w) the loader folds into the gain):
 *     g ⊙ y / sqrt(mean y² + eps);
 *   LayerNorm (GPT-2): g ⊙ (y − mean)/sqrt(var + eps) + beta;
 * softcap c: c·tanh(z/c) (Gemma-2 final_softcap), 0 = off.  W_U is densified to
 * f32 ([V,d], V·d·4 bytes). */
typedef struct iv_unembed {
    int d, V;
    int layernorm;   /* 0 RMSNorm, 1 LayerNorm */
    float eps;
    float softcap;
    float *g;        /* [d] effective gain */
    float *beta;     /* [d] or NULL */
    float *W;        /* [V, d] */
} iv_unembed;
int iv_unembed_from_model(const iv_model *m, iv_unembed *u, iv_err *err);
void iv_unembed_free(iv_unembed *u);
/* z: [B, V] from y: [B, d]. */
void iv_unembed_logits(const iv_unembed *u, const float *y, int B, float *z);

/* ---- tuned lens ------------------------------------------------------------------- */
/* Translator i (i = 0..n_layers-1) acts on hidden_states[i] (i = 0 the embeddings,
 * i = L+1 resid_post.L):  y = h + A_i h + b_i  (A_i stored [out,in] as
 * "{i}.weight", so (A h)_o = Σ_k A[o,k] h_k, b_i as "{i}.bias").
 * The lens distribution is softmax(W_U · finalnorm(y)) — the final norm IS applied,
 * as in the tuned-lens paper and library (DESIGN.md §2 writes W_U(x + A x + b)
 * without it; decoders of these files must apply the final norm, and the
 * config.json says so with "final_norm": true).  The target is the model's own
 * final next-token distribution, softmax(W_U · finalnorm(resid_post.last)).
 * Loss per layer: mean over positions after BOS of KL(p_final ‖ q_lens). */
typedef struct iv_lens_opts {
    int steps;        /* Adam minibatch steps (default: 3 epochs) */
    int batch;        /* positions per step (default 256) */
    float lr;         /* default 1e-3 */
    uint64_t seed;
    int64_t max_pos;  /* positions collected from the corpus (default 50000) */
    int max_len;      /* tokens per text (default 256) */
    iv_act_opts act;
} iv_lens_opts;
iv_lens_opts iv_lens_defaults(void);
typedef struct iv_tuned_lens {
    int n_layers, dim;
    float *A;          /* [n_layers, d, d] */
    float *b;          /* [n_layers, d] */
    double *kl_logit;  /* [n_layers] held-out KL of the logit lens (A = b = 0) */
    double *kl_tuned;  /* [n_layers] held-out KL of the tuned lens */
    int64_t n_train_pos, n_eval_pos;
} iv_tuned_lens;
/* heldout may be NULL: then the last 10% of the corpus texts are held out. */
int iv_train_tuned_lens(const iv_model *m, const iv_texts *corpus, const iv_texts *heldout,
                        const iv_lens_opts *o, iv_tuned_lens *out, iv_err *err);
void iv_tuned_lens_free(iv_tuned_lens *t);
/* Mean KL and its gradient for one translator on a minibatch.
 * h: [B,d] hidden states, p: [B,V] target probabilities; A: [d,d] b: [d];
 * gA, gb (optional, overwritten): gradients of the mean KL. Returns mean KL. */
double iv_lens_kl_grad(const iv_unembed *u, const float *h, const float *p, int B,
                       const float *A, const float *b, float *gA, float *gb);
/* Folder: config.json + params.safetensors. */
int iv_tuned_lens_save(const char *dir, const iv_tuned_lens *t, const char *model_path,
                       iv_err *err);

/* ---- sparse autoencoder ------------------------------------------------------------ */
/* f = act((x − b_dec) W_enc + b_enc), x̂ = f W_dec + b_dec.
 * standard: act = ReLU, loss = mean_b ‖x − x̂‖² + l1 · mean_b Σ_j f_j;
 * topk: act = keep the k largest pre-activations (then ReLU), loss = mean_b ‖x − x̂‖².
 * W_dec rows are renormalised to unit length after every step; b_dec starts at the
 * data mean, W_enc at W_decᵀ.  Trained on positions after BOS. */
typedef struct iv_sae_opts {
    int layer;
    int topk;         /* 0 standard, else k */
    int d_sae;        /* default 4·d */
    int steps;        /* default 2000 */
    int batch;        /* default 256 */
    float lr;         /* default 1e-3 */
    float l1;         /* default 0.5 (raw activation units) */
    uint64_t seed;
    int64_t max_pos;  /* default 100000 */
    int max_len;      /* default 256 */
    int64_t dead_window; /* tokens without firing => dead (default 10000) */
    iv_act_opts act;
} iv_sae_opts;
iv_sae_opts iv_sae_defaults(void);
typedef struct iv_sae {
    int d_in, d_sae, k;  /* k = 0 for standard */
    int layer;
    float *W_enc;        /* [d_in, d_sae] */
    float *b_enc;        /* [d_sae] */
    float *W_dec;        /* [d_sae, d_in] */
    float *b_dec;        /* [d_in] */
    /* evaluation (held-out activations if given, else training ones) */
    double l0, mse, explained_var;
    int dead;
    double nll_clean, nll_spliced, nll_zero;  /* mean next-token NLL (nats) */
} iv_sae;
int iv_train_sae(const iv_model *m, const iv_texts *corpus, const iv_texts *heldout,
                 const iv_sae_opts *o, iv_sae *out, iv_err *err);
/* Encodes/decodes rows: f: [B,d_sae], xhat: [B,d_in] (either may be NULL). */
void iv_sae_forward(const iv_sae *s, const float *x, int B, float *f, float *xhat);
/* Mean next-token NLL of texts with resid_post.layer (positions after BOS)
 * replaced by the SAE reconstruction (mode 1), by zeros (mode 2) or untouched (0). */
int iv_sae_splice_nll(const iv_model *m, const iv_sae *s, const iv_token_texts *t, int mode,
                      double *nll, iv_err *err);
void iv_sae_free(iv_sae *s);
/* sae-lens folder: cfg.json + sae_weights.safetensors. */
int iv_sae_save(const char *dir, const iv_sae *s, const char *model_path, iv_err *err);

#endif
