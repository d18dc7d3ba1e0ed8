/* Internal: a CSV file read whole into rows of strings, each row with the line
 * it starts on (quoted cells may span lines). */
#ifndef INTERV_EVAL_CSV_TABLE_H
#define INTERV_EVAL_CSV_TABLE_H
#include <stddef.h>
#include "interv/error.h"

typedef struct iv_csv_row {
    char **f;      /* [n] NUL-terminated cells */
    size_t n;
    int line;      /* 1-based line where the row starts */
} iv_csv_row;

typedef struct iv_csv_table {
    iv_csv_row *rows;  /* [n]; blank lines are not rows */
    size_t n, cap;
    int cur_line;
} iv_csv_table;

/* Reads path: invalid UTF-8, NUL bytes and malformed quoting are errors that
 * name the file and line.  An empty file gives zero rows (not an error here). */
int iv_csv_read(const char *path, iv_csv_table *t, iv_err *err);
void iv_csv_free(iv_csv_table *t);

#endif
