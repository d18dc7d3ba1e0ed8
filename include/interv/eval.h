/* Evaluation: prompt and pair datasets, the control metrics (success, target
 * probability, edit size, perplexity, judge coherence), trade-off summaries,
 * the results format of runs and sweeps, and the HTML report.
 *
 * ---- Results format ---------------------------------------------------------
 * A cell is one (model, layer, method, concept, alpha, mode).  Every cell writes
 * one JSON object per line (JSONL) per prompt:
 *
 *   {"model": "stories260K", "layer": 2, "method": "sae", "concept": "dog",
 *    "alpha": 4.0, "mode": "edit",            // "clean" | "bottleneck" | "edit"
 *    "split": "select",                       // or "report": alpha is chosen on
 *                                             // select, numbers shown on report
 *    "prompt_index": 7, "category": "Travel",
 *    "prompt": "...", "continuation": "...",  // continuation = new text only
 *    "success": true,                         // concept named in the continuation
 *    "target_prob": 0.031,                    // mean over generated steps
 *    "edit_size": 0.42,                       // mean ||x'-x||/||x|| over edited positions
 *    "perplexity": 5.3, "cont_tokens": 30,    // of the continuation given the prompt
 *    "coherence": 6.8,                        // judge expected score 1..10
 *    "judge_dist": [p1, ..., p10],            // judge's renormalised 10-way distribution
 *    "judge_mass": 0.93,                      // judge probability on the score tokens
 *    "protocol": "interv",                    // or "paper" (DESIGN.md 3b)
 *    "deviations": ["..."]}                   // paper only: the reference defects that
 *                                             // shaped this record's numbers
 *
 * Any of target_prob, edit_size, perplexity, coherence, judge_dist may be null:
 * null means "not measured" and is never replaced by a made-up number (e.g. no
 * judge configured -> coherence null).  cont_tokens (the number of continuation
 * tokens scored) is needed for the corpus-level perplexity; it may be absent.
 * Clean cells use alpha 0 and edit_size 0; a clean cell's method may be "none"
 * (it does not depend on method, layer or alpha, only on model and concept for
 * success).  Bottleneck cells use alpha 0.
 *
 * ---- Sweep output layout --------------------------------------------------------
 *   DIR/config.<ext>            copy of the sweep configuration
 *   DIR/cells/<cell-id>.jsonl   one file per finished cell, written atomically
 *                               (temp file + rename), so a file that exists is
 *                               complete and a resumed sweep skips it
 *   DIR/summary.json            per-cell aggregates (iv_summary_write)
 *   DIR/report.html, DIR/report.csv, DIR/report_summary.csv, DIR/report.json
 *                               written by `interv report DIR`
 * The report also reads DIR/results/<name>.jsonl and DIR/results.jsonl (the output of
 * single `interv run`s), and a single .jsonl file given in place of DIR.
 *
 * ---- Aggregates (summary.json, report.json) ----------------------------------
 * Per cell and per split ("all", "select", "report"): n, success rate, mean
 * target_prob, mean edit_size (pooled over records), perplexity as both the mean
 * of per-sample perplexities and the corpus-level exp(sum NLL / sum tokens) (the
 * corpus-level value is the headline: it is the usual definition and is not
 * dominated by one short degenerate continuation), mean coherence (null when no
 * record has one) and the number of records each mean is over.
 */
#ifndef INTERV_EVAL_H
#define INTERV_EVAL_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"
#include "interv/protocol.h"

/* ---- datasets ------------------------------------------------------------------ */

typedef struct iv_prompt {
    char *text;
    int category;        /* index into iv_prompt_set.categories */
    char *row_label;     /* the first column of the row it came from */
    int line;            /* 1-based line of the file where its row starts */
} iv_prompt;

typedef struct iv_prompt_set {
    iv_prompt *p;        /* [n] in file order: row by row, left to right */
    size_t n;
    char **categories;   /* [n_cat] header names after the index column */
    size_t n_cat;
} iv_prompt_set;

