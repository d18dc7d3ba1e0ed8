/* The .npy header parser behind npz.c, exposed for unit tests. */
#ifndef INTERV_NPZ_INTERNAL_H
#define INTERV_NPZ_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "interv/npz.h"

typedef enum { NPY_F2, NPY_F4, NPY_F8, NPY_I4, NPY_I8 } npy_kind;

typedef struct npy_info {
    npy_kind kind;
    int itemsize;     /* bytes per element */
    int ndim;
    int64_t shape[IV_NPZ_MAX_DIMS];
    uint64_t numel;
    uint64_t nbytes;  /* numel * itemsize, <= IV_NPZ_MAX_BYTES */
} npy_info;

/* Parses the Python-dict text of a .npy header (after magic, version and length),
 * e.g. "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }\n".
 * On failure writes a reason (no file name) into why and returns -1. */
int iv_npy_parse_dict(const char *s, size_t len, npy_info *info, char *why, size_t whylen);

#endif
