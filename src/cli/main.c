/* interv: command dispatcher. */
#include <stdio.h>
#include <string.h>
#include "cli/commands.h"

typedef struct { const char *name; int (*fn)(int, char **); const char *what; } command;

static int usage(FILE *f, const command *cmds, int n) {
    fprintf(f, "usage: interv <command> [options]   (interv <command> --help for details)\n\ncommands:\n");
    for (int i = 0; i < n; i++) fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].what);
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv) {
    const command cmds[] = {
        {"generate", cmd_generate, "generate continuations of prompts (greedy or sampled)"},
        {"score", cmd_score, "per-token log-probabilities and perplexity of texts"},
        {"info", cmd_info, "print a model's architecture, sizes, dtypes and parameter count"},
        {"convert", cmd_convert, "convert a llama2.c checkpoint to a Hugging Face Llama folder"},
        {"tokenize", cmd_tokenize, "encode text lines to ids (or decode ids) with a model's tokenizer"},
        {"train", cmd_train, "train a steering vector, probe, tuned lens or SAE"},
        {"features", cmd_features, "rank SAE features for a concept"},
        {"run", cmd_run, "generate with an intervention and write one record per prompt"},
        {"sweep", cmd_sweep, "run a resumable grid of interventions from a config file"},
        {"report", cmd_report, "write the HTML report of a sweep"},
    };
    int n = (int)(sizeof cmds / sizeof cmds[0]);
    if (argc < 2) return usage(stderr, cmds, n);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
        return usage(stdout, cmds, n);
    for (int i = 0; i < n; i++)
        if (!strcmp(argv[1], cmds[i].name)) {
            if (!cmds[i].fn) {
                fprintf(stderr, "interv %s: this command is not built into this binary\n", argv[1]);
                return 2;
            }
            return cmds[i].fn(argc - 1, argv + 1);
        }
    fprintf(stderr, "interv: unknown command '%s'\n", argv[1]);
    return usage(stderr, cmds, n);
}
