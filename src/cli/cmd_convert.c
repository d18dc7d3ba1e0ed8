/* interv convert: llama2.c checkpoint -> Hugging Face Llama folder.  q and k rows
 * are permuted from llama2.c's interleaved RoPE pairs (2k, 2k+1) to HF's
 * rotate-half pairs (k, k + head_dim/2); the tokenizer file is copied beside. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "interv/io.h"
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *USAGE =
    "usage: interv convert --model FILE.bin [--tokenizer tok.bin] --out DIR\n"
    "Writes DIR/config.json, DIR/model.safetensors (f32) and a copy of the tokenizer.\n";

/* HF row (h, t*hd/2 + k) takes llama2.c row (h, 2k + t). */
static float *permute_rows(const float *w, int n_heads, int hd, int in) {
    float *o = malloc((size_t)n_heads * hd * in * sizeof *o);
    if (!o) return NULL;
    for (int h = 0; h < n_heads; h++)
        for (int t = 0; t < 2; t++)
            for (int k = 0; k < hd / 2; k++)
                memcpy(o + ((size_t)h * hd + t * hd / 2 + k) * in, w + ((size_t)h * hd + 2 * k + t) * in,
                       (size_t)in * sizeof *o);
    return o;
}

int cmd_convert(int argc, char **argv) {
    static const struct option opts[] = {{"model", 1, 0, 'm'}, {"tokenizer", 1, 0, 'z'}, {"out", 1, 0, 'o'},
                                         {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *tok = NULL, *out = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'm') model = optarg;
        else if (c == 'z') tok = optarg;
        else if (c == 'o') out = optarg;
        else if (c == 'h') { fputs(USAGE, stdout); return 0; }
        else { fputs(USAGE, stderr); return 2; }
    }
    if (!model || !out) { fprintf(stderr, "interv convert: --model and --out are required\n"); return 2; }
    struct stat st;
    if (stat(model, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "interv convert: %s: expected a llama2.c checkpoint file, got a folder\n", model);
        return 1;
    }
    iv_model *m = cli_load_model("convert", model, tok);
    if (!m) return 1;
    const iv_config *k = &m->cfg;
    int rc = 1;
    iv_err err = {{0}};
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "interv convert: %s: cannot create folder: %s\n", out, strerror(errno));
        iv_model_free(m);
        return 1;
    }
    int L = k->n_layers, d = k->dim, hd = k->head_dim, kv = k->n_kv_heads * hd;
    int ntens = 3 + 9 * L + !k->tied_embeddings;
    iv_st_out *t = calloc((size_t)ntens, sizeof *t);
    char **names = calloc((size_t)ntens, sizeof *names);
    float **tmp = calloc((size_t)2 * L, sizeof *tmp);
    int n = 0;
#define ADD1(nm, ptr, a) do { names[n] = strdup(nm); t[n] = (iv_st_out){names[n], IV_F32, 1, {a}, ptr}; n++; } while (0)
#define ADD2(nm, ptr, a, b) do { names[n] = strdup(nm); t[n] = (iv_st_out){names[n], IV_F32, 2, {a, b}, ptr}; n++; } while (0)
    ADD2("model.embed_tokens.weight", m->w.tok_emb.data, k->vocab_size, d);
    ADD1("model.norm.weight", m->w.final_norm_w, d);
    if (!k->tied_embeddings) ADD2("lm_head.weight", m->w.lm_head.data, k->vocab_size, d);
    char nm[128];
    for (int l = 0; l < L; l++) {
        const iv_layer_weights *w = &m->w.layers[l];
        tmp[2 * l] = permute_rows(w->wq.data, k->n_heads, hd, d);
        tmp[2 * l + 1] = permute_rows(w->wk.data, k->n_kv_heads, hd, d);
        if (!tmp[2 * l] || !tmp[2 * l + 1]) { fprintf(stderr, "interv convert: out of memory\n"); goto done; }
#define NM(s) (snprintf(nm, sizeof nm, "model.layers.%d.%s", l, s), nm)
        ADD1(NM("input_layernorm.weight"), w->attn_norm_w, d);
        ADD1(NM("post_attention_layernorm.weight"), w->mlp_norm_w, d);
        ADD2(NM("self_attn.q_proj.weight"), tmp[2 * l], d, d);
        ADD2(NM("self_attn.k_proj.weight"), tmp[2 * l + 1], kv, d);
        ADD2(NM("self_attn.v_proj.weight"), w->wv.data, kv, d);
        ADD2(NM("self_attn.o_proj.weight"), w->wo.data, d, d);
        ADD2(NM("mlp.gate_proj.weight"), w->w_gate.data, k->hidden_dim, d);
        ADD2(NM("mlp.up_proj.weight"), w->w_up.data, k->hidden_dim, d);
        ADD2(NM("mlp.down_proj.weight"), w->w_down.data, d, k->hidden_dim);
#undef NM
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    const char *meta[] = {"format", "pt"};
    if (iv_st_write(path, t, (size_t)n, meta, 1, &err) != 0) { fprintf(stderr, "interv convert: %s\n", err.msg); goto done; }
    json_t *cfg = json_pack("{s:[s], s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:b, s:i, s:i, s:s, s:s}",
                            "architectures", "LlamaForCausalLM", "model_type", "llama", "hidden_size", d,
                            "intermediate_size", k->hidden_dim, "num_hidden_layers", L, "num_attention_heads",
                            k->n_heads, "num_key_value_heads", k->n_kv_heads, "vocab_size", k->vocab_size,
                            "max_position_embeddings", k->max_seq, "rms_norm_eps", (double)k->norm_eps, "rope_theta",
                            (double)k->rope_theta, "tie_word_embeddings", k->tied_embeddings, "bos_token_id", k->bos_id,
                            "eos_token_id", k->eos_id, "hidden_act", "silu", "torch_dtype", "float32");
    char *js = json_dumps(cfg, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(cfg);
    snprintf(path, sizeof path, "%s/config.json", out);
    int ok = iv_write_atomic(path, js, strlen(js), &err) == 0;
    free(js);
    if (!ok) { fprintf(stderr, "interv convert: %s\n", err.msg); goto done; }
    if (m->tok) { /* the llama2.c tokenizer travels with the folder */
        snprintf(path, sizeof path, "%s/tokenizer.bin", out);
        if (iv_tok_save_llama2c(m->tok, path, &err) != 0) { fprintf(stderr, "interv convert: %s\n", err.msg); goto done; }
    }
    fprintf(stderr, "interv convert: wrote %s (%d tensors)\n", out, n);
    rc = 0;
done:
    for (int i = 0; i < n; i++) free(names[i]);
    for (int i = 0; i < 2 * L; i++) free(tmp[i]);
    free(t); free(names); free(tmp);
    iv_model_free(m);
    return rc;
}
