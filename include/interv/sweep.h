/* Sweeps: a grid over models x layers x methods x concepts x alpha x modes, run
 * cell by cell with every finished cell written atomically, so a killed sweep
 * resumes where it stopped.  Layout of the output folder: see eval.h.
 *
 * Config file: one `key = value` per line, `#` starts a comment, lists are
 * whitespace-separated.  Keys (defaults in brackets):
 *   models          model paths (HF folder or llama2.c .bin)              required
 *   layers          resid_post layers                                     required
 *   methods         any of prompting logit tuned sae steering probe       required
 *   concepts        concept names; a name with spaces is double-quoted, or the
 *                   whole list comma-separated ("San Francisco, New York") required
 *   alphas          default alpha grid                                    [1 2 4 8]
 *   alphas.METHOD   alpha grid for one method (e.g. alphas.steering = 2 4 8)
 *   bottleneck      yes/no: bottleneck baselines for logit/tuned/sae      [yes]
 *   prompts         prompt CSV                                            required
 *   concepts_file   concepts JSON with surface forms     [none: iv_concept_default_forms]
 *   pairs           pairs file pattern, e.g. data/{concept}_pairs.csv
 *   pairs_dir       folder with CONCEPT.csv pairs files (= pairs DIR/{concept}.csv)
 *                                                [dir of concepts_file (or prompts)/concepts]
 *   protocol        interv | paper (DESIGN.md 3b; interv/protocol.h)        [interv]
 *   corpus          text corpus for tuned lens and SAE training      (required for tuned/sae)
 *   heldout         held-out corpus for their evaluation                  [none]
 *   max_new         new tokens per prompt                                 [30]
 *   batch           prompts generated together                            [32]
 *   seed            training seed                                         [0]
 *   at              last | all: positions edited                          [last]
 *   keep_sae_error  yes/no                                                [no]
 *   normed_lens     yes/no: logit/tuned lens through the final norm       [no]
 *   sae_k           0 = ReLU+L1 SAE, else TopK k                          [0]
 *   sae_d           SAE width                                             [4 x dim]
 *   sae_steps / lens_steps   training steps                               [trainer defaults]
 *   match_prompt    yes/no: success also counts the prompt (reference code) [no]
 *   prompt_template prompting template with {concept}         ["Let's talk about {concept}. "]
 *   judge           judge model path (coherence)                          [none: not measured]
 *   judge_template  judge instruction file with {prompt} and {continuation}
 */
#ifndef INTERV_SWEEP_H
#define INTERV_SWEEP_H
#include "interv/error.h"
#include "interv/method.h"

#define IV_SWEEP_MAX_METHODS 7

typedef struct iv_sweep_config {
    char *path;
    char **models; int n_models;
    int *layers; int n_layers;
    iv_method_kind *methods; int n_methods;
    char **concepts; int n_concepts;
    double *alphas; int n_alphas;                        /* default grid */
    double *alphas_m[IV_SWEEP_MAX_METHODS];              /* per method kind, or NULL */
    int n_alphas_m[IV_SWEEP_MAX_METHODS];
    int bottleneck, keep_sae_error, normed, match_prompt;
    iv_hook_at at;
    char *prompts, *concepts_file, *pairs_dir, *pairs, *corpus, *heldout, *judge, *judge_template, *prompt_template;
    int max_new, batch, sae_k, sae_d, sae_steps, lens_steps;
    unsigned long seed;
    iv_protocol protocol;                                /* protocol = interv | paper */
} iv_sweep_config;

int iv_sweep_config_load(const char *path, iv_sweep_config *c, iv_err *err);
/* Parses config text; `name` is used in messages, base_dir resolves relative paths. */
int iv_sweep_config_parse(const char *text, const char *name, const char *base_dir, iv_sweep_config *c, iv_err *err);
void iv_sweep_config_free(iv_sweep_config *c);
/* The pairs file of a concept: the `pairs` pattern with {concept} replaced (malloc'd). */
char *iv_sweep_pairs_path(const iv_sweep_config *c, const char *concept);
/* The alpha grid used for a method. */
const double *iv_sweep_alphas(const iv_sweep_config *c, iv_method_kind k, int *n);

typedef struct iv_sweep_progress {
    void (*fn)(void *user, const char *what, int done, int total, double elapsed_s);
    void *user;
} iv_sweep_progress;

/* Runs (or resumes) the sweep into out_dir.  n_done/n_skipped (optional) receive
 * the number of cells computed now and found finished. */
int iv_sweep_run(const iv_sweep_config *c, const char *out_dir, const iv_sweep_progress *pr, int *n_done,
                 int *n_skipped, iv_err *err);

#endif
