/* interv report DIR [--out FILE.html]: the HTML report (and CSV/JSON tables) of
 * a sweep or run folder. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include "cli/commands.h"
#include "interv/eval.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: interv report DIR [options]\n"
            "Reads DIR/cells/<id>.jsonl (sweep), DIR/results/<name>.jsonl or DIR/results.jsonl\n"
            "(or one .jsonl file) and writes a self-contained HTML report plus\n"
            "DIR/report.csv (every cell), DIR/report_summary.csv and DIR/report.json.\n"
            "  --out FILE.html     HTML path (default DIR/report.html)\n"
            "  --coh-tol X         coherence tolerance vs clean, in points (default 1)\n"
            "  --ppl-tol X         tolerance on -ln(perplexity) when no judge ran (default 1)\n"
            "  --examples N        clean vs edited generations shown per method (default 3)\n"
            "  --protocol P        interv, paper or both (default: every protocol found, side by side)\n"
            "  -h, --help          this help\n");
}

/* fontconfig (loaded by cairo) keeps its caches until FcFini; release them at
 * exit so leak checkers see a clean process.  Weak: fontconfig is linked only
 * through cairo, and the call is skipped if the symbol is not there. */
extern void FcFini(void) __attribute__((weak));

static void release_fonts(void) {
    cairo_debug_reset_static_data();
    if (FcFini) FcFini();
}

static int parse_num(const char *s, double *v) {
    char *end;
    *v = strtod(s, &end);
    return *s && !*end && *v >= 0 && *v < 1e9;
}

int cmd_report(int argc, char **argv) {
    static const struct option lo[] = {{"out", required_argument, 0, 'o'},
                                       {"coh-tol", required_argument, 0, 'c'},
                                       {"ppl-tol", required_argument, 0, 'p'},
                                       {"examples", required_argument, 0, 'e'},
                                       {"protocol", required_argument, 0, 'P'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
    iv_report_opts o = iv_report_defaults();
    int c;
    double v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o': o.html_path = optarg; break;
        case 'c':
        case 'p':
            if (!parse_num(optarg, &v)) {
                fprintf(stderr, "interv report: --%s needs a non-negative number, got '%s'\n",
                        c == 'c' ? "coh-tol" : "ppl-tol", optarg);
                return 2;
            }
            if (c == 'c') o.coh_tol = v;
            else o.ppl_tol = v;
            break;
        case 'e':
            if (!parse_num(optarg, &v) || v != (int)v || v > 1000) {
                fprintf(stderr, "interv report: --examples needs a count, got '%s'\n", optarg);
                return 2;
            }
            o.n_examples = (int)v;
            break;
        case 'P': {
            iv_protocol p;
            if (!strcmp(optarg, "both")) o.protocol = -1;
            else if (iv_protocol_parse(optarg, &p) == 0) o.protocol = (int)p;
            else {
                fprintf(stderr, "interv report: --protocol must be interv, paper or both, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "interv report: expected one results folder (see --help)\n");
        return 2;
    }
    iv_err err = {{0}};
    size_t n = 0;
    int rc = iv_report_write(argv[optind], &o, &n, &err);
    release_fonts();
    if (rc != 0) {
        fprintf(stderr, "interv report: %s\n", err.msg);
        return 1;
    }
    fprintf(stderr, "interv report: %zu cells -> %s\n", n, o.html_path ? o.html_path : "report.html");
    return 0;
}