/* Reads a prompt CSV: header row = index column name, then one category name per
 * column; each following row = an index, then one prompt per category (empty
 * cells are skipped).  Quoted cells may hold commas, quotes and newlines.  Errors
 * (message names the file and the line): invalid UTF-8, ragged rows, a header
 * without category columns or with an empty/duplicate name, malformed quoting,
 * an empty file or no prompt at all. */
int iv_prompts_load(const char *path, iv_prompt_set *out, iv_err *err);
void iv_prompts_free(iv_prompt_set *s);

/* The split of prompt i: prompts alternate select/report within each category
 * (the k-th prompt of a category is "select" when k is even), so both halves
 * cover every category.  Returns IV_SPLIT_SELECT or IV_SPLIT_REPORT. */
enum { IV_SPLIT_SELECT = 0, IV_SPLIT_REPORT = 1 };
int iv_prompt_split(const iv_prompt_set *s, size_t i);

typedef struct iv_pair_set {
    char **pos;          /* [n] sentences about the concept */
    char **neg;          /* [n] matched sentences that are not */
    size_t n;
} iv_pair_set;

/* Reads a pairs CSV with a header naming the columns pos_prompt and neg_prompt
 * (any order; other columns ignored).  Both cells of every row must be non-empty. */
int iv_pairs_load(const char *path, iv_pair_set *out, iv_err *err);
void iv_pairs_free(iv_pair_set *s);

/* ---- concepts and success --------------------------------------------------------- */

typedef struct iv_concept {
    char *name;
    char **forms;        /* [n_forms] surface forms; the name itself is always one */
    size_t n_forms;
} iv_concept;

typedef struct iv_concept_set {
    iv_concept *c;       /* [n] */
    size_t n;
} iv_concept_set;

/* Reads data/concepts.json.  Accepted shapes:
 *   {"dog": ["dog", "dogs", "puppy"], ...}
 *   {"dog": {"surface_forms": [...], ...}, ...}      ("forms" also accepted)
 *   [{"concept": "dog", "surface_forms": [...]}, ...] ("name" also accepted) */
int iv_concepts_load(const char *path, iv_concept_set *out, iv_err *err);
const iv_concept *iv_concept_find(const iv_concept_set *s, const char *name);
void iv_concepts_free(iv_concept_set *s);

/* 1 when text contains any of the forms as a whole word, case-insensitively
 * (Unicode case folding; a match must not be preceded or followed by a letter,
 * digit or combining mark, so "dog" matches "Dog!" and "dog's" but not
 * "hotdog" or "dogma").  Forms may be phrases ("ice cream"). */
int iv_text_mentions(const char *text, const char *const *forms, size_t n_forms);

/* Default surface forms of a concept given only its text: the text itself and,
 * for a single word of ASCII letters, its singular and plural by English rules
 * ("dog" -> dog, dogs; "dogs" -> dogs, dog; "berry" -> berry, berries;
 * "box" -> box, boxes; "glass" -> glass, glasses); phrases ("San Francisco")
 * keep their text only.  *forms is malloc'd (free each string and the array). */
int iv_concept_default_forms(const char *concept, char ***forms, size_t *n_forms);

/* The reference study's success rule (DESIGN.md 3b): the lower-cased concept
 * text is a substring of the lower-cased prompt + continuation (no separator, no
 * word boundaries); also a concept equal to "beauty" passes on "beautiful" and a
 * concept containing "dog" passes on any "dog".  *special (optional) is set to
 * 1 when only a special case made it pass. */
int iv_success_paper(const char *concept, const char *prompt, const char *continuation,
                     int *special);

/* Success of one sample: the continuation mentions the concept.  With
 * match_prompt (the reference code's behaviour, kept for comparison) the prompt
 * and continuation are concatenated as they are, without a separator, and a
 * prompt that already names the concept counts. */
int iv_success(const char *prompt, const char *continuation, const char *const *forms,
               size_t n_forms, int match_prompt);

/* ---- per-sample metrics -------------------------------------------------------------- */

/* Probability mass on the concept's target tokens at one generated step:
 * sum of probs[t] over the distinct valid ids in targets.  probs: [vocab]. */
double iv_target_mass(const float *probs, int vocab, const int32_t *targets, int n_targets);

/* Edit size accumulator: ||x' - x|| / ||x|| per edited position (positions
 * where x has zero norm have no relative size and are skipped). */
