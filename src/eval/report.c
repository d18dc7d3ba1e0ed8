/* The sweep report: one self-contained HTML page (charts as inline SVG images,
 * no external resources), plus report.csv / report_summary.csv / report.json
 * with every number.  Layout: per model and concept, three charts with one
 * colour per method (success vs edit size, fluency vs edit size, fluency vs
 * success), a summary table, clean-vs-edited examples; then every cell. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "eval/internal.h"
#include "interv/io.h"

iv_report_opts iv_report_defaults(void) {
    iv_report_opts o = {.html_path = NULL, .coh_tol = 1.0, .ppl_tol = 1.0, .n_examples = 3, .protocol = -1};
    return o;
}

/* One method's alpha sweep within a (model, concept) group. */
typedef struct {
    const char *method;
    int layer;
    size_t *edit;      /* [n_edit] cell indices, by alpha */
    size_t n_edit;
    long clean, bn;    /* cell indices or -1 */
    int colour;
    /* summary numbers */
    double area, best_success, best_alpha, best_fl;
    double sel_alpha, rep_success, rep_fl, rep_edit, rep_clean_success, rep_clean_fl;
    long sel_cell;     /* chosen cell, -1 = clean */
    int has_sel;
} curve;

typedef struct {
    const iv_records *rs;
    const iv_cells *cs;
    const iv_report_opts *o;
    FILE *h;           /* HTML being written */
    json_t *summary;   /* array */
    iv_overview ov;    /* one row per curve, for the cross-concept summary */
    int paper;         /* the group being written is paper-protocol: coherence is the
                          reference's score / 10, on 0..0.9, not 1..10 */
    FILE *scsv;        /* report_summary.csv being written */
    int n_charts;
} rep;

/* ---- formatting helpers ---------------------------------------------------------- */

#define html_esc iv_html_esc
#define html_num iv_html_num

