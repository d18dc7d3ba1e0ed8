/* Artifact hook names -> interv hook points.  SAE and lens files name the
 * layer they read in their own library's words (TransformerLens
 * "blocks.N.hook_resid_post", Hugging Face module paths "model.layers.N",
 * "gpt_neox.layers.N", "transformer.h.N", ...). */
#ifndef INTERV_METHODS_HOOK_NAMES_H
#define INTERV_METHODS_HOOK_NAMES_H
#include "interv/error.h"

/* Maps `hook` to a hook point: *layer = N when it means the output of block N
 * (resid_post.N, also written as the input of block N + 1), *layer = -1 for the
 * input of block 0 ("embed", blocks.0.hook_resid_pre).  Anything else (a point
 * inside a block, attention / MLP outputs, unknown names) is refused with one
 * line naming `file` and the hook.  Range checks against a model are the
 * caller's. */
int ivm_hook_name_layer(const char *file, const char *hook, int *layer, iv_err *err);

#endif
