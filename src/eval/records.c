/* Result records: one JSON object per (cell, prompt) — see the format in
 * interv/eval.h — written to and read from JSONL files, and the sweep folder
 * layout (DIR/cells/<cell-id>.jsonl). */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "interv/eval.h"
#include "interv/io.h"

static const char *MODES[] = {"clean", "bottleneck", "edit"};

const char *iv_mode_name(iv_mode m) { return (unsigned)m < 3 ? MODES[m] : "?"; }

int iv_mode_parse(const char *s, iv_mode *m) {
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, MODES[i])) {
            *m = (iv_mode)i;
            return 0;
        }
    return -1;
}

static uint32_t fnv1a(uint32_t h, const char *s) {
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return (h ^ 0xff) * 16777619u;  /* field separator */
}

/* Copies s keeping [A-Za-z0-9.-], other bytes become '-', at most max bytes. */
static size_t sanitize(char *dst, const char *s, size_t max) {
    const char *base = strrchr(s, '/');  /* model paths: keep the last component */
    if (base && base[1]) s = base + 1;
    size_t n = 0;
    for (; *s && n < max; s++) {
        unsigned char c = (unsigned char)*s;
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '-';
        dst[n++] = ok ? (char)c : '-';
    }
    return n;
}

void iv_cell_id(const iv_cell *c, char *buf, size_t size) {
    char a[32];
    snprintf(a, sizeof a, "%.6g", c->alpha);
    char L[16];
    snprintf(L, sizeof L, "%d", c->layer);
    uint32_t h = 2166136261u;
    h = fnv1a(h, c->model);
    h = fnv1a(h, L);
    h = fnv1a(h, c->method);
    h = fnv1a(h, c->concept);
    char ab[40];
    snprintf(ab, sizeof ab, "%.17g", c->alpha);
    h = fnv1a(h, ab);
    h = fnv1a(h, iv_mode_name(c->mode));
    if (c->protocol != IV_PROTOCOL_INTERV) h = fnv1a(h, iv_protocol_name(c->protocol));
    if (c->bf16) h = fnv1a(h, "bf16");
    char t[256];
    size_t n = sanitize(t, c->model, 48);
    n += (size_t)snprintf(t + n, sizeof t - n, "_L%d_", c->layer);
    n += sanitize(t + n, c->method, 32);
    t[n++] = '_';
    n += sanitize(t + n, c->concept, 32);
    n += (size_t)snprintf(t + n, sizeof t - n, "_a%s_%s_%08x", a, iv_mode_name(c->mode), h);
    if (c->protocol != IV_PROTOCOL_INTERV)
        n += (size_t)snprintf(t + n, sizeof t - n, "_%s", iv_protocol_name(c->protocol));
    if (c->bf16 && n < sizeof t) snprintf(t + n, sizeof t - n, "_bf16");
    snprintf(buf, size, "%s", t);
}

/* ---- JSON ------------------------------------------------------------------------- */

static json_t *num_or_null(double v) { return isnan(v) ? json_null() : json_real(v); }

char *iv_record_to_json(const iv_record *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    json_object_set_new(o, "model", json_string(r->cell.model));
    json_object_set_new(o, "layer", json_integer(r->cell.layer));
    json_object_set_new(o, "method", json_string(r->cell.method));
    json_object_set_new(o, "concept", json_string(r->cell.concept));
    json_object_set_new(o, "alpha", json_real(r->cell.alpha));
    json_object_set_new(o, "mode", json_string(iv_mode_name(r->cell.mode)));
    json_object_set_new(o, "split", json_string(r->split == IV_SPLIT_SELECT ? "select" : "report"));
    json_object_set_new(o, "prompt_index", json_integer(r->prompt_index));
    json_object_set_new(o, "category", json_string(r->category ? r->category : ""));
    json_object_set_new(o, "prompt", json_string(r->prompt ? r->prompt : ""));
    json_object_set_new(o, "continuation", json_string(r->continuation ? r->continuation : ""));
    json_object_set_new(o, "success", json_boolean(r->success));
    json_object_set_new(o, "target_prob", num_or_null(r->target_prob));
    json_object_set_new(o, "edit_size", num_or_null(r->edit_size));
    json_object_set_new(o, "perplexity", num_or_null(r->perplexity));
    if (r->cont_tokens >= 0) json_object_set_new(o, "cont_tokens", json_integer(r->cont_tokens));
    json_object_set_new(o, "coherence", num_or_null(r->coherence));
    if (r->has_judge_dist) {
        json_t *a = json_array();
        for (int k = 0; k < IV_JUDGE_K; k++) json_array_append_new(a, json_real(r->judge_dist[k]));
        json_object_set_new(o, "judge_dist", a);
    } else {
        json_object_set_new(o, "judge_dist", json_null());
    }
    json_object_set_new(o, "judge_mass", num_or_null(r->judge_mass));
    json_object_set_new(o, "protocol", json_string(iv_protocol_name(r->cell.protocol)));
    if (r->cell.bf16) json_object_set_new(o, "compute", json_string("bf16"));
    if (r->cell.protocol != IV_PROTOCOL_INTERV) {
        json_t *a = json_array();
        for (int k = 0; k < r->n_deviations; k++) json_array_append_new(a, json_string(r->deviations[k]));
        json_object_set_new(o, "deviations", a);
    }
    /* Strings that are not valid UTF-8 make jansson refuse the value: the
     * record is then unwritable, reported as NULL. */
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(o);
    return s;
}