static void csv_str(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void csv_num(FILE *f, double v) {
    if (!isnan(v) && !isinf(v)) fprintf(f, "%.9g", v);
}

static json_t *jnum(double v) { return isnan(v) || isinf(v) ? json_null() : json_real(v); }

/* ---- fluency ------------------------------------------------------------------------ */

/* Coherence when the group measured it, else perplexity (lower is better). */
static double fl_raw(const iv_cell_stats *s, int coh) {
    return coh ? iv_mean_get(&s->coherence) : iv_cell_ppl(s);
}

/* Higher-is-better fluency for the trade-off: coherence, or -ln(perplexity). */
static double fl_score(const iv_cell_stats *s, int coh) {
    double v = fl_raw(s, coh);
    if (coh) return v;
    return v > 0 ? -log(v) : NAN;
}

static double from_score(double v, int coh) { return coh ? v : exp(-v); }

/* ---- summary of one curve ---------------------------------------------------------- */

static void summarise(rep *R, curve *c, int coh) {
    const iv_cells *cs = R->cs;
    size_t n = c->n_edit + 1;
    iv_tradeoff_pt *all = calloc(n, sizeof *all), *sel = calloc(n, sizeof *sel);
    c->area = c->best_success = c->best_alpha = c->best_fl = NAN;
    c->sel_alpha = c->rep_success = c->rep_fl = c->rep_edit = c->rep_clean_success = c->rep_clean_fl = NAN;
    c->sel_cell = -1;
    c->has_sel = 0;
    if (!all || !sel) goto out;
    /* Point 0 is the clean baseline (alpha 0), then the edited cells. */
    double clean_all = NAN, clean_sel = NAN;
    if (c->clean >= 0) {
        const iv_cell_agg *k = &cs->c[c->clean];
        all[0] = (iv_tradeoff_pt){0, k->s[IV_AGG_ALL].success, fl_score(&k->s[IV_AGG_ALL], coh)};
        sel[0] = (iv_tradeoff_pt){0, k->s[IV_AGG_SELECT].n ? k->s[IV_AGG_SELECT].success : NAN,
                                  fl_score(&k->s[IV_AGG_SELECT], coh)};
        clean_all = all[0].fluency;
        clean_sel = sel[0].fluency;
        c->rep_clean_success = k->s[IV_AGG_REPORT].n ? k->s[IV_AGG_REPORT].success : NAN;
        c->rep_clean_fl = fl_raw(&k->s[IV_AGG_REPORT], coh);
    } else {
        all[0] = sel[0] = (iv_tradeoff_pt){0, NAN, NAN};
    }
    for (size_t i = 0; i < c->n_edit; i++) {
        const iv_cell_agg *k = &cs->c[c->edit[i]];
        all[i + 1] = (iv_tradeoff_pt){k->cell.alpha, k->s[IV_AGG_ALL].success, fl_score(&k->s[IV_AGG_ALL], coh)};
        sel[i + 1] = (iv_tradeoff_pt){k->cell.alpha, k->s[IV_AGG_SELECT].n ? k->s[IV_AGG_SELECT].success : NAN,
                                      fl_score(&k->s[IV_AGG_SELECT], coh)};
    }
    double tol = coh ? R->o->coh_tol * (R->paper ? 0.1 : 1) : R->o->ppl_tol;
    if (coh) c->area = R->paper ? iv_frontier_area(all, n, 0, 1) : iv_frontier_area(all, n, 1, 10);
    else if (!isnan(clean_all)) c->area = iv_frontier_area(all, n, clean_all - 3, clean_all);
    if (!isnan(clean_all)) {
        int b = iv_best_within(all, n, clean_all, tol);
        if (b >= 0) {
            c->best_success = all[b].success;
            c->best_alpha = all[b].alpha;
            c->best_fl = from_score(all[b].fluency, coh);
        }
    }
    if (!isnan(clean_sel)) {
        int b = iv_best_within(sel, n, clean_sel, tol);
        if (b >= 0) {
            c->has_sel = 1;
            c->sel_alpha = sel[b].alpha;
            c->sel_cell = b == 0 ? -1 : (long)c->edit[b - 1];
            const iv_cell_agg *k = b == 0 ? &cs->c[c->clean] : &cs->c[c->edit[b - 1]];
            c->rep_success = k->s[IV_AGG_REPORT].n ? k->s[IV_AGG_REPORT].success : NAN;
            c->rep_fl = fl_raw(&k->s[IV_AGG_REPORT], coh);
            c->rep_edit = b == 0 ? 0.0 : iv_mean_get(&k->s[IV_AGG_REPORT].edit_size);
        }
    }
out:
    free(all);
    free(sel);
}

/* ---- charts ------------------------------------------------------------------------------- */

static int emit_chart(rep *R, const iv_chart *ch, iv_err *err) {
    if (iv_html_chart(R->h, ch, err) != 0) return -1;
    R->n_charts++;
    return 0;
}

/* kind 0: success vs edit size; 1: fluency vs edit size; 2: fluency vs success. */
static int group_chart(rep *R, const char *concept, curve *cv, size_t ncv, long clean, int coh, int kind,
                       iv_err *err) {
    const iv_cells *cs = R->cs;
    size_t ns = 0, cap = 2 * ncv + 1;
    iv_series *s = calloc(cap, sizeof *s);
    double **bufs = calloc(2 * cap, sizeof *bufs);
    char **labels = calloc(cap, sizeof *labels);
    int rc = 0;
    if (!s || !bufs || !labels) {
        rc = iv_errf(err, "report: out of memory");
        goto out;
    }
    for (size_t i = 0; i < ncv; i++) {
        const curve *c = &cv[i];
        for (int bn = 0; bn < 2; bn++) {
            size_t n = bn ? (c->bn >= 0) : c->n_edit;
            if (n == 0) continue;
            double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y);
            char *lab = malloc(strlen(c->method) + 40);
            bufs[2 * ns] = x, bufs[2 * ns + 1] = y, labels[ns] = lab;
            if (!x || !y || !lab) {
                rc = iv_errf(err, "report: out of memory");
                goto out;
            }
            snprintf(lab, strlen(c->method) + 40, "%s L%d%s", c->method, c->layer, bn ? " bottleneck" : "");
            for (size_t k = 0; k < n; k++) {
                const iv_cell_stats *st = &cs->c[bn ? (size_t)c->bn : c->edit[k]].s[IV_AGG_ALL];
                double es = iv_mean_get(&st->edit_size), su = st->success, fl = fl_raw(st, coh);
                x[k] = kind == 2 ? su : es;
                y[k] = kind == 0 ? su : fl;
            }
            s[ns++] = (iv_series){lab, x, y, n, c->colour, bn ? 1 : 0, !bn};
        }
    }
    iv_refline ref = {"clean", NAN, -1};
    double cx = NAN, cy = NAN;
    if (clean >= 0) {
        const iv_cell_stats *st = &cs->c[clean].s[IV_AGG_ALL];
        if (kind == 2) {
            cx = st->success;
            cy = fl_raw(st, coh);
            s[ns++] = (iv_series){"clean", &cx, &cy, 1, -1, 2, 0};
        } else {
            ref.y = kind == 0 ? st->success : fl_raw(st, coh);
        }
    }
    const char *fl = !coh ? "perplexity (log scale, lower = more fluent)"
                     : R->paper ? "coherence (reference: first digit / 10)" : "coherence (judge, 1-10)";
    char title[512];
    static const char *what[3] = {"success vs edit size", "%s vs edit size", "%s vs success"};
    char w[128];
    snprintf(w, sizeof w, what[kind], coh ? "coherence" : "perplexity");
    snprintf(title, sizeof title, "%s: %s", concept, w);
    iv_chart ch = {title, kind == 2 ? "success rate" : "edit size ||x'-x|| / ||x||",
                   kind == 0 ? "success rate" : fl, s, ns, &ref, isnan(ref.y) ? 0 : 1, 540, 340,
                   kind != 0 && !coh};
    rc = emit_chart(R, &ch, err);
out:
    for (size_t i = 0; bufs && i < 2 * cap; i++) free(bufs[i]);
    for (size_t i = 0; labels && i < cap; i++) free(labels[i]);
    free(bufs);
    free(labels);
    free(s);
    return rc;
}

