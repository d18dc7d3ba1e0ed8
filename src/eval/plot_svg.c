/* Line charts drawn with cairo onto an SVG surface that streams into memory.
 * Cairo turns the text into glyph outlines inside the SVG, so the charts need
 * no font on the machine that opens the report. */
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/internal.h"

typedef struct {
    unsigned char *d;
    size_t n, cap;
    int oom;
} membuf;

static cairo_status_t mem_write(void *closure, const unsigned char *data, unsigned int len) {
    membuf *b = closure;
    if (b->n + len + 1 > b->cap) {
        size_t nc = (b->n + len + 1) * 2;
        unsigned char *nd = realloc(b->d, nc);
        if (!nd) {
            b->oom = 1;
            return CAIRO_STATUS_WRITE_ERROR;
        }
        b->d = nd;
        b->cap = nc;
    }
    memcpy(b->d + b->n, data, len);
    b->n += len;
    return CAIRO_STATUS_SUCCESS;
}

/* Colour-blind-safe palette (Okabe & Ito's eight, minus black). */
void iv_palette(int i, double rgb[3]) {
    static const unsigned char p[][3] = {{0, 114, 178}, {213, 94, 0}, {0, 158, 115}, {204, 121, 167},
                                         {230, 159, 0}, {86, 180, 233}, {120, 94, 60}, {240, 228, 66}};
    int n = (int)(sizeof p / sizeof p[0]);
    if (i < 0) {
        rgb[0] = rgb[1] = rgb[2] = 0.35;
        return;
    }
    for (int k = 0; k < 3; k++) rgb[k] = p[i % n][k] / 255.0;
}

/* Tick step giving about `want` ticks over [lo, hi]: 1, 2 or 5 times 10^k. */
static double nice_step(double lo, double hi, int want) {
    double raw = (hi - lo) / want;
    if (!(raw > 0)) return 1;
    double e = pow(10, floor(log10(raw))), f = raw / e;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * e;
}

static void extend(double *lo, double *hi, double v) {
    if (isnan(v) || isinf(v)) return;
    if (v < *lo) *lo = v;
    if (v > *hi) *hi = v;
}

static void marker(cairo_t *cr, double x, double y, int kind) {
    if (kind == 1) {  /* diamond */
        cairo_move_to(cr, x, y - 5.5);
        cairo_line_to(cr, x + 5.5, y);
        cairo_line_to(cr, x, y + 5.5);
        cairo_line_to(cr, x - 5.5, y);
        cairo_close_path(cr);
    } else if (kind == 2) {  /* five-pointed star */
        for (int i = 0; i < 10; i++) {
            double r = (i % 2) ? 2.8 : 7, a = -M_PI / 2 + i * M_PI / 5;
            if (i == 0) cairo_move_to(cr, x + r * cos(a), y + r * sin(a));
            else cairo_line_to(cr, x + r * cos(a), y + r * sin(a));
        }
        cairo_close_path(cr);
    } else {
        cairo_new_sub_path(cr);
        cairo_arc(cr, x, y, 3.2, 0, 2 * M_PI);
    }
    cairo_fill(cr);
}

static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    cairo_move_to(cr, x - e.width * ax - e.x_bearing, y - e.height * ay - e.y_bearing);
    cairo_show_text(cr, s);
}

static void fmt_tick(char *b, size_t n, double v, double step) {
    if (fabs(v) < step * 1e-6) v = 0;
    int dec = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (dec > 6) dec = 6;
    if (fabs(v) >= 1e5) snprintf(b, n, "%.3g", v);
    else snprintf(b, n, "%.*f", dec, v);
}

/* The plotted coordinate of a y value: itself, or log10 on a log axis. */
static double ty(const iv_chart *c, double v) { return c->ylog ? (v > 0 ? log10(v) : NAN) : v; }

int iv_chart_svg(const iv_chart *c, char **svg, size_t *len, iv_err *err) {
    membuf b = {0};
    int W = c->width > 0 ? c->width : 520, H = c->height > 0 ? c->height : 340;
    cairo_surface_t *sf = cairo_svg_surface_create_for_stream(mem_write, &b, W, H);
    if (cairo_surface_status(sf) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(sf);
        return iv_errf(err, "chart: cairo cannot create an SVG surface");
    }
    cairo_t *cr = cairo_create(sf);
    cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);

    /* Data ranges, always including the reference lines. */
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (size_t i = 0; i < c->n_s; i++)
        for (size_t k = 0; k < c->s[i].n; k++)
            if (!isnan(c->s[i].x[k]) && !isnan(ty(c, c->s[i].y[k]))) {
                extend(&x0, &x1, c->s[i].x[k]);
                extend(&y0, &y1, ty(c, c->s[i].y[k]));
            }
    for (size_t i = 0; i < c->n_ref; i++) extend(&y0, &y1, ty(c, c->ref[i].y));
    int empty = !(x1 >= x0) || !(y1 >= y0);
    if (empty) x0 = 0, x1 = 1, y0 = 0, y1 = 1;
    if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
    if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
    double xs = nice_step(x0, x1, 5), ys = nice_step(y0, y1, 5);
    x0 = floor(x0 / xs) * xs, x1 = ceil(x1 / xs) * xs;
    y0 = floor(y0 / ys) * ys, y1 = ceil(y1 / ys) * ys;

    /* Plot area; the legend sits on the right. */
    double L = 62, R = W - 150, T = 34, B = H - 48;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
