/* Helpers shared by the trainers' writers (not public API). */
#ifndef INTERV_TRAIN_INTERNAL_H
#define INTERV_TRAIN_INTERNAL_H
#include <jansson.h>
#include "interv/error.h"

/* mkdir that accepts an existing folder. */
int iv_train_mkdir(const char *dir, iv_err *err);
/* Writes j (indented, key order kept) to path atomically. */
int iv_train_write_json(const char *path, json_t *j, iv_err *err);
#endif
