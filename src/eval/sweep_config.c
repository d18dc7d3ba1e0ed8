/* The sweep config reader: `key = value` lines, # comments, whitespace lists. */
#include "interv/sweep.h"
#include "interv/io.h"
#include "interv/kernels.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = 0;
    return s;
}

/* Splits a value into words: whitespace-separated, or comma-separated when the
 * value holds a comma ("San Francisco, New York, dog"); a double-quoted word may
 * hold spaces ("San Francisco" "New York").  Returns the count, -1 on an
 * unterminated quote.  *out: malloc'd array of strdup'd words. */
static int split_words(const char *v, char ***out) {
    int n = 0, cap = 8;
    char **w = malloc((size_t)cap * sizeof *w);
    const char *p = v;
    int commas = strchr(v, ',') != NULL && strchr(v, '"') == NULL;
    while (*p) {
        while (isspace((unsigned char)*p) || (commas && *p == ',')) p++;
        if (!*p) break;
        const char *q = p, *e;
        if (*p == '"') {
            q = strchr(p + 1, '"');
            if (!q) { for (int i = 0; i < n; i++) free(w[i]); free(w); *out = NULL; return -1; }
            p++;
            e = q++;
        } else if (commas) {
            while (*q && *q != ',') q++;
            e = q;
            while (e > p && isspace((unsigned char)e[-1])) e--;
        } else {
            while (*q && !isspace((unsigned char)*q)) q++;
            e = q;
        }
        if (n == cap) { cap *= 2; w = realloc(w, (size_t)cap * sizeof *w); }
        w[n++] = strndup(p, (size_t)(e - p));
        p = q;
    }
    *out = w;
    return n;
}

static void free_words(char **w, int n) {
    for (int i = 0; i < n; i++) free(w[i]);
    free(w);
}

/* Relative paths are taken from the config file's folder. */
static char *resolve(const char *base, const char *p) {
    if (p[0] == '/' || !base || !base[0]) return strdup(p);
    size_t n = strlen(base) + strlen(p) + 2;
    char *r = malloc(n);
    snprintf(r, n, "%s/%s", base, p);
    return r;
}

static int parse_bool(const char *v, int *out) {
    if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1")) *out = 1;
    else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0")) *out = 0;
    else return -1;
    return 0;
}

static int parse_int(const char *v, long lo, long hi, int *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return -1;
    *out = (int)x;
    return 0;
}

static int parse_alphas(char **w, int n, double **out) {
    double *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    for (int i = 0; i < n; i++) {
        char *end;
        a[i] = strtod(w[i], &end);
        if (end == w[i] || *end || !isfinite(a[i])) { free(a); return -1; }
    }
    *out = a;
    return 0;
}

