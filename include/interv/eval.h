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
/* Below this probability on the score tokens the judge is not really answering
 * with a score (e.g. the prompt format does not suit it): warn once per cell. */
#define IV_JUDGE_MASS_WARN 0.5

/* Next-token log-probabilities (log-softmax, [vocab]) after the token sequence
 * ids[0..n).  The judge calls it for the context and for the context extended
 * by proper prefixes of multi-token score sequences. */
typedef int (*iv_next_logp_fn)(void *user, const int32_t *ids, int n, float *logp, int vocab,
                               iv_err *err);

/* Judge distribution from n score spellings: seqs[i] (lens[i] >= 1 tokens) is
 * one way of writing the answer answer[i] in 1..10 after the context, lp[i] its
 * log-probability log P(seqs[i] | ctx).  Several spellings may write one answer
 * (" 7" and "7"); their probabilities add up.  A spelling's answer probability
 * is its sequence probability minus that of the shortest spellings that
 * strictly extend it: with "10" = ["1","0"], P(answer 1) = p("1")(1 - p("0"|"1"))
 * (the mass of "1" that goes on as "10" belongs to 10).  dist[10] = the answer
 * probabilities renormalised; expected = sum k dist[k-1]; mass (optional) = the
 * total answer probability before renormalising.  Error when it is 0 or when two
 * spellings of different answers are the same tokens. */
int iv_judge_dist_from_lp(const int32_t *const *seqs, const int *lens, const int *answer,
                          const double *lp, int n, double dist[IV_JUDGE_K], double *expected,
                          double *mass, iv_err *err);

/* The same for one spelling per answer (seqs[k] writes k+1), reading the
 * log-probabilities through fn (a stub model in tests). */
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

/* The reference study's judge template, exactly (DESIGN.md 3b; also in
 * data/judge/paper.txt, which must hold the same bytes). */
#define IV_JUDGE_PAPER_TEMPLATE                                                                     \
    "Score the following dialogue response on a scale from 1 to 10 for just grammar and "         \
    "comprehension, ignoring incomplete sentences.\n\nContext: {prompt}\nDialogue "                \
    "Response:{continuation}\n\nScore ="

/* How the judge's tokenizer writes the scores after a filled template: for
 * each k in 1..10 the spellings "k" and " k" (Llama-3, Gemma and Mistral put a
 * space token before a digit that follows "="; GPT-2 has " 7" as one token),
 * as the tokens of tokenize(filled + spelling) after those of tokenize(filled).
 * A spelling that merges with the template's last token (the tokens of filled
 * are not a prefix) is left out; a spelling that tokenises like another of the
 * same answer is kept once.  Error when a score has no spelling left or two
 * answers tokenise alike. */
#define IV_JUDGE_MAX_SPELL (2 * IV_JUDGE_K)
typedef struct iv_judge_spellings {
    int n;
    int answer[IV_JUDGE_MAX_SPELL];     /* 1..10 */
    int space[IV_JUDGE_MAX_SPELL];      /* 1: the " k" spelling */
    int32_t *ids[IV_JUDGE_MAX_SPELL];   /* [len[i]] malloc'd */
    int len[IV_JUDGE_MAX_SPELL];
} iv_judge_spellings;
struct iv_tokenizer;
/* ctx: [n_ctx] the tokens of filled (BOS as the tokenizer's post-processor adds). */
int iv_judge_spellings_find(const struct iv_tokenizer *tok, const char *filled, const int32_t *ctx,
                            size_t n_ctx, iv_judge_spellings *sp, iv_err *err);
void iv_judge_spellings_free(iv_judge_spellings *sp);

/* A judge: any model interv can load plus a template. */
typedef struct iv_judge iv_judge;
struct iv_model;
int iv_judge_open(const char *model_path, const char *template_path, iv_judge **out, iv_err *err);
/* Uses an already loaded model (not freed by iv_judge_free); several judges
 * (e.g. one per protocol) may share one model. */
