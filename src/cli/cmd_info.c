/* interv info: what a model is. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *USAGE =
    "usage: interv info --model PATH [--tokenizer FILE]\n"
    "Prints the architecture, dimensions, weight dtypes, parameter count and tokenizer.\n";

/* The per-architecture block features of the issue-14 model zoo, one line each. */
static void print_block_features(const iv_config *k) {
    int ns = 0;
    for (int l = 0; l < k->n_layers; l++) ns += iv_cfg_sliding(k, l);
    printf("block         %s norms, %s%s%s\n", iv_cfg_layernorm(k) ? "LayerNorm" : "RMSNorm",
           k->parallel_residual ? "parallel attention+MLP residual" : "sequential residual",
           k->qk_norm == 1 ? ", q/k RMSNorm per head" : k->qk_norm == 2 ? ", q/k RMSNorm over the projection" : "",
           k->qkv_bias ? ", q/k/v biases" : k->attention_bias ? ", attention biases" : "");
    if (k->rotary_dim > 0 && k->rotary_dim != k->head_dim)
        printf("rotary dims   %d of %d per head\n", k->rotary_dim, k->head_dim);
    if (ns)
        printf("sliding       window %d on %d of %d layers\n", k->sliding_window, ns, k->n_layers);
    if (k->rope_local_theta > 0) printf("rope local    theta %g on sliding layers\n", k->rope_local_theta);
    if (k->attn_softcap > 0 || k->final_softcap > 0 || k->embed_scale != 1.f)
        printf("scales        query %g, embed %g, attn softcap %g, final softcap %g\n", k->query_scale, k->embed_scale,
               k->attn_softcap, k->final_softcap);
}

int cmd_info(int argc, char **argv) {
    static const struct option opts[] = {{"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 'z'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'm') model = optarg;
        else if (c == 'z') tok = optarg;
        else if (c == 'h') { fputs(USAGE, stdout); return 0; }
        else { fputs(USAGE, stderr); return 2; }
    }
    iv_model *m = cli_load_model("info", model, tok);
    if (!m) return 1;
    const iv_config *k = &m->cfg;
    const iv_layer_weights *l0 = &m->w.layers[0];
    printf("model         %s\n", m->path);
    printf("architecture  %s\n", k->arch_name);
    printf("dim           %d\n", k->dim);
    printf("hidden_dim    %d\n", k->hidden_dim);
    printf("layers        %d\n", k->n_layers);
    printf("heads         %d (kv %d, head_dim %d)\n", k->n_heads, k->n_kv_heads, k->head_dim);
    printf("vocab         %d\n", k->vocab_size);
    printf("context       %d\n", k->max_seq);
    printf("dtypes        embeddings %s, attention %s, mlp %s, lm_head %s%s\n", iv_dtype_name(m->w.tok_emb.dtype),
           iv_dtype_name(l0->wq.dtype), iv_dtype_name(l0->w_down.dtype), iv_dtype_name(m->w.lm_head.dtype),
           k->tied_embeddings ? " (tied)" : "");
    if (k->arch != IV_ARCH_GPT2) printf("rope          theta %g%s%s\n", k->rope_theta, k->rope_interleaved ? ", interleaved pairs" : ", rotate-half",
                                        k->rope_factor > 0 ? ", llama3 scaling" : "");
    if (k->arch == IV_ARCH_GEMMA2)
        printf("gemma2        sliding_window %d, attn softcap %g, final softcap %g, query scale %g\n", k->sliding_window,
               k->attn_softcap, k->final_softcap, k->query_scale);
    else if (k->arch != IV_ARCH_GPT2 && k->arch != IV_ARCH_LLAMA)
        print_block_features(k);
    long long np = (long long)iv_model_n_params(m);
    printf("parameters    %lld (%.2fM)\n", np, np / 1e6);
    if (m->tok) printf("tokenizer     %d tokens, bos %d, eos %d\n", m->tok->vocab_size, m->tok->bos_id, m->tok->eos_id);
    else printf("tokenizer     none found\n");
    printf("hook points   embed, resid_post.0 .. resid_post.%d\n", k->n_layers - 1);
    iv_model_free(m);
    return 0;
}
