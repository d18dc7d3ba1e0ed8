/* Load-time rescalings of an SAE's weights, so that a file whose format asks for
 * a rescaling is computed exactly as written with the plain encode/decode of
 * sae.c (f = act((x - b_dec) W_enc + b_enc), x^ = f W_dec + b_dec). */
#ifndef INTERV_SAE_FOLD_H
#define INTERV_SAE_FOLD_H
#include "sae_internal.h"

/* sae-lens TopK rescale_acts_by_decoder_norm: pre-activations are multiplied by
 * n_j = |W_dec[j]| and features divided by n_j before decoding.  Folded as
 * W_enc[:,j] *= n_j, b_enc[j] *= n_j, W_dec[j] /= n_j.  A zero decoder row is
 * refused (sae-lens would divide by zero). */
int ivm_sae_fold_decoder_norm(ivm_sae *s, const char *what, iv_err *err);

/* sae-lens finetuning_scaling_factor (legacy tensor name "scaling_factor"):
 * x^ = (f * scale) W_dec + b_dec.  Folded as W_dec[j] *= scale[j].
 * scale: [d_sae], or [1] broadcast over all features. */
int ivm_sae_fold_feature_scale(ivm_sae *s, const float *scale, int64_t n, const char *what,
                               const char *name, iv_err *err);

/* normalize_activations "expected_average_only_in" with training-time input
 * scale c (the SAE saw c x and wrote c x^): f = act((c x - b_dec) W_enc + b_enc),
 * x^ = (f W_dec + b_dec) / c.  Folded as W_enc *= c, W_dec /= c, b_dec /= c. */
int ivm_sae_fold_input_scale(ivm_sae *s, double c, const char *what, iv_err *err);

/* 1 when every scale[i] is 1 within torch.allclose's tolerance (sae-lens drops
 * such a tensor as a no-op). */
int ivm_sae_all_ones(const float *scale, int64_t n);

#endif
