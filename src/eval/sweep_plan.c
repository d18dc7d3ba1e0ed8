/* The sweep as a list of tasks: every artifact to train and every generation
 * pass, each with the cells it writes, its expected cost and the artifact it
 * needs.  One process runs them all in order; several processes (MPI ranks,
 * shards, or simply two runs on one folder) run the same list and claim tasks
 * one at a time, so the plan is a pure function of the configuration. */
#include "interv/sweep.h"
#include "interv/eval.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Expected costs relative to one generation pass over every prompt.  Only the
 * order matters (longest first), so rough figures do. */
#define COST_PASS 1.0
#define COST_TRAIN_PAIRS 0.5   /* steering / probe: one forward pass per pair sentence */
#define COST_TRAIN_CORPUS 8.0  /* tuned lens / SAE: many passes over the corpus */

static char *model_short(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    const char *b = path + n;
    while (b > path && b[-1] != '/') b--;
    char *s = strndup(b, (size_t)(path + n - b));
    if (s) {
        char *dot = strrchr(s, '.');
        if (dot && !strcmp(dot, ".bin")) *dot = 0;
    }
    return s;
}

int iv_sweep_has_bottleneck(const iv_sweep_config *c, iv_method_kind k) {
    return c->bottleneck && (k == IV_METHOD_LOGIT || k == IV_METHOD_TUNED || k == IV_METHOD_SAE);
}

typedef struct {
    iv_sweep_plan *p;
    int cap_t, cap_c;
} builder;

static int add_task(builder *b, iv_sweep_task t) {
    iv_sweep_plan *p = b->p;
    if (p->n_tasks == b->cap_t) {
        int nc = b->cap_t ? 2 * b->cap_t : 64;
        iv_sweep_task *q = realloc(p->t, (size_t)nc * sizeof *q);
        if (!q) return -1;
        p->t = q;
        b->cap_t = nc;
    }
    t.first_cell = p->n_cells;
    t.n_cells = 0;
    p->t[p->n_tasks++] = t;
    return p->n_tasks - 1;
}

static int add_cell(builder *b, iv_cell cell) {
    iv_sweep_plan *p = b->p;
    if (p->n_cells == b->cap_c) {
        int nc = b->cap_c ? 2 * b->cap_c : 256;
        iv_cell *q = realloc(p->cells, (size_t)nc * sizeof *q);
        if (!q) return -1;
        p->cells = q;
        b->cap_c = nc;
    }
    p->cells[p->n_cells++] = cell;
    p->t[p->n_tasks - 1].n_cells++;
    return 0;
}

/* The artifact task a method needs at (model, layer, concept), added once; none
 * when the config gives the artifact (artifact.METHOD). */
static int artifact_task(builder *b, const iv_sweep_config *c, int model, iv_method_kind k, int layer, int concept) {
    if (k != IV_METHOD_TUNED && k != IV_METHOD_SAE && k != IV_METHOD_STEERING && k != IV_METHOD_PROBE) return -1;
    if (c->artifact[k]) return -1;
    int shared = k == IV_METHOD_TUNED || k == IV_METHOD_SAE;
    int L = k == IV_METHOD_TUNED ? -1 : layer, C = shared ? -1 : concept;
    for (int i = 0; i < b->p->n_tasks; i++) {
        const iv_sweep_task *t = &b->p->t[i];
        if (t->kind == IV_TASK_ARTIFACT && t->model == model && t->method == k && t->layer == L && t->concept == C)
            return i;
    }
    iv_sweep_task t = {IV_TASK_ARTIFACT, model, L, k, C, 0, shared ? COST_TRAIN_CORPUS : COST_TRAIN_PAIRS, -1, 0, 0};
    int i = add_task(b, t);
    return i < 0 ? -2 : i;
}

static int cmp_task(const iv_sweep_task *a, const iv_sweep_task *b) {
    if (a->model != b->model) return a->model < b->model ? -1 : 1;   /* load each model once */
    int aa = a->kind == IV_TASK_ARTIFACT, ba = b->kind == IV_TASK_ARTIFACT;
    if (aa != ba) return aa ? -1 : 1;                                /* dependencies first */
    if (a->cost != b->cost) return a->cost > b->cost ? -1 : 1;       /* longest first */
    return 0;
}

