/* The sweep engine: trains each missing artifact once (into a temp path, then
 * renamed, so a kill never leaves a half-written one), then runs every missing
 * cell: batched greedy generation with the method's hook, per-prompt success,
 * target probability, edit size, perplexity under the clean model and (with a
 * judge) coherence; each cell file is written atomically.  Clean generations
 * and bottleneck generations do not depend on the concept and are computed once
 * per model (and layer/method) and scored for every concept. */
#include "interv/sweep.h"
#include "interv/eval.h"
#include "interv/train.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Target tokens of every concept scored from one generation pass. */
typedef struct {
    int nsets;
    int32_t **tid;  /* [nsets][nt[k]] */
    int *nt;        /* [nsets] */
} target_sets;

typedef struct {
    const iv_sweep_config *c;
    const char *out;
    const iv_sweep_progress *pr;
    iv_prompt_set ps;
    iv_concept_set cs;
    iv_judge *judge;
    iv_model *judge_model;  /* owned when the judge uses the built-in paper template */
    int total, done, skipped, done_all;  /* done: written by this process; done_all: on disk */
    struct timespec t0;
    iv_sweep_plan plan;
    iv_model *m;          /* the model of the current task */
    int mi;               /* its index in c->models, -1 = none */
    target_sets all;      /* every concept's targets on m */
} sweep;

typedef struct { /* one generation pass over every prompt */
    char **cont;          /* [n] continuation text */
    double *edit;         /* [n] mean edit size (NAN = none) */
    double *tprob;        /* [nsets][n] mean target mass over steps, per concept (NAN = none) */
    int nsets;
    double *ppl;          /* [n] */
    int *ntok;            /* [n] continuation tokens */
    double *coh;          /* [n] NAN = not measured */
    double (*jd)[IV_JUDGE_K];
    int *has_jd;
    double *mass;         /* [n] judge probability on the score tokens (NAN = none) */
    unsigned *pflags;     /* [n] reference scoring defects applied (IV_PAPER_* | SWEEP_PPL_CLEAN_MODEL) */
    size_t n;
} gen_pass;

/* Paper protocol without a judge: its perplexity is taken under the clean model. */
#define SWEEP_PPL_CLEAN_MODEL (1u << 30)

static double elapsed(const sweep *s) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - s->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - s->t0.tv_nsec);
}

static void progress(sweep *s, const char *what) {
    if (s->pr && s->pr->fn) s->pr->fn(s->pr->user, what, s->done_all, s->total, elapsed(s));
}

static int mkdir_p(const char *path, iv_err *err) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return iv_errf(err, "%s: cannot create folder: %s", tmp, strerror(errno));
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return iv_errf(err, "%s: cannot create folder: %s", tmp, strerror(errno));
    if (access(tmp, W_OK) != 0) return iv_errf(err, "%s: folder is not writable", tmp);
    return 0;
}

static void pass_free(gen_pass *g) {
    if (!g->cont) return;
    for (size_t i = 0; i < g->n; i++) free(g->cont[i]);
    free(g->cont); free(g->edit); free(g->tprob); free(g->ppl); free(g->ntok); free(g->coh); free(g->jd); free(g->has_jd);
    free(g->mass); free(g->pflags);
    memset(g, 0, sizeof *g);
}


static void targets_free(target_sets *t) {
    for (int k = 0; k < t->nsets; k++) free(t->tid[k]);
    free(t->tid); free(t->nt);
    memset(t, 0, sizeof *t);
}

typedef struct {
    const target_sets *ts;
    int chunk;
    double *sum;   /* [nsets][chunk] */
    int *steps;    /* [chunk] */
} step_acc;

static void on_step(void *user, int prompt, int step, const float *probs, int vocab) {
    (void)step;
    step_acc *a = user;
    for (int k = 0; k < a->ts->nsets; k++) {
        double m = 0;
        for (int i = 0; i < a->ts->nt[k]; i++)
            if (a->ts->tid[k][i] >= 0 && a->ts->tid[k][i] < vocab) m += probs[a->ts->tid[k][i]];
        a->sum[(size_t)k * a->chunk + prompt] += m;
    }
    a->steps[prompt]++;
}

/* Generates every prompt with meth (NULL = clean); targets for target probability. */
/* Fluency of every continuation of a pass, batched as prefill: perplexity of the
 * continuation under the clean model and the judge's expected score (interv
 * protocol), or the reference's character-joined perplexity under the judge and
 * its greedy two-token score (paper protocol, DESIGN.md 3b).  orig/olen: the
 * user's prompts as tokens; outs/outn: the continuations' tokens. */
