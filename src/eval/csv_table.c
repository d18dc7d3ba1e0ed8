/* Whole-file CSV reading through libcsv, with the line each row starts on so
 * that every error can name it.  The file is fed to the parser one physical
 * line at a time: the row-start line is the line being fed when the first byte
 * of a new row arrives. */
#include "eval/csv_table.h"
#include <csv.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "interv/io.h"

typedef struct {
    iv_csv_table *t;
    iv_csv_row cur;
    size_t cur_cap;
    int pending;        /* bytes of the current row have been fed */
    int line;           /* line being fed */
    int oom;
} csv_ctx;

static void on_field(void *s, size_t len, void *data) {
    csv_ctx *c = data;
    if (c->oom) return;
    if (c->cur.n == c->cur_cap) {
        size_t nc = c->cur_cap ? 2 * c->cur_cap : 8;
        char **nf = realloc(c->cur.f, nc * sizeof *nf);
        if (!nf) { c->oom = 1; return; }
        c->cur.f = nf;
        c->cur_cap = nc;
    }
    char *v = malloc(len + 1);
    if (!v) { c->oom = 1; return; }
    if (len) memcpy(v, s, len);
    v[len] = 0;
    c->cur.f[c->cur.n++] = v;
}

static void on_row(int term, void *data) {
    (void)term;
    csv_ctx *c = data;
    c->pending = 0;
    if (c->oom) return;
    /* A row of one empty field is a blank line (e.g. spaces only): skip it. */
    if (c->cur.n == 0 || (c->cur.n == 1 && c->cur.f[0][0] == 0)) {
        for (size_t i = 0; i < c->cur.n; i++) free(c->cur.f[i]);
        c->cur.n = 0;
        return;
    }
    iv_csv_table *t = c->t;
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 16;
        iv_csv_row *nr = realloc(t->rows, nc * sizeof *nr);
        if (!nr) { c->oom = 1; return; }
        t->rows = nr;
        t->cap = nc;
    }
    t->rows[t->n++] = c->cur;
    memset(&c->cur, 0, sizeof c->cur);
    c->cur_cap = 0;
}

/* Line (1-based) of the first invalid UTF-8 sequence, or 0 when valid. */
static int bad_utf8_line(const char *s, size_t len) {
    int line = 1;
    size_t i = 0;
    while (i < len) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(len - i), &cp);
        if (k <= 0 || cp == 0) return line;
        if (cp == '\n') line++;
        i += (size_t)k;
    }
    return 0;
}

int iv_csv_read(const char *path, iv_csv_table *t, iv_err *err) {
    memset(t, 0, sizeof *t);
    char *buf;
    size_t len;
    if (iv_read_file(path, &buf, &len, err) != 0) return -1;
    int bl = bad_utf8_line(buf, len);
    if (bl) {
        free(buf);
        return iv_errf(err, "%s: line %d: invalid UTF-8 (or a NUL byte)", path, bl);
    }
    size_t off = 0;
    if (len >= 3 && !memcmp(buf, "\xEF\xBB\xBF", 3)) off = 3;  /* byte-order mark */

    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        free(buf);
        return iv_errf(err, "%s: cannot start the CSV parser", path);
    }
    csv_ctx c = {.t = t, .line = 1};
    int rc = 0;
    while (off < len && rc == 0) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
        int blank = (n == 1) || (n == 2 && buf[off] == '\r');
        if (!c.pending && !blank) {
            c.pending = 1;
            t->cur_line = c.line;
        }
        size_t before = t->n;
        if (csv_parse(&p, buf + off, n, on_field, on_row, &c) != n) {
            rc = iv_errf(err, "%s: line %d: %s", path, c.line, csv_strerror(csv_error(&p)));
            break;
        }
        for (size_t r = before; r < t->n; r++) t->rows[r].line = t->cur_line;
        off += n;
        c.line++;
        if (c.oom) rc = iv_errf(err, "%s: out of memory", path);
    }
    if (rc == 0) {
        size_t before = t->n;
        if (csv_fini(&p, on_field, on_row, &c) != 0)
            rc = iv_errf(err, "%s: line %d: unterminated quoted cell", path, t->cur_line);
        for (size_t r = before; r < t->n; r++) t->rows[r].line = t->cur_line;
        if (c.oom && rc == 0) rc = iv_errf(err, "%s: out of memory", path);
    }
    csv_free(&p);
    for (size_t i = 0; i < c.cur.n; i++) free(c.cur.f[i]);
    free(c.cur.f);
    free(buf);
    if (rc != 0) iv_csv_free(t);
    return rc;
}

void iv_csv_free(iv_csv_table *t) {
    for (size_t r = 0; r < t->n; r++) {
        for (size_t i = 0; i < t->rows[r].n; i++) free(t->rows[r].f[i]);
        free(t->rows[r].f);
    }
    free(t->rows);
    memset(t, 0, sizeof *t);
}
