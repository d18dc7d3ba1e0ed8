/* interv train: steering vector, linear probe, tuned lens or SAE on a model's
 * residual stream, with a progress line on stderr. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "interv/eval.h"
#include "interv/gguf.h"
#include "interv/train.h"

static const char *USAGE =
    "usage: interv train (steering|probe|tuned-lens|sae) --model PATH --out PATH\n"
    "                    [--layer L] (--pairs FILE | --corpus FILE) [--heldout FILE]\n"
    "                    [--seed S] [--steps N] [--lr X] [--l1 X] [--d-sae N] [--k K]\n"
    "                    [--pca] [--gguf FILE] [--concept NAME] [--batch N]\n"
    "                    [--max-tokens N] [--tokenizer FILE] [--threads N]\n"
    "                    [--protocol interv|paper]\n"
    "\n"
    "  steering    v = mean over pairs of pooled(pos) - pooled(neg) at resid_post.L (pooled =\n"
    "              mean over positions after BOS); --pca: top principal direction of the\n"
    "              differences.  --out FILE.safetensors (\"direction\" [d]); --gguf FILE also\n"
    "              writes a llama.cpp control vector (direction.L, L >= 1).\n"
    "  probe       logistic regression pos (1) vs neg (0) on pooled activations, BCE + L1\n"
    "              (--l1, default 1e-3), Adam, 80/20 split by pair (--seed).  --out FILE\n"
    "              (\"weight\" [d] acting on raw activations, \"bias\" [1]).\n"
    "  tuned-lens  translators y = h + A h + b for hidden_states[0..n_layers-1], trained on\n"
    "              KL(final || softmax(W_U finalnorm(y))) over --corpus; reports held-out KL of\n"
    "              logit vs tuned lens per layer.  --out FOLDER (config.json, params.safetensors).\n"
    "  sae         ReLU+L1 (--l1, default 0.5) or TopK (--k) SAE with --d-sae features\n"
    "              (default 4d) on resid_post.L over --corpus.  --out FOLDER (sae-lens cfg.json,\n"
    "              sae_weights.safetensors); reports L0, MSE, explained variance, dead\n"
    "              features and next-token loss clean / spliced / zero-ablated.\n"
    "\n"
    "  --pairs FILE       CSV with header pos_prompt,neg_prompt (steering, probe)\n"
    "  --corpus FILE      texts separated by blank lines (tuned-lens, sae)\n"
    "  --heldout FILE     evaluation texts (default: the corpus's last 10%)\n"
    "  --steps N          optimiser steps (probe 500, sae 2000, tuned-lens 3 epochs)\n"
    "  --lr X             Adam learning rate (probe 0.01, others 0.001)\n"
    "  --batch N          positions per step (tuned-lens, sae; default 256)\n"
    "  --max-tokens N     activation positions collected from the corpus\n"
    "  --concept NAME     recorded in the metadata (default: the pairs file's name)\n"
    "  --protocol P       interv (default) or paper: the reference study's probe recipe\n"
    "                     (sigmoid probe on raw activations, N(0,0.02) init, BCE + 0.3 L1 on\n"
    "                     w and b, Adam lr 1e-3 betas 0.9/0.95 with coupled weight decay 0.1,\n"
    "                     batches of 16, 50 epochs, lr x 0.75 when the test loss does not\n"
    "                     improve (ReduceLROnPlateau, patience 0), stratified 80/20 split by\n"
    "                     label with seed 12345, final-epoch weights; --steps/--lr/--l1 are\n"
    "                     refused).  Steering is the same under both; tuned-lens and sae have\n"
    "                     no paper recipe (the protocol changes how a lens is applied, not\n"
    "                     how it is trained) and refuse it.\n";

/* ---- progress line ----------------------------------------------------------------- */
typedef struct {
    double t0, last;
    const char *phase;
    int shown;
} progress;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void on_progress(void *user, const char *phase, int64_t done, int64_t total, double loss) {
    progress *p = user;
    double t = now_s();
    if (!p->phase || strcmp(p->phase, phase)) {  /* new phase: restart the clock */
        if (p->shown) fputc('\n', stderr);
        p->phase = phase; p->t0 = t; p->last = 0; p->shown = 0;
    }
    int end = done >= total;
    if (t - p->t0 < 1.0 || (!end && t - p->last < 0.2)) {
        if (end && p->shown) fputc('\n', stderr);
        if (end) { p->shown = 0; p->phase = NULL; }
        return;
    }
    p->last = t;
    double eta = done > 0 ? (t - p->t0) * (double)(total - done) / (double)done : 0;
    fprintf(stderr, "\r%s %lld/%lld", phase, (long long)done, (long long)total);
    if (loss >= 0) fprintf(stderr, "  loss %.5f", loss);
    fprintf(stderr, "  %.0fs elapsed, ETA %.0fs   ", t - p->t0, eta);
    p->shown = 1;
    if (end) { fputc('\n', stderr); p->shown = 0; p->phase = NULL; }
}