static int score_pass(sweep *s, const iv_model *m, gen_pass *g, int32_t **orig, const int *olen, int32_t **outs,
                      const int *outn, iv_err *err) {
    size_t n = g->n;
    const char **prompts = malloc(n * sizeof *prompts);
    double *v = malloc(n * sizeof *v);
    unsigned *fl = calloc(n, sizeof *fl);
    int rc = prompts && v && fl ? 0 : iv_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) prompts[i] = s->ps.p[i].text;
    if (rc == 0 && s->c->protocol == IV_PROTOCOL_PAPER) {
        /* under the judge model; without a judge the clean model stands in */
        const iv_model *pm = s->judge ? iv_judge_model(s->judge) : m;
        rc = iv_ppl_paper_batch(pm, prompts, (const char *const *)g->cont, n, g->ppl, fl, err);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            g->pflags[i] |= fl[i];
            g->ntok[i] = -1; /* the text scored is not the continuation's tokens */
            if (!s->judge) g->pflags[i] |= SWEEP_PPL_CLEAN_MODEL;
        }
        if (rc == 0 && s->judge) {
            memset(fl, 0, n * sizeof *fl);
            rc = iv_judge_paper_batch(s->judge, prompts, (const char *const *)g->cont, n, g->coh, fl, NULL, err);
            for (size_t i = 0; rc == 0 && i < n; i++) g->pflags[i] |= fl[i];
        }
    } else if (rc == 0) {
        rc = iv_cont_nll_batch(m, (const int32_t *const *)orig, olen, (const int32_t *const *)outs, outn, n, v, err);
        for (size_t i = 0; rc == 0 && i < n; i++) g->ppl[i] = outn[i] > 0 ? exp(v[i] / outn[i]) : NAN;
        if (rc == 0 && s->judge) {
            iv_judge_out *jo = malloc(n * sizeof *jo);
            rc = jo ? iv_judge_score_batch(s->judge, prompts, (const char *const *)g->cont, n, jo, err)
                    : iv_errf(err, "out of memory");
            for (size_t i = 0; rc == 0 && i < n; i++) {
                g->coh[i] = jo[i].expected;
                g->mass[i] = jo[i].mass;
                memcpy(g->jd[i], jo[i].dist, sizeof g->jd[i]);
                g->has_jd[i] = 1;
            }
            free(jo);
        }
    }
    free(prompts);
    free(v);
    free(fl);
    return rc;
}

