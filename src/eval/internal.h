/* Internal to src/eval: helpers shared between the report's files. */
#ifndef INTERV_EVAL_INTERNAL_H
#define INTERV_EVAL_INTERNAL_H
#include <jansson.h>
#include <stddef.h>
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
#endif