#define PX(v) (L + ((v) - x0) / (x1 - x0) * (R - L))
#define PY(v) (B - ((v) - y0) / (y1 - y0) * (B - T))
#define PYV(v) PY(ty(c, (v)))

    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    for (double v = x0; v <= x1 + xs * 1e-6; v += xs) {
        char t[32];
        cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
        cairo_move_to(cr, PX(v), T);
        cairo_line_to(cr, PX(v), B);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, PX(v), B);
        cairo_line_to(cr, PX(v), B + 4);
        cairo_stroke(cr);
        fmt_tick(t, sizeof t, v, xs);
        text_at(cr, PX(v), B + 7, t, 0.5, 0);
    }
    for (double v = y0; v <= y1 + ys * 1e-6; v += ys) {
        char t[32];
        cairo_set_source_rgb(cr, 0.92, 0.92, 0.92);
        cairo_move_to(cr, L, PY(v));
        cairo_line_to(cr, R, PY(v));
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, L - 4, PY(v));
        cairo_line_to(cr, L, PY(v));
        cairo_stroke(cr);
        if (c->ylog) snprintf(t, sizeof t, pow(10, v) >= 10 ? "%.0f" : "%.3g", pow(10, v));
        else fmt_tick(t, sizeof t, v, ys);
        text_at(cr, L - 7, PY(v), t, 1, 0.5);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, L, T, R - L, B - T);
    cairo_stroke(cr);
    cairo_set_font_size(cr, 12);
    text_at(cr, (L + R) / 2, H - 6, c->xlabel ? c->xlabel : "", 0.5, 1);
    cairo_save(cr);
    cairo_translate(cr, 14, (T + B) / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, c->ylabel ? c->ylabel : "", 0.5, 0.5);
    cairo_restore(cr);
    cairo_set_font_size(cr, 13);
    text_at(cr, (L + R) / 2, 8, c->title ? c->title : "", 0.5, 0);
    if (empty) {
        cairo_set_font_size(cr, 12);
        text_at(cr, (L + R) / 2, (T + B) / 2, "no measured values", 0.5, 0.5);
    }

    /* Reference lines, then series on top. */
    double ly = T + 4;
    cairo_set_font_size(cr, 11);
    for (size_t i = 0; i < c->n_ref; i++) {
        double rgb[3];
        if (isnan(ty(c, c->ref[i].y))) continue;
        iv_palette(c->ref[i].colour, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        double d[2] = {5, 4};
        cairo_set_dash(cr, d, 2, 0);
        cairo_set_line_width(cr, 1.3);
        cairo_move_to(cr, L, PYV(c->ref[i].y));
        cairo_line_to(cr, R, PYV(c->ref[i].y));
        cairo_stroke(cr);
        cairo_move_to(cr, R + 10, ly + 6);
        cairo_line_to(cr, R + 28, ly + 6);
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, R + 33, ly + 6, c->ref[i].label, 0, 0.5);
        ly += 17;
    }
    for (size_t i = 0; i < c->n_s; i++) {
        const iv_series *s = &c->s[i];
        double rgb[3];
        iv_palette(s->colour, rgb);
        cairo_set_source_rgb(cr, rgb[0], rgb[1], rgb[2]);
        cairo_set_line_width(cr, 2);
        int pen = 0;
        for (size_t k = 0; s->lines && k < s->n; k++) {
            if (isnan(s->x[k]) || isnan(ty(c, s->y[k]))) {
                pen = 0;
                continue;
            }
            if (pen) cairo_line_to(cr, PX(s->x[k]), PYV(s->y[k]));
            else cairo_move_to(cr, PX(s->x[k]), PYV(s->y[k]));
            pen = 1;
        }
        cairo_stroke(cr);
        for (size_t k = 0; k < s->n; k++)
            if (!isnan(s->x[k]) && !isnan(ty(c, s->y[k]))) marker(cr, PX(s->x[k]), PYV(s->y[k]), s->marker);
        if (s->lines) {
            cairo_move_to(cr, R + 10, ly + 6);
            cairo_line_to(cr, R + 28, ly + 6);
            cairo_stroke(cr);
        }
        marker(cr, R + 19, ly + 6, s->marker);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, R + 33, ly + 6, s->label, 0, 0.5);
        ly += 17;
    }
#undef PX
#undef PY
#undef PYV
    cairo_destroy(cr);
    cairo_surface_finish(sf);
    cairo_status_t st = cairo_surface_status(sf);
    cairo_surface_destroy(sf);
    if (st != CAIRO_STATUS_SUCCESS || b.oom || !b.d) {
        free(b.d);
        return iv_errf(err, "chart: cairo failed: %s", cairo_status_to_string(st));
    }
    b.d[b.n] = 0;
    *svg = (char *)b.d;
    *len = b.n;
    return 0;
}

char *iv_base64(const unsigned char *data, size_t len) {
    static const char A[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *o = malloc((len + 2) / 3 * 4 + 1);
    if (!o) return NULL;
    size_t n = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        o[n++] = A[v >> 18 & 63], o[n++] = A[v >> 12 & 63], o[n++] = A[v >> 6 & 63], o[n++] = A[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)data[i] << 16 | (i + 1 < len ? (unsigned)data[i + 1] << 8 : 0);
        o[n++] = A[v >> 18 & 63], o[n++] = A[v >> 12 & 63];
        o[n++] = i + 1 < len ? A[v >> 6 & 63] : '=';
        o[n++] = '=';
    }
    o[n] = 0;
    return o;
}
