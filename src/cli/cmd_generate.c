/* interv generate: prompt(s) in, prompt + continuation out. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *USAGE =
    "usage: interv generate --model PATH [--tokenizer FILE] (--prompt TEXT | --prompts FILE)\n"
    "                       [--max-new N] [--steps N] [--temperature T] [--top-p P] [--seed S]\n"
    "                       [--batch B] [--threads N] [--compute f32|bf16] [--jsonl]\n"
    "\n"
    "Prints each prompt followed by its continuation (plain text; --jsonl: one JSON record\n"
    "per prompt with prompt, continuation, text and token counts).\n"
    "  --model PATH       Hugging Face folder or llama2.c checkpoint (.bin)\n"
    "  --tokenizer FILE   tokenizer (default: the folder's, or a tok*.bin beside the .bin)\n"
    "  --prompt TEXT      one prompt;  --prompts FILE: one prompt per line\n"
    "  --max-new N        new tokens per prompt (default 256)\n"
    "  --steps N          total tokens incl. BOS and prompt, like llama2.c (overrides --max-new)\n"
    "  --temperature T    0 = greedy (default); --top-p P nucleus sampling (default 1 = off)\n"
    "  --seed S           random seed for sampling (default 0)\n"
    "  --batch B          prompts decoded together (default 8)\n"
    "  --threads N        CPU threads\n" CLI_COMPUTE_HELP;

int cmd_generate(int argc, char **argv) {
    static const struct option opts[] = {
        {"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 'z'}, {"prompt", 1, 0, 'p'}, {"prompts", 1, 0, 'P'},
        {"max-new", 1, 0, 'n'}, {"steps", 1, 0, 's'}, {"temperature", 1, 0, 't'}, {"top-p", 1, 0, 'k'},
        {"seed", 1, 0, 'S'}, {"batch", 1, 0, 'b'}, {"threads", 1, 0, 'T'}, {"jsonl", 0, 0, 'j'},
        {"compute", 1, 0, 'C'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL, *prompt = NULL, *pfile = NULL, *compute = NULL;
    long max_new = 256, steps = 0, seed = 0, batch = 8, threads = 0;
    double temp = 0, top_p = 1;
    int jsonl = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'm': model = optarg; break;
        case 'z': tok = optarg; break;
        case 'p': prompt = optarg; break;
        case 'P': pfile = optarg; break;
        case 'n': bad = cli_parse_int("generate", "--max-new", optarg, 0, 1 << 24, &max_new); break;
        case 's': bad = cli_parse_int("generate", "--steps", optarg, 1, 1 << 24, &steps); break;
        case 't': bad = cli_parse_float("generate", "--temperature", optarg, &temp) || temp < 0; break;
        case 'k': bad = cli_parse_float("generate", "--top-p", optarg, &top_p) || top_p <= 0 || top_p > 1; break;
        case 'S': bad = cli_parse_int("generate", "--seed", optarg, 0, 0x7fffffffffffffffL, &seed); break;
        case 'b': bad = cli_parse_int("generate", "--batch", optarg, 1, 4096, &batch); break;
        case 'T': bad = cli_parse_int("generate", "--threads", optarg, 1, 1024, &threads); break;
        case 'j': jsonl = 1; break;
        case 'C': compute = optarg; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return 2;
        }
        if (bad) { fprintf(stderr, "interv generate: bad value for an option (see --help)\n"); return 2; }
    }
    if (optind < argc) { fprintf(stderr, "interv generate: unexpected argument '%s'\n", argv[optind]); return 2; }
    if (!!prompt == !!pfile) { fprintf(stderr, "interv generate: give exactly one of --prompt or --prompts\n"); return 2; }
    int cm = cli_compute("generate", compute);
    if (cm < 0) return 2;
    cli_set_threads((int)threads);
    char **texts = NULL;
    int n = 1;
    if (pfile) { if ((n = cli_read_lines("generate", pfile, &texts)) < 0) return 1; }
    else { texts = malloc(sizeof *texts); texts[0] = strdup(prompt); }
    iv_model *m = cli_load_model("generate", model, tok);
    if (m && cli_set_compute("generate", m, cm)) { iv_model_free(m); m = NULL; }
    if (!m) { cli_free_lines(texts, n); return 1; }
    int rc = 1;
    iv_err err = {{0}};
    int32_t **ids = calloc((size_t)n, sizeof *ids), **outs = calloc((size_t)n, sizeof *outs);
    int *lens = calloc((size_t)n, sizeof *lens), *outn = calloc((size_t)n, sizeof *outn);
    if (!m->tok) { fprintf(stderr, "interv generate: %s: no tokenizer found (pass --tokenizer)\n", model); goto done; }
    for (int i = 0; i < n; i++) {
        size_t k;
        if (iv_tok_encode(m->tok, texts[i], strlen(texts[i]), 1, &ids[i], &k, &err) != 0) {
            fprintf(stderr, "interv generate: %s\n", err.msg);
            goto done;
        }
        lens[i] = (int)k;
        if (lens[i] > m->cfg.max_seq) {
            fprintf(stderr, "interv generate: prompt %d has %d tokens, longer than the context of %d of %s\n", i + 1,
                    lens[i], m->cfg.max_seq, model);
            goto done;
        }
    }
    iv_gen_opts go = iv_gen_defaults();
    go.max_new = (int)max_new;
    go.steps = (int)steps;
    go.temperature = (float)temp;
    go.top_p = (float)top_p;
    go.seed = (uint64_t)seed;
    go.batch = (int)batch;
    if (iv_generate(m, (const int32_t *const *)ids, lens, n, &go, NULL, outs, outn, &err) != 0) {
        fprintf(stderr, "interv generate: %s\n", err.msg);
        goto done;
    }
    for (int i = 0; i < n; i++) {
        int total = lens[i] + outn[i];
        int32_t *all = malloc((size_t)total * sizeof *all);
        memcpy(all, ids[i], (size_t)lens[i] * sizeof *all);
        memcpy(all + lens[i], outs[i], (size_t)outn[i] * sizeof *all);
        char *text = NULL, *ptext = NULL;
        size_t tl, pl;
        int ok = iv_tok_decode(m->tok, all, (size_t)total, 1, &text, &tl, &err) == 0 &&
                 iv_tok_decode(m->tok, ids[i], (size_t)lens[i], 1, &ptext, &pl, &err) == 0;
        free(all);
        if (!ok) { fprintf(stderr, "interv generate: %s\n", err.msg); free(text); free(ptext); goto done; }
        if (jsonl) {
            /* the continuation is the decoded text past the decoded prompt */
            const char *cont = (tl >= pl && !memcmp(text, ptext, pl)) ? text + pl : text;
            json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:i}", "prompt", texts[i], "continuation", cont, "text", text,
                                  "prompt_tokens", lens[i], "new_tokens", outn[i]);
            char *js = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
            if (js) printf("%s\n", js);
            free(js);
            json_decref(o);
        } else {
            fwrite(text, 1, tl, stdout);
            fputc('\n', stdout);
        }
        free(text);
        free(ptext);
    }
    rc = 0;
done:
    for (int i = 0; i < n; i++) { free(ids[i]); free(outs[i]); }
    free(ids); free(outs); free(lens); free(outn);
    cli_free_lines(texts, n);
    iv_model_free(m);
    return rc;
}
