/* The method object: creation by kind, dispatch to the method's ops, the hook,
 * edit-size statistics and the prompting template. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "method_internal.h"

static const char *const kind_names[] = {"clean", "prompting", "logit", "tuned",
                                         "sae", "steering", "probe"};
static const char *const mode_names[] = {"clean", "bottleneck", "edit"};

const char *iv_method_kind_name(iv_method_kind k) {
    return (unsigned)k < 7 ? kind_names[k] : "?";
}

int iv_method_kind_parse(const char *s, iv_method_kind *k) {
    for (int i = 0; i < 7; i++)
        if (s && !strcmp(s, kind_names[i])) { *k = (iv_method_kind)i; return 0; }
    if (s && !strcmp(s, "logit-lens")) { *k = IV_METHOD_LOGIT; return 0; }
    if (s && !strcmp(s, "tuned-lens")) { *k = IV_METHOD_TUNED; return 0; }
    return -1;
}

const char *iv_method_mode_name(iv_method_mode m) {
    return (unsigned)m < 3 ? mode_names[m] : "?";
}

int iv_method_mode_parse(const char *s, iv_method_mode *m) {
    for (int i = 0; i < 3; i++)
        if (s && !strcmp(s, mode_names[i])) { *m = (iv_method_mode)i; return 0; }
    return -1;
}

iv_method_opts iv_method_defaults(void) {
    iv_method_opts o;
    memset(&o, 0, sizeof o);
    o.kind = IV_METHOD_CLEAN;
    o.layer = -1;
    o.mode = IV_MMODE_EDIT;
    o.alpha = 1.0f;
    o.at = IV_AT_LAST;
    o.sae_feature = -1;
    o.w_first = 1.0f;
    o.w_second = 1.0f;
    o.w_other = 1.0f;
    return o;
}

int ivm_check_layer(const iv_method *mm, int layer, const char *what, iv_err *err) {
    if (layer < 0 || layer >= mm->m->cfg.n_layers)
        return iv_errf(err, "%s: layer %d out of range (the model has %d layers: 0..%d)", what,
                       layer, mm->m->cfg.n_layers, mm->m->cfg.n_layers - 1);
    return 0;
}

static int set_targets(iv_method *mm, const iv_method_opts *o, iv_err *err) {
    int V = mm->m->cfg.vocab_size;
    if (o->target_ids && o->n_target_ids > 0) {
        mm->tgt_ids = malloc(sizeof(int32_t) * (size_t)o->n_target_ids);
        mm->tgt_w = malloc(sizeof(float) * (size_t)o->n_target_ids);
        if (!mm->tgt_ids || !mm->tgt_w) return iv_errf(err, "out of memory");
        for (int i = 0; i < o->n_target_ids; i++) {
            if (o->target_ids[i] < 0 || o->target_ids[i] >= V)
                return iv_errf(err, "target token %d outside the vocabulary (%d)",
                               (int)o->target_ids[i], V);
            mm->tgt_ids[i] = o->target_ids[i];
            mm->tgt_w[i] = o->target_weights ? o->target_weights[i] : 1.0f;
        }
        mm->n_tgt = o->n_target_ids;
        return 0;
    }
    if (!o->concept || !*o->concept) return iv_errf(err, "no concept given");
    if (!mm->m->tok) return iv_errf(err, "%s: the model has no tokenizer to tokenise the concept",
                                    mm->m->path ? mm->m->path : "model");
    if (o->protocol == IV_PROTOCOL_PAPER
            ? iv_concept_targets_paper(mm->m->tok, o->concept, &mm->tgt_ids, &mm->tgt_w, &mm->n_tgt, err)
            : iv_concept_targets(mm->m->tok, o->concept, o->w_first, o->w_second, o->w_other,
                                 &mm->tgt_ids, &mm->tgt_w, &mm->n_tgt, err))
        return -1;
    for (int i = 0; i < mm->n_tgt; i++)
        if (mm->tgt_ids[i] >= V)
            return iv_errf(err, "concept \"%s\": token %d outside the model's vocabulary (%d)",
                           o->concept, (int)mm->tgt_ids[i], V);
    return 0;
}

int iv_method_create(const iv_model *m, const iv_method_opts *o, iv_method **out, iv_err *err) {
    *out = NULL;
    if (!m) return iv_errf(err, "no model");
    if ((unsigned)o->kind > IV_METHOD_PROBE) return iv_errf(err, "unknown method kind %d", (int)o->kind);
    if ((unsigned)o->mode > IV_MMODE_EDIT) return iv_errf(err, "unknown mode %d", (int)o->mode);
    if (!isfinite(o->alpha)) return iv_errf(err, "alpha must be finite");
    iv_method *mm = calloc(1, sizeof *mm);
    if (!mm) return iv_errf(err, "out of memory");
    mm->kind = o->kind;
    mm->mode = o->kind == IV_METHOD_CLEAN ? IV_MMODE_CLEAN : o->mode;
    mm->at = o->at;
    mm->alpha = o->alpha;
    mm->m = m;
    mm->dim = m->cfg.dim;
    mm->layer = o->layer;
    if (o->concept && !(mm->concept = strdup(o->concept))) goto oom;
    int rc = 0;
    /* targets: every method reports target probability, so resolve them whenever a
     * concept (or explicit ids) is given; the lenses need them to edit. */
    if ((o->concept && *o->concept) || (o->target_ids && o->n_target_ids > 0) ||
        ((o->kind == IV_METHOD_LOGIT || o->kind == IV_METHOD_TUNED) && o->mode == IV_MMODE_EDIT))
        rc = set_targets(mm, o, err);
    if (!rc && o->layer >= 0) rc = ivm_check_layer(mm, o->layer, "--layer", err);
    if (!rc) switch (o->kind) {
        case IV_METHOD_CLEAN: mm->layer = -1; break;
        case IV_METHOD_PROMPTING: {
            const char *t = o->prompt_template ? o->prompt_template : IV_PROMPT_TEMPLATE_DEFAULT;
            if (!(mm->prompt_template = strdup(t))) goto oom;
            if (!o->concept || !*o->concept) rc = iv_errf(err, "prompting needs a concept");
            mm->layer = -1;
            break;
        }
        case IV_METHOD_LOGIT: rc = ivm_lens_create_logit(mm, o, err); break;
        case IV_METHOD_TUNED: rc = ivm_lens_create_tuned(mm, o, err); break;
        case IV_METHOD_SAE: rc = ivm_sae_create(mm, o, err); break;
        case IV_METHOD_STEERING:
        case IV_METHOD_PROBE: rc = ivm_additive_create(mm, o, err); break;
        }
    if (!rc && mm->ops && mm->layer < 0)
        rc = iv_errf(err, "%s: no layer given and the artifact names none (use --layer)",
                     o->artifact ? o->artifact : iv_method_kind_name(o->kind));
    if (!rc && mm->ops) rc = ivm_check_layer(mm, mm->layer, o->artifact ? o->artifact : "--layer", err);
    if (rc) {
        iv_method_free(mm);
        return -1;
    }
    *out = mm;
    return 0;