/* Generates every prompt with meth (NULL = clean); targets for target probability. */
static int run_pass(sweep *s, const iv_model *m, iv_method *meth, const target_sets *ts, gen_pass *g, iv_err *err) {
    size_t n = s->ps.n;
    g->n = n;
    g->nsets = ts->nsets;
    g->cont = calloc(n, sizeof *g->cont);
    g->edit = malloc(n * sizeof *g->edit);
    g->tprob = malloc((size_t)ts->nsets * n * sizeof *g->tprob);
    g->ppl = malloc(n * sizeof *g->ppl);
    g->ntok = calloc(n, sizeof *g->ntok);
    g->coh = malloc(n * sizeof *g->coh);
    g->jd = calloc(n, sizeof *g->jd);
    g->has_jd = calloc(n, sizeof *g->has_jd);
    g->mass = malloc(n * sizeof *g->mass);
    g->pflags = calloc(n, sizeof *g->pflags);
    int32_t **orig = calloc(n, sizeof *orig), **outs = calloc(n, sizeof *outs); /* [n][olen] [n][outn] */
    int *olen = calloc(n, sizeof *olen), *outn = calloc(n, sizeof *outn);
    int rc = 0;
    if (!g->cont || !g->edit || !g->tprob || !g->ppl || !g->ntok || !g->coh || !g->jd || !g->has_jd || !g->mass ||
        !g->pflags || !orig || !outs || !olen || !outn)
        rc = iv_errf(err, "out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) g->mass[i] = g->ppl[i] = g->coh[i] = NAN;
    iv_hooks hooks = {0};
    if (rc == 0 && meth && iv_method_install(meth, &hooks, err) != 0) rc = -1;
    int B = s->c->batch;
    for (size_t c0 = 0; c0 < n && rc == 0; c0 += (size_t)B) {
        int k = (int)(n - c0 < (size_t)B ? n - c0 : (size_t)B);
        int32_t **ids = calloc((size_t)k, sizeof *ids);
        int *len = calloc((size_t)k, sizeof *len);
        double *sum = calloc((size_t)k * ts->nsets, sizeof *sum);
        int *steps = calloc((size_t)k, sizeof *steps);
        if (!ids || !len || !sum || !steps) rc = iv_errf(err, "out of memory");
        for (int i = 0; i < k && rc == 0; i++) {
            size_t j = c0 + (size_t)i;
            const char *p = s->ps.p[j].text;
            char *fed = NULL;
            size_t a = 0, b = 0;
            if (meth) rc = iv_method_prompt(meth, p, &fed, err);
            else if (!(fed = strdup(p))) rc = iv_errf(err, "out of memory");
            if (rc == 0) rc = iv_tok_encode(m->tok, fed, strlen(fed), 1, &ids[i], &a, err);
            if (rc == 0) rc = iv_tok_encode(m->tok, p, strlen(p), 1, &orig[j], &b, err);
            len[i] = (int)a;
            olen[j] = (int)b;
            free(fed);
        }
        iv_gen_opts go = iv_gen_defaults();
        go.max_new = s->c->max_new;
        go.batch = k;
        step_acc acc = {ts, k, sum, steps};
        go.on_step = on_step;
        go.user = &acc;
        if (meth) iv_method_reset_stats(meth);
        if (rc == 0)
            rc = iv_generate(m, (const int32_t *const *)ids, len, k, &go, meth ? &hooks : NULL, outs + c0, outn + c0, err);
        for (int i = 0; i < k && rc == 0; i++) {
            size_t j = c0 + (size_t)i;
            double em = NAN;
            int64_t ec = 0;
            if (meth && iv_method_has_hook(meth)) { iv_method_row_stats(meth, i, &em, &ec); if (!ec) em = NAN; }
            else if (meth) em = 0;
            g->edit[j] = meth ? em : 0;
            for (int t = 0; t < ts->nsets; t++)
                g->tprob[(size_t)t * n + j] = steps[i] ? sum[(size_t)t * k + i] / steps[i] : NAN;
            /* the continuation is read after the user's prompt (not a prompting template) */
            int tot = olen[j] + outn[j];
            int32_t *all = malloc((size_t)(tot > 0 ? tot : 1) * sizeof *all);
            if (!all) { rc = iv_errf(err, "out of memory"); break; }
            memcpy(all, orig[j], (size_t)olen[j] * sizeof *all);
            memcpy(all + olen[j], outs[j], (size_t)outn[j] * sizeof *all);
            char *full = NULL, *pre = NULL;
            size_t fl, pl;
            rc = iv_tok_decode(m->tok, all, (size_t)tot, 1, &full, &fl, err);
            if (rc == 0) rc = iv_tok_decode(m->tok, orig[j], (size_t)olen[j], 1, &pre, &pl, err);
            if (rc == 0 && !(g->cont[j] = strdup(fl >= pl && !memcmp(full, pre, pl) ? full + pl : full)))
                rc = iv_errf(err, "out of memory");
            free(full); free(pre); free(all);
            g->ntok[j] = outn[j];
        }
        for (int i = 0; ids && i < k; i++) free(ids[i]);
        free(ids); free(len); free(sum); free(steps);
    }
    if (rc == 0) {
        progress(s, "scoring");
        rc = score_pass(s, m, g, orig, olen, outs, outn, err);
    }
    for (size_t i = 0; i < n; i++) { if (orig) free(orig[i]); if (outs) free(outs[i]); }
    free(orig); free(outs); free(olen); free(outn);
    return rc;
}

/* Writes one cell from a generation pass, with success for `concept`. */
static int write_cell(sweep *s, const iv_cell *cell, const gen_pass *g, int set, const iv_concept *concept, iv_err *err) {
    iv_record *r = calloc(g->n, sizeof *r);
    if (!r) return iv_errf(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; i < g->n && rc == 0; i++) {
        r[i].cell = *cell;
        r[i].split = iv_prompt_split(&s->ps, i);
        r[i].prompt_index = (int)i;
        r[i].category = s->ps.categories[s->ps.p[i].category];
        r[i].prompt = s->ps.p[i].text;
        r[i].continuation = g->cont[i];
        int special = 0;
        if (cell->protocol == IV_PROTOCOL_PAPER)
            r[i].success = iv_success_paper(cell->concept, s->ps.p[i].text, g->cont[i], &special);
        else
            r[i].success = iv_success(s->ps.p[i].text, g->cont[i], (const char *const *)concept->forms,
                                      concept->n_forms, s->c->match_prompt);
        r[i].target_prob = g->tprob[(size_t)set * g->n + i];
        r[i].edit_size = g->edit[i];
        r[i].perplexity = g->ppl[i];
        r[i].cont_tokens = g->ntok[i];
        r[i].coherence = g->coh[i];
        r[i].has_judge_dist = g->has_jd[i];
        r[i].judge_mass = g->mass ? g->mass[i] : NAN;
        if (g->has_jd[i]) memcpy(r[i].judge_dist, g->jd[i], sizeof r[i].judge_dist);
        if (cell->protocol == IV_PROTOCOL_PAPER && iv_paper_deviations(&r[i], special) != 0)
            rc = iv_errf(err, "out of memory");
        for (unsigned b = 1; b && rc == 0; b <<= 1) {
            if (!(g->pflags[i] & b)) continue;
            const char *t = b == SWEEP_PPL_CLEAN_MODEL
                                ? "perplexity: under the clean model (no judge configured; the reference used its judge)"
                                : iv_paper_flag_text(b);
            if (t && iv_record_add_deviation(&r[i], t) != 0) rc = iv_errf(err, "out of memory");
        }
    }
    if (rc == 0) rc = iv_cell_write(s->out, r, g->n, err);
    char warn[512];
    if (rc == 0 && iv_judge_mass_warning(g->mass, g->n, warn, sizeof warn) > 0) { /* once per cell */
        char id[256], msg[800];
        iv_cell_id(cell, id, sizeof id);
        snprintf(msg, sizeof msg, "warning: cell %s: %s", id, warn);
        progress(s, msg);
    }
    for (size_t i = 0; i < g->n; i++) {
        for (int k = 0; k < r[i].n_deviations; k++) free(r[i].deviations[k]);
        free(r[i].deviations);
    }
    free(r);
    if (rc == 0) s->done++;
    return rc;
}

/* Target tokens of every concept of the sweep (for passes shared by concepts). */
static int all_targets(const sweep *s, const iv_model *m, target_sets *ts, iv_err *err) {
    int n = s->c->n_concepts;
    ts->nsets = n;
    ts->tid = calloc((size_t)n, sizeof *ts->tid);
    ts->nt = calloc((size_t)n, sizeof *ts->nt);
    for (int k = 0; k < n; k++) {
        float *w;
        int e = s->c->protocol == IV_PROTOCOL_PAPER
                    ? iv_concept_targets_paper(m->tok, s->c->concepts[k], &ts->tid[k], &w, &ts->nt[k], err)
                    : iv_concept_targets(m->tok, s->c->concepts[k], 1, 1, 1, &ts->tid[k], &w, &ts->nt[k], err);
        if (e != 0) {
            iv_err_prefix(err, "%s: concept '%s'", s->c->path, s->c->concepts[k]);
            targets_free(ts);
            return -1;
        }
        free(w);
    }
    return 0;
}

/* The one target set of a method's own concept. */
static void method_targets(const iv_method *meth, target_sets *ts) {
    const int32_t *tid;
    const float *tw;
    int nt;
    iv_method_targets(meth, &tid, &tw, &nt);
    ts->nsets = 1;
    ts->tid = malloc(sizeof *ts->tid);
    ts->nt = malloc(sizeof *ts->nt);
    ts->tid[0] = malloc((size_t)(nt ? nt : 1) * sizeof(int32_t));
    memcpy(ts->tid[0], tid, (size_t)nt * sizeof(int32_t));
    ts->nt[0] = nt;
}

static int load_pairs(const sweep *s, const char *concept, iv_pair_set *ps, iv_err *err) {
    char *p = iv_sweep_pairs_path(s->c, concept);
    if (!p) return iv_errf(err, "out of memory");
    int rc = iv_pairs_load(p, ps, err);
    free(p);
    return rc;
}

/* Trains the artifact into path.tmp and renames it into place. */
static int train_artifact(sweep *s, const iv_model *m, iv_method_kind k, int layer, const char *concept, const char *path,
                          iv_err *err) {
    char tmp[4200], what[256];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    snprintf(what, sizeof what, "training %s%s%s (layer %d)", iv_method_kind_name(k), concept ? " for " : "",
             concept ? concept : "", layer);
    progress(s, what);
    int rc = 0;
    if (k == IV_METHOD_STEERING || k == IV_METHOD_PROBE) {
        iv_pair_set pairs;
        if (load_pairs(s, concept, &pairs, err) != 0) return -1;
        iv_texts pos = {pairs.pos, (int)pairs.n}, neg = {pairs.neg, (int)pairs.n};
        if (k == IV_METHOD_STEERING) {
            iv_steer_opts o = {0};
            o.layer = layer;
            o.act = iv_act_defaults();
            float *dir = calloc((size_t)m->cfg.dim, sizeof *dir);
            rc = iv_train_steering(m, &pos, &neg, &o, dir, err);
            if (rc == 0) rc = iv_steering_save(tmp, dir, m->cfg.dim, layer, concept, 0, (int)pairs.n, err);
            free(dir);
        } else {
            iv_probe_opts o = iv_probe_defaults();
            o.layer = layer;
            o.seed = s->c->seed;
            o.protocol = s->c->protocol;
            iv_probe pr = {0};
            rc = iv_train_probe(m, &pos, &neg, &o, &pr, err);
            if (rc == 0) rc = iv_probe_save(tmp, &pr, layer, concept, o.l1, err);
            iv_probe_free(&pr);
        }
        iv_pairs_free(&pairs);
    } else {
        iv_texts corpus = {0}, held = {0};
        rc = iv_texts_read_paragraphs(s->c->corpus, &corpus, err);
        if (rc == 0 && s->c->heldout) rc = iv_texts_read_paragraphs(s->c->heldout, &held, err);
        if (rc == 0 && k == IV_METHOD_TUNED) {
            iv_lens_opts o = iv_lens_defaults();
            o.seed = s->c->seed;
            if (s->c->lens_steps) o.steps = s->c->lens_steps;
            iv_tuned_lens tl = {0};
            rc = iv_train_tuned_lens(m, &corpus, s->c->heldout ? &held : NULL, &o, &tl, err);
            if (rc == 0) rc = iv_tuned_lens_save(tmp, &tl, m->path, err);
            iv_tuned_lens_free(&tl);
        } else if (rc == 0) {
            iv_sae_opts o = iv_sae_defaults();
            o.layer = layer;
            o.seed = s->c->seed;
            o.topk = s->c->sae_k;
            if (s->c->sae_d) o.d_sae = s->c->sae_d;
            if (s->c->sae_steps) o.steps = s->c->sae_steps;
            iv_sae sae = {0};
            rc = iv_train_sae(m, &corpus, s->c->heldout ? &held : NULL, &o, &sae, err);
            if (rc == 0) rc = iv_sae_save(tmp, &sae, m->path, err);
            iv_sae_free(&sae);
        }
        iv_texts_free(&corpus);
        if (s->c->heldout) iv_texts_free(&held);
    }
    if (rc == 0 && rename(tmp, path) != 0) rc = iv_errf(err, "%s: cannot move the trained artifact into place: %s", path, strerror(errno));
    return rc;
}

static int make_method(sweep *s, const iv_model *m, iv_method_kind k, int layer, const char *concept, double alpha,
                       iv_method_mode mode, const char *artifact, iv_method **out, iv_err *err) {
    iv_method_opts o = iv_method_defaults();
    o.kind = k;
    o.layer = layer;
    o.mode = mode;
    o.alpha = (float)alpha;
    o.at = s->c->at;
    o.concept = concept;
    o.artifact = artifact && artifact[0] ? artifact : NULL;
    o.keep_sae_error = s->c->keep_sae_error;
    o.normed = s->c->normed;
    o.prompt_template = s->c->prompt_template;
    o.protocol = s->c->protocol;
    char *pairs = iv_sweep_pairs_path(s->c, concept);
    if (!pairs) return iv_errf(err, "out of memory");
    if (k == IV_METHOD_SAE && access(pairs, R_OK) == 0) o.pairs = pairs;
    int rc = iv_method_create(m, &o, out, err);
    free(pairs);
    return rc;
}

/* ---- tasks ------------------------------------------------------------------------------- */

/* The model of task t, loaded once and kept until a task of another model. */
static int use_model(sweep *s, int mi, iv_err *err) {
    if (s->m && s->mi == mi) return 0;
    if (s->m) { targets_free(&s->all); iv_model_free(s->m); s->m = NULL; }
    const char *path = s->c->models[mi];
    if (iv_model_load(path, NULL, &s->m, err) != 0) return -1;
    s->mi = mi;
    if (s->c->compute != IV_COMPUTE_F32 && iv_model_set_compute(s->m, (iv_compute)s->c->compute, err) != 0) return -1;
    if (!s->m->tok) return iv_errf(err, "%s: no tokenizer found beside the model", path);
    for (int l = 0; l < s->c->n_layers; l++)
        if (s->c->layers[l] >= s->m->cfg.n_layers)
            return iv_errf(err, "%s: layer %d out of range for %s (%d layers)", s->c->path, s->c->layers[l], path,
                           s->m->cfg.n_layers);
    return all_targets(s, s->m, &s->all, err);
}

/* Writes the cells of task t from pass g that are not on disk yet (another
 * process may have written some: a cell is never written twice). */
static int write_task_cells(sweep *s, const iv_sweep_task *t, const gen_pass *g, int own_set, iv_err *err) {
    for (int i = 0; i < t->n_cells; i++) {
        const iv_cell *cell = &s->plan.cells[t->first_cell + i];
        if (iv_sweep_cell_done(s->out, cell)) continue;
        int ci = t->concept >= 0 ? t->concept : i; /* shared passes: cell i is concept i */
        const iv_concept *cc = iv_concept_find(&s->cs, s->c->concepts[ci]);
        if (write_cell(s, cell, g, own_set ? 0 : ci, cc, err) != 0) return -1;
    }
    return 0;
}

static int run_task(sweep *s, int ti, iv_err *err) {
    const iv_sweep_task *t = &s->plan.t[ti];
    if (use_model(s, t->model, err) != 0) return -1;
    const iv_model *m = s->m;
    const char *kn = iv_method_kind_name(t->method);
    const char *concept = t->concept >= 0 ? s->c->concepts[t->concept] : s->c->concepts[0];
    char art[4096] = "", what[512];
    if (t->kind == IV_TASK_ARTIFACT) {
        iv_sweep_artifact_path(s->c, &s->plan, s->out, t, art, sizeof art);
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/artifacts/%s", s->out, s->plan.model_names[t->model]);
        if (mkdir_p(dir, err) != 0) return -1;
        return train_artifact(s, m, t->method, t->layer, t->concept >= 0 ? concept : NULL, art, err);
    }
    if (t->needs >= 0) iv_sweep_artifact_path(s->c, &s->plan, s->out, &s->plan.t[t->needs], art, sizeof art);
    else if (s->c->artifact[t->method]) { /* given by the config */
        char *a = iv_sweep_pattern(s->c->artifact[t->method], concept, t->layer);
        if (!a) return iv_errf(err, "out of memory");
        snprintf(art, sizeof art, "%s", a);
        free(a);
    }
    gen_pass g = {0};
    int rc = 0;
    if (t->kind == IV_TASK_CLEAN) {
        progress(s, "clean generations");
        rc = run_pass(s, m, NULL, &s->all, &g, err);
        if (rc == 0) rc = write_task_cells(s, t, &g, 0, err);
    } else {
        iv_method *meth;
        int bn = t->kind == IV_TASK_BOTTLENECK;
        if (bn) snprintf(what, sizeof what, "%s bottleneck L%d", kn, t->layer);
        else snprintf(what, sizeof what, "%s L%d %s a=%g", kn, t->layer, concept, t->alpha);
        progress(s, what);
        if (make_method(s, m, t->method, t->layer, concept, bn ? 0 : t->alpha, bn ? IV_MMODE_BOTTLENECK : IV_MMODE_EDIT,
                        art, &meth, err) != 0)
            return -1;
        target_sets own = {0};
        if (!bn) method_targets(meth, &own);
        rc = run_pass(s, m, meth, bn ? &s->all : &own, &g, err);
        if (rc == 0) rc = write_task_cells(s, t, &g, !bn, err);
        targets_free(&own);
        iv_method_free(meth);
    }
    pass_free(&g);
    return rc;
}

/* Claims task ti for this process: an exclusive non-blocking flock on its lock
 * file, released by the kernel if the process dies.  Returns the fd, or -1 when
 * another process holds it, -2 on an error. */
static int claim(sweep *s, int ti, iv_err *err) {
    char key[300], path[4400];
    if (iv_sweep_task_key(s->c, &s->plan, ti, key, sizeof key) != 0) {
        iv_errf(err, "%s: task %d: key too long", s->c->path, ti);
        return -2;
    }
    snprintf(path, sizeof path, "%s/locks/%s.lock", s->out, key);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) { iv_errf(err, "%s: cannot create the lock file: %s", path, strerror(errno)); return -2; }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK) return -1;
        iv_errf(err, "%s: cannot lock: %s", path, strerror(e));
        return -2;
    }
    return fd;
}

