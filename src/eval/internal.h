/* Internal to src/eval: helpers shared between the report's files. */
#ifndef INTERV_EVAL_INTERNAL_H
#define INTERV_EVAL_INTERNAL_H
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include "interv/eval.h"

/* Every aggregate of a cell as a JSON object (summary.json and report.json). */
json_t *iv_cell_json(const iv_cell_agg *c);

/* ---- SVG line charts (plot_svg.c, cairo's SVG surface) ---- */
typedef struct iv_series {
    const char *label;
    const double *x, *y;     /* [n] points joined by lines in this order; NAN = gap */
    size_t n;
    int colour;              /* palette index */
    int marker;              /* 0 circle, 1 diamond (bottleneck), 2 star (clean) */
    int lines;               /* join the points */
} iv_series;

typedef struct iv_refline {
    const char *label;
    double y;                /* horizontal dashed line at y (NAN = none) */
    int colour;              /* -1 = grey */
} iv_refline;

typedef struct iv_chart {
    const char *title, *xlabel, *ylabel;
    const iv_series *s;
    size_t n_s;
    const iv_refline *ref;
    size_t n_ref;
    int width, height;
    int ylog;                /* log10 y axis (perplexity spans orders of magnitude) */
} iv_chart;

/* Renders the chart to an SVG document in memory (*svg malloc'd, *len bytes). */
int iv_chart_svg(const iv_chart *c, char **svg, size_t *len, iv_err *err);
/* RGB of palette entry i (0..1 each). */
void iv_palette(int i, double rgb[3]);
/* Base64 of data (malloc'd, NUL-terminated). */
char *iv_base64(const unsigned char *data, size_t len);

/* ---- report helpers (report_overview.c) ---- */
void iv_html_esc(FILE *f, const char *s);
void iv_html_num(FILE *f, double v, int dec);      /* NAN/inf -> "n/a" */
int iv_html_chart(FILE *h, const iv_chart *ch, iv_err *err);  /* <img> with the SVG inline */

/* One method curve of one (protocol, model, concept) group, at the alpha chosen on
 * the select half, report-half numbers; NAN = not measured. */
typedef struct iv_overview_row {
    iv_protocol protocol;
    const char *model, *concept, *method;   /* borrowed from the records */
    int layer, coh;                         /* coh: fluency is coherence, else perplexity */
    double success, fluency, edit_size;
    double clean_success, clean_fluency, bn_success, bn_fluency;
} iv_overview_row;
typedef struct iv_overview {
    iv_overview_row *r;
    size_t n, cap;
} iv_overview;
int iv_overview_push(iv_overview *ov, const iv_overview_row *r);
void iv_overview_free(iv_overview *ov);
/* The cross-concept summary section (charts + tables), both protocols side by
 * side when present (also into jout["protocols_side_by_side"]), and the list of
 * reference defects found in the records. */
int iv_overview_write(FILE *h, const iv_overview *ov, const iv_records *rs, json_t *jout, iv_err *err);
#endif
