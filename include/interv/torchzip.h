/* PyTorch zip checkpoints written by torch.save(state_dict), e.g. tuned-lens
 * params.pt: a zip holding <archive>/data.pkl (the pickled {name: tensor} dict,
 * or one bare tensor from torch.save(tensor), then listed as one tensor named ""),
 * <archive>/data/<key> (raw little-endian storages), <archive>/version and maybe
 * <archive>/byteorder.  data.pkl is read by a restricted interpreter that knows
 * only the opcodes and globals of a state dict and never executes anything.
 * Every tensor must be contiguous, f32/f16/bf16, and lie inside its storage file;
 * its data is copied into an owned f32 array. */
#ifndef INTERV_TORCHZIP_H
#define INTERV_TORCHZIP_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"
#include "interv/tensor.h"

#define IV_TZ_MAX_DIMS 8
#define IV_TZ_MAX_BYTES ((uint64_t)16 << 30) /* cap on one storage file (16 GiB) */

typedef struct iv_tz_tensor {
    char *name;
    iv_dtype dtype;                  /* as stored in the checkpoint */
    int ndim;
    int64_t shape[IV_TZ_MAX_DIMS];
    int64_t stride[IV_TZ_MAX_DIMS];  /* elements; contiguous (checked) */
    int64_t storage_offset;          /* elements into the storage */
    int64_t numel;
    float *data;                     /* [numel] f32 copy in C order */
} iv_tz_tensor;

typedef struct iv_torchzip {
    char *path;
    iv_tz_tensor *tensors;  /* [n] in pickle (insertion) order */
    size_t n;
} iv_torchzip;

int iv_torchzip_open(const char *path, iv_torchzip **out, iv_err *err);
/* NULL when absent. */
const iv_tz_tensor *iv_torchzip_find(const iv_torchzip *tz, const char *name);
void iv_torchzip_close(iv_torchzip *tz);

#endif
