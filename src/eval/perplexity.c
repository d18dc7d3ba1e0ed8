/* Perplexity of a continuation given its prompt under a reference model:
 * one iv_score pass over prompt+continuation, summing the continuation part. */
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/model.h"

int iv_cont_nll_model(const iv_model *ref, const int32_t *prompt_ids, int n_prompt,
                      const int32_t *cont_ids, int n_cont, double *nll, iv_err *err) {
    if (n_prompt < 1) return iv_errf(err, "perplexity: the prompt needs at least one token (BOS)");
    if (n_cont < 0) return iv_errf(err, "perplexity: negative continuation length");
    *nll = 0;
    if (n_cont == 0) return 0;
    int n = n_prompt + n_cont;
    int32_t *ids = malloc((size_t)n * sizeof *ids);  /* [n] prompt then continuation */
    float *lp = malloc((size_t)(n - 1) * sizeof *lp); /* [n-1] log p(ids[j+1] | ids[..j]) */
    if (!ids || !lp) {
        free(ids);
        free(lp);
        return iv_errf(err, "perplexity: out of memory");
    }
    memcpy(ids, prompt_ids, (size_t)n_prompt * sizeof *ids);
    memcpy(ids + n_prompt, cont_ids, (size_t)n_cont * sizeof *ids);
    int rc = iv_score(ref, ids, n, NULL, lp, err);
    if (rc == 0) *nll = iv_cont_nll(lp, n_prompt, n_cont);
    free(ids);
    free(lp);
    return rc;
}