int iv_judge_new(const struct iv_model *m, const iv_judge_tmpl *tmpl, iv_judge **out, iv_err *err);
const struct iv_model *iv_judge_model(const iv_judge *j);
/* Prefix reuse (default on): the template's head (the text before its first
 * placeholder) is run once per judge and its KV cache copied into every row,
 * so an item costs only its own tokens; and an item whose filled text ends in
 * the same tokens as the previous one (the tail's tokens and one more) shares
 * its score spellings instead of tokenising filled + "k" twenty times.  Off:
 * every item runs from BOS and finds its own spellings (the plain path, for
 * tests and the bench).  rows: sequences per forward call, 0 = automatic (a
 * 256 MiB KV-cache budget, at most 32). */
void iv_judge_set_prefix_reuse(iv_judge *j, int on);
void iv_judge_set_rows(iv_judge *j, int rows);

typedef struct iv_judge_out {
    double dist[IV_JUDGE_K];   /* answer probabilities 1..10, renormalised */
    double expected;           /* sum k dist[k-1], in 1..10 */
    double mass;               /* probability the judge gave to all score spellings
                                  before renormalising (record "judge_mass") */
    double mass_space;         /* the part of mass on the " k" spellings */
} iv_judge_out;

/* Scores n (prompt, continuation) pairs, batched as prefill (ragged rows, many
 * per forward call) with prefix reuse; out: [n].  The result of an item does
 * not depend on the others (up to float rounding, < 1e-5 on expected). */
int iv_judge_score_batch(iv_judge *j, const char *const *prompts, const char *const *conts, size_t n,
                         iv_judge_out *out, iv_err *err);
/* One pair (a batch of one); mass optional. */
int iv_judge_score(iv_judge *j, const char *prompt, const char *continuation,
                   double dist[IV_JUDGE_K], double *expected, double *mass, iv_err *err);

/* The once-per-cell warning: counts the records of a cell whose mass (NAN =
 * not measured, skipped) is below IV_JUDGE_MASS_WARN; when there is one, writes a
 * one-line message into buf (e.g. "judge: 12 of 210 records gave the score tokens
 * less than 0.5 of the judge's probability (mean 0.41, min 0.08): its
 * coherence is unreliable") and returns that count; 0 otherwise. */
int iv_judge_mass_warning(const double *mass, size_t n, char *buf, size_t cap);
void iv_judge_free(iv_judge *j);

/* ---- the reference protocol's judge and perplexity (DESIGN.md 3b) ---------------------------- */

/* Defects of the reference's scoring, as flags on an item; iv_paper_flag_text
 * names each one (a record's "deviations" entry).  GREEDY and CHAR_JOIN apply
 * to every item scored the paper way. */
enum {
    IV_PAPER_JUDGE_GREEDY = 1u << 0,    /* score = first character of a greedy 2-token answer */
    IV_PAPER_JUDGE_TEN = 1u << 1,       /* the judge wrote "10", read as 1 -> 0.1 */
    IV_PAPER_JUDGE_NO_DIGIT = 1u << 2,  /* no digit where the score was read: NAN (the
                                           reference raised an exception here) */
    IV_PAPER_PPL_CHAR_JOIN = 1u << 3,   /* "\n\n" between every character of prompt+continuation */
    IV_PAPER_PPL_WINDOW_MEAN = 1u << 4, /* several windows: exp(mean of per-window mean NLLs) */
};
const char *iv_paper_flag_text(unsigned flag);  /* one bit; NULL when unknown */

/* The reference's reading of the judge's output: decoded = the whole decoded
 * sequence (template and the generated tokens, special tokens skipped).  Takes
 * its last two characters (code points), strips whitespace as Python's
 * str.strip() does, and reads the first character as a digit d: score d / 10
 * (so 0..0.9; "10" gives 0.1 and sets IV_PAPER_JUDGE_TEN).  Anything else
 * (empty, "=", a letter, a non-ASCII digit) returns NAN with
 * IV_PAPER_JUDGE_NO_DIGIT: the reference's int() raised there, we record null.
 * *flags gets IV_PAPER_JUDGE_GREEDY plus those. */
double iv_judge_paper_parse(const char *decoded, unsigned *flags);

