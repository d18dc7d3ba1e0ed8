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
 *   artifact.METHOD given artifacts instead of training them, a path pattern with
 *                   {concept} and {layer} (e.g. artifact.steering =
 *                   vectors/{concept}_L{layer}.pt, artifact.sae = saes/L{layer},
 *                   artifact.tuned = lens/); every file must exist at start  [train]
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
 *   compute         f32 | bf16: how the swept models multiply
 *                   (iv_model_set_compute; bf16 needs AVX512-BF16)       [f32]
 */
#ifndef INTERV_SWEEP_H
#define INTERV_SWEEP_H
#include "interv/error.h"
#include "interv/method.h"
#include "interv/eval.h"
#include <stddef.h>

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
    int compute;                                         /* iv_compute: compute = f32 | bf16 */
    char *artifact[IV_SWEEP_MAX_METHODS];                /* artifact.METHOD pattern, or NULL = train */
} iv_sweep_config;

int iv_sweep_config_load(const char *path, iv_sweep_config *c, iv_err *err);
/* Parses config text; `name` is used in messages, base_dir resolves relative paths. */
int iv_sweep_config_parse(const char *text, const char *name, const char *base_dir, iv_sweep_config *c, iv_err *err);
void iv_sweep_config_free(iv_sweep_config *c);
/* A pattern with {concept} and {layer} replaced (malloc'd). */
char *iv_sweep_pattern(const char *pattern, const char *concept, int layer);
/* The pairs file of a concept: the `pairs` pattern with {concept} replaced (malloc'd). */
char *iv_sweep_pairs_path(const iv_sweep_config *c, const char *concept);
/* The alpha grid used for a method. */
const double *iv_sweep_alphas(const iv_sweep_config *c, iv_method_kind k, int *n);

typedef struct iv_sweep_progress {
    void (*fn)(void *user, const char *what, int done, int total, double elapsed_s);
    void *user;
} iv_sweep_progress;

/* ---- the plan: tasks and the cells they write ----------------------------------------- */
typedef enum { IV_TASK_ARTIFACT, IV_TASK_CLEAN, IV_TASK_BOTTLENECK, IV_TASK_EDIT } iv_task_kind;

typedef struct iv_sweep_task {
    iv_task_kind kind;
    int model;               /* index into c->models */
    int layer;               /* resid_post layer; -1 for clean and the tuned-lens artifact */
    iv_method_kind method;   /* IV_METHOD_CLEAN for the clean pass */
    int concept;             /* index into c->concepts; -1 = shared by every concept */
    double alpha;
    double cost;             /* expected cost, 1 = one generation pass over the prompts */
    int needs;               /* index of the artifact task it needs, or -1 */
    int first_cell, n_cells; /* its cells: plan.cells[first_cell ..] (none for artifacts) */
} iv_sweep_task;

typedef struct iv_sweep_plan {
    iv_sweep_task *t;        /* [n_tasks] per model: artifacts first, then longest first */
    int n_tasks;
    iv_cell *cells;          /* [n_cells] strings borrowed from the config and model_names */
    int n_cells;
    char **model_names;      /* [n_models] short names used in cells and artifact paths */
    int n_models;
} iv_sweep_plan;

/* A pure function of the configuration: every process of a sweep builds the same plan. */
int iv_sweep_plan_build(const iv_sweep_config *c, iv_sweep_plan *p, iv_err *err);
void iv_sweep_plan_free(iv_sweep_plan *p);
int iv_sweep_has_bottleneck(const iv_sweep_config *c, iv_method_kind k);
void iv_sweep_cell_path(const char *out_dir, const iv_cell *cell, char *buf, size_t cap);
int iv_sweep_cell_done(const char *out_dir, const iv_cell *cell);
/* Artifact path of an artifact task (0 when the task has none). */
int iv_sweep_artifact_path(const iv_sweep_config *c, const iv_sweep_plan *p, const char *out_dir,
                           const iv_sweep_task *t, char *buf, size_t cap);
/* 1 when every cell of task ti exists (artifact tasks: the artifact). */
int iv_sweep_task_done(const iv_sweep_config *c, const iv_sweep_plan *p, const char *out_dir, int ti);
/* A file-name-safe key naming task ti, the same in every process (its lock file). */
int iv_sweep_task_key(const iv_sweep_config *c, const iv_sweep_plan *p, int ti, char *buf, size_t cap);

/* Cells done and missing per method ("clean" for the clean cells) and concept. */
typedef struct iv_sweep_status_row {
    const char *method, *concept;   /* borrowed: static names and c->concepts */
    int done, missing;
} iv_sweep_status_row;
int iv_sweep_status(const iv_sweep_config *c, const char *out_dir, iv_sweep_status_row **rows, int *n_rows,
                    iv_err *err);

/* ---- running -------------------------------------------------------------------------------- */
/* How this process takes part.  Every task is claimed with an exclusive,
 * non-blocking flock() on DIR/locks/<task-key>.lock before it runs; the kernel
 * drops the lock when the process dies, so a killed run leaves no stale claim,
 * and a cell file exists only once complete (temp file + rename).  Any number
 * of processes may therefore run one plan on one folder at once: MPI ranks
 * (each walks the whole plan, longest first, and takes what is unclaimed),
 * shards, or two plain runs. */
typedef struct iv_sweep_exec {
    int shard, n_shards;     /* 1-based shard K of N: the plan's K-th, K+N-th, ... cell tasks (and the
                                artifacts they need); 0, 0 = every task */
    int rank, n_ranks;       /* for messages only (0, 1 without MPI) */
    double busy_s;           /* out: seconds spent running tasks */
    int tasks_run;           /* out */
    char failed[512];        /* out: the task that failed, "" if none */
} iv_sweep_exec;

/* Runs (or resumes) the sweep into out_dir; x may be NULL (every task, one process). */
int iv_sweep_run_ex(const iv_sweep_config *c, const char *out_dir, const iv_sweep_progress *pr,
                    iv_sweep_exec *x, int *n_done, int *n_skipped, iv_err *err);

/* Runs (or resumes) the sweep into out_dir.  n_done/n_skipped (optional) receive
 * the number of cells computed now and found finished. */
int iv_sweep_run(const iv_sweep_config *c, const char *out_dir, const iv_sweep_progress *pr, int *n_done,
                 int *n_skipped, iv_err *err);

#endif