int iv_sweep_config_parse(const char *text, const char *name, const char *base, iv_sweep_config *c, iv_err *err) {
    memset(c, 0, sizeof *c);
    c->path = strdup(name);
    c->bottleneck = 1;
    c->max_new = 30;
    c->batch = 32;
    c->at = IV_AT_LAST;
    char *buf = strdup(text);
    int lineno = 0, rc = 0;
    char *line = buf, *next;
    for (; line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) { rc = iv_errf(err, "%s:%d: expected key = value", name, lineno); break; }
        *eq = 0;
        char *key = trim(s), *val = trim(eq + 1);
        char **w;
        int nw = split_words(val, &w);
        int bad = 0;
        if (nw < 0) { rc = iv_errf(err, "%s:%d: %s: unterminated quote", name, lineno, key); break; }
        if (nw == 0) { free(w); rc = iv_errf(err, "%s:%d: %s has no value", name, lineno, key); break; }
#define SET_STR(field) do { free(c->field); c->field = resolve(base, val); } while (0)
        if (!strcmp(key, "models")) {
            free_words(c->models, c->n_models);
            c->models = malloc((size_t)nw * sizeof *c->models);
            for (int i = 0; i < nw; i++) c->models[i] = resolve(base, w[i]);
            c->n_models = nw;
        } else if (!strcmp(key, "layers")) {
            free(c->layers);
            c->layers = malloc((size_t)nw * sizeof *c->layers);
            c->n_layers = nw;
            for (int i = 0; i < nw && !bad; i++) bad = parse_int(w[i], 0, 4096, &c->layers[i]);
        } else if (!strcmp(key, "methods")) {
            free(c->methods);
            c->methods = malloc((size_t)nw * sizeof *c->methods);
            c->n_methods = nw;
            for (int i = 0; i < nw && rc == 0; i++)
                if (iv_method_kind_parse(w[i], &c->methods[i]) != 0 || c->methods[i] == IV_METHOD_CLEAN)
                    rc = iv_errf(err, "%s:%d: unknown method '%s' (prompting logit tuned sae steering probe)", name, lineno, w[i]);
        } else if (!strcmp(key, "concepts")) {
            free_words(c->concepts, c->n_concepts);
            c->concepts = w; c->n_concepts = nw; w = NULL; nw = 0;
        } else if (!strcmp(key, "alphas")) {
            free(c->alphas);
            c->n_alphas = nw;
            bad = parse_alphas(w, nw, &c->alphas);
            if (bad) c->alphas = NULL, c->n_alphas = 0;
        } else if (!strncmp(key, "alphas.", 7)) {
            iv_method_kind k;
            if (iv_method_kind_parse(key + 7, &k) != 0 || k == IV_METHOD_CLEAN)
                rc = iv_errf(err, "%s:%d: unknown method in '%s'", name, lineno, key);
            else {
                free(c->alphas_m[k]);
                c->alphas_m[k] = NULL;
                c->n_alphas_m[k] = nw;
                bad = parse_alphas(w, nw, &c->alphas_m[k]);
                if (bad) c->n_alphas_m[k] = 0;
            }
        } else if (!strncmp(key, "artifact.", 9)) {
            iv_method_kind k;
            if (iv_method_kind_parse(key + 9, &k) != 0 ||
                (k != IV_METHOD_TUNED && k != IV_METHOD_SAE && k != IV_METHOD_STEERING && k != IV_METHOD_PROBE))
                rc = iv_errf(err, "%s:%d: '%s': artifacts exist for tuned, sae, steering and probe", name, lineno, key);
            else { free(c->artifact[k]); c->artifact[k] = resolve(base, val); }
        } else if (!strcmp(key, "bottleneck")) bad = parse_bool(val, &c->bottleneck);
        else if (!strcmp(key, "keep_sae_error")) bad = parse_bool(val, &c->keep_sae_error);
        else if (!strcmp(key, "normed_lens")) bad = parse_bool(val, &c->normed);
        else if (!strcmp(key, "match_prompt")) bad = parse_bool(val, &c->match_prompt);
        else if (!strcmp(key, "at")) {
            if (!strcmp(val, "last")) c->at = IV_AT_LAST;
            else if (!strcmp(val, "all")) c->at = IV_AT_ALL;
            else bad = 1;
        }
        else if (!strcmp(key, "prompts")) SET_STR(prompts);
        else if (!strcmp(key, "concepts_file")) SET_STR(concepts_file);
        else if (!strcmp(key, "pairs_dir")) SET_STR(pairs_dir);
        else if (!strcmp(key, "pairs")) {
            if (!strstr(val, "{concept}")) rc = iv_errf(err, "%s:%d: pairs must be a file pattern with {concept} (e.g. data/{concept}_pairs.csv)", name, lineno);
            else SET_STR(pairs);
        }
        else if (!strcmp(key, "protocol")) bad = iv_protocol_parse(val, &c->protocol);
        else if (!strcmp(key, "compute")) {
            int cm = iv_compute_parse(val);
            if (cm < 0) bad = 1;
            else if (cm == IV_COMPUTE_BF16 && !iv_kernels_bf16())
                rc = iv_errf(err, "%s:%d: compute = bf16 is unavailable: it needs AVX512-BF16, which this CPU (or "
                             "IV_ISA) does not give", name, lineno);
            else c->compute = cm;
        }
        else if (!strcmp(key, "corpus")) SET_STR(corpus);
        else if (!strcmp(key, "heldout")) SET_STR(heldout);
        else if (!strcmp(key, "judge")) SET_STR(judge);
        else if (!strcmp(key, "judge_template")) SET_STR(judge_template);
        else if (!strcmp(key, "prompt_template")) { free(c->prompt_template); c->prompt_template = strdup(val); }
        else if (!strcmp(key, "max_new")) bad = parse_int(val, 1, 1 << 20, &c->max_new);
        else if (!strcmp(key, "batch")) bad = parse_int(val, 1, 4096, &c->batch);
        else if (!strcmp(key, "sae_k")) bad = parse_int(val, 0, 1 << 20, &c->sae_k);
        else if (!strcmp(key, "sae_d")) bad = parse_int(val, 1, 1 << 24, &c->sae_d);
        else if (!strcmp(key, "sae_steps")) bad = parse_int(val, 1, 1 << 30, &c->sae_steps);
        else if (!strcmp(key, "lens_steps")) bad = parse_int(val, 1, 1 << 30, &c->lens_steps);
        else if (!strcmp(key, "seed")) { int s; bad = parse_int(val, 0, 0x7fffffff, &s); c->seed = (unsigned long)s; }
        else rc = iv_errf(err, "%s:%d: unknown key '%s'", name, lineno, key);
#undef SET_STR
        if (w) free_words(w, nw);
        if (bad && rc == 0) rc = iv_errf(err, "%s:%d: bad value for %s: '%s'", name, lineno, key, val);
    }
    free(buf);
    if (rc == 0) {
        const char *missing = !c->n_models ? "models" : !c->n_layers ? "layers" : !c->n_methods ? "methods"
                            : !c->n_concepts ? "concepts" : !c->prompts ? "prompts" : NULL;
        if (missing) rc = iv_errf(err, "%s: missing required key '%s'", name, missing);
    }
    if (rc == 0 && !c->n_alphas) {
        static const double dflt[] = {1, 2, 4, 8};
        c->alphas = malloc(sizeof dflt);
        memcpy(c->alphas, dflt, sizeof dflt);
        c->n_alphas = 4;
    }
    for (int i = 0; rc == 0 && i < c->n_methods; i++)
        if ((c->methods[i] == IV_METHOD_TUNED || c->methods[i] == IV_METHOD_SAE) && !c->corpus && !c->artifact[c->methods[i]])
            rc = iv_errf(err, "%s: method %s needs a training 'corpus'", name, iv_method_kind_name(c->methods[i]));
    if (rc == 0 && c->pairs && c->pairs_dir)
        rc = iv_errf(err, "%s: give either 'pairs' (a file pattern) or 'pairs_dir', not both", name);
    if (rc == 0 && !c->pairs) { /* pairs_dir/{concept}.csv, pairs_dir defaulting beside the concepts file */
        const char *anchor = c->concepts_file ? c->concepts_file : c->prompts;
        const char *slash = strrchr(anchor, '/');
        size_t n = (c->pairs_dir ? strlen(c->pairs_dir) : strlen(anchor) + 10) + 16;
        c->pairs = malloc(n);
        if (c->pairs_dir) snprintf(c->pairs, n, "%s/{concept}.csv", c->pairs_dir);
        else snprintf(c->pairs, n, "%.*s/concepts/{concept}.csv", slash ? (int)(slash - anchor) : 1, slash ? anchor : ".");
    }
    if (rc != 0) iv_sweep_config_free(c);
    return rc;
}

