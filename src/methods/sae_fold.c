/* Load-time rescalings of SAE weights (see sae_fold.h for each formula). */
#include <math.h>
#include "sae_fold.h"

int ivm_sae_fold_decoder_norm(ivm_sae *s, const char *what, iv_err *err) {
    int64_t di = s->d_in, ds = s->d_sae;
    for (int64_t j = 0; j < ds; j++) {
        float *w = s->W_dec + j * di; /* [d_in] row j */
        double n2 = 0;
        for (int64_t i = 0; i < di; i++) n2 += (double)w[i] * w[i];
        double n = sqrt(n2);
        if (!(n > 0) || !isfinite(n))
            return iv_errf(err, "%s: rescale_acts_by_decoder_norm with decoder row %lld of norm %g "
                                "(cannot divide by it)", what, (long long)j, n);
        for (int64_t i = 0; i < di; i++) {
            w[i] = (float)(w[i] / n);
            s->W_enc[i * ds + j] = (float)(s->W_enc[i * ds + j] * n);
        }
        s->b_enc[j] = (float)(s->b_enc[j] * n);
    }
    return 0;
}

int ivm_sae_fold_feature_scale(ivm_sae *s, const float *scale, int64_t n, const char *what,
                               const char *name, iv_err *err) {
    int64_t di = s->d_in, ds = s->d_sae;
    if (n != ds && n != 1)
        return iv_errf(err, "%s: \"%s\" has %lld values, expected %lld (one per feature)", what, name,
                       (long long)n, (long long)ds);
    for (int64_t j = 0; j < ds; j++) {
        float c = scale[n == 1 ? 0 : j];
        if (!isfinite(c)) return iv_errf(err, "%s: \"%s\" holds a non-finite value", what, name);
        float *w = s->W_dec + j * di; /* [d_in] row j */
        for (int64_t i = 0; i < di; i++) w[i] *= c;
    }
    return 0;
}

int ivm_sae_fold_input_scale(ivm_sae *s, double c, const char *what, iv_err *err) {
    if (!(c > 0) || !isfinite(c))
        return iv_errf(err, "%s: activation scaling_factor %g must be a positive number", what, c);
    int64_t di = s->d_in, ds = s->d_sae;
    for (int64_t i = 0; i < di * ds; i++) {
        s->W_enc[i] = (float)(s->W_enc[i] * c);
        s->W_dec[i] = (float)(s->W_dec[i] / c);
    }
    for (int64_t i = 0; i < di; i++) s->b_dec[i] = (float)(s->b_dec[i] / c);
    return 0;
}

int ivm_sae_all_ones(const float *scale, int64_t n) {
    for (int64_t i = 0; i < n; i++) /* torch.allclose(scale, 1) as sae-lens tests it */
        if (!(fabs((double)scale[i] - 1.0) <= 1e-8 + 1e-5)) return 0;
    return 1;
}