/* ---- tables --------------------------------------------------------------------------------- */

static const iv_record *rec_for(const rep *R, long cell, int prompt_index) {
    if (cell < 0) return NULL;
    const iv_cell_agg *c = &R->cs->c[cell];
    for (size_t i = 0; i < c->n_rec; i++)
        if (R->rs->r[c->rec[i]].prompt_index == prompt_index) return &R->rs->r[c->rec[i]];
    return NULL;
}

static void summary_rows(rep *R, iv_protocol protocol, const char *model, const char *concept, curve *cv,
                         size_t ncv, int coh) {
    FILE *h = R->h;
    const char *fl = coh ? "coherence" : "perplexity";
    double tol = coh ? R->o->coh_tol * (R->paper ? 0.1 : 1) : R->o->ppl_tol;
    fprintf(h, "<table class=summary><tr><th>method</th><th>layer</th><th>α values</th>"
               "<th>clean success</th><th>clean %s</th><th>bottleneck success</th><th>bottleneck %s</th>"
               "<th>best success with %s within %g%s of clean (α)</th><th>area under success–%s frontier</th>"
               "<th>α chosen on select half</th><th>report half: success</th><th>report half: %s</th>"
               "<th>report half: clean success</th><th>report half: clean %s</th></tr>\n",
            fl, fl, fl, tol, coh ? " point" : " nat of −ln(perplexity)", coh ? "coherence" : "fluency", fl, fl);
    for (size_t i = 0; i < ncv; i++) {
        curve *c = &cv[i];
        const iv_cells *cs = R->cs;
        double cl_s = c->clean >= 0 ? cs->c[c->clean].s[IV_AGG_ALL].success : NAN;
        double cl_f = c->clean >= 0 ? fl_raw(&cs->c[c->clean].s[IV_AGG_ALL], coh) : NAN;
        double bn_s = c->bn >= 0 ? cs->c[c->bn].s[IV_AGG_ALL].success : NAN;
        double bn_f = c->bn >= 0 ? fl_raw(&cs->c[c->bn].s[IV_AGG_ALL], coh) : NAN;
        double rgb[3];
        iv_palette(c->colour, rgb);
        fprintf(h, "<tr><td><span class=sw style=\"background:rgb(%d,%d,%d)\"></span>", (int)(rgb[0] * 255),
                (int)(rgb[1] * 255), (int)(rgb[2] * 255));
        html_esc(h, c->method);
        fprintf(h, "</td><td>%d</td><td>%zu</td><td>", c->layer, c->n_edit);
        html_num(h, cl_s, 3);
        fputs("</td><td>", h);
        html_num(h, cl_f, 2);
        fputs("</td><td>", h);
        html_num(h, bn_s, 3);
        fputs("</td><td>", h);
        html_num(h, bn_f, 2);
        fputs("</td><td>", h);
        html_num(h, c->best_success, 3);
        if (!isnan(c->best_alpha)) fprintf(h, " (α=%g)", c->best_alpha);
        fputs("</td><td>", h);
        html_num(h, c->area, 3);
        fputs("</td><td>", h);
        if (c->has_sel) fprintf(h, "%g%s", c->sel_alpha, c->sel_cell < 0 ? " (clean)" : "");
        else html_num(h, NAN, 0);
        fputs("</td><td>", h);
        html_num(h, c->rep_success, 3);
        fputs("</td><td>", h);
        html_num(h, c->rep_fl, 2);
        fputs("</td><td>", h);
        html_num(h, c->rep_clean_success, 3);
        fputs("</td><td>", h);
        html_num(h, c->rep_clean_fl, 2);
        fputs("</td></tr>\n", h);

        json_t *o = json_object();
        const iv_cell_stats *bnr = c->bn >= 0 ? &cs->c[c->bn].s[IV_AGG_REPORT] : NULL;
        iv_overview_row ovr = {protocol, model, concept, c->method, c->layer, coh, c->rep_success, c->rep_fl,
                               c->rep_edit, c->rep_clean_success, c->rep_clean_fl,
                               bnr && bnr->n ? bnr->success : NAN, bnr ? fl_raw(bnr, coh) : NAN};
        iv_overview_push(&R->ov, &ovr);
        json_object_set_new(o, "protocol", json_string(iv_protocol_name(protocol)));
        json_object_set_new(o, "model", json_string(model));
        json_object_set_new(o, "concept", json_string(concept));
        json_object_set_new(o, "method", json_string(c->method));
        json_object_set_new(o, "layer", json_integer(c->layer));
        json_object_set_new(o, "fluency", json_string(fl));
        json_object_set_new(o, "n_alpha", json_integer((json_int_t)c->n_edit));
        json_object_set_new(o, "clean_success", jnum(cl_s));
        json_object_set_new(o, "clean_fluency", jnum(cl_f));
        json_object_set_new(o, "bottleneck_success", jnum(bn_s));
        json_object_set_new(o, "bottleneck_fluency", jnum(bn_f));
        json_object_set_new(o, "tolerance", json_real(tol));
        json_object_set_new(o, "best_success_within_tol", jnum(c->best_success));
        json_object_set_new(o, "best_alpha", jnum(c->best_alpha));
        json_object_set_new(o, "best_fluency", jnum(c->best_fl));
        json_object_set_new(o, "frontier_area", jnum(c->area));
        json_object_set_new(o, "selected_alpha", c->has_sel ? json_real(c->sel_alpha) : json_null());
        json_object_set_new(o, "report_success", jnum(c->rep_success));
        json_object_set_new(o, "report_fluency", jnum(c->rep_fl));
        json_object_set_new(o, "report_edit_size", jnum(c->rep_edit));
        json_object_set_new(o, "report_clean_success", jnum(c->rep_clean_success));
        json_object_set_new(o, "report_clean_fluency", jnum(c->rep_clean_fl));
        json_array_append_new(R->summary, o);

        FILE *f = R->scsv;
        csv_str(f, model), fputc(',', f), csv_str(f, concept), fputc(',', f), csv_str(f, c->method);
        fprintf(f, ",%d,%s,%zu", c->layer, fl, c->n_edit);
        double v[] = {cl_s, cl_f, bn_s, bn_f, tol, c->best_success, c->best_alpha, c->best_fl, c->area,
                      c->has_sel ? c->sel_alpha : NAN, c->rep_success, c->rep_fl, c->rep_clean_success,
                      c->rep_clean_fl, c->rep_edit};
        for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) fputc(',', f), csv_num(f, v[k]);
        fprintf(f, ",%s\n", iv_protocol_name(protocol));
    }
    fputs("</table>\n", h);
}

