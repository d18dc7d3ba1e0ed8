/* interv sweep: run or resume a grid of interventions, alone, as shard K of N,
 * or as one rank of an MPI job (interv-mpi, src/mpi/); --status counts cells. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/sweep_cli.h"
#include "interv/eval.h"
#include "interv/sweep.h"
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *USAGE =
    "usage: interv sweep --config FILE --out DIR [--model PATH] [--protocol interv|paper]\n"
    "                    [--shard K/N] [--threads N] [--report]\n"
    "       interv sweep --status DIR [--protocol interv|paper]\n"
    "Runs every cell of the grid in FILE (format: see README, 'Sweep config') into DIR.\n"
    "Finished cells are skipped, so a killed sweep resumes where it stopped; several\n"
    "processes may share DIR (each task is claimed with a lock, cells are written once).\n"
    "  --model PATH   replace the config's models by this one\n"
    "  --protocol P   interv (default; or the config's 'protocol') or paper: the reference\n"
    "                 study's scoring and recipes, its defects flagged in every record\n"
    "  --shard K/N    run only shard K of N (1 <= K <= N): a fixed 1/N of the cells, for\n"
    "                 job arrays; artifacts a shard needs are trained by whichever shard\n"
    "                 needs them first\n"
    "  --status DIR   print cells done / missing per method and concept of DIR's sweep\n"
    "  --report       write DIR/report.html when the sweep is done\n"
    "Under MPI: mpirun -np N interv-mpi sweep --config FILE --out DIR (see README).\n";

typedef struct { int tty; int last_done; int quiet; } bar;

static void show(void *user, const char *what, int done, int total, double el) {
    bar *b = user;
    if (b->quiet) return;
    if (!strncmp(what, "concept '", 9) || !strncmp(what, "warning: ", 9)) { /* lines of their own */
        fprintf(stderr, "%ssweep: %s\n", b->tty ? "\r\033[K" : "", what);
        return;
    }
    if (!*what && done == b->last_done) return;
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

static int parse_shard(const char *s, int *k, int *n) {
    char *e;
    long a = strtol(s, &e, 10);
    if (e == s || *e != '/') return -1;
    const char *t = e + 1;
    long b = strtol(t, &e, 10);
    if (e == t || *e || b < 1 || b > 100000 || a < 1 || a > b) return -1;
    *k = (int)a;
    *n = (int)b;
    return 0;
}

static int status(const char *dir, const char *protocol) {
    char path[4096];
    snprintf(path, sizeof path, "%s/config.txt", dir);
    iv_sweep_config cfg;
    iv_err err = {{0}};
    if (access(path, R_OK) != 0) {
        fprintf(stderr, "interv sweep: %s: no sweep there (config.txt missing)\n", dir);
        return 1;
    }
    if (iv_sweep_config_load(path, &cfg, &err) != 0) { fprintf(stderr, "interv sweep: %s\n", err.msg); return 1; }
    if (protocol) iv_protocol_parse(protocol, &cfg.protocol);
    iv_sweep_status_row *r;
    int n, done = 0, missing = 0;
    if (iv_sweep_status(&cfg, dir, &r, &n, &err) != 0) {
        fprintf(stderr, "interv sweep: %s\n", err.msg);
        iv_sweep_config_free(&cfg);
        return 1;
    }
    printf("%-12s %-24s %6s %8s   (%s protocol)\n", "method", "concept", "done", "missing", iv_protocol_name(cfg.protocol));
    for (int i = 0; i < n; i++) {
        printf("%-12s %-24s %6d %8d\n", r[i].method, r[i].concept, r[i].done, r[i].missing);
        done += r[i].done;
        missing += r[i].missing;
    }
    printf("%-12s %-24s %6d %8d\n", "total", "", done, missing);
    free(r);
    iv_sweep_config_free(&cfg);
    return 0;
}

