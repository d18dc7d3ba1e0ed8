/* The report's opening section: the cross-concept summary (as the reference
 * study's main figure: per method, mean success against mean fluency at the
 * chosen alpha, with the clean and bottleneck baselines), the two protocols side
 * by side when both are present, and the reference defects that shaped the
 * paper-protocol numbers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/internal.h"

void iv_html_esc(FILE *f, const char *s) {
    for (; s && *s; s++) switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
}

void iv_html_num(FILE *f, double v, int dec) {
    if (isnan(v) || isinf(v)) fputs("<span class=na>n/a</span>", f);
    else fprintf(f, "%.*f", dec, v);
}

int iv_html_chart(FILE *h, const iv_chart *ch, iv_err *err) {
    char *svg;
    size_t len;
    if (iv_chart_svg(ch, &svg, &len, err) != 0) return -1;
    char *b64 = iv_base64((unsigned char *)svg, len);
    free(svg);
    if (!b64) return iv_errf(err, "report: out of memory");
    fprintf(h, "<img class=chart width=%d height=%d alt=\"", ch->width, ch->height);
    iv_html_esc(h, ch->title);
    fprintf(h, "\" src=\"data:image/svg+xml;base64,%s\">\n", b64);
    free(b64);
    return 0;
}

int iv_overview_push(iv_overview *ov, const iv_overview_row *r) {
    if (ov->n == ov->cap) {
        size_t nc = ov->cap ? 2 * ov->cap : 32;
        iv_overview_row *p = realloc(ov->r, nc * sizeof *p);
        if (!p) return -1;
        ov->r = p;
        ov->cap = nc;
    }
    ov->r[ov->n++] = *r;
    return 0;
}

void iv_overview_free(iv_overview *ov) {
    free(ov->r);
    memset(ov, 0, sizeof *ov);
}

/* Mean of the measured values (NAN when none). */
typedef struct { double s; int n; } mean_t;
static void madd(mean_t *m, double v) { if (!isnan(v) && !isinf(v)) { m->s += v; m->n++; } }
static double mget(const mean_t *m) { return m->n ? m->s / m->n : NAN; }

/* One (protocol, model, method, layer) averaged over concepts. */
typedef struct {
    iv_protocol protocol;
    const char *model, *method;
    int layer, coh, n_concepts;
    mean_t succ, fl, edit, clean_s, clean_f, bn_s, bn_f;
} agg;

static int same_key(const agg *a, const iv_overview_row *r) {
    return a->protocol == r->protocol && !strcmp(a->model, r->model) && !strcmp(a->method, r->method) &&
           a->layer == r->layer;
}

static agg *aggregate(const iv_overview *ov, size_t *n_out) {
    agg *a = calloc(ov->n ? ov->n : 1, sizeof *a);
    size_t n = 0;
    if (!a) return NULL;
    for (size_t i = 0; i < ov->n; i++) {
        const iv_overview_row *r = &ov->r[i];
        agg *k = NULL;
        for (size_t j = 0; j < n && !k; j++)
            if (same_key(&a[j], r)) k = &a[j];
        if (!k) {
            k = &a[n++];
            k->protocol = r->protocol, k->model = r->model, k->method = r->method, k->layer = r->layer;
        }
        k->coh |= r->coh;
        k->n_concepts++;
        madd(&k->succ, r->success), madd(&k->fl, r->fluency), madd(&k->edit, r->edit_size);
        madd(&k->clean_s, r->clean_success), madd(&k->clean_f, r->clean_fluency);
        madd(&k->bn_s, r->bn_success), madd(&k->bn_f, r->bn_fluency);
    }
    *n_out = n;
    return a;
}

/* One colour per method on every chart of the summary, whatever is present. */
static int method_colour(const char *m) {
    static const char *order[] = {"logit", "tuned", "sae", "steering", "probe", "prompting"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(m, order[i])) return i;
    return 6;
}

/* Mean success (y) against mean fluency (x) at the chosen alpha, one point per
 * method, bottleneck diamonds and the clean star. */
