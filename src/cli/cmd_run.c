/* interv run: generate with one intervention over a prompt file and write one
 * JSON record per prompt (eval.h's results format), atomically. */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/io.h"
#include "interv/method.h"
#include "interv/model.h"
#include "cli/cli_util.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: interv run --model PATH --method M --concept TEXT --prompts FILE --out FILE.jsonl\n"
            "                  [--alpha A] [--layer L] [--mode edit|bottleneck|clean] [--at last|all]\n"
            "                  [--artifact PATH] [--sae-feature K] [--pairs CSV] [--keep-error] [--normed]\n"
            "                  [--template TEXT] [--concepts FILE] [--match-prompt] [--max-new N]\n"
            "                  [--batch B] [--tok PATH] [--cache DIR] [--protocol interv|paper]\n"
            "                  [--target-weights FIRST,SECOND] [--compute f32|bf16]\n"
            "\n"
            "  M: clean | prompting | logit | tuned | sae | steering | probe\n"
            "  --prompts    CSV (index column, one column per category) or text, one prompt a line\n"
            "  --alpha      strength (default 1)\n"
            "  --layer      resid_post layer; taken from the artifact when it names one\n"
            "  --at         edit the last position of every forward call (default) or all\n"
            "  --artifact   tuned-lens folder, sae-lens folder / params.npz, steering .safetensors/.gguf/\n"
            "               torch.save .pt ([1,d] tensor), probe .safetensors / .pt state dict (proj.0.*)\n"
            "  --sae-feature  SAE concept feature (default: ranked automatically, --pairs helps)\n"
            "  --keep-error SAE: x' = x + D(f') - D(f) (keeps the reconstruction error)\n"
            "  --normed     logit lens on the final-normed residual\n"
            "  --template   prompting template (default \"%s\")\n"
            "  --concepts   concepts.json with surface forms (default: the concept, its singular or plural)\n"
            "  --protocol   interv (default) or paper: the reference study's targets, tuned-lens form\n"
            "               and success rule, its defects listed in every record (\"deviations\")\n"
            "  --target-weights  lens weights of the 1st,2nd token of a multi-token concept (default 1,1;\n"
            "               the reference used 2,1)\n"
            "  --match-prompt  count a prompt that names the concept (reference behaviour)\n"
            "  --max-new    new tokens per prompt (default 30); --batch rows decoded together (8)\n"
            "  --compute    f32 (default) or bf16: weights in bf16, activations rounded to bf16 at each\n"
            "               matrix product, f32 sums (needs AVX512-BF16)\n",
            IV_PROMPT_TEMPLATE_DEFAULT);
}

static int fail(const char *msg) {
    fprintf(stderr, "interv run: %s\n", msg);
    return 1;
}

/* Per-prompt target probability from the step distributions. */
typedef struct step_acc {
    const int32_t *ids;
    int n_ids;
    double *sum;  /* [n_chunk] */
    int *steps;   /* [n_chunk] */
} step_acc;

static void on_step(void *user, int prompt, int step, const float *probs, int vocab) {
    (void)step;
    step_acc *a = user;
    a->sum[prompt] += iv_target_mass(probs, vocab, a->ids, a->n_ids);
    a->steps[prompt]++;
}

/* A model's short name for records: the basename without ".bin". */
static char *model_name(const char *path) {
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && path[b - 1] != '/') b--;
    char *s = strndup(path + b, n - b);
    if (s && strlen(s) > 4 && !strcmp(s + strlen(s) - 4, ".bin")) s[strlen(s) - 4] = 0;
    return s;
}

