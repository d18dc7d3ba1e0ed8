/* Prompt files (index column + one column per category) and pairs files
 * (pos_prompt, neg_prompt), both CSV. */
#include <stdlib.h>
#include <string.h>
#include "eval/csv_table.h"
#include "interv/eval.h"

/* A cell that is only spaces/tabs/CR counts as empty. */
static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static int check_ragged(const char *path, const iv_csv_table *t, iv_err *err) {
    size_t want = t->rows[0].n;
    for (size_t r = 1; r < t->n; r++)
        if (t->rows[r].n != want)
            return iv_errf(err, "%s: line %d: ragged row: %zu cells, the header has %zu", path,
                           t->rows[r].line, t->rows[r].n, want);
    return 0;
}

int iv_prompts_load(const char *path, iv_prompt_set *out, iv_err *err) {
    memset(out, 0, sizeof *out);
    iv_csv_table t;
    if (iv_csv_read(path, &t, err) != 0) return -1;
    int rc = -1;
    if (t.n == 0) {
        iv_errf(err, "%s: empty file: no header and no prompts", path);
        goto done;
    }
    const iv_csv_row *h = &t.rows[0];
    if (h->n < 2) {
        iv_errf(err, "%s: line %d: the header needs an index column and at least one category column",
                path, h->line);
        goto done;
    }
    if (check_ragged(path, &t, err) != 0) goto done;
    out->n_cat = h->n - 1;
    out->categories = calloc(out->n_cat, sizeof *out->categories);
    out->p = calloc(t.n * out->n_cat, sizeof *out->p);
    if (!out->categories || !out->p) {
        iv_errf(err, "%s: out of memory", path);
        goto done;
    }
    for (size_t c = 0; c < out->n_cat; c++) {
        const char *name = h->f[c + 1];
        if (is_blank(name)) {
            iv_errf(err, "%s: line %d: header column %zu has no category name", path, h->line, c + 2);
            goto done;
        }
        for (size_t k = 0; k < c; k++)
            if (!strcmp(out->categories[k], name)) {
                iv_errf(err, "%s: line %d: category '%s' appears twice in the header", path,
                        h->line, name);
                goto done;
            }
        out->categories[c] = strdup(name);
        if (!out->categories[c]) {
            iv_errf(err, "%s: out of memory", path);
            goto done;
        }
    }
    for (size_t r = 1; r < t.n; r++) {
        const iv_csv_row *row = &t.rows[r];
        for (size_t c = 0; c < out->n_cat; c++) {
            if (is_blank(row->f[c + 1])) continue;
            iv_prompt *p = &out->p[out->n];
            p->text = strdup(row->f[c + 1]);
            p->row_label = strdup(row->f[0]);
            p->category = (int)c;
            p->line = row->line;
            out->n++;
            if (!p->text || !p->row_label) {
                iv_errf(err, "%s: out of memory", path);
                goto done;
            }
        }
    }
    if (out->n == 0) {
        iv_errf(err, "%s: no prompts: every cell below the header is empty", path);
        goto done;
    }
    rc = 0;
done:
    iv_csv_free(&t);
    if (rc != 0) iv_prompts_free(out);
    return rc;
}

void iv_prompts_free(iv_prompt_set *s) {
    if (s->p)
        for (size_t i = 0; i < s->n; i++) {
            free(s->p[i].text);
            free(s->p[i].row_label);
        }
    free(s->p);
    if (s->categories)
        for (size_t c = 0; c < s->n_cat; c++) free(s->categories[c]);
    free(s->categories);
    memset(s, 0, sizeof *s);
}

int iv_prompt_split(const iv_prompt_set *s, size_t i) {
    if (i >= s->n) return IV_SPLIT_REPORT;
    size_t rank = 0;  /* how many earlier prompts share the category */
    for (size_t k = 0; k < i; k++)
        if (s->p[k].category == s->p[i].category) rank++;
    return (rank % 2 == 0) ? IV_SPLIT_SELECT : IV_SPLIT_REPORT;
}

int iv_pairs_load(const char *path, iv_pair_set *out, iv_err *err) {
    memset(out, 0, sizeof *out);
    iv_csv_table t;
    if (iv_csv_read(path, &t, err) != 0) return -1;
    int rc = -1;
    if (t.n == 0) {
        iv_errf(err, "%s: empty file: expected a header pos_prompt,neg_prompt", path);
        goto done;
    }
    const iv_csv_row *h = &t.rows[0];
    int ip = -1, in = -1;
    for (size_t c = 0; c < h->n; c++) {
        if (!strcmp(h->f[c], "pos_prompt")) ip = (int)c;
        if (!strcmp(h->f[c], "neg_prompt")) in = (int)c;
    }
    if (ip < 0 || in < 0) {
        iv_errf(err, "%s: line %d: header lacks the column %s (expected pos_prompt,neg_prompt)", path, h->line,
                ip < 0 ? "pos_prompt" : "neg_prompt");
        goto done;
    }
    if (check_ragged(path, &t, err) != 0) goto done;
    out->pos = calloc(t.n, sizeof *out->pos);
    out->neg = calloc(t.n, sizeof *out->neg);
    if (!out->pos || !out->neg) {
        iv_errf(err, "%s: out of memory", path);
        goto done;
    }
    for (size_t r = 1; r < t.n; r++) {
        const iv_csv_row *row = &t.rows[r];
        if (is_blank(row->f[ip]) || is_blank(row->f[in])) {
            iv_errf(err, "%s: line %d: empty %s cell", path, row->line,
                    is_blank(row->f[ip]) ? "pos_prompt" : "neg_prompt");
            goto done;
        }
        out->pos[out->n] = strdup(row->f[ip]);
        out->neg[out->n] = strdup(row->f[in]);
        out->n++;
        if (!out->pos[out->n - 1] || !out->neg[out->n - 1]) {
            iv_errf(err, "%s: out of memory", path);
            goto done;
        }
    }
    if (out->n == 0) {
        iv_errf(err, "%s: no pairs below the header", path);
        goto done;
    }
    rc = 0;
done:
    iv_csv_free(&t);
    if (rc != 0) iv_pairs_free(out);
    return rc;
}

void iv_pairs_free(iv_pair_set *s) {
    for (size_t i = 0; i < s->n; i++) {
        free(s->pos[i]);
        free(s->neg[i]);
    }
    free(s->pos);
    free(s->neg);
    memset(s, 0, sizeof *s);
}
