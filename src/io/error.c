#include "interv/error.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Messages are one line: control characters that came from file contents or
 * names are shown as '?'. */
static void one_line(char *m) {
    for (; *m; m++)
        if ((unsigned char)*m < 0x20 || *m == 0x7f) *m = '?';
}

int iv_errf(iv_err *e, const char *fmt, ...) {
    if (!e) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    one_line(e->msg);
    return -1;
}

int iv_err_prefix(iv_err *e, const char *fmt, ...) {
    if (!e) return -1;
    char pre[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t k = strlen(pre);
    if (k > sizeof e->msg - 3) k = sizeof e->msg - 3;
    memcpy(e->msg, pre, k);
    memcpy(e->msg + k, ": ", 2);
    size_t room = sizeof e->msg - k - 3;
    size_t ol = strnlen(old, room);
    memcpy(e->msg + k + 2, old, ol);
    e->msg[k + 2 + ol] = 0;
    one_line(e->msg);
    return -1;
}