typedef struct iv_edit_acc {
    double sum;
    long n;
} iv_edit_acc;
void iv_edit_acc_add(iv_edit_acc *a, const float *x_before, const float *x_after, int dim);
/* Mean relative edit size, NAN when no position was edited. */
double iv_edit_acc_mean(const iv_edit_acc *a);

/* NLL of a continuation given its prompt from iv_score-style per-token
 * log-probabilities of the joined sequence prompt+continuation:
 * logprobs[j] = log p(ids[j+1] | ids[..j]), j < n_prompt + n_cont - 1.  The
 * continuation's tokens are ids[n_prompt ..], i.e. logprobs[n_prompt-1 ..].
 * Requires n_prompt >= 1.  Returns the summed NLL (nats). */
double iv_cont_nll(const float *logprobs, int n_prompt, int n_cont);

/* ---- aggregation -------------------------------------------------------------------------- */

/* Running aggregate of optional values: NAN inputs are "not measured". */
typedef struct iv_mean_acc {
    double sum;
    long n;          /* measured values */
    long n_missing;  /* NAN inputs */
} iv_mean_acc;
void iv_mean_add(iv_mean_acc *a, double v);
double iv_mean_get(const iv_mean_acc *a);   /* NAN when nothing was measured */

/* Perplexity over samples: per-sample ppl_i = exp(nll_i / n_i).
 * mean_ppl = mean_i ppl_i; corpus_ppl = exp(sum nll_i / sum n_i) (headline).
 * Samples with n_i = 0 are counted in n_empty and skipped. */
typedef struct iv_ppl_acc {
    double sum_ppl;
    double sum_nll;
    long sum_tokens;
    long n;
    long n_empty;
} iv_ppl_acc;
void iv_ppl_add(iv_ppl_acc *a, double nll_sum, long n_tokens);
double iv_ppl_mean(const iv_ppl_acc *a);     /* NAN when empty */
double iv_ppl_corpus(const iv_ppl_acc *a);   /* NAN when empty */

/* ---- trade-off summaries ---------------------------------------------------------------------- */

/* One point of a method's alpha sweep: success rate in [0,1] and a fluency where
 * higher is better (coherence 1..10, or -ln(perplexity)). */
typedef struct iv_tradeoff_pt {
    double alpha;
    double success;
    double fluency;
} iv_tradeoff_pt;

/* Area under the success-fluency frontier, in [0,1]:
 *   F(x) = max{ fluency_i : success_i >= x }  (the best fluency reachable with
 *          success at least x; a non-increasing step function; points whose
 *          fluency is NAN are ignored),
 *   area = integral over x in [0,1] of clamp((F(x) - lo) / (hi - lo), 0, 1),
 * with F = -inf (contributing 0) beyond the largest success.  For coherence use
 * lo = 1, hi = 10 (the judge scale); for -ln(perplexity) use lo = clean - 3,
 * hi = clean (a 20x perplexity increase counts as no fluency left).
 * Returns NAN when no point has a fluency or hi <= lo. */
double iv_frontier_area(const iv_tradeoff_pt *pts, size_t n, double lo, double hi);

/* Index of the point with the highest success among those with
 * fluency >= clean_fluency - tol (ties: the smaller alpha), or -1 when none. */
int iv_best_within(const iv_tradeoff_pt *pts, size_t n, double clean_fluency, double tol);

/* ---- coherence judge ------------------------------------------------------------------------- */

#define IV_JUDGE_K 10  /* score tokens "1".."10" */

/* Next-token log-probabilities (log-softmax, [vocab]) after the token sequence
 * ids[0..n).  The judge calls it for the context and for the context extended
 * by proper prefixes of multi-token score sequences. */
typedef int (*iv_next_logp_fn)(void *user, const int32_t *ids, int n, float *logp, int vocab,
                               iv_err *err);