int iv_sweep_config_load(const char *path, iv_sweep_config *c, iv_err *err) {
    char *text;
    size_t len;
    if (iv_read_file(path, &text, &len, err) != 0) return -1;
    if (strlen(text) != len) { free(text); return iv_errf(err, "%s: contains a NUL byte", path); }
    char base[4096];
    const char *slash = strrchr(path, '/');
    snprintf(base, sizeof base, "%.*s", slash ? (int)(slash - path) : 0, path);
    int rc = iv_sweep_config_parse(text, path, base, c, err);
    free(text);
    return rc;
}

void iv_sweep_config_free(iv_sweep_config *c) {
    free_words(c->models, c->n_models);
    free_words(c->concepts, c->n_concepts);
    free(c->layers); free(c->methods); free(c->alphas);
    for (int k = 0; k < IV_SWEEP_MAX_METHODS; k++) free(c->alphas_m[k]), free(c->artifact[k]);
    free(c->path); free(c->prompts); free(c->concepts_file); free(c->pairs_dir); free(c->pairs); free(c->corpus);
    free(c->heldout); free(c->judge); free(c->judge_template); free(c->prompt_template);
    memset(c, 0, sizeof *c);
}

char *iv_sweep_pattern(const char *pattern, const char *concept, int layer) {
    char L[16];
    snprintf(L, sizeof L, "%d", layer);
    size_t cap = strlen(pattern) + 1, n = 0;
    for (const char *q = pattern; (q = strchr(q, '{')); q++) cap += strlen(concept) + strlen(L);
    char *out = malloc(cap);
    if (!out) return NULL;
    for (const char *q = pattern; *q;) {
        if (!strncmp(q, "{concept}", 9)) { n += (size_t)sprintf(out + n, "%s", concept); q += 9; }
        else if (!strncmp(q, "{layer}", 7)) { n += (size_t)sprintf(out + n, "%s", L); q += 7; }
        else out[n++] = *q++;
    }
    out[n] = 0;
    return out;
}

char *iv_sweep_pairs_path(const iv_sweep_config *c, const char *concept) {
    const char *at = strstr(c->pairs, "{concept}");
    if (!at) return strdup(c->pairs);
    size_t a = (size_t)(at - c->pairs), n = a + strlen(concept) + strlen(at + 9) + 1;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%.*s%s%s", (int)a, c->pairs, concept, at + 9);
    return p;
}

const double *iv_sweep_alphas(const iv_sweep_config *c, iv_method_kind k, int *n) {
    if ((int)k < IV_SWEEP_MAX_METHODS && c->alphas_m[k]) { *n = c->n_alphas_m[k]; return c->alphas_m[k]; }
    *n = c->n_alphas;
    return c->alphas;
}
