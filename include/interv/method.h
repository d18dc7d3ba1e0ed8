/* Interpretability methods as encoder/decoder pairs on the residual stream.
 *
 *   z = E(x)   encode x = resid_post.L (output of block L) into features
 *   z' = edit(z)
 *   x' = D(z') decode, replace x, continue the forward pass
 *
 * One opaque iv_method per (model, method, layer, concept, alpha, mode).  It is
 * installed as a hook at resid_post.L and applies x -> x' at the last position of
 * every forward call (or every position), recording the edit size
 * ||x' - x|| / ||x|| of each edited position.
 *
 * Methods (DESIGN.md section 2):
 *   logit      z = W_U x (or W_U finalnorm(x), "normed"); z'_t = a w_t max_j z_j on
 *              the concept's target tokens; x' = P z', P = pinv(W_U) (Cholesky of
 *              W_U^T W_U, cached on disk), cheap form x + sum_t (z'_t - z_t) P[:,t].
 *              Normed variant: the pseudo-inverse gives the normalised vector u';
 *              the norm is inverted with x's own statistics (RMSNorm: u'/g * rms(x);
 *              LayerNorm: (u'-b)/g * std(x) + mean(x)).
 *   tuned      z = W_U norm(x + A x + b) with translator L+1 (it reads
 *              hidden_states[L+1] = resid_post.L); the final norm is applied as in
 *              the tuned-lens package and `interv train` unless the lens's
 *              config.json says "final_norm": false;  x' = (I + A)^{-1}(N^{-1}(P z') - b).
 *              Edits and the bottleneck go through the same cheap/double-precision
 *              paths as the logit lens.
 *   sae        f = act((x - b_dec*[apply_b_dec]) W_enc + b_enc); f'_k = a max_j f_j;
 *              x' = f' W_dec + b_dec, or x + D(f') - D(f) with keep_sae_error.
 *   steering   x' = x + a v;  probe  x' = x + a w;  prompting: a prompt template.
 * Modes: clean (no hook), bottleneck (x' = D(E(x))), edit. */
#ifndef INTERV_METHOD_H
#define INTERV_METHOD_H
#include <stdint.h>
#include "interv/error.h"
#include "interv/model.h"
#include "interv/protocol.h"

typedef enum {
    IV_METHOD_CLEAN = 0,
    IV_METHOD_PROMPTING,
    IV_METHOD_LOGIT,
    IV_METHOD_TUNED,
    IV_METHOD_SAE,
    IV_METHOD_STEERING,
    IV_METHOD_PROBE
} iv_method_kind;

/* Same values as eval.h's iv_mode (a cast converts). */
typedef enum { IV_MMODE_CLEAN = 0, IV_MMODE_BOTTLENECK = 1, IV_MMODE_EDIT = 2 } iv_method_mode;

const char *iv_method_kind_name(iv_method_kind k);
int iv_method_kind_parse(const char *s, iv_method_kind *k);   /* 0, or -1 if unknown */
const char *iv_method_mode_name(iv_method_mode m);
int iv_method_mode_parse(const char *s, iv_method_mode *m);

#define IV_PROMPT_TEMPLATE_DEFAULT "Let's talk about {concept}. "

typedef struct iv_method_opts {
    iv_method_kind kind;
    int layer;              /* resid_post.layer; -1 = take it from the artifact */
    iv_method_mode mode;    /* default edit */
    float alpha;            /* strength a */
    iv_hook_at at;          /* IV_AT_LAST (default) or IV_AT_ALL */
    const char *concept;    /* concept phrase, e.g. "dog" */
    const char *artifact;   /* tuned lens folder, SAE folder/.npz, steering/probe file */
    int keep_sae_error;     /* SAE: x' = x + D(f') - D(f) instead of D(f') */
    int normed;             /* logit/tuned lens: apply the final norm before W_U */
    int64_t sae_feature;    /* SAE concept feature; -1 = choose automatically */
    const char *pairs;      /* pairs CSV used by the automatic SAE feature choice (optional) */
    const char *prompt_template; /* prompting; NULL = IV_PROMPT_TEMPLATE_DEFAULT */
    /* target-token weights: the concept is tokenised without and with a leading
     * space; a one-token spelling gets weight 1; in a multi-token spelling the
     * first token gets w_first, the second w_second, further ones w_other
     * (defaults 1, 1, 1: alpha means the same for every concept; 2, 1, 1 is the
     * reference study's multi-token weighting).  Unused under the paper protocol. */
    float w_first, w_second, w_other;
    /* explicit target tokens overriding the concept's tokenisation (may be NULL) */
    const int32_t *target_ids;
    const float *target_weights;  /* [n_target_ids] or NULL = all 1 */
    int n_target_ids;
    const char *cache_dir;  /* NULL = $INTERV_CACHE, else $XDG_CACHE_HOME/interv, else ~/.cache/interv */
    /* IV_PROTOCOL_PAPER: the reference study's recipes (DESIGN.md 3b): lens targets
     * are the concept text's own tokens only, tuned lens uses translator L on
     * resid_post.L with no final norm and the augmented-matrix pseudo-inverse. */
    iv_protocol protocol;
} iv_method_opts;