static void examples(rep *R, curve *cv, size_t ncv) {
    FILE *h = R->h;
    int any = 0;
    for (size_t i = 0; i < ncv; i++) {
        curve *c = &cv[i];
        long cell = c->has_sel && c->sel_cell >= 0 ? c->sel_cell
                    : c->n_edit ? (long)c->edit[c->n_edit - 1] : -1;
        if (cell < 0 || c->clean < 0) continue;
        if (!any) fputs("<h4>Clean vs edited generations (report half)</h4>\n", h);
        any = 1;
        const iv_cell_agg *e = &R->cs->c[cell];
        fputs("<table class=ex><tr><th>", h);
        html_esc(h, c->method);
        fprintf(h, " L%d, α=%g%s</th><th>clean</th><th>edited</th></tr>\n", c->layer, e->cell.alpha,
                c->has_sel && c->sel_cell == cell ? " (chosen on select)" : " (largest α)");
        int shown = 0;
        for (int pass = 0; pass < 2 && shown < R->o->n_examples; pass++)
            for (size_t k = 0; k < e->n_rec && shown < R->o->n_examples; k++) {
                const iv_record *r = &R->rs->r[e->rec[k]];
                /* Report-half prompts first; the select half only if too few. */
                if ((r->split == IV_SPLIT_REPORT) != (pass == 0)) continue;
                const iv_record *cr = rec_for(R, c->clean, r->prompt_index);
                if (!cr) continue;
                fputs("<tr><td class=p>", h);
                html_esc(h, r->prompt);
                fputs("</td><td>", h);
                html_esc(h, cr->continuation);
                fputs("</td><td>", h);
                html_esc(h, r->continuation);
                fprintf(h, "%s</td></tr>\n", r->success ? " <span class=hit>✓</span>" : "");
                shown++;
            }
        fputs("</table>\n", h);
    }
}