/* ---- per kind ------------------------------------------------------------------------ */
typedef struct {
    const char *kind, *model, *tok, *out, *pairs, *corpus, *heldout, *gguf, *concept;
    long layer, seed, steps, d_sae, k, batch, max_tokens, threads;
    double lr, l1;
    int pca, have_l1, have_lr;
    iv_protocol protocol;
} args;

static int fail(const char *msg, const iv_err *e) {
    fprintf(stderr, "interv train: %s%s%s\n", msg, e ? ": " : "", e ? e->msg : "");
    return 1;
}

static char *concept_name(const args *a) {
    if (a->concept) return strdup(a->concept);
    char *c = strdup(a->pairs), *b = basename(c), *r = strdup(b);
    free(c);
    char *dot = r ? strrchr(r, '.') : NULL;
    if (dot) *dot = 0;
    return r;
}

static int write_gguf(const args *a, const iv_model *m, const float *v, iv_err *e) {
    iv_gguf_cv cv;
    if (iv_gguf_cv_init(&cv, m->cfg.dim, (int)a->layer + 1, m->cfg.arch_name, e)) return -1;
    cv.vec[a->layer] = malloc((size_t)m->cfg.dim * sizeof(float));
    if (!cv.vec[a->layer]) { iv_gguf_cv_free(&cv); return iv_errf(e, "out of memory"); }
    memcpy(cv.vec[a->layer], v, (size_t)m->cfg.dim * sizeof(float));
    int rc = iv_gguf_cv_write(a->gguf, &cv, e);
    iv_gguf_cv_free(&cv);
    return rc;
}

static int run_pairs(const args *a, iv_model *m, progress *pg) {
    iv_err e = {{0}};
    iv_pair_set ps;
    if (iv_pairs_load(a->pairs, &ps, &e)) return fail("cannot read pairs", &e);
    iv_texts pos = {ps.pos, (int)ps.n}, neg = {ps.neg, (int)ps.n};
    char *concept = concept_name(a);
    int rc = 1, d = m->cfg.dim;
    iv_act_opts act = iv_act_defaults();
    act.progress = on_progress; act.user = pg;
    if (a->batch > 0) act.batch = (int)a->batch;
    if (!strcmp(a->kind, "steering")) {
        iv_steer_opts o = {.layer = (int)a->layer, .pca = a->pca, .act = act};
        float *v = malloc((size_t)d * sizeof(float));
        if (!v) { fail("out of memory", NULL); goto done; }
        if (iv_train_steering(m, &pos, &neg, &o, v, &e) ||
            iv_steering_save(a->out, v, d, (int)a->layer, concept, a->pca, (int)ps.n, &e) ||
            (a->gguf && write_gguf(a, m, v, &e))) {
            free(v); fail("steering", &e); goto done;
        }
        double n2 = 0;
        for (int i = 0; i < d; i++) n2 += (double)v[i] * v[i];
        printf("steering %s layer %ld: %zu pairs, %s, |v| = %.4f -> %s%s%s\n", concept, a->layer, ps.n,
               a->pca ? "pca" : "mean difference", sqrt(n2), a->out, a->gguf ? ", " : "",
               a->gguf ? a->gguf : "");
        free(v);
    } else {
        iv_probe_opts o = iv_probe_defaults();
        o.layer = (int)a->layer; o.seed = (uint64_t)a->seed; o.act = act;
        o.protocol = a->protocol;
        if (a->steps > 0) o.steps = (int)a->steps;
        if (a->have_lr) o.lr = (float)a->lr;
        if (a->have_l1) o.l1 = (float)a->l1;
        iv_probe p;
        if (iv_train_probe(m, &pos, &neg, &o, &p, &e)) { fail("probe", &e); goto done; }
        if (iv_probe_save(a->out, &p, (int)a->layer, concept, o.l1, &e)) {
            iv_probe_free(&p); fail("probe", &e); goto done;
        }
        printf("probe %s layer %ld%s: train_acc %.4f (%d)  test_acc %.4f (%d)  loss %.4f -> %s\n", concept,
               a->layer, a->protocol == IV_PROTOCOL_PAPER ? " (paper recipe)" : "", p.train_acc, p.n_train,
               p.test_acc, p.n_test, p.train_loss, a->out);
        iv_probe_free(&p);
    }
    rc = 0;
done:
    free(concept);
    iv_pairs_free(&ps);
    return rc;
}