/* Judge distribution from the score sequences seqs[k] (tokens of the string
 * "k+1" as they follow the context; lens[k] >= 1):
 *   P(seq_k) = prod_i p(seq_k[i] | ctx, seq_k[<i])           (sequence probability)
 *   P(answer k) = P(seq_k) - sum P(seq_j) over the shortest sequences seq_j that
 *                 strictly extend seq_k
 * so with a two-token "10" = ["1","0"]: P(answer 10) = p("1")·p("0"|"1") and
 * P(answer 1) = p("1")·(1 - p("0"|"1")): the mass of "1" that continues as "10"
 * belongs to 10, not to 1.  The ten answer probabilities are renormalised to
 * dist[10]; expected = sum (k+1) dist[k]; mass (optional) = the judge's total
 * probability on the ten answers before renormalising (a diagnostic: low mass
 * means the judge rarely answers with a score).  Error when mass is 0. */
int iv_judge_from_seqs(iv_next_logp_fn fn, void *user, int vocab, const int32_t *ctx, int n_ctx,
                       const int32_t *const *seqs, const int *lens, double dist[IV_JUDGE_K],
                       double *expected, double *mass, iv_err *err);

/* A judge template: text with {prompt} and {continuation} placeholders (each
 * must occur; error otherwise).  Filled text is malloc'd. */
typedef struct iv_judge_tmpl {
    char *text;
} iv_judge_tmpl;
int iv_judge_tmpl_load(const char *path, iv_judge_tmpl *t, iv_err *err);
int iv_judge_tmpl_parse(const char *text, const char *name, iv_judge_tmpl *t, iv_err *err);
char *iv_judge_tmpl_fill(const iv_judge_tmpl *t, const char *prompt, const char *continuation);
void iv_judge_tmpl_free(iv_judge_tmpl *t);

/* A judge: any model interv can load plus a template.  Score tokens are found by
 * tokenising filled+"k" and keeping what follows the tokens of filled (error when
 * the template's last token merges with a digit: end it with ": " or a newline). */
typedef struct iv_judge iv_judge;
struct iv_model;
int iv_judge_open(const char *model_path, const char *template_path, iv_judge **out, iv_err *err);
/* Uses an already loaded model (not freed by iv_judge_free). */
int iv_judge_new(const struct iv_model *m, const iv_judge_tmpl *tmpl, iv_judge **out, iv_err *err);
int iv_judge_score(iv_judge *j, const char *prompt, const char *continuation,
                   double dist[IV_JUDGE_K], double *expected, double *mass, iv_err *err);
void iv_judge_free(iv_judge *j);

/* Perplexity of a continuation given a prompt under a reference model: scores
 * prompt+continuation ids with iv_score and sums the continuation part.
 * prompt_ids must hold at least one token (BOS). */
int iv_cont_nll_model(const struct iv_model *ref, const int32_t *prompt_ids, int n_prompt,
                      const int32_t *cont_ids, int n_cont, double *nll, iv_err *err);

/* ---- result records ------------------------------------------------------------------------ */

typedef enum { IV_MODE_CLEAN = 0, IV_MODE_BOTTLENECK = 1, IV_MODE_EDIT = 2 } iv_mode;
const char *iv_mode_name(iv_mode m);
int iv_mode_parse(const char *s, iv_mode *m);

typedef struct iv_cell {
    char *model, *method, *concept;
    int layer;
    double alpha;
    iv_mode mode;
    iv_protocol protocol;      /* scoring and artifact recipes (interv by default) */
} iv_cell;

/* A filesystem-safe, stable id: sanitised fields plus an 8-hex-digit hash of the
 * exact key, e.g. "stories260K_L2_sae_dog_a4_edit_1f3a09c2"; paper-protocol
 * cells end in "_paper" and hash the protocol too (interv ids are unchanged from
 * earlier versions, so old sweeps resume).  buf >= 256 bytes. */
void iv_cell_id(const iv_cell *c, char *buf, size_t size);

typedef struct iv_record {
    iv_cell cell;
    int split;                 /* IV_SPLIT_* */
    int prompt_index;
    char *category, *prompt, *continuation;
    int success;
    double target_prob;        /* NAN = null */
    double edit_size;          /* NAN = null */
    double perplexity;         /* NAN = null */
    int cont_tokens;           /* -1 = absent */
    double coherence;          /* NAN = null */
    int has_judge_dist;
    double judge_dist[IV_JUDGE_K];
    double judge_mass;         /* NAN = null */
    char **deviations;         /* [n_deviations] paper-protocol defects applied */
    int n_deviations;
} iv_record;