oom:
    iv_method_free(mm);
    return iv_errf(err, "out of memory");
}

void iv_method_free(iv_method *mm) {
    if (!mm) return;
    if (mm->ops && mm->ops->destroy) mm->ops->destroy(mm->impl);
    free(mm->concept);
    free(mm->prompt_template);
    free(mm->tgt_ids);
    free(mm->tgt_w);
    free(mm);
}

iv_method_kind iv_method_get_kind(const iv_method *mm) { return mm->kind; }
iv_method_mode iv_method_get_mode(const iv_method *mm) { return mm->mode; }
int iv_method_layer(const iv_method *mm) { return mm->ops ? mm->layer : -1; }
int iv_method_has_hook(const iv_method *mm) { return mm->ops && mm->mode != IV_MMODE_CLEAN; }

int64_t iv_method_n_features(const iv_method *mm) {
    return mm->ops ? mm->ops->n_features(mm) : 0;
}

int iv_method_encode(iv_method *mm, const float *x, float *z, iv_err *err) {
    if (!mm->ops || !mm->ops->encode)
        return iv_errf(err, "%s has no encoder", iv_method_kind_name(mm->kind));
    return mm->ops->encode(mm, x, z, err);
}

int iv_method_decode(iv_method *mm, const float *z, float *x, iv_err *err) {
    if (!mm->ops || !mm->ops->decode)
        return iv_errf(err, "%s has no decoder", iv_method_kind_name(mm->kind));
    return mm->ops->decode(mm, z, x, err);
}

