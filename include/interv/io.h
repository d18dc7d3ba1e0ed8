/* Low-level readers: memory-mapped files and safetensors. */
#ifndef INTERV_IO_H
#define INTERV_IO_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"
#include "interv/tensor.h"

typedef struct iv_mapped {
    const uint8_t *data;  /* [size] read-only mapping (NULL for an empty file) */
    size_t size;
    char *path;
} iv_mapped;

int iv_map_file(const char *path, iv_mapped *m, iv_err *err);
void iv_unmap(iv_mapped *m);
/* Reads a whole (small) file into a malloc'd NUL-terminated buffer. */
int iv_read_file(const char *path, char **buf, size_t *len, iv_err *err);

/* One tensor of a safetensors file: a view into the mapping. */
typedef struct iv_st_tensor {
    char *name;
    iv_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data;  /* points into the mapping */
    size_t nbytes;
} iv_st_tensor;

typedef struct iv_safetensors {
    iv_mapped map;
    iv_st_tensor *tensors;  /* [n] */
    size_t n;
} iv_safetensors;

/* Maps and validates a safetensors file: header length within the file, JSON
 * well-formed, every dtype known (F32/F16/BF16; others rejected by name), shape ×
 * dtype size == byte length, offsets in range, sorted and non-overlapping. */
int iv_st_open(const char *path, iv_safetensors *st, iv_err *err);
const iv_st_tensor *iv_st_find(const iv_safetensors *st, const char *name);
void iv_st_close(iv_safetensors *st);

/* Writes tensors (f32 or raw dtype) to a safetensors file atomically
 * (temp file + rename). metadata may be NULL (a {"k":"v"} string map). */
typedef struct iv_st_out {
    const char *name;
    iv_dtype dtype;
    int ndim;
    int64_t shape[8];
    const void *data;
} iv_st_out;
int iv_st_write(const char *path, const iv_st_out *t, size_t n, const char *const *meta_kv,
                size_t n_meta, iv_err *err);

/* Writes `len` bytes to path via a temp file in the same folder and rename(2). */
int iv_write_atomic(const char *path, const void *data, size_t len, iv_err *err);

#endif