static int chart(FILE *h, const agg *a, size_t n, iv_protocol p, const char *model, int coh, iv_err *err) {
    iv_series *s = calloc(2 * n + 1, sizeof *s);
    double *xy = calloc(4 * n + 2, sizeof *xy);
    char **lab = calloc(2 * n, sizeof *lab);
    int rc = 0;
    if (!s || !xy || !lab) { rc = iv_errf(err, "report: out of memory"); goto out; }
    size_t ns = 0;
    mean_t cs = {0}, cf = {0};
    for (size_t i = 0; i < n; i++) {
        if (a[i].protocol != p || strcmp(a[i].model, model)) continue;
        madd(&cs, mget(&a[i].clean_s)), madd(&cf, mget(&a[i].clean_f));
        for (int bn = 0; bn < 2; bn++) {
            double x = mget(bn ? &a[i].bn_f : &a[i].fl), y = mget(bn ? &a[i].bn_s : &a[i].succ);
            if (isnan(x) || isnan(y)) continue;
            double *px = &xy[2 * ns], *py = &xy[2 * ns + 1];
            *px = x, *py = y;
            size_t ll = strlen(a[i].method) + 32;
            if (!(lab[ns] = malloc(ll))) { rc = iv_errf(err, "report: out of memory"); goto out; }
            snprintf(lab[ns], ll, "%s L%d%s", a[i].method, a[i].layer, bn ? " bottleneck" : "");
            s[ns] = (iv_series){lab[ns], px, py, 1, method_colour(a[i].method), bn ? 1 : 0, 0};
            ns++;
        }
    }
    double *ccx = &xy[4 * n], *ccy = &xy[4 * n + 1];
    *ccx = mget(&cf), *ccy = mget(&cs);
    if (!isnan(*ccx) && !isnan(*ccy)) s[ns++] = (iv_series){"clean", ccx, ccy, 1, -1, 2, 0};
    char title[512];
    snprintf(title, sizeof title, "%s, %s protocol: mean over concepts at the chosen α", model, iv_protocol_name(p));
    iv_chart ch = {title, coh ? "mean coherence (judge, 1-10)" : "mean perplexity (lower = more fluent)",
                   "mean success rate", s, ns, NULL, 0, 600, 380, 0};
    if (ns) rc = iv_html_chart(h, &ch, err);
out:
    for (size_t i = 0; lab && i < 2 * n; i++) free(lab[i]);
    free(lab);
    free(xy);
    free(s);
    return rc;
}

static void cell3(FILE *h, double v, int dec) {
    fputs("<td>", h);
    iv_html_num(h, v, dec);
    fputs("</td>", h);
}

static void table(FILE *h, const agg *a, size_t n, iv_protocol p, const char *model, int coh) {
    const char *fl = coh ? "coherence" : "perplexity";
    fprintf(h, "<table class=summary><tr><th>method</th><th>layer</th><th>concepts</th><th>success</th>"
               "<th>%s</th><th>edit size</th><th>clean success</th><th>clean %s</th><th>bottleneck success</th>"
               "<th>bottleneck %s</th></tr>\n", fl, fl, fl);
    for (size_t i = 0; i < n; i++) {
        if (a[i].protocol != p || strcmp(a[i].model, model)) continue;
        fputs("<tr><td>", h);
        iv_html_esc(h, a[i].method);
        fprintf(h, "</td><td>%d</td><td>%d</td>", a[i].layer, a[i].n_concepts);
        cell3(h, mget(&a[i].succ), 3), cell3(h, mget(&a[i].fl), 2), cell3(h, mget(&a[i].edit), 3);
        cell3(h, mget(&a[i].clean_s), 3), cell3(h, mget(&a[i].clean_f), 2);
        cell3(h, mget(&a[i].bn_s), 3), cell3(h, mget(&a[i].bn_f), 2);
        fputs("</tr>\n", h);
    }
    fputs("</table>\n", h);
}

/* Both protocols: one row per (model, method, layer). */
static void side_by_side(FILE *h, const agg *a, size_t n, json_t *jarr) {
    fputs("<h3>The two protocols side by side</h3>\n<p class=note>Same prompts and decoding; the protocols "
          "differ in scoring (success rule, judge, perplexity) and in artifact recipes (lens targets, tuned-lens "
          "form, probe training), so methods whose recipe differs also generate differently. Numbers are means "
          "over concepts on the report half at the α each protocol chose.</p>\n"
          "<table class=summary><tr><th>model</th><th>method</th><th>layer</th><th>success (interv)</th>"
          "<th>success (paper)</th><th>edit size (interv)</th><th>edit size (paper)</th>"
          "<th>fluency (interv)</th><th>fluency (paper)</th></tr>\n", h);
    for (size_t i = 0; i < n; i++) {
        if (a[i].protocol != IV_PROTOCOL_INTERV) continue;
        const agg *q = NULL;
        for (size_t j = 0; j < n && !q; j++)
            if (a[j].protocol == IV_PROTOCOL_PAPER && !strcmp(a[j].model, a[i].model) &&
                !strcmp(a[j].method, a[i].method) && a[j].layer == a[i].layer)
                q = &a[j];
        if (!q) continue;
        fputs("<tr><td>", h);
        iv_html_esc(h, a[i].model);
        fputs("</td><td>", h);
        iv_html_esc(h, a[i].method);
        fprintf(h, "</td><td>%d</td>", a[i].layer);
        cell3(h, mget(&a[i].succ), 3), cell3(h, mget(&q->succ), 3);
        cell3(h, mget(&a[i].edit), 3), cell3(h, mget(&q->edit), 3);
        cell3(h, mget(&a[i].fl), 2), cell3(h, mget(&q->fl), 2);
        fputs("</tr>\n", h);
        json_t *o = json_object();
        json_object_set_new(o, "model", json_string(a[i].model));
        json_object_set_new(o, "method", json_string(a[i].method));
        json_object_set_new(o, "layer", json_integer(a[i].layer));
        double v[6] = {mget(&a[i].succ), mget(&q->succ), mget(&a[i].edit), mget(&q->edit), mget(&a[i].fl),
                       mget(&q->fl)};
        static const char *k[6] = {"success_interv", "success_paper", "edit_size_interv", "edit_size_paper",
                                   "fluency_interv", "fluency_paper"};
        for (int t = 0; t < 6; t++)
            json_object_set_new(o, k[t], isnan(v[t]) ? json_null() : json_real(v[t]));
        json_array_append_new(jarr, o);
    }
    fputs("</table>\n", h);
}

