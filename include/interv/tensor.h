/* Element types and read-only weight views.  Weights live in memory-mapped files;
 * a view names the bytes, the dtype and the 2-D layout without copying. */
#ifndef INTERV_TENSOR_H
#define INTERV_TENSOR_H
#include <stdint.h>
#include <stddef.h>

typedef enum { IV_F32 = 0, IV_F16 = 1, IV_BF16 = 2 } iv_dtype;

size_t iv_dtype_size(iv_dtype t);
const char *iv_dtype_name(iv_dtype t);

/* A matrix used as the weight of a linear map y = W x with x of length `in` and y
 * of length `out`.  Two storage layouts occur in real checkpoints:
 *   IV_OUT_IN: element (o,i) at data[o*stride + i]   (nn.Linear, [out,in])
 *   IV_IN_OUT: element (o,i) at data[i*stride + o]   (GPT-2 Conv1D, [in,out])
 * `stride` is in elements; a column slice of a fused matrix (GPT-2 c_attn) is a
 * view with an offset data pointer and the parent's stride. */
typedef enum { IV_OUT_IN = 0, IV_IN_OUT = 1 } iv_layout;

typedef struct iv_wmat {
    const void *data;  /* NULL when absent */
    iv_dtype dtype;
    iv_layout layout;
    int64_t out, in;
    int64_t stride;
} iv_wmat;

/* A vector (norm weight, bias) — may be f32/f16/bf16 in the file; converted to
 * f32 at load time because vectors are tiny. NULL when absent. */
typedef const float *iv_vec;

float iv_bf16_to_f32(uint16_t h);
float iv_f16_to_f32(uint16_t h);
uint16_t iv_f32_to_bf16(float f);  /* round to nearest even */
uint16_t iv_f32_to_f16(float f);   /* round to nearest even */

/* Converts n elements of any dtype to f32. */
void iv_to_f32(float *dst, const void *src, iv_dtype t, size_t n);

/* dst [cols][rows] = transpose of src [rows][cols], elements of `es` bytes
 * (any size); src need not be aligned.  Turns a Conv1D [in,out] matrix into the
 * [out,in] layout of nn.Linear. */
void iv_transpose(void *dst, const void *src, int64_t rows, int64_t cols, size_t es);

#endif