int cmd_sweep_mpi(int argc, char **argv, const iv_cli_mpi *mpi) {
    static const struct option opts[] = {{"config", 1, 0, 'c'}, {"out", 1, 0, 'o'}, {"model", 1, 0, 'm'},
                                         {"threads", 1, 0, 'T'}, {"report", 0, 0, 'r'}, {"protocol", 1, 0, 'p'},
                                         {"shard", 1, 0, 's'}, {"status", 1, 0, 'S'}, {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *cfg_path = NULL, *out = NULL, *model = NULL, *protocol = NULL, *status_dir = NULL;
    long threads = 0;
    int report = 0, c, shard = 0, n_shards = 0;
    int rank = mpi ? mpi->rank : 0, size = mpi ? mpi->size : 1;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'c': cfg_path = optarg; break;
        case 'o': out = optarg; break;
        case 'm': model = optarg; break;
        case 'r': report = 1; break;
        case 'p': protocol = optarg; break;
        case 'S': status_dir = optarg; break;
        case 's':
            if (parse_shard(optarg, &shard, &n_shards)) {
                fprintf(stderr, "interv sweep: --shard expects K/N with 1 <= K <= N, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'T': if (cli_parse_int("sweep", "--threads", optarg, 1, 1024, &threads)) return 2; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return 2;
        }
    }
    iv_protocol proto = IV_PROTOCOL_INTERV;
    if (protocol && iv_protocol_parse(protocol, &proto) != 0) {
        fprintf(stderr, "interv sweep: --protocol must be interv or paper\n");
        return 2;
    }
    if (status_dir) return status(status_dir, protocol);
    if (!cfg_path || !out) { fprintf(stderr, "interv sweep: --config and --out are required\n"); return 2; }
    if (mpi && n_shards) { fprintf(stderr, "interv sweep: --shard and MPI ranks do not mix\n"); return 2; }
    /* under MPI: the cores of this node shared among its ranks, unless told */
    if (!threads && mpi && !getenv("OMP_NUM_THREADS")) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cores / (mpi->local_size > 0 ? mpi->local_size : 1);
        if (threads < 1) threads = 1;
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
    bar b = {isatty(2), -1, rank != 0};
    iv_sweep_progress pr = {show, &b};
    iv_sweep_exec x = {0};
    x.shard = shard;
    x.n_shards = n_shards;
    x.rank = rank;
    x.n_ranks = size;
    struct timespec t0, t1;
    if (mpi) mpi->barrier();
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int done = 0, skipped = 0, rc = 0;
    if (iv_sweep_run_ex(&cfg, out, &pr, &x, &done, &skipped, &err) != 0) {
        if (b.tty && !b.quiet) fputc('\n', stderr);
        if (mpi) fprintf(stderr, "interv sweep: rank %d: %s%s%s\n", rank, x.failed[0] ? x.failed : "",
                         x.failed[0] ? ": " : "", err.msg);
        else fprintf(stderr, "interv sweep: %s%s%s\n", x.failed[0] ? x.failed : "", x.failed[0] ? ": " : "", err.msg);
        rc = 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double wall = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    int rc_all = rc, done_all = done;
    double busy_all = x.busy_s, makespan = wall;
    if (mpi) { /* the job fails if any rank failed; rank 0 speaks for all */
        rc_all = mpi->max_int(rc);
        done_all = mpi->sum_int(done);
        busy_all = mpi->sum_double(x.busy_s);
        makespan = mpi->max_double(wall);
    }
    if (rank == 0) {
        if (rc_all == 0) {
            fprintf(stderr, "interv sweep: %d cells computed, %d already done, results in %s/cells\n", done_all,
                    skipped, out);
            if (mpi && makespan > 0)
                fprintf(stderr, "interv sweep: %d ranks, makespan %.1f s, task time %.1f s, scheduler efficiency %.3f\n",
                        size, makespan, busy_all, busy_all / (size * makespan));
        } else {
            fprintf(stderr, "interv sweep: failed%s; finished cells are kept in %s/cells: rerun (with any number of "
                            "processes) to resume\n", mpi ? " (see the rank messages above)" : "", out);
        }
        if (rc_all == 0 && report) {
            iv_report_opts ro = iv_report_defaults();
            size_t n = 0;
            if (iv_report_write(out, &ro, &n, &err) != 0) { fprintf(stderr, "interv sweep: %s\n", err.msg); rc_all = 1; }
            else printf("%s/report.html\n", out);
        }
    }
    iv_sweep_config_free(&cfg);
    return rc_all ? 1 : 0;
}

int cmd_sweep(int argc, char **argv) { return cmd_sweep_mpi(argc, argv, NULL); }
