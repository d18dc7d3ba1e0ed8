/* A restricted unpickler for PyTorch state dicts (data.pkl inside a torch.save zip).
 * It interprets only the opcodes torch.save emits for a dict of tensors and knows
 * only a whitelist of globals (OrderedDict, _rebuild_tensor_v2, _rebuild_parameter,
 * Float/Half/BFloat16Storage); it never calls or imports anything. */
#ifndef INTERV_UNPICKLE_INTERNAL_H
#define INTERV_UNPICKLE_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "interv/error.h"
#include "interv/tensor.h"

#define IV_PK_MAX_DIMS 8

typedef struct iv_pk_storage {
    char *key;       /* file name under <archive>/data/ */
    iv_dtype dtype;
    int64_t numel;   /* elements, as the persistent id declares */
} iv_pk_storage;

typedef struct iv_pk_tensor {
    char *name;
    int storage;     /* index into iv_pk_dict.s */
    int64_t offset;  /* storage offset in elements */
    int ndim;
    int64_t shape[IV_PK_MAX_DIMS];
    int64_t stride[IV_PK_MAX_DIMS];  /* in elements */
} iv_pk_tensor;

typedef struct iv_pk_dict {
    iv_pk_tensor *t;  /* [nt] in pickle order */
    size_t nt;
    iv_pk_storage *s; /* [ns] */
    size_t ns;
} iv_pk_dict;

/* Interprets buf[len] as a pickled {str: tensor} dict, or a bare pickled tensor
 * (torch.save(tensor)), returned as one tensor named "". `what` names the stream in
 * messages (e.g. "ckpt.pt: archive/data.pkl"). Shapes and strides are only
 * type-checked here; the caller validates them against the storage files. */
int iv_unpickle_state_dict(const uint8_t *buf, size_t len, const char *what, iv_pk_dict *out,
                           iv_err *err);
void iv_pk_dict_free(iv_pk_dict *d);

#endif
