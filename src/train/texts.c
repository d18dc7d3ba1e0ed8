/* Text inputs for training: paragraph corpora. */
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/train.h"

static int texts_push(iv_texts *t, int *cap, const char *s, size_t len) {
    if (t->n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        char **ns = realloc(t->s, (size_t)nc * sizeof *ns);
        if (!ns) return -1;
        t->s = ns; *cap = nc;
    }
    char *c = malloc(len + 1);
    if (!c) return -1;
    memcpy(c, s, len);
    c[len] = 0;
    t->s[t->n++] = c;
    return 0;
}

void iv_texts_free(iv_texts *t) {
    for (int i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    t->s = NULL; t->n = 0;
}

static int blank_line(const char *a, const char *e) {
    for (; a < e; a++)
        if (*a != ' ' && *a != '\t' && *a != '\r') return 0;
    return 1;
}

int iv_texts_read_paragraphs(const char *path, iv_texts *out, iv_err *err) {
    char *buf; size_t len;
    memset(out, 0, sizeof *out);
    if (iv_read_file(path, &buf, &len, err)) return -1;
    int cap = 0;
    const char *p = buf, *end = buf + len, *start = NULL, *last = NULL;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        if (blank_line(p, le)) {
            if (start && texts_push(out, &cap, start, (size_t)(last - start))) goto oom;
            start = NULL;
        } else {
            if (!start) start = p;
            last = le;
            while (last > start && (last[-1] == '\r' || last[-1] == ' ')) last--;
        }
        p = nl ? nl + 1 : end;
    }
    if (start && texts_push(out, &cap, start, (size_t)(last - start))) goto oom;
    free(buf);
    if (out->n == 0) return iv_errf(err, "%s: no texts (paragraphs separated by blank lines)", path);
    return 0;
oom:
    free(buf);
    iv_texts_free(out);
    return iv_errf(err, "%s: out of memory", path);
}