/* Appends a copy of a deviation text (once; duplicates are ignored). */
int iv_record_add_deviation(iv_record *r, const char *text);
/* Adds the reference defects (DESIGN.md 3b) that shaped a paper-protocol record of
 * r->cell (success rule, lens targets, tuned-lens form, SAE replacement, probe
 * recipe); special: success passed only through a special case. */
int iv_paper_deviations(iv_record *r, int special);

/* One JSON line (no trailing newline), malloc'd; NULL on out of memory. */
char *iv_record_to_json(const iv_record *r);
/* Parses one line; what names the source for messages ("file:line"). */
int iv_record_from_json(const char *line, const char *what, iv_record *r, iv_err *err);
void iv_record_free(iv_record *r);

typedef struct iv_records {
    iv_record *r;              /* [n] */
    size_t n, cap;
} iv_records;
int iv_records_push(iv_records *rs, iv_record *r);  /* takes ownership of r's strings */
void iv_records_free(iv_records *rs);

/* Appends every record of a JSONL file; blank lines are skipped. */
int iv_records_load_file(const char *path, iv_records *rs, iv_err *err);
/* Loads a sweep/run folder (layout above) or a single .jsonl file.  Error when
 * nothing was found. */
int iv_records_load_dir(const char *dir, iv_records *rs, iv_err *err);
/* Writes DIR/cells/<cell-id>.jsonl atomically (creating DIR/cells). */
int iv_cell_write(const char *dir, const iv_record *r, size_t n, iv_err *err);

/* ---- cell aggregates ---------------------------------------------------------------------- */

enum { IV_AGG_ALL = 0, IV_AGG_SELECT = 1, IV_AGG_REPORT = 2, IV_AGG_N = 3 };

typedef struct iv_cell_stats {
    long n;
    double success;            /* rate in [0,1] */
    iv_mean_acc target_prob, edit_size, coherence, judge_mass;
    iv_ppl_acc ppl;            /* corpus level needs cont_tokens */
    iv_mean_acc ppl_sample;    /* mean of per-sample perplexities (all records with one) */
    long n_ppl_no_tokens;      /* records with perplexity but no cont_tokens */
} iv_cell_stats;

typedef struct iv_cell_agg {
    iv_cell cell;              /* borrowed from the records */
    char id[256];
    iv_cell_stats s[IV_AGG_N];
    size_t *rec;               /* [n_rec] indices of its records, by prompt_index */
    size_t n_rec;
} iv_cell_agg;

typedef struct iv_cells {
    iv_cell_agg *c;            /* [n] sorted by protocol, model, concept, method, layer, mode, alpha */
    size_t n;
} iv_cells;

int iv_cells_build(const iv_records *rs, iv_cells *out, iv_err *err);
void iv_cells_free(iv_cells *cs);
/* Headline perplexity of a split: corpus level when every record had
 * cont_tokens, else the mean of per-sample perplexities; NAN when none. */
double iv_cell_ppl(const iv_cell_stats *s);
/* Writes summary.json with every aggregate (atomic). */
int iv_summary_write(const char *path, const iv_cells *cs, iv_err *err);

/* ---- report -------------------------------------------------------------------------------- */

typedef struct iv_report_opts {
    const char *html_path;     /* NULL = DIR/report.html */
    double coh_tol;            /* coherence tolerance vs clean (default 1 point) */
    double ppl_tol;            /* -ln(perplexity) tolerance (default 1 nat) */
    int n_examples;            /* clean vs edited generations shown (default 3) */
    int protocol;              /* -1: every protocol found (side by side), else one iv_protocol */
} iv_report_opts;
iv_report_opts iv_report_defaults(void);

/* Reads DIR, writes the HTML (self-contained, charts as inline SVG images),
 * DIR/report.csv (one row per cell), DIR/report_summary.csv (one row per model,
 * concept, method and layer) and DIR/report.json.  n_cells (optional) receives
 * the number of cells. */
int iv_report_write(const char *dir, const iv_report_opts *o, size_t *n_cells, iv_err *err);

#endif