static int run_corpus(const args *a, iv_model *m, progress *pg) {
    iv_err e = {{0}};
    iv_texts corpus = {0}, held = {0};
    if (iv_texts_read_paragraphs(a->corpus, &corpus, &e)) return fail("cannot read corpus", &e);
    if (a->heldout && iv_texts_read_paragraphs(a->heldout, &held, &e)) {
        iv_texts_free(&corpus);
        return fail("cannot read held-out texts", &e);
    }
    const iv_texts *hp = a->heldout ? &held : NULL;
    int rc = 1;
    iv_act_opts act = iv_act_defaults();
    act.progress = on_progress; act.user = pg;
    if (!strcmp(a->kind, "tuned-lens")) {
        iv_lens_opts o = iv_lens_defaults();
        o.act = act; o.seed = (uint64_t)a->seed;
        if (a->steps > 0) o.steps = (int)a->steps;
        if (a->have_lr) o.lr = (float)a->lr;
        if (a->batch > 0) o.batch = (int)a->batch;
        if (a->max_tokens > 0) o.max_pos = a->max_tokens;
        iv_tuned_lens t;
        if (iv_train_tuned_lens(m, &corpus, hp, &o, &t, &e)) { fail("tuned lens", &e); goto done; }
        if (iv_tuned_lens_save(a->out, &t, a->model, &e)) { iv_tuned_lens_free(&t); fail("tuned lens", &e); goto done; }
        printf("tuned lens: %lld training positions, %lld held-out positions -> %s\n",
               (long long)t.n_train_pos, (long long)t.n_eval_pos, a->out);
        printf("hidden_state  KL(logit lens)  KL(tuned lens)\n");
        for (int l = 0; l < t.n_layers; l++)
            printf("%12d  %14.4f  %14.4f\n", l, t.kl_logit[l], t.kl_tuned[l]);
        iv_tuned_lens_free(&t);
    } else {
        iv_sae_opts o = iv_sae_defaults();
        o.act = act; o.layer = (int)a->layer; o.seed = (uint64_t)a->seed; o.topk = (int)a->k;
        if (a->steps > 0) o.steps = (int)a->steps;
        if (a->have_lr) o.lr = (float)a->lr;
        if (a->have_l1) o.l1 = (float)a->l1;
        if (a->batch > 0) o.batch = (int)a->batch;
        if (a->d_sae > 0) o.d_sae = (int)a->d_sae;
        if (a->max_tokens > 0) o.max_pos = a->max_tokens;
        iv_sae s;
        if (iv_train_sae(m, &corpus, hp, &o, &s, &e)) { fail("sae", &e); goto done; }
        if (iv_sae_save(a->out, &s, a->model, &e)) { iv_sae_free(&s); fail("sae", &e); goto done; }
        printf("sae layer %ld (%s, d_sae %d): L0 %.2f  MSE %.5f  explained variance %.4f  dead %d/%d\n",
               a->layer, s.k ? "topk" : "relu+l1", s.d_sae, s.l0, s.mse, s.explained_var, s.dead, s.d_sae);
        printf("next-token loss (nats): clean %.4f  spliced %.4f  zero-ablated %.4f -> %s\n", s.nll_clean,
               s.nll_spliced, s.nll_zero, a->out);
        iv_sae_free(&s);
    }
    rc = 0;
done:
    iv_texts_free(&corpus);
    iv_texts_free(&held);
    return rc;
}

