/* Concept target tokens: the concept tokenised without and with a leading space
 * (DESIGN.md section 2), weighted first / second / further within a multi-token
 * spelling; and the reference study's rule (DESIGN.md 3b). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "method_internal.h"

/* A token whose surface is only whitespace (e.g. SentencePiece's lone "▁") or a
 * special token carries none of the concept's letters. */
static int useless_token(const iv_tokenizer *tok, int32_t id) {
    if (id == tok->bos_id || id == tok->eos_id) return 1;
    char *s = NULL;
    size_t len = 0;
    if (iv_tok_decode(tok, &id, 1, 0, &s, &len, NULL) != 0 || !s) return 0;
    int blank = 1;
    for (size_t i = 0; i < len; i++)
        if (!isspace((unsigned char)s[i])) { blank = 0; break; }
    free(s);
    return blank;
}

static int add_target(int32_t id, float w, int32_t *ids, float *ws, int *n) {
    for (int i = 0; i < *n; i++)
        if (ids[i] == id) {
            if (w > ws[i]) ws[i] = w;
            return 0;
        }
    ids[*n] = id;
    ws[*n] = w;
    (*n)++;
    return 0;
}

int iv_concept_targets(const iv_tokenizer *tok, const char *concept, float w_first,
                       float w_second, float w_other, int32_t **ids_out, float **w_out, int *n_out,
                       iv_err *err) {
    *ids_out = NULL;
    *w_out = NULL;
    *n_out = 0;
    if (!concept) return iv_errf(err, "no concept given");
    const char *orig = concept;
    /* strip surrounding whitespace: the two variants add their own */
    while (isspace((unsigned char)*concept)) concept++;
    size_t cl = strlen(concept);
    while (cl && isspace((unsigned char)concept[cl - 1])) cl--;
    if (!cl) return iv_errf(err, "concept \"%s\" tokenises to nothing (it is blank)", orig);
    char *spaced = malloc(cl + 2);
    if (!spaced) return iv_errf(err, "out of memory");
    spaced[0] = ' ';
    memcpy(spaced + 1, concept, cl);
    spaced[cl + 1] = 0;
    int32_t *a = NULL, *b = NULL;
    size_t na = 0, nb = 0;
    if (iv_tok_encode(tok, concept, cl, 0, &a, &na, err) ||
        iv_tok_encode(tok, spaced, cl + 1, 0, &b, &nb, err)) {
        free(spaced);
        free(a);
        return iv_err_prefix(err, "concept \"%.*s\"", (int)cl, concept);
    }
    free(spaced);
    int32_t *ids = malloc(sizeof(int32_t) * (na + nb + 1));
    float *ws = malloc(sizeof(float) * (na + nb + 1));
    int n = 0;
    if (!ids || !ws) {
        free(a); free(b); free(ids); free(ws);
        return iv_errf(err, "out of memory");
    }
    const int32_t *vars[2] = {a, b};
    size_t lens[2] = {na, nb};
    for (int v = 0; v < 2; v++) {
        int useful = 0;
        for (size_t i = 0; i < lens[v]; i++)
            useful += vars[v][i] >= 0 && vars[v][i] < tok->vocab_size && !useless_token(tok, vars[v][i]);
        int k = 0;  /* rank among the useful tokens of this variant */
        for (size_t i = 0; i < lens[v]; i++) {
            int32_t id = vars[v][i];
            if (id < 0 || id >= tok->vocab_size || useless_token(tok, id)) continue;
            /* a one-token spelling is the whole word: weight 1, so that alpha means
             * the same for every concept; ranks weigh only multi-token spellings */
            add_target(id, useful < 2 ? 1.0f : k == 0 ? w_first : k == 1 ? w_second : w_other, ids, ws, &n);
            k++;
        }
    }
    free(a);
    free(b);
    if (n == 0) {
        free(ids);
        free(ws);
        return iv_errf(err, "concept \"%.*s\" tokenises to nothing usable", (int)cl, concept);
    }
    *ids_out = ids;
    *w_out = ws;
    *n_out = n;
    return 0;
}

int iv_concept_targets_paper(const iv_tokenizer *tok, const char *concept, int32_t **ids_out,
                             float **w_out, int *n_out, iv_err *err) {
    *ids_out = NULL;
    *w_out = NULL;
    *n_out = 0;
    if (!concept || !*concept) return iv_errf(err, "no concept given");
    int32_t *a = NULL;
    size_t na = 0;
    if (iv_tok_encode(tok, concept, strlen(concept), 0, &a, &na, err))
        return iv_err_prefix(err, "concept \"%s\"", concept);
    int32_t *ids = malloc(sizeof(int32_t) * (na + 1));
    float *ws = malloc(sizeof(float) * (na + 1));
    if (!ids || !ws) { free(a); free(ids); free(ws); return iv_errf(err, "out of memory"); }
    int n = 0;
    for (size_t i = 0; i < na; i++) {
        int32_t id = a[i];
        if (id < 0 || id >= tok->vocab_size || id == tok->bos_id || id == tok->eos_id) continue;
        ids[n] = id;
        ws[n] = 1.0f;
        n++;
    }
    free(a);
    if (n >= 2) ws[0] = 2.0f;  /* the reference: first token 2 alpha, the rest alpha */
    if (n == 0) {
        free(ids); free(ws);
        return iv_errf(err, "concept \"%s\" tokenises to nothing usable", concept);
    }
    *ids_out = ids;
    *w_out = ws;
    *n_out = n;
    return 0;
}
