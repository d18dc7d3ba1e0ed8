/* libFuzzer target: model.safetensors.index.json of a sharded HF folder (fixed
 * Llama config.json and two fixed shards), loaded with iv_model_load. */
#include "fuzz_models.h"

static const char *CONFIG =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"hidden_size\": 8, \"intermediate_size\": 16,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 2,"
    " \"vocab_size\": 16, \"max_position_embeddings\": 8, \"rms_norm_eps\": 1e-5,"
    " \"tie_word_embeddings\": false}";

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    static int ready;
    char path[512];
    if (!ready) {
        fz_write(path, sizeof path, "idx/config.json", (const uint8_t *)CONFIG, strlen(CONFIG));
        snprintf(path, sizeof path, "%s/idx/model-00001-of-00002.safetensors", fz_scratch());
        fz_write_tiny(path, 1);
        snprintf(path, sizeof path, "%s/idx/model-00002-of-00002.safetensors", fz_scratch());
        fz_write_tiny(path, 2);
        ready = 1;
    }
    fz_write(path, sizeof path, "idx/model.safetensors.index.json", d, n);
    snprintf(path, sizeof path, "%s/idx", fz_scratch());
    return fz_load_and_run(path);
}
