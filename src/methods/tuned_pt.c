/* Tuned lens translators from the tuned-lens package's params.pt (a PyTorch zip
 * state dict read by torchzip.h, which never executes pickle code). */
#include <stdio.h>
#include <stdlib.h>
#include "interv/torchzip.h"
#include "lens_internal.h"

static const iv_tz_tensor *find_either(const iv_torchzip *tz, const char *n1, const char *n2) {
    const iv_tz_tensor *t = iv_torchzip_find(tz, n1);
    return t ? t : iv_torchzip_find(tz, n2);
}

int ivm_tuned_load_pt(const char *dir, const char *file, int idx, int d, int n_layers, double **A,
                      double **b, iv_err *err) {
    (void)dir;
    *A = NULL;
    *b = NULL;
    iv_torchzip *tz = NULL;
    if (iv_torchzip_open(file, &tz, err)) return -1;
    char wn[64], bn[64], wn2[96], bn2[96];
    snprintf(wn, sizeof wn, "%d.weight", idx);
    snprintf(bn, sizeof bn, "%d.bias", idx);
    snprintf(wn2, sizeof wn2, "layer_translators.%d.weight", idx);
    snprintf(bn2, sizeof bn2, "layer_translators.%d.bias", idx);
    const iv_tz_tensor *tw = find_either(tz, wn, wn2), *tb = find_either(tz, bn, bn2);
    int rc = 0;
    if (!tw && !tb && idx == n_layers) goto done; /* identity at the last layer */
    if (!tw) { rc = iv_errf(err, "%s: missing tensor \"%s\"", file, wn); goto done; }
    if (tw->ndim != 2 || tw->shape[0] != tw->shape[1] || tw->numel != tw->shape[0] * tw->shape[1]) {
        rc = iv_errf(err, "%s: \"%s\" must be square [d,d]", file, tw->name);
        goto done;
    }
    if (tw->shape[0] != d) {
        rc = iv_errf(err, "%s: \"%s\" is [%lld,%lld] but the model has dim %d (artifact for another "
                          "model)", file, tw->name, (long long)tw->shape[0], (long long)tw->shape[1], d);
        goto done;
    }
    if (tb && (tb->ndim != 1 || tb->shape[0] != d || tb->numel != d)) {
        rc = iv_errf(err, "%s: \"%s\" must be [%d]", file, tb->name, d);
        goto done;
    }
    *A = malloc(sizeof(double) * (size_t)d * d);
    *b = tb ? calloc((size_t)d, sizeof(double)) : NULL; /* NULL: the file has no bias */
    if (!*A || (tb && !*b)) {
        free(*A); free(*b); *A = NULL; *b = NULL;
        rc = iv_errf(err, "%s: out of memory", file);
        goto done;
    }
    for (size_t i = 0; i < (size_t)d * d; i++) (*A)[i] = tw->data[i];
    for (int i = 0; i < d && tb; i++) (*b)[i] = tb->data[i];
done:
    iv_torchzip_close(tz);
    return rc;
}
