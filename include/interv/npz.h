/* NumPy .npz archives (a zip of .npy members), e.g. Gemma Scope's params.npz.
 * Each member is read on request and converted to a malloc'd f32 array.
 * Supported element types: <f4, <f2, <f8, <i4, <i8 (all converted to f32).
 * Rejected with a message naming the file and member: Fortran order, big-endian,
 * object and structured dtypes, more than 8 dimensions, data larger than
 * IV_NPZ_MAX_BYTES, and members whose zip-declared size disagrees with the
 * shape × dtype of their .npy header (a zip-bomb guard: reads are bounded). */
#ifndef INTERV_NPZ_H
#define INTERV_NPZ_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"

#define IV_NPZ_MAX_BYTES ((uint64_t)4 << 30) /* cap on one member's data (4 GiB) */
#define IV_NPZ_MAX_DIMS 8

typedef struct iv_npz iv_npz;

int iv_npz_open(const char *path, iv_npz **out, iv_err *err);
void iv_npz_close(iv_npz *z);

/* Members are named without the ".npy" suffix, in archive order. */
size_t iv_npz_count(const iv_npz *z);
const char *iv_npz_name(const iv_npz *z, size_t i);
int iv_npz_has(const iv_npz *z, const char *name);

/* Reads only the .npy header of `name`: ndim and shape (shape[ndim..7] set to 0). */
int iv_npz_shape(iv_npz *z, const char *name, int *ndim, int64_t shape[IV_NPZ_MAX_DIMS],
                 iv_err *err);

/* Reads member `name` as f32: *data is malloc'd [prod(shape)] in C order, to be
 * freed by the caller. ndim/shape as in iv_npz_shape (either may be NULL). */
int iv_npz_get_f32(iv_npz *z, const char *name, float **data, int *ndim,
                   int64_t shape[IV_NPZ_MAX_DIMS], iv_err *err);

#endif