/* Stable insertion sort by cmp_task (plans are small), remapping `needs`. */
static int sort_tasks(iv_sweep_plan *p) {
    int n = p->n_tasks;
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order), *where = malloc((size_t)(n ? n : 1) * sizeof *where);
    iv_sweep_task *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!order || !where || !t) { free(order); free(where); free(t); return -1; }
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && cmp_task(&p->t[order[j - 1]], &p->t[i]) > 0) { order[j] = order[j - 1]; j--; }
        order[j] = i;
    }
    for (int i = 0; i < n; i++) where[order[i]] = i;
    for (int i = 0; i < n; i++) {
        t[i] = p->t[order[i]];
        if (t[i].needs >= 0) t[i].needs = where[t[i].needs];
    }
    free(p->t);
    p->t = t;
    free(order);
    free(where);
    return 0;
}

int iv_sweep_plan_build(const iv_sweep_config *c, iv_sweep_plan *p, iv_err *err) {
    memset(p, 0, sizeof *p);
    builder b = {p, 0, 0};
    p->model_names = calloc((size_t)c->n_models, sizeof *p->model_names);
    if (!p->model_names) return iv_errf(err, "out of memory");
    p->n_models = c->n_models;
    int rc = 0;
    for (int mi = 0; mi < c->n_models && rc == 0; mi++) {
        if (!(p->model_names[mi] = model_short(c->models[mi]))) { rc = -1; break; }
        const char *mn = p->model_names[mi];
        /* clean: one pass shared by every concept */
        iv_sweep_task clean = {IV_TASK_CLEAN, mi, -1, IV_METHOD_CLEAN, -1, 0, COST_PASS, -1, 0, 0};
        if (add_task(&b, clean) < 0) { rc = -1; break; }
        for (int ci = 0; ci < c->n_concepts && rc == 0; ci++)
            rc = add_cell(&b, (iv_cell){(char *)mn, "none", c->concepts[ci], -1, 0, IV_MODE_CLEAN, c->protocol, c->compute == 1});
        for (int li = 0; li < c->n_layers && rc == 0; li++) {
            int layer = c->layers[li];
            for (int k = 0; k < c->n_methods && rc == 0; k++) {
                iv_method_kind kk = c->methods[k];
                char *kn = (char *)iv_method_kind_name(kk);
                if (iv_sweep_has_bottleneck(c, kk)) { /* concept-independent round trip: one pass */
                    int need = artifact_task(&b, c, mi, kk, layer, -1);
                    if (need == -2) { rc = -1; break; }
                    iv_sweep_task t = {IV_TASK_BOTTLENECK, mi, layer, kk, -1, 0, COST_PASS, need, 0, 0};
                    if (add_task(&b, t) < 0) { rc = -1; break; }
                    for (int ci = 0; ci < c->n_concepts && rc == 0; ci++)
                        rc = add_cell(&b, (iv_cell){(char *)mn, kn, c->concepts[ci], layer, 0, IV_MODE_BOTTLENECK,
                                                    c->protocol, c->compute == 1});
                }
                int na;
                const double *al = iv_sweep_alphas(c, kk, &na);
                if (kk == IV_METHOD_PROMPTING) na = 1; /* no strength */
                for (int ci = 0; ci < c->n_concepts && rc == 0; ci++) {
                    int need = artifact_task(&b, c, mi, kk, layer, ci);
                    if (need == -2) { rc = -1; break; }
                    for (int a = 0; a < na && rc == 0; a++) {
                        double alpha = kk == IV_METHOD_PROMPTING ? 0 : al[a];
                        iv_sweep_task t = {IV_TASK_EDIT, mi, layer, kk, ci, alpha, COST_PASS, need, 0, 0};
                        if (add_task(&b, t) < 0) { rc = -1; break; }
                        rc = add_cell(&b, (iv_cell){(char *)mn, kn, c->concepts[ci], layer, alpha, IV_MODE_EDIT,
                                                    c->protocol, c->compute == 1});
                    }
                }
            }
        }
    }
    if (rc == 0 && sort_tasks(p) != 0) rc = -1;
    if (rc != 0) {
        iv_sweep_plan_free(p);
        return iv_errf(err, "out of memory");
    }
    return 0;
}

void iv_sweep_plan_free(iv_sweep_plan *p) {
    for (int i = 0; i < p->n_models && p->model_names; i++) free(p->model_names[i]);
    free(p->model_names);
    free(p->t);
    free(p->cells);
    memset(p, 0, sizeof *p);
}

