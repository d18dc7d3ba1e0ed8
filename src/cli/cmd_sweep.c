/* interv sweep: run or resume a grid of interventions. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "interv/eval.h"
#include "interv/sweep.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *USAGE =
    "usage: interv sweep --config FILE --out DIR [--model PATH] [--protocol interv|paper] [--threads N] [--report]\n"
    "Runs every cell of the grid in FILE (format: see README, 'Sweep config') into DIR.\n"
    "Finished cells are skipped, so a killed sweep resumes where it stopped.\n"
    "  --model PATH   replace the config's models by this one\n"
    "  --protocol P   interv (default; or the config's 'protocol') or paper: the reference\n"
    "                 study's scoring and recipes, its defects flagged in every record\n"
    "  --report       write DIR/report.html when the sweep is done\n";

typedef struct { int tty; int last_done; } bar;

static void show(void *user, const char *what, int done, int total, double el) {
    bar *b = user;
    if (!strncmp(what, "concept '", 9)) { /* information lines: the forms that decide success */
        fprintf(stderr, "%ssweep: %s\n", b->tty ? "\r\033[K" : "", what);
        return;
    }
    double eta = done > 0 && done < total ? el / done * (total - done) : 0;
    if (b->tty) {
        int w = 30, fill = total ? w * done / total : w;
        fprintf(stderr, "\r[%.*s%*s] %d/%d cells  %5.0fs  ETA %5.0fs  %-40.40s", fill,
                "##############################", w - fill, "", done, total, el, eta, what);
        if (done == total && !strcmp(what, "done")) fputc('\n', stderr);
    } else if (done != b->last_done || !strcmp(what, "starting") || !strcmp(what, "resuming") || !strncmp(what, "training", 8)) {
        fprintf(stderr, "sweep: %d/%d cells, %.0fs elapsed, ETA %.0fs: %s\n", done, total, el, eta, what);
    }
    b->last_done = done;
    fflush(stderr);
}

int cmd_sweep(int argc, char **argv) {
    static const struct option opts[] = {{"config", 1, 0, 'c'}, {"out", 1, 0, 'o'}, {"model", 1, 0, 'm'},
                                         {"threads", 1, 0, 'T'}, {"report", 0, 0, 'r'}, {"protocol", 1, 0, 'p'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *cfg_path = NULL, *out = NULL, *model = NULL, *protocol = NULL;
    long threads = 0;
    int report = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'o': out = optarg; break;
        case 'm': model = optarg; break;
        case 'r': report = 1; break;
        case 'p': protocol = optarg; break;
        case 'T': if (cli_parse_int("sweep", "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return 2;
        }
    }
    if (!cfg_path || !out) { fprintf(stderr, "interv sweep: --config and --out are required\n"); return 2; }
    iv_protocol proto = IV_PROTOCOL_INTERV;
    if (protocol && iv_protocol_parse(protocol, &proto) != 0) {
        fprintf(stderr, "interv sweep: --protocol must be interv or paper\n");
        return 2;
    }
    cli_set_threads((int)threads);
    iv_sweep_config cfg;
    iv_err err = {{0}};
    if (iv_sweep_config_load(cfg_path, &cfg, &err) != 0) { fprintf(stderr, "interv sweep: %s\n", err.msg); return 1; }
    if (protocol) cfg.protocol = proto;
    if (model) {
        for (int i = 0; i < cfg.n_models; i++) free(cfg.models[i]);
        cfg.models = realloc(cfg.models, sizeof *cfg.models);
        cfg.models[0] = strdup(model);
        cfg.n_models = 1;
    }
    bar b = {isatty(2), -1};
    iv_sweep_progress pr = {show, &b};
    int done = 0, skipped = 0, rc = 0;
    if (iv_sweep_run(&cfg, out, &pr, &done, &skipped, &err) != 0) {
        if (b.tty) fputc('\n', stderr);
        fprintf(stderr, "interv sweep: %s\n", err.msg);
        if (done + skipped > 0)
            fprintf(stderr, "interv sweep: %d finished cells are kept in %s/cells; rerun to resume\n", done + skipped, out);
        rc = 1;
    } else {
        fprintf(stderr, "interv sweep: %d cells computed, %d already done, results in %s/cells\n", done, skipped, out);
        if (report) {
            iv_report_opts ro = iv_report_defaults();
            size_t n = 0;
            if (iv_report_write(out, &ro, &n, &err) != 0) { fprintf(stderr, "interv sweep: %s\n", err.msg); rc = 1; }
            else printf("%s/report.html\n", out);
        }
    }
    iv_sweep_config_free(&cfg);
    return rc;
}
