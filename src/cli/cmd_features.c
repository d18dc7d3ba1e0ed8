/* interv features: rank an SAE's features for a concept (pair separation and
 * decoder/unembedding alignment) and print the top candidates. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/method.h"
#include "interv/model.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: interv features --model PATH --sae PATH --concept TEXT [--pairs CSV] [--layer L]\n"
            "                       [--top N] [--tok PATH]\n"
            "\n"
            "  --sae     sae-lens folder (cfg.json + sae_weights.safetensors) or Gemma Scope params.npz\n"
            "  --pairs   CSV pos_prompt,neg_prompt: adds the separation score (mean pooled feature\n"
            "            activation on positives minus negatives)\n"
            "  --layer   resid_post layer (default: the SAE's hook)\n"
            "  --top     candidates shown (default 10)\n"
            "Score = separation / max|separation| + alignment, where alignment is the cosine of the\n"
            "feature's decoder row with the concept tokens' unembedding.\n");
}

static int fail(const char *msg) {
    fprintf(stderr, "interv features: %s\n", msg);
    return 2;
}

int cmd_features(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"sae", 1, 0, 's'}, {"concept", 1, 0, 'c'}, {"pairs", 1, 0, 'p'},
        {"layer", 1, 0, 'l'}, {"top", 1, 0, 'n'}, {"tok", 1, 0, 't'},     {"help", 0, 0, 'h'},
        {"tokenizer", 1, 0, 't'},
        {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_SAE;
    o.mode = IV_MMODE_BOTTLENECK; /* no automatic choice at creation: we rank here */
    int top = 10, c;
    char *end;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 's': o.artifact = optarg; break;
        case 'c': o.concept = optarg; break;
        case 'p': o.pairs = optarg; break;
        case 't': tok = optarg; break;
        case 'l':
            o.layer = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || o.layer < 0) return fail("--layer needs a non-negative integer");
            break;
        case 'n':
            top = (int)strtol(optarg, &end, 10);
            if (*end || end == optarg || top < 1) return fail("--top needs a positive integer");
            break;
        case 'h': usage(stdout); return 0;
        default: {
            char msg[256];
            snprintf(msg, sizeof msg, "unknown or incomplete option '%s' (see --help)", argv[optind - 1]);
            return fail(msg);
        }
        }
    }
    if (optind < argc) return fail("unexpected argument (see --help)");
    if (!model || !o.artifact || !o.concept) return fail("--model, --sae and --concept are required");
    iv_err err = {{0}};
    iv_model *m = NULL;
    iv_method *meth = NULL;
    iv_feature_score *sc = NULL;
    int64_t n = 0;
    int rc = 1;
    if (iv_model_load(model, tok, &m, &err)) goto out;
    if (!m->tok) { iv_errf(&err, "%s: no tokenizer found (use --tok)", model); goto out; }
    if (iv_method_create(m, &o, &meth, &err)) goto out;
    if (iv_sae_rank_features(m, meth, o.pairs, &sc, &n, &err)) goto out;
    printf("# SAE %s, layer %d, concept \"%s\"%s\n", o.artifact, iv_method_layer(meth), o.concept,
           o.pairs ? "" : " (no --pairs: alignment only)");
    printf("%-5s %-8s %10s %11s %10s\n", "rank", "feature", "score", "separation", "alignment");
    for (int64_t i = 0; i < n && i < top; i++)
        printf("%-5lld %-8lld %10.4f %11.4f %10.4f\n", (long long)i + 1, (long long)sc[i].index,
               sc[i].score, sc[i].separation, sc[i].alignment);
    rc = 0;
out:
    if (rc) fprintf(stderr, "interv features: %s\n", err.msg);
    free(sc);
    iv_method_free(meth);
    iv_model_free(m);
    return rc;
}
