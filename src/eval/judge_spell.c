/* How a judge's tokenizer writes the scores 1..10 right after a filled
 * template.  Reading only the no-space spelling ("7" glued to the template)
 * misses what Llama-3, Gemma and Mistral emit after "Score =": a space token,
 * then the digit; GPT-2 writes " 7" as one token.  So both spellings count. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/eval.h"
#include "interv/tokenizer.h"

void iv_judge_spellings_free(iv_judge_spellings *sp) {
    for (int i = 0; i < sp->n; i++) free(sp->ids[i]);
    sp->n = 0;
}

int iv_judge_spellings_find(const iv_tokenizer *tok, const char *filled, const int32_t *ctx, size_t n_ctx,
                            iv_judge_spellings *sp, iv_err *err) {
    memset(sp, 0, sizeof *sp);
    size_t lf = strlen(filled);
    char *s = malloc(lf + 8);
    if (!s) return iv_errf(err, "judge: out of memory");
    memcpy(s, filled, lf);
    int rc = 0;
    for (int k = 1; k <= IV_JUDGE_K && rc == 0; k++) {
        int found = 0;
        for (int space = 0; space <= 1 && rc == 0; space++) {
            snprintf(s + lf, 8, "%s%d", space ? " " : "", k);
            int32_t *ids;
            size_t n;
            if (iv_tok_encode(tok, s, strlen(s), 1, &ids, &n, err) != 0) { rc = -1; break; }
            /* merged with the template's last token: not a continuation of ctx */
            int ok = n > n_ctx && !memcmp(ids, ctx, n_ctx * sizeof *ids);
            int len = ok ? (int)(n - n_ctx) : 0;
            for (int i = 0; ok && i < sp->n; i++)
                if (sp->len[i] == len && !memcmp(sp->ids[i], ids + n_ctx, (size_t)len * sizeof *ids)) {
                    if (sp->answer[i] != k) {
                        rc = iv_errf(err, "judge: the scores %d and %d tokenise alike after the template",
                                     sp->answer[i], k);
                    }
                    ok = 0;  /* same tokens as the other spelling of this score */
                    found = 1;
                }
            if (ok) {
                int i = sp->n++;
                sp->answer[i] = k;
                sp->space[i] = space;
                sp->len[i] = len;
                sp->ids[i] = malloc((size_t)len * sizeof(int32_t));
                if (!sp->ids[i]) rc = iv_errf(err, "judge: out of memory");
                else memcpy(sp->ids[i], ids + n_ctx, (size_t)len * sizeof(int32_t));
                found = 1;
            }
            free(ids);
        }
        if (rc == 0 && !found)
            rc = iv_errf(err, "judge: the score \"%d\" merges with the end of the judge template with or "
                              "without a space before it; end the template with a character such as \":\" or \"=\"", k);
    }
    free(s);
    if (rc != 0) iv_judge_spellings_free(sp);
    return rc;
}