/* The tasks this process may run: all, or shard K of N (every N-th cell task and
 * the artifacts those need). */
static int select_tasks(sweep *s, const iv_sweep_exec *x, unsigned char *mine) {
    int n = s->plan.n_tasks, k = 0;
    memset(mine, 0, (size_t)n);
    for (int i = 0; i < n; i++) {
        if (s->plan.t[i].kind == IV_TASK_ARTIFACT) continue;
        int take = !x || x->n_shards <= 1 || k % x->n_shards == x->shard - 1;
        k++;
        if (!take) continue;
        mine[i] = 1;
        if (s->plan.t[i].needs >= 0) mine[s->plan.t[i].needs] = 1;
    }
    return 0;
}

static int count_done_cells(const sweep *s) {
    int d = 0;
    for (int i = 0; i < s->plan.n_cells; i++) d += iv_sweep_cell_done(s->out, &s->plan.cells[i]);
    return d;
}

/* Runs this process's tasks until each is done (by it or by another process). */
static int execute(sweep *s, iv_sweep_exec *x, iv_err *err) {
    int n = s->plan.n_tasks;
    unsigned char *mine = malloc((size_t)(n ? n : 1)), *left = malloc((size_t)(n ? n : 1));
    if (!mine || !left) { free(mine); free(left); return iv_errf(err, "out of memory"); }
    select_tasks(s, x, mine);
    int n_left = 0;
    for (int i = 0; i < n; i++) {
        left[i] = mine[i] && !iv_sweep_task_done(s->c, &s->plan, s->out, i);
        n_left += left[i];
    }
    int rc = 0;
    while (n_left > 0 && rc == 0) {
        int ran = 0;
        for (int i = 0; i < n && rc == 0; i++) {
            if (!left[i]) continue;
            if (iv_sweep_task_done(s->c, &s->plan, s->out, i)) { left[i] = 0; n_left--; continue; }
            int need = s->plan.t[i].needs;
            if (need >= 0 && !iv_sweep_task_done(s->c, &s->plan, s->out, need)) continue; /* not trained yet */
            int fd = claim(s, i, err);
            if (fd == -2) { rc = -1; break; }
            if (fd == -1) continue; /* another process runs it */
            if (!iv_sweep_task_done(s->c, &s->plan, s->out, i)) { /* finished while we looked? */
                struct timespec a, b;
                clock_gettime(CLOCK_MONOTONIC, &a);
                rc = run_task(s, i, err);
                clock_gettime(CLOCK_MONOTONIC, &b);
                if (x) {
                    x->busy_s += (double)(b.tv_sec - a.tv_sec) + 1e-9 * (double)(b.tv_nsec - a.tv_nsec);
                    x->tasks_run++;
                }
                if (rc != 0 && x) iv_sweep_task_key(s->c, &s->plan, i, x->failed, sizeof x->failed);
                ran = 1;
            }
            close(fd);
            if (rc == 0) { left[i] = 0; n_left--; }
            s->done_all = count_done_cells(s);
            progress(s, "");
        }
        if (!ran && n_left > 0 && rc == 0) { /* everything left is held by others, or waits for an artifact */
            struct timespec w = {0, 200 * 1000 * 1000};
            nanosleep(&w, NULL);
            s->done_all = count_done_cells(s);
            progress(s, "waiting for other processes");
        }
    }
    free(mine);
    free(left);
    return rc;
}
/* Without a concepts file every concept's forms come from its text. */
static int default_concepts(const iv_sweep_config *c, iv_concept_set *cs, iv_err *err) {
    cs->c = calloc((size_t)c->n_concepts, sizeof *cs->c);
    if (!cs->c) return iv_errf(err, "out of memory");
    for (int i = 0; i < c->n_concepts; i++) {
        iv_concept *k = &cs->c[cs->n];
        if (!(k->name = strdup(c->concepts[i])) ||
            iv_concept_default_forms(c->concepts[i], &k->forms, &k->n_forms) != 0) {
            free(k->name);
            iv_concepts_free(cs);
            return iv_errf(err, "out of memory");
        }
        cs->n++;
    }
    return 0;
}

