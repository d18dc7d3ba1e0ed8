/* Artifact hook names -> hook points (src/methods/hook_names.c): every
 * spelling of "the output of block N" gives N (the input of block N + 1 gives
 * N too, block 0's input gives -1 = embed); points that are not the residual
 * stream between blocks are refused with one line naming the file and the hook.
 * Also through a sae-lens folder: a cfg.json with a Pythia-style module name
 * loads at that layer, and a hook_resid_mid one is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>
#include <unistd.h>
#include "interv/method.h"
#include "interv/model.h"
#include "methods/hook_names.h"

static void maps(void **state) {
    (void)state;
    static const struct { const char *hook; int layer; } ok[] = {
        {"blocks.3.hook_resid_post", 3},        {"blocks.0.hook_resid_post", 0},
        {"blocks.12.hook_resid_pre", 11},       {"blocks.1.hook_resid_pre", 0},
        {"blocks.0.hook_resid_pre", -1},        {"blocks.5", 5},
        {"gpt_neox.layers.4", 4},               {"model.layers.27", 27},
        {"layers.6", 6},                        {"transformer.h.11", 11},
        {"h.2", 2},                             {"model.language_model.layers.9", 9},
        {"language_model.model.layers.1", 1},   {"resid_post.7", 7},
        {"embed", -1},                          {"blocks.123456.hook_resid_post", 123456},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int layer = -99;
        iv_err err = {{0}};
        int rc = ivm_hook_name_layer("cfg.json", ok[i].hook, &layer, &err);
        if (rc || layer != ok[i].layer)
            fail_msg("%s: rc %d layer %d (want %d): %s", ok[i].hook, rc, layer, ok[i].layer, err.msg);
    }
}

static void refuses(void **state) {
    (void)state;
    static const struct { const char *hook, *says; } bad[] = {
        {"blocks.3.hook_resid_mid", "inside block 3"},
        {"blocks.3.hook_mlp_out", "MLP output"},
        {"blocks.3.hook_attn_out", "attention output"},
        {"blocks.3.attn.hook_z", "inside block 3"},
        {"blocks.3.ln2.hook_normalized", "inside block 3"},
        {"blocks.3.hook_mlp_in", "MLP input"},
        {"gpt_neox.layers.4.mlp", "module inside block 4"},
        {"model.layers.2.self_attn", "module inside block 2"},
        {"model.layers.2.mlp.down_proj", "module inside block 2"},
        {"hook_embed", "embedding"},
        {"hook_pos_embed", "embedding"},
        {"ln_final.hook_normalized", "final norm"},
        {"blocks.x.hook_resid_post", "not a hook name"},
        {"blocks.-1.hook_resid_post", "not a hook name"},
        {"blocks.1234567.hook_resid_post", "not a hook name"},
        {"blocks.3.hook_resid_post ", "inside block 3"},
        {"model.layers.", "not a hook name"},
        {"resid_post.3x", "not a hook name"},
        {"gpt_neox.embed_in", "not a hook name"},
        {"", "not a hook name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int layer = -99;
        iv_err err = {{0}};
        int rc = ivm_hook_name_layer("dir/cfg.json", bad[i].hook, &layer, &err);
        if (!rc) fail_msg("%s: accepted as layer %d", bad[i].hook, layer);
        char want[128];
        snprintf(want, sizeof want, "dir/cfg.json: hook \"%s\"", bad[i].hook);
        if (strncmp(err.msg, want, strlen(want)) || !strstr(err.msg, bad[i].says) || strchr(err.msg, '\n'))
            fail_msg("%s: message \"%s\" (want it to start with '%s' and say '%s')", bad[i].hook, err.msg,
                     want, bad[i].says);
    }
}

/* The sae-lens TopK fixture (GPT-2 fixture, reads blocks.1.hook_resid_post)
 * copied with its hook renamed: loads at the mapped layer, or is refused. */
static int load_renamed(const char *hook, int *layer, iv_err *err) {
    char dir[] = "/tmp/iv_hook_XXXXXX", p[256], cmd[512];
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof cmd, "cp tests/fixtures/methods/saelens-topk/* %s/", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(p, sizeof p, "%s/cfg.json", dir);
    json_error_t je;
    json_t *cfg = json_load_file(p, 0, &je);
    assert_non_null(cfg);
    json_object_set_new(json_object_get(cfg, "metadata"), "hook_name", json_string(hook));
    assert_int_equal(json_dump_file(cfg, p, 0), 0);
    json_decref(cfg);
    iv_model *m = NULL;
    assert_int_equal(iv_model_load("tests/fixtures/models/gpt2", NULL, &m, err), 0);
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_SAE;
    o.mode = IV_MMODE_BOTTLENECK;
    o.artifact = dir;
    iv_method *mm = NULL;
    int rc = iv_method_create(m, &o, &mm, err);
    if (!rc) { *layer = iv_method_layer(mm); iv_method_free(mm); }
    iv_model_free(m);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return rc;
}

static void through_saelens(void **state) {
    (void)state;
    iv_err err = {{0}};
    int layer = -99;
    if (load_renamed("gpt_neox.layers.0", &layer, &err)) fail_msg("%s", err.msg);
    assert_int_equal(layer, 0);
    if (load_renamed("blocks.2.hook_resid_pre", &layer, &err)) fail_msg("%s", err.msg);
    assert_int_equal(layer, 1);
    assert_int_not_equal(load_renamed("blocks.1.hook_resid_mid", &layer, &err), 0);
    assert_non_null(strstr(err.msg, "cfg.json: hook \"blocks.1.hook_resid_mid\" is the residual stream inside block 1"));
    assert_int_not_equal(load_renamed("blocks.0.hook_resid_pre", &layer, &err), 0);
    assert_non_null(strstr(err.msg, "is embed"));
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(maps), cmocka_unit_test(refuses),
                                       cmocka_unit_test(through_saelens)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