/* ---- one (model, concept) group --------------------------------------------------------- */

static int do_group(rep *R, size_t g0, size_t g1, iv_err *err) {
    const iv_cells *cs = R->cs;
    R->paper = cs->c[g0].cell.protocol == IV_PROTOCOL_PAPER;
    const char *model = cs->c[g0].cell.model, *concept = cs->c[g0].cell.concept;
    curve *cv = calloc(g1 - g0, sizeof *cv);
    if (!cv) return iv_errf(err, "report: out of memory");
    size_t ncv = 0;
    int coh = 0;
    long clean_any = -1;
    for (size_t i = g0; i < g1; i++) {
        const iv_cell_agg *c = &cs->c[i];
        if (c->s[IV_AGG_ALL].coherence.n > 0) coh = 1;
        if (c->cell.mode == IV_MODE_CLEAN && clean_any < 0) clean_any = (long)i;
        if (c->cell.mode != IV_MODE_EDIT) continue;
        curve *k = ncv ? &cv[ncv - 1] : NULL;
        if (!k || strcmp(k->method, c->cell.method) || k->layer != c->cell.layer) {
            k = &cv[ncv];
            k->method = c->cell.method;
            k->layer = c->cell.layer;
            k->edit = malloc((g1 - g0) * sizeof *k->edit);
            k->clean = k->bn = -1;
            k->colour = (int)ncv;
            ncv++;
            if (!k->edit) {
                for (size_t q = 0; q < ncv; q++) free(cv[q].edit);
                free(cv);
                return iv_errf(err, "report: out of memory");
            }
        }
        k->edit[k->n_edit++] = i;
    }
    /* Baselines: the clean cell of the same method and layer if there is one,
     * else any clean cell of the model and concept; bottleneck of the same method
     * (same layer preferred). */
    for (size_t q = 0; q < ncv; q++) {
        curve *k = &cv[q];
        k->clean = clean_any;
        int bn_layer_match = 0;
        for (size_t i = g0; i < g1; i++) {
            const iv_cell_agg *c = &cs->c[i];
            int same = !strcmp(c->cell.method, k->method);
            if (c->cell.mode == IV_MODE_CLEAN && same && c->cell.layer == k->layer) k->clean = (long)i;
            if (c->cell.mode == IV_MODE_BOTTLENECK && same && (k->bn < 0 || (!bn_layer_match && c->cell.layer == k->layer))) {
                k->bn = (long)i;
                bn_layer_match = c->cell.layer == k->layer;
            }
        }
        summarise(R, k, coh);
    }
    FILE *h = R->h;
    fputs("<section class=group><h2>", h);
    html_esc(h, concept);
    fputs(" <small>— model ", h);
    html_esc(h, model);
    if (cs->c[g0].cell.protocol == IV_PROTOCOL_PAPER) fputs(", paper protocol", h);
    if (cs->c[g0].cell.bf16) fputs(", bf16 compute", h);
    fputs("</small></h2>\n", h);
    /* the judge's probability on the score tokens: below 0.5 the score is read
     * from answers the judge rarely gives (once per cell) */
    for (size_t i = g0; i < g1; i++) {
        double jm = iv_mean_get(&cs->c[i].s[IV_AGG_ALL].judge_mass);
        if (!isnan(jm) && jm < 0.5)
            fprintf(h, "<p class=warn>Judge warning, cell %s: the score tokens received only %.2f of the judge's "
                       "probability on average (below 0.5): its coherence is read from answers the judge "
                       "rarely gives.</p>\n", cs->c[i].id, jm);
    }
    if (!coh)
        fputs("<p class=note>Coherence was not measured for this concept (no judge): fluency is shown as "
              "perplexity of the continuation under the reference model.</p>\n", h);
    int rc = 0;
    if (ncv == 0) fputs("<p class=note>No edited cells for this concept: baselines only.</p>\n", h);
    fputs("<div class=charts>\n", h);
    for (int kind = 0; kind < 3 && rc == 0; kind++)
        rc = group_chart(R, concept, cv, ncv, clean_any, coh, kind, err);
    fputs("</div>\n", h);
    if (rc == 0 && ncv) {
        summary_rows(R, cs->c[g0].cell.protocol, model, concept, cv, ncv, coh);
        examples(R, cv, ncv);
    }
    fputs("</section>\n", h);
    for (size_t q = 0; q < ncv; q++) free(cv[q].edit);
    free(cv);
    return rc;
}