int iv_sweep_run_ex(const iv_sweep_config *c, const char *out_dir, const iv_sweep_progress *pr, iv_sweep_exec *x,
                    int *n_done, int *n_skipped, iv_err *err) {
    sweep s = {0};
    s.c = c;
    s.out = out_dir;
    s.pr = pr;
    s.mi = -1;
    clock_gettime(CLOCK_MONOTONIC, &s.t0);
    if (x && x->n_shards > 0 && (x->shard < 1 || x->shard > x->n_shards))
        return iv_errf(err, "shard %d/%d: K must be between 1 and N", x->shard, x->n_shards);
    char p[4096];
    snprintf(p, sizeof p, "%s/cells", out_dir);
    if (mkdir_p(p, err) != 0) return -1;
    snprintf(p, sizeof p, "%s/locks", out_dir);
    if (mkdir_p(p, err) != 0) return -1;
    if (iv_prompts_load(c->prompts, &s.ps, err) != 0) return -1;
    int rc = c->concepts_file ? iv_concepts_load(c->concepts_file, &s.cs, err) : default_concepts(c, &s.cs, err);
    for (int i = 0; rc == 0 && i < c->n_concepts; i++)
        if (!iv_concept_find(&s.cs, c->concepts[i]))
            rc = iv_errf(err, "%s: unknown concept '%s' (not in %s)", c->path, c->concepts[i], c->concepts_file);
    if (rc == 0 && c->protocol == IV_PROTOCOL_PAPER && (c->normed || c->keep_sae_error || c->match_prompt))
        rc = iv_errf(err, "%s: protocol = paper fixes %s by the reference's rule; remove it from the config", c->path,
                     c->normed ? "normed_lens (raw residual lens)" : c->keep_sae_error ? "keep_sae_error (x is replaced)"
                                                                       : "match_prompt (prompt + continuation)");
    for (int i = 0; rc == 0 && i < c->n_concepts && (!x || x->rank == 0); i++) { /* say which forms decide success */
        const iv_concept *cc = iv_concept_find(&s.cs, c->concepts[i]);
        char what[1024];
        int n = snprintf(what, sizeof what, "concept '%s': ", cc->name);
        if (c->protocol == IV_PROTOCOL_PAPER)
            snprintf(what + n, sizeof what - n, "success = substring '%s' in prompt + continuation (paper)", cc->name);
        else
            for (size_t k = 0; k < cc->n_forms && n < (int)sizeof what; k++)
                n += snprintf(what + n, sizeof what - (size_t)n, "%s%s", k ? ", " : "forms ", cc->forms[k]);
        progress(&s, what);
    }
    int needs_pairs = 0;
    for (int k = 0; k < c->n_methods; k++)
        needs_pairs |= (c->methods[k] == IV_METHOD_STEERING || c->methods[k] == IV_METHOD_PROBE) &&
                       !c->artifact[c->methods[k]];
    for (int i = 0; rc == 0 && needs_pairs && i < c->n_concepts; i++) { /* pairs must exist before hours of work */
        iv_pair_set ps;
        if (load_pairs(&s, c->concepts[i], &ps, err) != 0) rc = -1;
        else iv_pairs_free(&ps);
    }
    for (int k = 0; rc == 0 && k < c->n_methods; k++) { /* given artifacts must exist before work starts */
        const char *pat = c->artifact[c->methods[k]];
        for (int i = 0; pat && rc == 0 && i < c->n_concepts; i++)
            for (int l = 0; rc == 0 && l < c->n_layers; l++) {
                char *a = iv_sweep_pattern(pat, c->concepts[i], c->layers[l]);
                if (!a) rc = iv_errf(err, "out of memory");
                else if (access(a, R_OK) != 0)
                    rc = iv_errf(err, "%s: artifact.%s: %s: %s", c->path, iv_method_kind_name(c->methods[k]), a,
                                 strerror(errno));
                free(a);
            }
    }
    /* keep a copy of the configuration with the results (`--status` reads it) */
    if (rc == 0) {
        char *text;
        size_t len;
        snprintf(p, sizeof p, "%s/config.txt", out_dir);
        if (iv_read_file(c->path, &text, &len, err) == 0) {
            /* plus the values the command line may have overridden, so that
             * `--status DIR` sees this run's plan; later keys win */
            char *buf = NULL;
            size_t bl = 0;
            FILE *f = open_memstream(&buf, &bl);
            if (f) {
                fwrite(text, 1, len, f);
                fprintf(f, "\n# effective values of the last run\nmodels =");
                for (int i = 0; i < c->n_models; i++) fprintf(f, " \"%s\"", c->models[i]);
                fprintf(f, "\nprotocol = %s\n", iv_protocol_name(c->protocol));
                fclose(f);
            }
            rc = buf ? iv_write_atomic(p, buf, bl, err) : iv_errf(err, "out of memory");
            free(buf);
            free(text);
        } else {
            rc = -1;
        }
    }
    if (rc == 0) rc = iv_sweep_plan_build(c, &s.plan, err);
    if (rc == 0 && c->judge && c->judge_template && iv_judge_open(c->judge, c->judge_template, &s.judge, err) != 0)
        rc = -1;
    if (rc == 0 && c->judge && !c->judge_template) { /* the paper's own template, built in */
        iv_judge_tmpl t = {0};
        if (c->protocol != IV_PROTOCOL_PAPER)
            rc = iv_errf(err, "%s: 'judge' needs a 'judge_template' (protocol paper has its own)", c->path);
        else if (iv_judge_tmpl_parse(IV_JUDGE_PAPER_TEMPLATE, "paper template", &t, err) != 0 ||
                 iv_model_load(c->judge, NULL, &s.judge_model, err) != 0 ||
                 iv_judge_new(s.judge_model, &t, &s.judge, err) != 0)
            rc = -1;
        iv_judge_tmpl_free(&t);
    }
    if (rc == 0) {
        s.total = s.plan.n_cells;
        s.skipped = s.done_all = count_done_cells(&s);
        progress(&s, s.skipped ? "resuming" : "starting");
        rc = execute(&s, x, err);
    }
    if (rc == 0) {
        s.done_all = count_done_cells(&s);
        progress(&s, "done");
    }
    if (s.m) { targets_free(&s.all); iv_model_free(s.m); }
    iv_sweep_plan_free(&s.plan);
    if (s.judge) iv_judge_free(s.judge);
    iv_model_free(s.judge_model);
    iv_prompts_free(&s.ps);
    iv_concepts_free(&s.cs);
    if (n_done) *n_done = s.done;
    if (n_skipped) *n_skipped = s.skipped;
    return rc;
}

int iv_sweep_run(const iv_sweep_config *c, const char *out_dir, const iv_sweep_progress *pr, int *n_done, int *n_skipped,
                 iv_err *err) {
    return iv_sweep_run_ex(c, out_dir, pr, NULL, n_done, n_skipped, err);
}