static int get_str(json_t *o, const char *k, char **out, const char *what, iv_err *err) {
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v)) return iv_errf(err, "%s: field \"%s\" missing or not a string", what, k);
    *out = strdup(json_string_value(v));
    return *out ? 0 : iv_errf(err, "%s: out of memory", what);
}

/* Optional number: absent or null -> NAN. */
static int get_opt_num(json_t *o, const char *k, double *out, const char *what, iv_err *err) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) {
        *out = NAN;
        return 0;
    }
    if (!json_is_number(v)) return iv_errf(err, "%s: field \"%s\" is not a number or null", what, k);
    *out = json_number_value(v);
    return 0;
}

int iv_record_from_json(const char *line, const char *what, iv_record *r, iv_err *err) {
    memset(r, 0, sizeof *r);
    json_error_t je;
    json_t *o = json_loads(line, 0, &je);
    if (!o) return iv_errf(err, "%s: invalid JSON: %s", what, je.text);
    int rc = -1;
    if (!json_is_object(o)) {
        iv_errf(err, "%s: a record must be a JSON object", what);
        goto done;
    }
    char *mode = NULL, *split = NULL;
    if (get_str(o, "model", &r->cell.model, what, err) || get_str(o, "method", &r->cell.method, what, err) ||
        get_str(o, "concept", &r->cell.concept, what, err) || get_str(o, "mode", &mode, what, err))
        goto done_m;
    if (iv_mode_parse(mode, &r->cell.mode) != 0) {
        iv_errf(err, "%s: mode \"%s\" is not clean, bottleneck or edit", what, mode);
        goto done_m;
    }
    json_t *v = json_object_get(o, "layer");
    if (!json_is_integer(v) || json_integer_value(v) < -1 || json_integer_value(v) > 100000) {
        iv_errf(err, "%s: field \"layer\" missing or not a layer number", what);
        goto done_m;
    }
    r->cell.layer = (int)json_integer_value(v);
    v = json_object_get(o, "alpha");
    if (!json_is_number(v)) {
        iv_errf(err, "%s: field \"alpha\" missing or not a number", what);
        goto done_m;
    }
    r->cell.alpha = json_number_value(v);
    r->split = IV_SPLIT_REPORT;
    v = json_object_get(o, "split");
    if (v) {
        if (get_str(o, "split", &split, what, err)) goto done_m;
        if (!strcmp(split, "select")) r->split = IV_SPLIT_SELECT;
        else if (strcmp(split, "report")) {
            iv_errf(err, "%s: split \"%s\" is not select or report", what, split);
            goto done_m;
        }
    }
    v = json_object_get(o, "prompt_index");
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000000) {
        iv_errf(err, "%s: field \"prompt_index\" missing or negative", what);
        goto done_m;
    }
    r->prompt_index = (int)json_integer_value(v);
    if (get_str(o, "prompt", &r->prompt, what, err) || get_str(o, "continuation", &r->continuation, what, err))
        goto done_m;
    if (json_is_string(json_object_get(o, "category"))) {
        if (get_str(o, "category", &r->category, what, err)) goto done_m;
    } else if (!(r->category = strdup(""))) {
        iv_errf(err, "%s: out of memory", what);
        goto done_m;
    }
    v = json_object_get(o, "success");
    if (json_is_boolean(v)) r->success = json_is_true(v);
    else if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1))
        r->success = (int)json_integer_value(v);
    else {
        iv_errf(err, "%s: field \"success\" missing or not a boolean", what);
        goto done_m;
    }
    if (get_opt_num(o, "target_prob", &r->target_prob, what, err) ||
        get_opt_num(o, "edit_size", &r->edit_size, what, err) ||
        get_opt_num(o, "perplexity", &r->perplexity, what, err) ||
        get_opt_num(o, "coherence", &r->coherence, what, err))
        goto done_m;
    r->cont_tokens = -1;
    v = json_object_get(o, "cont_tokens");
    if (v && !json_is_null(v)) {
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100000000) {
            iv_errf(err, "%s: field \"cont_tokens\" is not a token count", what);
            goto done_m;
        }
        r->cont_tokens = (int)json_integer_value(v);
    }
    v = json_object_get(o, "judge_dist");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v) || json_array_size(v) != IV_JUDGE_K) {
            iv_errf(err, "%s: field \"judge_dist\" must be an array of 10 numbers or null", what);
            goto done_m;
        }
        for (int k = 0; k < IV_JUDGE_K; k++) {
            json_t *x = json_array_get(v, (size_t)k);
            if (!json_is_number(x)) {
                iv_errf(err, "%s: judge_dist[%d] is not a number", what, k);
                goto done_m;
            }
            r->judge_dist[k] = json_number_value(x);
        }
        r->has_judge_dist = 1;
    }
    if (get_opt_num(o, "judge_mass", &r->judge_mass, what, err)) goto done_m;
    v = json_object_get(o, "protocol");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || iv_protocol_parse(json_string_value(v), &r->cell.protocol) != 0) {
            iv_errf(err, "%s: field \"protocol\" must be \"interv\" or \"paper\"", what);
            goto done_m;
        }
    }
    v = json_object_get(o, "compute");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v) || (strcmp(json_string_value(v), "bf16") && strcmp(json_string_value(v), "f32"))) {
            iv_errf(err, "%s: field \"compute\" must be \"f32\" or \"bf16\"", what);
            goto done_m;
        }
        r->cell.bf16 = !strcmp(json_string_value(v), "bf16");
    }
    v = json_object_get(o, "deviations");
    if (v && !json_is_null(v)) {
        if (!json_is_array(v)) {
            iv_errf(err, "%s: field \"deviations\" must be an array of strings", what);
            goto done_m;
        }
        for (size_t k = 0; k < json_array_size(v); k++) {
            json_t *x = json_array_get(v, k);
            if (!json_is_string(x)) {
                iv_errf(err, "%s: deviations[%zu] is not a string", what, k);
                goto done_m;
            }
            if (iv_record_add_deviation(r, json_string_value(x)) != 0) {
                iv_errf(err, "%s: out of memory", what);
                goto done_m;
            }
        }
    }
    rc = 0;