/* Distinct deviation texts over the records, with their record counts. */
static void deviations(FILE *h, const iv_records *rs) {
    const char **txt = NULL;
    long *cnt = NULL;
    size_t n = 0, n_paper = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const iv_record *r = &rs->r[i];
        n_paper += r->cell.protocol == IV_PROTOCOL_PAPER;
        for (int k = 0; k < r->n_deviations; k++) {
            size_t j = 0;
            while (j < n && strcmp(txt[j], r->deviations[k])) j++;
            if (j == n) {
                const char **t2 = realloc(txt, (n + 1) * sizeof *t2);
                long *c2 = realloc(cnt, (n + 1) * sizeof *c2);
                if (t2) txt = t2;
                if (c2) cnt = c2;
                if (!t2 || !c2) break;
                txt[n] = r->deviations[k];
                cnt[n++] = 0;
            }
            cnt[j]++;
        }
    }
    if (n_paper) {
        fprintf(h, "<h3>Reference defects reproduced (paper protocol, %zu records)</h3>\n<ul>\n", n_paper);
        for (size_t j = 0; j < n; j++) {
            fputs("<li>", h);
            iv_html_esc(h, txt[j]);
            fprintf(h, " <small>(%ld records)</small></li>\n", cnt[j]);
        }
        fputs("<li>interv computes in f32 (bf16/f16 weights are widened); the reference ran its models in fp16, "
              "so its numbers can differ by fp16 rounding.</li>\n</ul>\n", h);
    }
    free(txt);
    free(cnt);
}

int iv_overview_write(FILE *h, const iv_overview *ov, const iv_records *rs, json_t *jout, iv_err *err) {
    size_t n = 0;
    agg *a = aggregate(ov, &n);
    if (!a) return iv_errf(err, "report: out of memory");
    int rc = 0, both = 0, seen[2] = {0, 0};
    for (size_t i = 0; i < n; i++) seen[a[i].protocol == IV_PROTOCOL_PAPER] = 1;
    both = seen[0] && seen[1];
    fputs("<section class=overview><h2>Summary over concepts</h2>\n<p class=note>Per method: the mean over "
          "concepts of the report-half success and fluency at the α chosen on the select half, with the clean "
          "model and the bottleneck (round trip without an edit) as baselines.</p>\n", h);
    for (int p = 0; p < 2 && rc == 0; p++)
        for (size_t i = 0; i < n && rc == 0; i++) {
            if ((int)a[i].protocol != p) continue;
            size_t j = 0; /* first row of this (protocol, model) */
            while (j < i && !((int)a[j].protocol == p && !strcmp(a[j].model, a[i].model))) j++;
            if (j < i) continue;
            int coh = 0;
            for (size_t k = 0; k < n; k++)
                if ((int)a[k].protocol == p && !strcmp(a[k].model, a[i].model)) coh |= a[k].coh;
            fputs("<h3>", h);
            iv_html_esc(h, a[i].model);
            fprintf(h, " <small>— %s protocol</small></h3>\n<div class=charts>\n", iv_protocol_name((iv_protocol)p));
            rc = chart(h, a, n, (iv_protocol)p, a[i].model, coh, err);
            fputs("</div>\n", h);
            table(h, a, n, (iv_protocol)p, a[i].model, coh);
        }
    json_t *jarr = json_array();
    if (rc == 0 && both) side_by_side(h, a, n, jarr);
    if (jout) json_object_set_new(jout, "protocols_side_by_side", jarr);
    else json_decref(jarr);
    if (rc == 0) deviations(h, rs);
    fputs("</section>\n", h);
    free(a);
    return rc;
}