/* ---- the page ------------------------------------------------------------------------------- */

static const char *CSS =
    "body{font-family:DejaVu Sans,Helvetica,Arial,sans-serif;margin:24px;color:#222;max-width:1800px}"
    "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ccc;padding-bottom:4px}h4{margin:14px 0 4px}"
    "small{color:#666;font-weight:normal}.charts{display:flex;flex-wrap:wrap;gap:10px}"
    "img.chart{border:1px solid #ddd}table{border-collapse:collapse;font-size:12px;margin:8px 0}"
    "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f3f3f3}"
    ".na{color:#999}.note{color:#555;font-style:italic}.sw{display:inline-block;width:10px;height:10px;"
    "margin-right:5px}table.ex td{max-width:420px}td.p{color:#555}.hit{color:#080}.warn{color:#a40}"
    "table.cells td:first-child{font-family:monospace}";

/* Marks the page when every chart image has loaded with a size, and records any
 * script error, so headless browsers can check the page. */
static const char *SCRIPT =
    "<script>\n"
    "window.onerror=function(m){document.documentElement.setAttribute('data-error',String(m));};\n"
    "window.addEventListener('load',function(){\n"
    "  var im=document.querySelectorAll('img.chart'),ok=0;\n"
    "  for(var i=0;i<im.length;i++){if(im[i].complete&&im[i].naturalWidth>0&&im[i].naturalHeight>0)ok++;}\n"
    "  document.documentElement.setAttribute('data-charts-total',String(im.length));\n"
    "  document.documentElement.setAttribute('data-charts-ok',String(ok));\n"
    "});\n"
    "</script>\n";