done_m:
    free(mode);
    free(split);
done:
    json_decref(o);
    if (rc != 0) iv_record_free(r);
    return rc;
}

int iv_record_add_deviation(iv_record *r, const char *text) {
    for (int k = 0; k < r->n_deviations; k++)
        if (!strcmp(r->deviations[k], text)) return 0;
    char **d = realloc(r->deviations, (size_t)(r->n_deviations + 1) * sizeof *d);
    if (!d) return -1;
    r->deviations = d;
    if (!(d[r->n_deviations] = strdup(text))) return -1;
    r->n_deviations++;
    return 0;
}

void iv_record_free(iv_record *r) {
    for (int k = 0; k < r->n_deviations; k++) free(r->deviations[k]);
    free(r->deviations);
    free(r->cell.model);
    free(r->cell.method);
    free(r->cell.concept);
    free(r->category);
    free(r->prompt);
    free(r->continuation);
    memset(r, 0, sizeof *r);
}

int iv_records_push(iv_records *rs, iv_record *r) {
    if (rs->n == rs->cap) {
        size_t nc = rs->cap ? 2 * rs->cap : 64;
        iv_record *nr = realloc(rs->r, nc * sizeof *nr);
        if (!nr) return -1;
        rs->r = nr;
        rs->cap = nc;
    }
    rs->r[rs->n++] = *r;
    memset(r, 0, sizeof *r);
    return 0;
}

void iv_records_free(iv_records *rs) {
    for (size_t i = 0; i < rs->n; i++) iv_record_free(&rs->r[i]);
    free(rs->r);
    memset(rs, 0, sizeof *rs);
}