int cmd_train(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) { fputs(USAGE, stdout); return 0; }
    if (argc < 2 || argv[1][0] == '-') { fputs(USAGE, stderr); return 2; }
    args a = {.kind = argv[1], .layer = -1};
    if (strcmp(a.kind, "steering") && strcmp(a.kind, "probe") && strcmp(a.kind, "tuned-lens") && strcmp(a.kind, "sae")) {
        fprintf(stderr, "interv train: unknown kind '%s' (steering, probe, tuned-lens, sae)\n", a.kind);
        return 2;
    }
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 'z'}, {"layer", 1, 0, 'L'}, {"pairs", 1, 0, 'p'},
        {"corpus", 1, 0, 'c'}, {"heldout", 1, 0, 'H'}, {"out", 1, 0, 'o'}, {"seed", 1, 0, 'S'},
        {"steps", 1, 0, 'n'}, {"lr", 1, 0, 'r'}, {"l1", 1, 0, 'l'}, {"d-sae", 1, 0, 'D'},
        {"k", 1, 0, 'k'}, {"pca", 0, 0, 'P'}, {"gguf", 1, 0, 'g'}, {"concept", 1, 0, 'C'},
        {"batch", 1, 0, 'b'}, {"max-tokens", 1, 0, 'x'}, {"threads", 1, 0, 'T'},
        {"protocol", 1, 0, 'R'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': a.model = optarg; break;
        case 'z': a.tok = optarg; break;
        case 'L': bad = cli_parse_int("train", "--layer", optarg, 0, 100000, &a.layer); break;
        case 'p': a.pairs = optarg; break;
        case 'c': a.corpus = optarg; break;
        case 'H': a.heldout = optarg; break;
        case 'o': a.out = optarg; break;
        case 'S': bad = cli_parse_int("train", "--seed", optarg, 0, 0x7fffffffffffffffL, &a.seed); break;
        case 'n': bad = cli_parse_int("train", "--steps", optarg, 1, 1L << 30, &a.steps); break;
        case 'r': bad = cli_parse_float("train", "--lr", optarg, &a.lr) || a.lr <= 0; a.have_lr = 1; break;
        case 'l': bad = cli_parse_float("train", "--l1", optarg, &a.l1) || a.l1 < 0; a.have_l1 = 1; break;
        case 'D': bad = cli_parse_int("train", "--d-sae", optarg, 1, 1L << 24, &a.d_sae); break;
        case 'k': bad = cli_parse_int("train", "--k", optarg, 1, 1L << 24, &a.k); break;
        case 'P': a.pca = 1; break;
        case 'g': a.gguf = optarg; break;
        case 'C': a.concept = optarg; break;
        case 'b': bad = cli_parse_int("train", "--batch", optarg, 1, 1 << 20, &a.batch); break;
        case 'x': bad = cli_parse_int("train", "--max-tokens", optarg, 1, 1L << 40, &a.max_tokens); break;
        case 'T': bad = cli_parse_int("train", "--threads", optarg, 1, 1024, &a.threads); break;
        case 'R':
            if (iv_protocol_parse(optarg, &a.protocol)) {
                fprintf(stderr, "interv train: unknown --protocol '%s' (interv, paper)\n", optarg);
                return 2;
            }
            break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return 2;
        }
        if (bad) { fprintf(stderr, "interv train: bad value for an option (see --help)\n"); return 2; }
    }
    if (optind < argc - 1) { fprintf(stderr, "interv train: unexpected argument '%s'\n", argv[optind + 1]); return 2; }
    int pairs_kind = !strcmp(a.kind, "steering") || !strcmp(a.kind, "probe");
    if (!a.model || !a.out) { fprintf(stderr, "interv train: --model and --out are required\n"); return 2; }
    if (pairs_kind && !a.pairs) { fprintf(stderr, "interv train: %s needs --pairs FILE\n", a.kind); return 2; }
    if (!pairs_kind && !a.corpus) { fprintf(stderr, "interv train: %s needs --corpus FILE\n", a.kind); return 2; }
    if (strcmp(a.kind, "tuned-lens") && a.layer < 0) { fprintf(stderr, "interv train: %s needs --layer L\n", a.kind); return 2; }
    if (a.pca && strcmp(a.kind, "steering")) { fprintf(stderr, "interv train: --pca is for steering only\n"); return 2; }
    if (a.gguf && strcmp(a.kind, "steering")) { fprintf(stderr, "interv train: --gguf is for steering only\n"); return 2; }
    if (a.k && strcmp(a.kind, "sae")) { fprintf(stderr, "interv train: --k is for sae only\n"); return 2; }
    if (a.protocol == IV_PROTOCOL_PAPER && !pairs_kind) {
        fprintf(stderr, "interv train: --protocol paper has no %s recipe (the reference protocol changes how a "
                        "lens or SAE is applied, not how it is trained; train with the default protocol)\n", a.kind);
        return 2;
    }
    if (a.protocol == IV_PROTOCOL_PAPER && !strcmp(a.kind, "probe") && (a.steps || a.have_lr || a.have_l1)) {
        fprintf(stderr, "interv train: --protocol paper fixes the probe recipe (50 epochs, lr 1e-3, L1 0.3); "
                        "drop --steps, --lr and --l1\n");
        return 2;
    }
    if (a.gguf && a.layer == 0) {
        fprintf(stderr, "interv train: llama.cpp control vectors cannot steer block 0 (--layer >= 1 for --gguf)\n");
        return 2;
    }
    cli_set_threads((int)a.threads);
    iv_model *m = cli_load_model("train", a.model, a.tok);
    if (!m) return 1;
    if (a.layer >= m->cfg.n_layers) {
        fprintf(stderr, "interv train: --layer %ld out of range (model has %d layers)\n", a.layer, m->cfg.n_layers);
        iv_model_free(m);
        return 2;
    }
    progress pg = {0};
    int rc = pairs_kind ? run_pairs(&a, m, &pg) : run_corpus(&a, m, &pg);
    iv_model_free(m);
    return rc;
}