/* The reference judge: the judge's template filled (use IV_JUDGE_PAPER_TEMPLATE
 * or data/judge/paper.txt), tokenised with special tokens, greedy decoding of
 * two new tokens (stopping at EOS), the whole sequence decoded and read by
 * iv_judge_paper_parse.  score, flags: [n]; text (optional): [n] malloc'd
 * decoded answers (the generated part only) for records and debugging.
 * Batched and with prefix reuse like iv_judge_score_batch. */
int iv_judge_paper_batch(iv_judge *j, const char *const *prompts, const char *const *conts, size_t n,
                         double *score, unsigned *flags, char **text, iv_err *err);

/* "\n\n".join(s) over the characters (code points) of s, as the reference did
 * with the string prompt + continuation: "ab" -> "a\n\nb".  A byte that is not
 * valid UTF-8 counts as one character.  malloc'd; NULL on out of memory. */
char *iv_paper_char_join(const char *s);

/* Strided-window perplexity (the Hugging Face "Perplexity of fixed-length
 * models" recipe): windows [b, min(b + max_length, n)) for b = 0, stride,
 * 2 stride, ... until one reaches n; each window is a fresh context; its labels
 * before position len - (end - previous end) are masked, and the first token
 * of a window is never a label; a window's loss is the mean NLL of its
 * labels; ppl = exp(mean of the window losses) (not token-weighted).  ids[i]:
 * [n[i]]; ppl, n_windows (optional): [count].  ppl is NAN for an item with no
 * label (n < 2).  All windows of all items are scored together (iv_score_batch). */
int iv_ppl_strided_batch(const struct iv_model *m, const int32_t *const *ids, const int *n, size_t count,
                         int max_length, int stride, double *ppl, int *n_windows, iv_err *err);

/* The reference perplexity under the judge model: the text
 * iv_paper_char_join(prompt + continuation), tokenised with special tokens,
 * strided windows of stride 512 and max_length = the model's context.
 * ppl, flags: [n] (flags: CHAR_JOIN, and WINDOW_MEAN when there were several). */
int iv_ppl_paper_batch(const struct iv_model *m, const char *const *prompts, const char *const *conts,
                       size_t n, double *ppl, unsigned *flags, iv_err *err);
int iv_ppl_paper(const struct iv_model *m, const char *prompt, const char *continuation, double *ppl,
                 unsigned *flags, iv_err *err);

/* ---- batched scoring (perplexity at prefill speed) ------------------------------------------ */

/* Per-token log-probabilities of many sequences: logprobs[i][j] = log p(ids[i][j+1] |
 * ids[i][..j]) for j < n[i] - 1 (caller allocates [n[i] - 1]; nothing for n[i] < 2).
 * Sequences run as rows of one state, many per forward call (ragged lengths;
 * a long one is fed in pieces), within budgets of 256 MiB for the KV cache and
 * for the logits.  Equal to iv_score per sequence up to float rounding. */
int iv_score_batch(const struct iv_model *m, const int32_t *const *ids, const int *n, size_t count,
                   float *const *logprobs, iv_err *err);

/* Perplexity of a continuation given a prompt under a reference model: scores
 * prompt+continuation ids with iv_score and sums the continuation part.
 * prompt_ids must hold at least one token (BOS). */
int iv_cont_nll_model(const struct iv_model *ref, const int32_t *prompt_ids, int n_prompt,
                      const int32_t *cont_ids, int n_cont, double *nll, iv_err *err);
/* The same for count items at once through iv_score_batch: nll[i] = summed NLL
 * (nats) of cont_ids[i] given prompt_ids[i] (0 for an empty continuation). */
int iv_cont_nll_batch(const struct iv_model *ref, const int32_t *const *prompt_ids, const int *n_prompt,
                      const int32_t *const *cont_ids, const int *n_cont, size_t count, double *nll,
                      iv_err *err);

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
    int bf16;                  /* 1: the model multiplied in bf16 (--compute bf16); ids end in
                                  "_bf16", records say "compute": "bf16" */
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
