/* Shared between the model loaders (private to src/model). */
#ifndef INTERV_MODEL_INTERNAL_H
#define INTERV_MODEL_INTERNAL_H
#include "interv/model.h"
#include <math.h>
#include <stdio.h>

#define IV_MAX_SHARDS 64

int iv_load_llama2c(iv_model *m, const char *path, iv_err *err);
int iv_load_hf(iv_model *m, const char *dir, iv_err *err);
/* Parses config.json into m->cfg. */
int iv_hf_config(iv_config *c, const char *path, iv_err *err);

#endif