static void cells_table(rep *R, FILE *csv, json_t *jcells) {
    FILE *h = R->h;
    static const char *sn[IV_AGG_N] = {"all", "select", "report"};
    fputs("<h2>Every cell</h2>\n<table class=cells><tr><th>cell id</th><th>model</th><th>layer</th>"
          "<th>method</th><th>concept</th><th>mode</th><th>α</th><th>n</th><th>success</th>"
          "<th>target prob</th><th>edit size</th><th>perplexity</th><th>coherence</th><th>protocol</th></tr>\n",
          h);
    fputs("cell_id,model,layer,method,concept,mode,alpha", csv);
    for (int s = 0; s < IV_AGG_N; s++)
        fprintf(csv, ",%s_n,%s_success,%s_target_prob,%s_edit_size,%s_perplexity,%s_perplexity_corpus,"
                     "%s_perplexity_mean,%s_coherence,%s_coherence_n",
                sn[s], sn[s], sn[s], sn[s], sn[s], sn[s], sn[s], sn[s], sn[s]);
    fputc('\n', csv);
    for (size_t i = 0; i < R->cs->n; i++) {
        const iv_cell_agg *c = &R->cs->c[i];
        const iv_cell_stats *a = &c->s[IV_AGG_ALL];
        fputs("<tr><td>", h);
        html_esc(h, c->id);
        fputs("</td><td>", h);
        html_esc(h, c->cell.model);
        fprintf(h, "</td><td>%d</td><td>", c->cell.layer);
        html_esc(h, c->cell.method);
        fputs("</td><td>", h);
        html_esc(h, c->cell.concept);
        fprintf(h, "</td><td>%s</td><td>%g</td><td>%ld</td><td>", iv_mode_name(c->cell.mode), c->cell.alpha, a->n);
        html_num(h, a->success, 3);
        fputs("</td><td>", h);
        html_num(h, iv_mean_get(&a->target_prob), 4);
        fputs("</td><td>", h);
        html_num(h, iv_mean_get(&a->edit_size), 3);
        fputs("</td><td>", h);
        html_num(h, iv_cell_ppl(a), 2);
        fputs("</td><td>", h);
        html_num(h, iv_mean_get(&a->coherence), 2);
        fprintf(h, "</td><td>%s</td></tr>\n", iv_protocol_name(c->cell.protocol));

        csv_str(csv, c->id), fputc(',', csv), csv_str(csv, c->cell.model);
        fprintf(csv, ",%d,", c->cell.layer);
        csv_str(csv, c->cell.method), fputc(',', csv), csv_str(csv, c->cell.concept);
        fprintf(csv, ",%s,%.9g", iv_mode_name(c->cell.mode), c->cell.alpha);
        for (int s = 0; s < IV_AGG_N; s++) {
            const iv_cell_stats *t = &c->s[s];
            fprintf(csv, ",%ld,", t->n);
            csv_num(csv, t->n ? t->success : NAN), fputc(',', csv);
            csv_num(csv, iv_mean_get(&t->target_prob)), fputc(',', csv);
            csv_num(csv, iv_mean_get(&t->edit_size)), fputc(',', csv);
            csv_num(csv, iv_cell_ppl(t)), fputc(',', csv);
            csv_num(csv, t->n_ppl_no_tokens ? NAN : iv_ppl_corpus(&t->ppl)), fputc(',', csv);
            csv_num(csv, iv_mean_get(&t->ppl_sample)), fputc(',', csv);
            csv_num(csv, iv_mean_get(&t->coherence));
            fprintf(csv, ",%ld", t->coherence.n);
        }
        fputc('\n', csv);
        json_array_append_new(jcells, iv_cell_json(c));
    }
    fputs("</table>\n", h);
}

/* Closes a memstream and writes its bytes atomically. */
static int flush_to(FILE *f, char **buf, size_t *len, const char *path, iv_err *err) {
    fclose(f);
    int rc = *buf ? iv_write_atomic(path, *buf, *len, err) : iv_errf(err, "%s: out of memory", path);
    free(*buf);
    *buf = NULL;
    return rc;
}

static char *join(const char *dir, const char *name) {
    size_t l = strlen(dir) + strlen(name) + 2;
    char *p = malloc(l);
    if (p) snprintf(p, l, "%s/%s", dir, name);
    return p;
}