/* One prompt per non-empty line, as a one-category set. */
static int load_txt(const char *path, iv_prompt_set *ps, iv_err *err) {
    char *buf;
    size_t len;
    memset(ps, 0, sizeof *ps);
    if (iv_read_file(path, &buf, &len, err)) return -1;
    size_t cap = 16;
    ps->p = calloc(cap, sizeof *ps->p);
    ps->categories = calloc(1, sizeof(char *));
    if (!ps->p || !ps->categories || !(ps->categories[0] = strdup("prompt"))) goto oom;
    ps->n_cat = 1;
    int line = 0;
    for (char *s = buf, *e; s && *s; s = e ? e + 1 : NULL) {
        e = strchr(s, '\n');
        if (e) *e = 0;
        line++;
        size_t k = strlen(s);
        if (k && s[k - 1] == '\r') s[--k] = 0;
        if (!k) continue;
        if (ps->n == cap) {
            iv_prompt *np = realloc(ps->p, 2 * cap * sizeof *np);
            if (!np) goto oom;
            ps->p = np;
            cap *= 2;
        }
        iv_prompt *p = &ps->p[ps->n];
        memset(p, 0, sizeof *p);
        p->line = line;
        if (!(p->text = strdup(s))) goto oom;
        ps->n++;
    }
    free(buf);
    if (!ps->n) return iv_errf(err, "%s: no prompt in the file", path);
    return 0;
oom:
    free(buf);
    return iv_errf(err, "%s: out of memory", path);
}

/* Replaces bytes that are not valid UTF-8 by '?', so the record stays writable
 * when a byte-level token splits a character at the end of a continuation. */
static void utf8_sanitise(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p >> 5) == 6 ? 2 : (*p >> 4) == 14 ? 3 : (*p >> 3) == 30 ? 4 : 0;
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80;
        if (!ok) { *p++ = '?'; continue; }
        p += n;
    }
}

typedef struct run_args {
    const char *model, *tok, *prompts, *out, *concepts, *compute;
    int batch, max_new, match_prompt;
} run_args;

/* "2,1" -> first 2, second 1. */
static int parse_weights(const char *s, iv_method_opts *o) {
    char *end;
    o->w_first = strtof(s, &end);
    if (end == s || *end != ',' || !isfinite(o->w_first)) return -1;
    const char *t = end + 1;
    o->w_second = strtof(t, &end);
    return end == t || *end || !isfinite(o->w_second) ? -1 : 0;
}