int iv_records_load_file(const char *path, iv_records *rs, iv_err *err) {
    char *buf;
    size_t len;
    if (iv_read_file(path, &buf, &len, err) != 0) return -1;
    if (strlen(buf) != len) {
        free(buf);
        return iv_errf(err, "%s: contains a NUL byte", path);
    }
    int line = 0, rc = 0;
    char *save = NULL;
    for (char *p = buf; p && rc == 0;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        char *q = p;
        while (*q == ' ' || *q == '\t' || *q == '\r') q++;
        if (*q) {
            char what[1024];
            snprintf(what, sizeof what, "%s:%d", path, line);
            iv_record r;
            if (iv_record_from_json(q, what, &r, err) != 0) rc = -1;
            else if (iv_records_push(rs, &r) != 0) {
                iv_record_free(&r);
                rc = iv_errf(err, "%s: out of memory", path);
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    (void)save;
    free(buf);
    return rc;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads every *.jsonl of a folder in name order; *found counts files. */
static int load_folder(const char *dir, iv_records *rs, int *found, iv_err *err) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !ends_with(e->d_name, ".jsonl")) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **nn = realloc(names, cap * sizeof *nn);
            if (!nn) { rc = iv_errf(err, "%s: out of memory", dir); break; }
            names = nn;
        }
        if (!(names[n] = strdup(e->d_name))) { rc = iv_errf(err, "%s: out of memory", dir); break; }
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == 0; i++) {
        size_t l = strlen(dir) + strlen(names[i]) + 2;
        char *p = malloc(l);
        if (!p) { rc = iv_errf(err, "%s: out of memory", dir); break; }
        snprintf(p, l, "%s/%s", dir, names[i]);
        rc = iv_records_load_file(p, rs, err);
        free(p);
        (*found)++;
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    return rc;
}

int iv_records_load_dir(const char *dir, iv_records *rs, iv_err *err) {
    struct stat st;
    if (stat(dir, &st) != 0) return iv_errf(err, "%s: %s", dir, strerror(errno));
    if (S_ISREG(st.st_mode)) return iv_records_load_file(dir, rs, err);
    if (!S_ISDIR(st.st_mode)) return iv_errf(err, "%s: not a folder or a .jsonl file", dir);
    int found = 0;
    size_t l = strlen(dir) + 32;
    char *p = malloc(l);
    if (!p) return iv_errf(err, "%s: out of memory", dir);
    int rc = 0;
    snprintf(p, l, "%s/cells", dir);
    rc = load_folder(p, rs, &found, err);
    if (rc == 0) {
        snprintf(p, l, "%s/results", dir);
        rc = load_folder(p, rs, &found, err);
    }
    if (rc == 0) {
        snprintf(p, l, "%s/results.jsonl", dir);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = iv_records_load_file(p, rs, err);
            found++;
        }
    }
    free(p);
    if (rc == 0 && found == 0)
        return iv_errf(err, "%s: no results: expected cells/<id>.jsonl, results/*.jsonl or results.jsonl", dir);
    if (rc == 0 && rs->n == 0) return iv_errf(err, "%s: the results files hold no records", dir);
    return rc;
}

int iv_cell_write(const char *dir, const iv_record *r, size_t n, iv_err *err) {
    if (n == 0) return iv_errf(err, "%s: no records to write", dir);
    size_t l = strlen(dir) + 300;
    char *p = malloc(l);
    if (!p) return iv_errf(err, "%s: out of memory", dir);
    snprintf(p, l, "%s/cells", dir);
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        iv_errf(err, "%s: cannot create: %s", p, strerror(errno));
        free(p);
        return -1;
    }
    char id[256];
    iv_cell_id(&r[0].cell, id, sizeof id);
    snprintf(p, l, "%s/cells/%s.jsonl", dir, id);
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        char *s = iv_record_to_json(&r[i]);
        if (!s) { rc = iv_errf(err, "%s: record %zu cannot be written (invalid UTF-8?)", p, i); break; }
        size_t k = strlen(s);
        if (len + k + 2 > cap) {
            cap = (len + k + 2) * 2;
            char *nb = realloc(buf, cap);
            if (!nb) { free(s); rc = iv_errf(err, "%s: out of memory", p); break; }
            buf = nb;
        }
        memcpy(buf + len, s, k);
        len += k;
        buf[len++] = '\n';
        free(s);
    }
    if (rc == 0) rc = iv_write_atomic(p, buf, len, err);
    free(buf);
    free(p);
    return rc;
}