int iv_report_write(const char *dir, const iv_report_opts *opts, size_t *n_cells, iv_err *err) {
    iv_report_opts o = opts ? *opts : iv_report_defaults();
    iv_records rs = {0};
    iv_cells cs = {0};
    if (iv_records_load_dir(dir, &rs, err) != 0) {
        iv_records_free(&rs);
        return -1;
    }
    if (o.protocol >= 0) { /* keep one protocol's records */
        size_t k = 0;
        for (size_t i = 0; i < rs.n; i++) {
            if ((int)rs.r[i].cell.protocol == o.protocol) rs.r[k++] = rs.r[i];
            else iv_record_free(&rs.r[i]);
        }
        rs.n = k;
        if (k == 0) {
            iv_records_free(&rs);
            return iv_errf(err, "%s: no records of the %s protocol", dir, iv_protocol_name((iv_protocol)o.protocol));
        }
    }
    if (iv_cells_build(&rs, &cs, err) != 0) {
        iv_records_free(&rs);
        return -1;
    }
    /* Outputs go beside the results (or beside a single .jsonl file). */
    char *outdir = strdup(dir);
    struct stat st;
    if (outdir && stat(dir, &st) == 0 && S_ISREG(st.st_mode)) {
        char *sl = strrchr(outdir, '/');
        if (sl) *sl = 0;
        else strcpy(outdir, ".");
    }
    char *html_path = o.html_path ? strdup(o.html_path) : join(outdir ? outdir : ".", "report.html");
    char *csv_path = join(outdir ? outdir : ".", "report.csv");
    char *scsv_path = join(outdir ? outdir : ".", "report_summary.csv");
    char *json_path = join(outdir ? outdir : ".", "report.json");
    char *hb = NULL, *cb = NULL, *sb = NULL;
    size_t hl = 0, cl = 0, sl = 0;
    rep R = {.rs = &rs, .cs = &cs, .o = &o};
    R.h = open_memstream(&hb, &hl);
    FILE *csv = open_memstream(&cb, &cl);
    R.scsv = open_memstream(&sb, &sl);
    R.summary = json_array();
    json_t *jcells = json_array();
    int rc = 0;
    if (!outdir || !html_path || !csv_path || !scsv_path || !json_path || !R.h || !csv || !R.scsv) {
        rc = iv_errf(err, "report: out of memory");
        goto out;
    }
    fputs("model,concept,method,layer,fluency,n_alpha,clean_success,clean_fluency,bottleneck_success,"
          "bottleneck_fluency,tolerance,best_success_within_tol,best_alpha,best_fluency,frontier_area,"
          "selected_alpha,report_success,report_fluency,report_clean_success,report_clean_fluency,"
          "report_edit_size,protocol\n",
          R.scsv);
    fputs("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>interv report: ", R.h);
    html_esc(R.h, dir);
    fprintf(R.h, "</title>\n<style>%s</style>\n%s</head><body>\n<h1>interv report: ", CSS, SCRIPT);
    html_esc(R.h, dir);
    fprintf(R.h, "</h1>\n<p>%zu cells, %zu records. Curves use all prompts; α is chosen on the select half "
                 "(highest success with fluency within tolerance of clean) and reported on the report half. "
                 "Edit size is the mean relative change ‖x′−x‖/‖x‖ of the residual stream at edited positions. "
                 "Dashed line / star: clean model; diamonds: bottleneck (round trip without an edit).</p>\n",
            cs.n, rs.n);
    /* the groups are written first into their own stream: the overview that
     * opens the page needs every group's chosen alpha */
    char *bb = NULL;
    size_t bl = 0;
    FILE *main_h = R.h, *body = open_memstream(&bb, &bl);
    if (!body) { rc = iv_errf(err, "report: out of memory"); goto out; }
    R.h = body;
    for (size_t g0 = 0; g0 < cs.n && rc == 0;) {
        size_t g1 = g0;
        while (g1 < cs.n && cs.c[g1].cell.protocol == cs.c[g0].cell.protocol && cs.c[g1].cell.bf16 == cs.c[g0].cell.bf16 &&
               !strcmp(cs.c[g1].cell.model, cs.c[g0].cell.model) &&
               !strcmp(cs.c[g1].cell.concept, cs.c[g0].cell.concept))
            g1++;
        rc = do_group(&R, g0, g1, err);
        g0 = g1;
    }
    fclose(body);
    R.h = main_h;
    if (!bb) rc = iv_errf(err, "report: out of memory");
    json_t *jov = json_object();
    if (rc == 0) rc = iv_overview_write(R.h, &R.ov, &rs, jov, err);
    if (rc == 0) fwrite(bb, 1, bl, R.h);
    free(bb);
    if (rc) { json_decref(jov); goto out; }
    cells_table(&R, csv, jcells);
    fputs("</body></html>\n", R.h);
    {
        FILE *h = R.h, *s = R.scsv;
        R.h = R.scsv = NULL;
        rc = flush_to(h, &hb, &hl, html_path, err);
        int rc2 = flush_to(csv, &cb, &cl, csv_path, rc ? NULL : err);
        csv = NULL;
        int rc3 = flush_to(s, &sb, &sl, scsv_path, (rc || rc2) ? NULL : err);
        rc = rc ? rc : rc2 ? rc2 : rc3;
    }
    if (rc == 0) {
        json_t *root = json_object();
        json_object_set_new(root, "cells", jcells);
        json_object_set_new(root, "summary", R.summary);
        json_object_set_new(root, "protocols_side_by_side", json_incref(json_object_get(jov, "protocols_side_by_side")));
        jcells = R.summary = NULL;
        char *s = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
        json_decref(root);
        rc = s ? iv_write_atomic(json_path, s, strlen(s), err) : iv_errf(err, "%s: cannot encode", json_path);
        free(s);
    }
    json_decref(jov);
    if (rc == 0 && n_cells) *n_cells = cs.n;
out:
    iv_overview_free(&R.ov);
    if (R.h) fclose(R.h);
    if (csv) fclose(csv);
    if (R.scsv) fclose(R.scsv);
    free(hb);
    free(cb);
    free(sb);
    json_decref(jcells);
    json_decref(R.summary);
    free(outdir);
    free(html_path);
    free(csv_path);
    free(scsv_path);
    free(json_path);
    iv_cells_free(&cs);
    iv_records_free(&rs);
    return rc;
}
