/* interv score: per-token log-probabilities and perplexity of texts. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: interv score --model PATH [--tokenizer FILE] (--text TEXT | --file FILE) [--tokens] [--threads N]\n"
    "                    [--compute f32|bf16]\n"
    "Scores each text (one per line with --file; BOS added): prints tokens, mean NLL (nats/token)\n"
    "and perplexity = exp(mean NLL) per text, then the corpus-level perplexity\n"
    "exp(total NLL / total tokens).  --tokens also prints each token's log-probability.\n" CLI_COMPUTE_HELP;

int cmd_score(int argc, char **argv) {
    static const struct option opts[] = {{"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 'z'}, {"text", 1, 0, 't'},
                                         {"file", 1, 0, 'f'}, {"tokens", 0, 0, 'k'}, {"threads", 1, 0, 'T'},
                                         {"compute", 1, 0, 'C'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL, *text = NULL, *file = NULL, *compute = NULL;
    int per_token = 0, c;
    long threads = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 't': text = optarg; break;
        case 'f': file = optarg; break;
        case 'k': per_token = 1; break;
        case 'C': compute = optarg; break;
        case 'T': if (cli_parse_int("score", "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return 2;
        }
    }
    if (!!text == !!file) { fprintf(stderr, "interv score: give exactly one of --text or --file\n"); return 2; }
    int cm = cli_compute("score", compute);
    if (cm < 0) return 2;
    cli_set_threads((int)threads);
    char **texts;
    int n = 1;
    if (file) { if ((n = cli_read_lines("score", file, &texts)) < 0) return 1; }
    else { texts = malloc(sizeof *texts); texts[0] = strdup(text); }
    iv_model *m = cli_load_model("score", model, tok);
    if (m && cli_set_compute("score", m, cm)) { iv_model_free(m); m = NULL; }
    if (!m) { cli_free_lines(texts, n); return 1; }
    int rc = 0;
    double tot_nll = 0;
    long tot_tok = 0;
    iv_err err = {{0}};
    if (!m->tok) { fprintf(stderr, "interv score: %s: no tokenizer found\n", model); rc = 1; }
    for (int i = 0; i < n && rc == 0; i++) {
        int32_t *ids;
        size_t k;
        if (iv_tok_encode(m->tok, texts[i], strlen(texts[i]), 1, &ids, &k, &err) != 0) {
            fprintf(stderr, "interv score: %s\n", err.msg); rc = 1; break;
        }
        float *lp = malloc((k > 1 ? k - 1 : 1) * sizeof *lp);
        if (iv_score(m, ids, (int)k, NULL, lp, &err) != 0) {
            fprintf(stderr, "interv score: text %d: %s\n", i + 1, err.msg); rc = 1;
        } else {
            double nll = 0;
            for (size_t j = 0; j + 1 < k; j++) {
                nll -= lp[j];
                if (per_token) {
                    const char *pc = iv_tok_piece(m->tok, ids[j + 1]);
                    printf("  %6d %-16s %.6f\n", ids[j + 1], pc ? pc : "?", lp[j]);
                }
            }
            long nt = (long)k - 1;
            printf("text %d: tokens %ld mean_nll %.6f perplexity %.6f\n", i + 1, nt, nt ? nll / nt : 0.0,
                   nt ? exp(nll / nt) : 1.0);
            tot_nll += nll;
            tot_tok += nt;
        }
        free(lp);
        free(ids);
    }
    if (rc == 0 && tot_tok) printf("corpus: tokens %ld mean_nll %.6f perplexity %.6f\n", tot_tok, tot_nll / tot_tok, exp(tot_nll / tot_tok));
    cli_free_lines(texts, n);
    iv_model_free(m);
    return rc;
}
