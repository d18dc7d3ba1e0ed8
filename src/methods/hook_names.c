/* Hook names of SAE / lens artifacts -> hook points (see hook_names.h).
 * The residual stream between blocks has three spellings: TransformerLens'
 * blocks.N.hook_resid_post (= blocks.N+1.hook_resid_pre), the output of a
 * Hugging Face decoder-layer module (model.layers.N for Llama, Mistral, Qwen,
 * Gemma, Phi-3, OLMo-2; gpt_neox.layers.N for Pythia; transformer.h.N for
 * GPT-2; EleutherAI's sparsify writes them without the leading "model."), and
 * interv's own resid_post.N / embed. */
#include <stdio.h>
#include <string.h>
#include "methods/hook_names.h"

#define WANT "interv reads the residual stream between blocks (resid_post.N = blocks.N.hook_resid_post = " \
             "model.layers.N, or embed)"

/* Digits at s (at most 6, no sign) -> *n; returns how many were read, 0 if none. */
static size_t read_index(const char *s, int *n) {
    size_t k = 0;
    int v = 0;
    while (s[k] >= '0' && s[k] <= '9') {
        if (k == 6) return 0;
        v = v * 10 + (s[k] - '0');
        k++;
    }
    *n = v;
    return k;
}

static int refuse(const char *file, const char *hook, const char *what, iv_err *err) {
    return iv_errf(err, "%s: hook \"%s\" is %s, not the residual stream; " WANT, file, hook, what);
}
/* what: a format with one %d, the block */
static int refuse_in(const char *file, const char *hook, const char *what, int n, iv_err *err) {
    char w[160];
    snprintf(w, sizeof w, what, n);
    return refuse(file, hook, w, err);
}

/* TransformerLens points inside block N (the part after "blocks.N."). */
static int tl_inside(const char *file, const char *hook, const char *tail, int n, iv_err *err) {
    static const struct { const char *tail, *what; } known[] = {
        {"hook_resid_mid", "the residual stream inside block %d (after attention, before the MLP)"},
        {"hook_attn_out", "block %d's attention output (before it is added to the residual stream)"},
        {"hook_mlp_out", "block %d's MLP output (before it is added to the residual stream)"},
        {"hook_attn_in", "block %d's attention input"},
        {"hook_mlp_in", "block %d's MLP input"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(tail, known[i].tail)) return refuse_in(file, hook, known[i].what, n, err);
    return refuse_in(file, hook, "a point inside block %d", n, err);
}

int ivm_hook_name_layer(const char *file, const char *hook, int *layer, iv_err *err) {
    int n = 0;
    size_t k;
    if (!strcmp(hook, "embed")) { *layer = -1; return 0; }
    if (!strncmp(hook, "resid_post.", 11) && (k = read_index(hook + 11, &n)) && !hook[11 + k]) {
        *layer = n;
        return 0;
    }
    if (!strncmp(hook, "blocks.", 7) && (k = read_index(hook + 7, &n))) {
        const char *t = hook + 7 + k;
        if (!*t || !strcmp(t, ".hook_resid_post")) { *layer = n; return 0; }   /* a block's output */
        if (!strcmp(t, ".hook_resid_pre")) { *layer = n - 1; return 0; }      /* block 0's: embed */
        if (*t == '.') return tl_inside(file, hook, t + 1, n, err);
    }
    /* Hugging Face decoder-layer modules: their output is the block's */
    static const char *const mods[] = {"model.layers.", "gpt_neox.layers.", "model.language_model.layers.",
                                       "language_model.model.layers.", "layers.", "transformer.h.", "h."};
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) {
        size_t pl = strlen(mods[i]);
        if (strncmp(hook, mods[i], pl) || !(k = read_index(hook + pl, &n))) continue;
        if (!hook[pl + k]) { *layer = n; return 0; }
        if (hook[pl + k] == '.') return refuse_in(file, hook, "a module inside block %d", n, err);
    }
    if (!strcmp(hook, "hook_embed") || !strcmp(hook, "hook_pos_embed"))
        return refuse(file, hook, "an embedding before scaling / positions are added", err);
    if (!strncmp(hook, "ln_final", 8))
        return refuse(file, hook, "the final norm's output", err);
    return iv_errf(err, "%s: hook \"%s\" is not a hook name interv knows; " WANT, file, hook);
}
