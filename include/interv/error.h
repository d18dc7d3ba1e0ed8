/* Error reporting: every fallible library call takes an iv_err* and returns 0 on
 * success or -1 on failure, with a one-line message naming the file and the
 * problem.  Library code never prints and never exits. */
#ifndef INTERV_ERROR_H
#define INTERV_ERROR_H
#include <stddef.h>

typedef struct iv_err {
    char msg[1024];
} iv_err;

/* Formats the message into e (if non-NULL) and returns -1, so callers can write
 * `return iv_errf(err, "%s: truncated header", path);`. */
int iv_errf(iv_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes the existing message with "ctx: ". Returns -1. */
int iv_err_prefix(iv_err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