iv_method_opts iv_method_defaults(void);

typedef struct iv_method iv_method;

/* Builds a method for model m (the model must outlive it).  Loads and validates
 * the artifact, resolves the layer, computes the concept targets and the cached
 * decoders.  Errors name the file and the problem. */
int iv_method_create(const iv_model *m, const iv_method_opts *o, iv_method **out, iv_err *err);
void iv_method_free(iv_method *meth);

iv_method_kind iv_method_get_kind(const iv_method *meth);
iv_method_mode iv_method_get_mode(const iv_method *meth);
int iv_method_layer(const iv_method *meth);        /* resolved layer, -1 for clean/prompting */
int iv_method_has_hook(const iv_method *meth);     /* 1 when install adds a hook */

/* Encoder/decoder.  n_features: vocab (lenses), d_sae (SAE), 1 (steering:
 * projection on v; probe: sigmoid(w.x + b)), 0 (clean, prompting).
 * encode: x [d] -> z [n_features]; decode: z [n_features] -> x [d] (lenses: the
 * pseudo-inverse; for the normed lens the result is in normalised space because
 * inverting the norm needs the original x; SAE: z W_dec + b_dec).  -1 with a
 * message where a direction is not meaningful. */
int64_t iv_method_n_features(const iv_method *meth);
int iv_method_encode(iv_method *meth, const float *x, float *z, iv_err *err);
int iv_method_decode(iv_method *meth, const float *z, float *x, iv_err *err);

/* Applies x -> x' in place per the mode (what the hook does) and records the edit
 * size under `row` (-1 = no row).  Safe to call from several threads at once. */
int iv_method_apply(iv_method *meth, float *x /* [d] */, int row, iv_err *err);
/* The same over n rows at once (what the hook does): x: [n, d] in place, rows:
 * [n] the batch row of each (NULL = none).  Encoders and decoders run as matrix
 * products over the n rows; iv_method_apply is this with n = 1. */
int iv_method_apply_batch(iv_method *meth, float *x, int n, const int *rows, iv_err *err);

/* Registers the hook at resid_post.L (nothing for clean/prompting/clean mode).
 * The hook's row is the batch row. */
int iv_method_install(iv_method *meth, iv_hooks *hooks, iv_err *err);

/* Mean edit size ||x'-x||/||x|| over the positions edited since the last reset,
 * overall or for one batch row (rows >= IV_METHOD_MAX_ROWS only count overall). */
#define IV_METHOD_MAX_ROWS 256
void iv_method_edit_stats(const iv_method *meth, double *mean, int64_t *count);
void iv_method_row_stats(const iv_method *meth, int row, double *mean, int64_t *count);
void iv_method_reset_stats(iv_method *meth);

/* Prompt as fed to the model: prompting prepends its template with {concept}
 * replaced; the others copy.  *out is malloc'd. */
int iv_method_prompt(const iv_method *meth, const char *prompt, char **out, iv_err *err);

/* The concept's target tokens and their relative weights (owned by meth). */
void iv_method_targets(const iv_method *meth, const int32_t **ids, const float **weights, int *n);

/* SAE: the concept feature in use (-1 for other methods). */
int64_t iv_method_sae_feature(const iv_method *meth);

/* Tokenises a concept without and with a leading space (no BOS), skipping tokens
 * that are whitespace only or special; a spelling that is one token weighs 1,
 * the tokens of a longer spelling weigh first/second/other by rank; duplicates
 * keep the larger weight.  Error when nothing is left. */
int iv_concept_targets(const iv_tokenizer *tok, const char *concept, float w_first,
                       float w_second, float w_other, int32_t **ids, float **weights, int *n,
                       iv_err *err);
/* The reference study's targets (DESIGN.md 3b): the concept text's own tokens as
 * the tokenizer gives them (no special tokens, no leading-space variant, nothing
 * skipped but BOS/EOS); weight 1 each, except that with two or more tokens the
 * first weighs 2 (each target logit := weight * alpha * max z). */
int iv_concept_targets_paper(const iv_tokenizer *tok, const char *concept, int32_t **ids,
                             float **weights, int *n, iv_err *err);

/* ---- SAE feature choice ------------------------------------------------------ */
typedef struct iv_feature_score {
    int64_t index;
    float separation;  /* mean over pos prompts - mean over neg prompts of the feature
                          activation mean-pooled over positions after BOS (0 without pairs) */
    float alignment;   /* cosine of W_dec[k] with the weighted sum of the targets' W_U rows */
    float score;       /* ranking score: separation / max|separation| + alignment */
} iv_feature_score;

/* Ranks every feature of an SAE method (created with any mode) for its concept;
 * pairs_path (CSV pos_prompt,neg_prompt) may be NULL: alignment only.  *out is
 * malloc'd, sorted by score descending, n_out = d_sae. */
int iv_sae_rank_features(const iv_model *m, iv_method *sae, const char *pairs_path,
                         iv_feature_score **out, int64_t *n_out, iv_err *err);

#endif