/* x: [n, d] edited in place by the method's batched op; the edit size of each
 * row is taken against a copy of x as it was. */
int iv_method_apply_batch(iv_method *mm, float *x, int n, const int *rows, iv_err *err) {
    if (!mm->ops || mm->mode == IV_MMODE_CLEAN || n <= 0) return 0;
    int d = mm->dim;
    float *x0 = malloc(sizeof(float) * (size_t)n * d); /* [n, d] */
    if (!x0) return iv_errf(err, "out of memory");
    memcpy(x0, x, sizeof(float) * (size_t)n * d);
    if (mm->ops->apply(mm, x, n, err)) { free(x0); return -1; }
    for (int k = 0; k < n; k++) {
        const float *a = x + (size_t)k * d, *b = x0 + (size_t)k * d;
        double dn = 0, xn = 0;
        for (int i = 0; i < d; i++) {
            double t = (double)a[i] - b[i];
            dn += t * t;
            xn += (double)b[i] * b[i];
        }
        double r = xn > 0 ? sqrt(dn / xn) : (dn > 0 ? INFINITY : 0.0);
        int row = rows ? rows[k] : -1;
#pragma omp critical(iv_method_stats)
        {
            mm->sum_all += r;
            mm->cnt_all++;
            if (row >= 0 && row < IV_METHOD_MAX_ROWS) {
                mm->row_sum[row] += r;
                mm->row_cnt[row]++;
            }
        }
    }
    free(x0);
    return 0;
}

int iv_method_apply(iv_method *mm, float *x, int row, iv_err *err) {
    return iv_method_apply_batch(mm, x, 1, &row, err);
}

static int hook_fn(void *user, int layer, int n, const int *rows, const int *pos, float *x, int dim) {
    (void)layer;
    (void)pos;
    iv_method *mm = user;
    if (dim != mm->dim) return -1;
    return iv_method_apply_batch(mm, x, n, rows, NULL);
}

int iv_method_install(iv_method *mm, iv_hooks *hooks, iv_err *err) {
    if (!iv_method_has_hook(mm)) return 0;
    return iv_hooks_add(hooks, mm->layer, mm->at, hook_fn, mm, err);
}

void iv_method_edit_stats(const iv_method *mm, double *mean, int64_t *count) {
    if (mean) *mean = mm->cnt_all ? mm->sum_all / (double)mm->cnt_all : 0.0;
    if (count) *count = mm->cnt_all;
}

void iv_method_row_stats(const iv_method *mm, int row, double *mean, int64_t *count) {
    int ok = row >= 0 && row < IV_METHOD_MAX_ROWS;
    int64_t c = ok ? mm->row_cnt[row] : 0;
    if (mean) *mean = c ? mm->row_sum[row] / (double)c : 0.0;
    if (count) *count = c;
}

void iv_method_reset_stats(iv_method *mm) {
    mm->sum_all = 0;
    mm->cnt_all = 0;
    memset(mm->row_sum, 0, sizeof mm->row_sum);
    memset(mm->row_cnt, 0, sizeof mm->row_cnt);
}

int iv_method_prompt(const iv_method *mm, const char *prompt, char **out, iv_err *err) {
    *out = NULL;
    if (mm->kind != IV_METHOD_PROMPTING) {
        if (!(*out = strdup(prompt))) return iv_errf(err, "out of memory");
        return 0;
    }
    /* Expand every {concept} in the template, then append the prompt. */
    const char *t = mm->prompt_template, *c = mm->concept ? mm->concept : "";
    size_t n = 0, cl = strlen(c);
    for (const char *p = t; *p;) {
        if (!strncmp(p, "{concept}", 9)) { n += cl; p += 9; }
        else { n++; p++; }
    }
    char *s = malloc(n + strlen(prompt) + 1);
    if (!s) return iv_errf(err, "out of memory");
    char *w = s;
    for (const char *p = t; *p;) {
        if (!strncmp(p, "{concept}", 9)) { memcpy(w, c, cl); w += cl; p += 9; }
        else *w++ = *p++;
    }
    strcpy(w, prompt);
    *out = s;
    return 0;
}

void iv_method_targets(const iv_method *mm, const int32_t **ids, const float **w, int *n) {
    if (ids) *ids = mm->tgt_ids;
    if (w) *w = mm->tgt_w;
    if (n) *n = mm->n_tgt;
}