void iv_sweep_cell_path(const char *out_dir, const iv_cell *cell, char *buf, size_t cap) {
    char id[256];
    iv_cell_id(cell, id, sizeof id);
    snprintf(buf, cap, "%s/cells/%s.jsonl", out_dir, id);
}

int iv_sweep_cell_done(const char *out_dir, const iv_cell *cell) {
    char p[4096];
    iv_sweep_cell_path(out_dir, cell, p, sizeof p);
    return access(p, F_OK) == 0;
}

int iv_sweep_artifact_path(const iv_sweep_config *c, const iv_sweep_plan *p, const char *out_dir,
                           const iv_sweep_task *t, char *buf, size_t cap) {
    const char *mn = p->model_names[t->model];
    const char *concept = t->concept >= 0 ? c->concepts[t->concept] : "";
    switch (t->method) {
    case IV_METHOD_TUNED: snprintf(buf, cap, "%s/artifacts/%s/tuned-lens", out_dir, mn); return 1;
    case IV_METHOD_SAE: snprintf(buf, cap, "%s/artifacts/%s/sae-L%d", out_dir, mn, t->layer); return 1;
    case IV_METHOD_STEERING:
        snprintf(buf, cap, "%s/artifacts/%s/steering-%s-L%d.safetensors", out_dir, mn, concept, t->layer);
        return 1;
    case IV_METHOD_PROBE: /* the paper's recipe trains another probe */
        snprintf(buf, cap, "%s/artifacts/%s/probe-%s%s-L%d.safetensors", out_dir, mn,
                 c->protocol == IV_PROTOCOL_PAPER ? "paper-" : "", concept, t->layer);
        return 1;
    default: buf[0] = 0; return 0;
    }
}

int iv_sweep_task_done(const iv_sweep_config *c, const iv_sweep_plan *p, const char *out_dir, int ti) {
    const iv_sweep_task *t = &p->t[ti];
    if (t->kind == IV_TASK_ARTIFACT) {
        char a[4096];
        return iv_sweep_artifact_path(c, p, out_dir, t, a, sizeof a) && access(a, F_OK) == 0;
    }
    for (int i = 0; i < t->n_cells; i++)
        if (!iv_sweep_cell_done(out_dir, &p->cells[t->first_cell + i])) return 0;
    return 1;
}

int iv_sweep_task_key(const iv_sweep_config *c, const iv_sweep_plan *p, int ti, char *buf, size_t cap) {
    const iv_sweep_task *t = &p->t[ti];
    char id[256];
    if (t->kind == IV_TASK_ARTIFACT) {
        char a[4096];
        iv_sweep_artifact_path(c, p, "", t, a, sizeof a);
        const char *base = strrchr(a, '/');
        snprintf(id, sizeof id, "artifact-%.80s-%.160s", p->model_names[t->model], base ? base + 1 : a);
        for (char *q = id; *q; q++)
            if (*q == ' ' || *q == '/') *q = '-';
    } else {
        iv_cell_id(&p->cells[t->first_cell], id, sizeof id);
    }
    return snprintf(buf, cap, "%s", id) < (int)cap ? 0 : -1;
}

/* ---- status ------------------------------------------------------------------------------ */

int iv_sweep_status(const iv_sweep_config *c, const char *out_dir, iv_sweep_status_row **rows, int *n_rows,
                    iv_err *err) {
    *rows = NULL;
    *n_rows = 0;
    iv_sweep_plan p;
    if (iv_sweep_plan_build(c, &p, err) != 0) return -1;
    iv_sweep_status_row *r = calloc((size_t)(IV_SWEEP_MAX_METHODS + 1) * (size_t)(c->n_concepts + 1), sizeof *r);
    if (!r) { iv_sweep_plan_free(&p); return iv_errf(err, "out of memory"); }
    int n = 0;
    for (int i = 0; i < p.n_cells; i++) {
        const iv_cell *cell = &p.cells[i];
        const char *method = cell->mode == IV_MODE_CLEAN ? "clean" : cell->method;
        int k = 0;
        while (k < n && (strcmp(r[k].method, method) || strcmp(r[k].concept, cell->concept))) k++;
        if (k == n) { /* both strings outlive the plan: static names and c->concepts */
            r[n].method = method;
            r[n].concept = cell->concept;
            n++;
        }
        if (iv_sweep_cell_done(out_dir, cell)) r[k].done++;
        else r[k].missing++;
    }
    iv_sweep_plan_free(&p);
    *rows = r;
    *n_rows = n;
    return 0;
}
