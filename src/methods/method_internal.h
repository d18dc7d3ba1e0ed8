/* Shared between the method files: the iv_method object and each method's ops. */
#ifndef INTERV_METHOD_INTERNAL_H
#define INTERV_METHOD_INTERNAL_H
#include <stdint.h>
#include "interv/method.h"

struct iv_method;

/* One method behind one interface.  impl is the method's own state. */
typedef struct ivm_ops {
    int64_t (*n_features)(const struct iv_method *mm);
    int (*encode)(struct iv_method *mm, const float *x, float *z, iv_err *err);
    int (*decode)(struct iv_method *mm, const float *z, float *x, iv_err *err);
    /* x -> x' in place per mm->mode for n rows, x: [n, d]; must be thread-safe
     * (no shared scratch). */
    int (*apply)(struct iv_method *mm, float *x, int n, iv_err *err);
    void (*destroy)(void *impl);
} ivm_ops;

struct iv_method {
    iv_method_kind kind;
    iv_method_mode mode;
    iv_hook_at at;
    int layer;
    int dim;
    float alpha;
    const iv_model *m;
    char *concept;
    char *prompt_template;
    int32_t *tgt_ids;   /* [n_tgt] */
    float *tgt_w;       /* [n_tgt] relative weights */
    int n_tgt;
    const ivm_ops *ops;
    void *impl;
    /* edit-size statistics */
    double sum_all;
    int64_t cnt_all;
    double row_sum[IV_METHOD_MAX_ROWS];
    int64_t row_cnt[IV_METHOD_MAX_ROWS];
};

/* Per-method constructors: fill mm->ops, mm->impl and, if the artifact names it,
 * resolve mm->layer (mm->layer is -1 when the user gave none). */
int ivm_lens_create_logit(struct iv_method *mm, const iv_method_opts *o, iv_err *err);
int ivm_lens_create_tuned(struct iv_method *mm, const iv_method_opts *o, iv_err *err);
int ivm_sae_create(struct iv_method *mm, const iv_method_opts *o, iv_err *err);
int ivm_additive_create(struct iv_method *mm, const iv_method_opts *o, iv_err *err);

/* Checks 0 <= layer < n_layers, naming `what` (the artifact or "--layer"). */
int ivm_check_layer(const struct iv_method *mm, int layer, const char *what, iv_err *err);

/* The directory for cached decoders (created if missing); malloc'd. */
char *ivm_cache_dir(const char *override);

/* Reads the "__metadata__" string map of a safetensors file: value of key or NULL
 * (malloc'd). */
char *ivm_st_metadata(const iv_safetensors *st, const char *key);

/* Resolves a path inside a folder: malloc'd "dir/name". */
char *ivm_join(const char *dir, const char *name);
int ivm_is_dir(const char *path);
int ivm_is_file(const char *path);

/* Loads a tensor of a safetensors file as f32 (malloc'd) after checking its
 * shape; want[i] < 0 accepts any extent.  Errors name file and tensor. */
int ivm_st_load_f32(const iv_safetensors *st, const char *path, const char *name, int ndim,
                    const int64_t *want, float **out, iv_err *err);

#endif