static int parse(int argc, char **argv, iv_method_opts *o, run_args *a, const char **method_s,
                 const char **mode_s) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'},       {"method", 1, 0, 'M'},   {"concept", 1, 0, 'c'},
        {"alpha", 1, 0, 'a'},       {"layer", 1, 0, 'l'},    {"mode", 1, 0, 'o'},
        {"at", 1, 0, 'A'},          {"artifact", 1, 0, 'f'}, {"sae-feature", 1, 0, 'k'},
        {"keep-error", 0, 0, 'e'},  {"normed", 0, 0, 'n'},   {"prompts", 1, 0, 'p'},
        {"max-new", 1, 0, 'N'},     {"batch", 1, 0, 'b'},    {"out", 1, 0, 'O'},
        {"pairs", 1, 0, 'P'},       {"template", 1, 0, 'T'}, {"concepts", 1, 0, 'C'},
        {"match-prompt", 0, 0, 'x'}, {"tok", 1, 0, 't'},     {"cache", 1, 0, 'D'},
        {"tokenizer", 1, 0, 't'},   {"protocol", 1, 0, 'R'}, {"target-weights", 1, 0, 'W'},
        {"compute", 1, 0, 'U'},     {"help", 0, 0, 'h'},        {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': a->model = optarg; break;
        case 'M': *method_s = optarg; break;
        case 'c': o->concept = optarg; break;
        case 'a':
            o->alpha = strtof(optarg, &end);
            if (*end || end == optarg || !isfinite(o->alpha)) return fail("--alpha needs a number"), -1;
            break;
        case 'l':
            o->layer = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || o->layer < 0) return fail("--layer needs a non-negative integer"), -1;
            break;
        case 'o': *mode_s = optarg; break;
        case 'A':
            if (!strcmp(optarg, "last")) o->at = IV_AT_LAST;
            else if (!strcmp(optarg, "all")) o->at = IV_AT_ALL;
            else return fail("--at must be last or all"), -1;
            break;
        case 'f': o->artifact = optarg; break;
        case 'k':
            o->sae_feature = strtoll(optarg, &end, 10);
            if (*end || end == optarg || o->sae_feature < 0) return fail("--sae-feature needs a non-negative integer"), -1;
            break;
        case 'e': o->keep_sae_error = 1; break;
        case 'n': o->normed = 1; break;
        case 'p': a->prompts = optarg; break;
        case 'N':
            a->max_new = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || a->max_new < 1) return fail("--max-new needs a positive integer"), -1;
            break;
        case 'b':
            a->batch = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || a->batch < 1) return fail("--batch needs a positive integer"), -1;
            break;
        case 'O': a->out = optarg; break;
        case 'P': o->pairs = optarg; break;
        case 'T': o->prompt_template = optarg; break;
        case 'C': a->concepts = optarg; break;
        case 'x': a->match_prompt = 1; break;
        case 't': a->tok = optarg; break;
        case 'D': o->cache_dir = optarg; break;
        case 'R':
            if (iv_protocol_parse(optarg, &o->protocol)) return fail("--protocol must be interv or paper"), -1;
            break;
        case 'W':
            if (parse_weights(optarg, o)) return fail("--target-weights needs two numbers, e.g. 2,1"), -1;
            break;
        case 'U': a->compute = optarg; break;
        case 'h': usage(stdout); return 1;
        default: {
            char m[256];
            snprintf(m, sizeof m, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return fail(m), -1;
        }
        }
    }
    if (optind < argc) {
        char m[256];
        snprintf(m, sizeof m, "unexpected argument '%s'", argv[optind]);
        return fail(m), -1;
    }
    if (!a->model) return fail("--model is required"), -1;
    if (!*method_s) return fail("--method is required"), -1;
    if (!a->prompts) return fail("--prompts is required"), -1;
    if (!a->out) return fail("--out is required"), -1;
    if (iv_method_kind_parse(*method_s, &o->kind))
        return fail("--method must be clean, prompting, logit, tuned, sae, steering or probe"), -1;
    if (*mode_s && iv_method_mode_parse(*mode_s, &o->mode))
        return fail("--mode must be edit, bottleneck or clean"), -1;
    if (o->kind != IV_METHOD_CLEAN && (!o->concept || !*o->concept))
        return fail("--concept is required"), -1;
    if (o->protocol == IV_PROTOCOL_PAPER && (o->normed || o->keep_sae_error || a->match_prompt))
        return fail("--protocol paper fixes the lens (raw residual), the SAE (x replaced) and success "
                    "(prompt + continuation): drop --normed, --keep-error and --match-prompt"), -1;
    return 0;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int cmd_run(int argc, char **argv) {
    iv_method_opts o = iv_method_defaults();
    run_args a = {0};
    a.batch = 8;
    a.max_new = 30;
    const char *method_s = NULL, *mode_s = NULL;
    int pr = parse(argc, argv, &o, &a, &method_s, &mode_s);
    if (pr) return pr > 0 ? 0 : 2;
    int cm = cli_compute("run", a.compute);
    if (cm < 0) return 2;

    iv_err err = {{0}};
    iv_model *m = NULL;
    iv_method *meth = NULL;
    iv_prompt_set ps;
    memset(&ps, 0, sizeof ps);
    iv_concept_set cs;
    memset(&cs, 0, sizeof cs);
    int rc = 1, n_forms = 0;
    const char **forms = NULL;
    char **own_forms = NULL;
    size_t n_own = 0;
    char *name = NULL, *buf = NULL;
    int32_t **ids = NULL, **outs = NULL;
    int *lens = NULL, *out_n = NULL, *steps = NULL;
    double *tsum = NULL, *esz = NULL;
    size_t blen = 0, bcap = 0;

    if ((ends_with(a.prompts, ".csv") ? iv_prompts_load : load_txt)(a.prompts, &ps, &err)) goto fail;
    if (iv_model_load(a.model, a.tok, &m, &err)) goto fail;
    if (cm != IV_COMPUTE_F32 && iv_model_set_compute(m, (iv_compute)cm, &err)) goto fail;
    if (!m->tok) { iv_errf(&err, "%s: no tokenizer found (use --tok)", a.model); goto fail; }
    if (iv_method_create(m, &o, &meth, &err)) goto fail;

    /* surface forms for success */
    if (o.concept) {
        if (a.concepts) {
            if (iv_concepts_load(a.concepts, &cs, &err)) goto fail;
            const iv_concept *cc = iv_concept_find(&cs, o.concept);
            if (cc) { forms = (const char **)cc->forms; n_forms = (int)cc->n_forms; }
        }
        if (!forms) {
            if (iv_concept_default_forms(o.concept, &own_forms, &n_own)) { iv_errf(&err, "out of memory"); goto fail; }
            forms = (const char **)own_forms;
            n_forms = (int)n_own;
        }
        if (o.protocol == IV_PROTOCOL_PAPER)
            fprintf(stderr, "interv run: success = '%s' as a substring of prompt + continuation (paper protocol)\n",
                    o.concept);
        else {
            fprintf(stderr, "interv run: success forms:");
            for (int k = 0; k < n_forms; k++) fprintf(stderr, "%s %s", k ? "," : "", forms[k]);
            fprintf(stderr, "%s\n", a.match_prompt ? " (in prompt + continuation)" : " (in the continuation)");
        }
    }

    size_t n = ps.n;
    ids = calloc(n, sizeof *ids);
    lens = calloc(n, sizeof *lens);
    outs = calloc(n, sizeof *outs);
    out_n = calloc(n, sizeof *out_n);
    tsum = calloc(n, sizeof *tsum);
    steps = calloc(n, sizeof *steps);
    esz = calloc(n, sizeof *esz);
    name = model_name(a.model);
    if (!ids || !lens || !outs || !out_n || !tsum || !steps || !esz || !name) {
        iv_errf(&err, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        size_t k = 0;
        if (iv_method_prompt(meth, ps.p[i].text, &text, &err)) goto fail;
        int e = iv_tok_encode(m->tok, text, strlen(text), 1, &ids[i], &k, &err);
        free(text);
        if (e) { iv_err_prefix(&err, "%s: prompt %zu", a.prompts, i); goto fail; }
        /* The tokenizer's own post-processor decides BOS (as in sweep, generate and
         * score); only an empty prompt gets the model's BOS so that there is a token
         * to continue from. */
        if (k == 0 && m->cfg.bos_id >= 0) {
            int32_t *t = realloc(ids[i], (k + 1) * sizeof *t);
            if (!t) { iv_errf(&err, "out of memory"); goto fail; }
            memmove(t + 1, t, k * sizeof *t);
            t[0] = m->cfg.bos_id;
            ids[i] = t;
            k++;
        }
        if (k == 0) { iv_errf(&err, "%s: prompt %zu is empty and the model has no BOS token", a.prompts, i); goto fail; }
        lens[i] = (int)k;
    }

    iv_hooks hooks = {0};
    if (iv_method_install(meth, &hooks, &err)) goto fail;
    const int32_t *tids;
    int n_t;
    iv_method_targets(meth, &tids, NULL, &n_t);
    /* Chunks of `batch` prompts: with n <= batch each prompt keeps row i of the
     * chunk for its whole generation, so per-row edit statistics are per prompt. */
    for (size_t c0 = 0; c0 < n; c0 += (size_t)a.batch) {
        int nc = (int)(n - c0 < (size_t)a.batch ? n - c0 : (size_t)a.batch);
        step_acc acc = {tids, n_t, tsum + c0, steps + c0};
        iv_gen_opts g = iv_gen_defaults();
        g.max_new = a.max_new;
        g.batch = nc;
        g.on_step = n_t > 0 ? on_step : NULL;
        g.user = &acc;
        iv_method_reset_stats(meth);
        if (iv_generate(m, (const int32_t *const *)(ids + c0), lens + c0, nc, &g,
                        hooks.n ? &hooks : NULL, outs + c0, out_n + c0, &err))
            goto fail;
        for (int r = 0; r < nc; r++) {
            int64_t cnt;
            iv_method_row_stats(meth, r, &esz[c0 + r], &cnt);
            if (!iv_method_has_hook(meth)) esz[c0 + r] = 0;
            else if (cnt == 0) esz[c0 + r] = NAN;
        }
        fprintf(stderr, "\rinterv run: %zu/%zu prompts", c0 + (size_t)nc, n);
        fflush(stderr);
    }
    fprintf(stderr, "\n");

    iv_method_kind kind = iv_method_get_kind(meth);
    iv_method_mode mode = iv_method_get_mode(meth);
    int n_succ = 0;
    double esum = 0;
    int ecnt = 0;
    for (size_t i = 0; i < n; i++) {
        char *cont = NULL;
        size_t cl = 0;
        if (iv_tok_decode(m->tok, outs[i], (size_t)out_n[i], 1, &cont, &cl, &err)) goto fail;
        iv_record r;
        memset(&r, 0, sizeof r);
        r.cell.model = name;
        r.cell.method = (char *)iv_method_kind_name(kind);
        r.cell.concept = (char *)(o.concept ? o.concept : "");
        r.cell.layer = iv_method_layer(meth);
        r.cell.alpha = (mode == IV_MMODE_EDIT) ? o.alpha : 0.0;
        r.cell.mode = (iv_mode)mode;
        r.split = iv_prompt_split(&ps, i);
        r.prompt_index = (int)i;
        r.category = ps.p[i].category >= 0 && (size_t)ps.p[i].category < ps.n_cat
                         ? ps.categories[ps.p[i].category] : "";
        r.prompt = ps.p[i].text;
        r.continuation = cont;
        r.cell.protocol = o.protocol;
        int special = 0;
        if (o.protocol == IV_PROTOCOL_PAPER && o.concept)
            r.success = iv_success_paper(o.concept, ps.p[i].text, cont, &special);
        else
            r.success = n_forms ? iv_success(ps.p[i].text, cont, forms, (size_t)n_forms, a.match_prompt) : 0;
        r.judge_mass = NAN;
        if (o.protocol == IV_PROTOCOL_PAPER) {
            if (iv_paper_deviations(&r, special)) { free(cont); iv_errf(&err, "out of memory"); goto fail; }
        }
        r.target_prob = steps[i] ? tsum[i] / steps[i] : NAN;
        r.edit_size = esz[i];
        r.perplexity = NAN;
        r.cont_tokens = -1;
        r.coherence = NAN;
        char *line = iv_record_to_json(&r);
        if (!line) {
            utf8_sanitise(cont);
            line = iv_record_to_json(&r);
        }
        free(cont);
        for (int k = 0; k < r.n_deviations; k++) free(r.deviations[k]);
        free(r.deviations);
        if (!line) { iv_errf(&err, "%s: record %zu cannot be written", a.out, i); goto fail; }
        size_t k = strlen(line);
        if (blen + k + 2 > bcap) {
            bcap = (blen + k + 2) * 2;
            char *nb = realloc(buf, bcap);
            if (!nb) { free(line); iv_errf(&err, "out of memory"); goto fail; }
            buf = nb;
        }
        memcpy(buf + blen, line, k);
        blen += k;
        buf[blen++] = '\n';
        free(line);
        n_succ += r.success;
        if (!isnan(esz[i])) { esum += esz[i]; ecnt++; }
    }
    if (iv_write_atomic(a.out, buf ? buf : "", blen, &err)) goto fail;
    fprintf(stderr, "interv run: %s layer %d %s alpha %g: success %d/%zu, mean edit size %.4g -> %s\n",
            iv_method_kind_name(kind), iv_method_layer(meth), iv_method_mode_name(mode), (double)o.alpha,
            n_succ, n, ecnt ? esum / ecnt : 0.0, a.out);
    rc = 0;
fail:
    if (rc) fprintf(stderr, "interv run: %s\n", err.msg);
    for (size_t i = 0; ids && i < ps.n; i++) free(ids[i]);
    for (size_t i = 0; outs && i < ps.n; i++) free(outs[i]);
    free(ids); free(lens); free(outs); free(out_n); free(tsum); free(steps); free(esz);
    free(buf); free(name);
    for (size_t k = 0; k < n_own; k++) free(own_forms[k]);
    free(own_forms);
    iv_concepts_free(&cs);
    iv_prompts_free(&ps);
    iv_method_free(meth);
    iv_model_free(m);
    return rc;
}
