/* Grouping records into cells and aggregating each cell over the prompts of
 * each split; the summary.json writer. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/io.h"
#include "eval/internal.h"

static int cell_cmp(const iv_cell *a, const iv_cell *b) {
    int c;
    if (a->protocol != b->protocol) return a->protocol < b->protocol ? -1 : 1;
    if (a->bf16 != b->bf16) return a->bf16 < b->bf16 ? -1 : 1;
    if ((c = strcmp(a->model, b->model))) return c;
    if ((c = strcmp(a->concept, b->concept))) return c;
    if ((c = strcmp(a->method, b->method))) return c;
    if (a->layer != b->layer) return a->layer < b->layer ? -1 : 1;
    if (a->mode != b->mode) return a->mode < b->mode ? -1 : 1;
    if (a->alpha != b->alpha) return a->alpha < b->alpha ? -1 : 1;
    return 0;
}

static const iv_records *g_rs;  /* qsort context */

static int rec_cmp(const void *x, const void *y) {
    const iv_record *a = &g_rs->r[*(const size_t *)x], *b = &g_rs->r[*(const size_t *)y];
    int c = cell_cmp(&a->cell, &b->cell);
    if (c) return c;
    return (a->prompt_index > b->prompt_index) - (a->prompt_index < b->prompt_index);
}

static void stats_add(iv_cell_stats *s, const iv_record *r) {
    s->n++;
    s->success += r->success;
    iv_mean_add(&s->target_prob, r->target_prob);
    iv_mean_add(&s->edit_size, r->edit_size);
    iv_mean_add(&s->coherence, r->coherence);
    iv_mean_add(&s->judge_mass, r->judge_mass);
    iv_mean_add(&s->ppl_sample, r->perplexity);
    if (!isnan(r->perplexity)) {
        if (r->cont_tokens > 0) iv_ppl_add(&s->ppl, log(r->perplexity) * r->cont_tokens, r->cont_tokens);
        else s->n_ppl_no_tokens++;
    }
}

int iv_cells_build(const iv_records *rs, iv_cells *out, iv_err *err) {
    memset(out, 0, sizeof *out);
    size_t *idx = malloc((rs->n ? rs->n : 1) * sizeof *idx);
    if (!idx) return iv_errf(err, "cells: out of memory");
    for (size_t i = 0; i < rs->n; i++) idx[i] = i;
    g_rs = rs;
    qsort(idx, rs->n, sizeof *idx, rec_cmp);
    out->c = calloc(rs->n ? rs->n : 1, sizeof *out->c);
    if (!out->c) {
        free(idx);
        return iv_errf(err, "cells: out of memory");
    }
    for (size_t i = 0; i < rs->n;) {
        size_t j = i;
        while (j < rs->n && !cell_cmp(&rs->r[idx[i]].cell, &rs->r[idx[j]].cell)) j++;
        iv_cell_agg *c = &out->c[out->n++];
        c->cell = rs->r[idx[i]].cell;
        iv_cell_id(&c->cell, c->id, sizeof c->id);
        c->n_rec = j - i;
        c->rec = malloc(c->n_rec * sizeof *c->rec);
        if (!c->rec) {
            free(idx);
            iv_cells_free(out);
            return iv_errf(err, "cells: out of memory");
        }
        for (size_t k = i; k < j; k++) {
            const iv_record *r = &rs->r[idx[k]];
            if (k > i && r->prompt_index == rs->r[idx[k - 1]].prompt_index) {
                char id[256];
                snprintf(id, sizeof id, "%s", c->id);
                free(idx);
                iv_cells_free(out);
                return iv_errf(err, "cell %s: prompt_index %d appears twice", id, r->prompt_index);
            }
            c->rec[k - i] = idx[k];
            stats_add(&c->s[IV_AGG_ALL], r);
            stats_add(&c->s[r->split == IV_SPLIT_SELECT ? IV_AGG_SELECT : IV_AGG_REPORT], r);
        }
        for (int s = 0; s < IV_AGG_N; s++)
            if (c->s[s].n) c->s[s].success /= (double)c->s[s].n;
        i = j;
    }
    free(idx);
    return 0;
}

void iv_cells_free(iv_cells *cs) {
    for (size_t i = 0; i < cs->n; i++) free(cs->c[i].rec);
    free(cs->c);
    memset(cs, 0, sizeof *cs);
}

double iv_cell_ppl(const iv_cell_stats *s) {
    if (s->ppl.n > 0 && s->n_ppl_no_tokens == 0) return iv_ppl_corpus(&s->ppl);
    return iv_mean_get(&s->ppl_sample);
}

static json_t *jnum(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

static json_t *stats_json(const iv_cell_stats *s) {
    json_t *o = json_object();
    json_object_set_new(o, "n", json_integer(s->n));
    json_object_set_new(o, "success", s->n ? json_real(s->success) : json_null());
    json_object_set_new(o, "target_prob", jnum(iv_mean_get(&s->target_prob)));
    json_object_set_new(o, "edit_size", jnum(iv_mean_get(&s->edit_size)));
    json_object_set_new(o, "perplexity", jnum(iv_cell_ppl(s)));
    json_object_set_new(o, "perplexity_corpus", jnum(s->n_ppl_no_tokens ? NAN : iv_ppl_corpus(&s->ppl)));
    json_object_set_new(o, "perplexity_mean", jnum(iv_mean_get(&s->ppl_sample)));
    json_object_set_new(o, "perplexity_n", json_integer(s->ppl_sample.n));
    json_object_set_new(o, "coherence", jnum(iv_mean_get(&s->coherence)));
    json_object_set_new(o, "coherence_n", json_integer(s->coherence.n));
    json_object_set_new(o, "judge_mass", jnum(iv_mean_get(&s->judge_mass)));
    return o;
}

json_t *iv_cell_json(const iv_cell_agg *c) {
    static const char *names[IV_AGG_N] = {"all", "select", "report"};
    json_t *o = json_object();
    json_object_set_new(o, "cell_id", json_string(c->id));
    json_object_set_new(o, "model", json_string(c->cell.model));
    json_object_set_new(o, "layer", json_integer(c->cell.layer));
    json_object_set_new(o, "method", json_string(c->cell.method));
    json_object_set_new(o, "concept", json_string(c->cell.concept));
    json_object_set_new(o, "alpha", json_real(c->cell.alpha));
    json_object_set_new(o, "mode", json_string(iv_mode_name(c->cell.mode)));
    json_object_set_new(o, "protocol", json_string(iv_protocol_name(c->cell.protocol)));
    json_object_set_new(o, "compute", json_string(c->cell.bf16 ? "bf16" : "f32"));
    for (int s = 0; s < IV_AGG_N; s++) json_object_set_new(o, names[s], stats_json(&c->s[s]));
    return o;
}

int iv_summary_write(const char *path, const iv_cells *cs, iv_err *err) {
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < cs->n; i++) json_array_append_new(arr, iv_cell_json(&cs->c[i]));
    json_object_set_new(root, "cells", arr);
    char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(root);
    if (!s) return iv_errf(err, "%s: cannot encode the summary", path);
    int rc = iv_write_atomic(path, s, strlen(s), err);
    free(s);
    return rc;
}
