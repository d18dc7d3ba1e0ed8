/* Steering vectors (our safetensors and llama.cpp GGUF), probes, prompting,
 * concept targets and loader validation on stories260K. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "interv/gguf.h"
#include "interv/io.h"
#include "interv/method.h"
#include "interv/model.h"

static iv_model *M;
static char tmpdir[] = "/tmp/ivm-misc-XXXXXX";
static float V1[64], V3[64];

static int setup(void **st) {
    (void)st;
    const char *sh = getenv("SHARED");
    char p[1024];
    snprintf(p, sizeof p, "%s/models/stories260K/stories260K.bin", sh ? sh : "../shared");
    iv_err err;
    if (!mkdtemp(tmpdir) || iv_model_load(p, NULL, &M, &err)) return -1;
    for (int i = 0; i < 64; i++) {
        V1[i] = (float)sin(i * 0.3);
        V3[i] = (float)cos(i * 0.7);
    }
    return 0;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(M);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *path_of(const char *name) {
    static char p[8][600];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static void write_vec(const char *name, const char *tensor, int n, const float *v, const char *kind,
                      const char *layer, const char *dmodel) {
    iv_st_out t[2] = {{tensor, IV_F32, 1, {n}, v}, {"bias", IV_F32, 1, {1}, v}};
    const char *meta[6];
    size_t nm = 0;
    if (kind) { meta[nm++] = "interv_method"; meta[nm++] = kind; }
    if (layer) { meta[nm++] = "layer"; meta[nm++] = layer; }
    if (dmodel) { meta[nm++] = "d_model"; meta[nm++] = dmodel; }
    iv_err err;
    int rc = iv_st_write(path_of(name), t, !strcmp(tensor, "weight") ? 2 : 1, meta, nm / 2, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
}

static int create(iv_method_kind k, const char *art, int layer, float alpha, iv_method **mm,
                  iv_err *err) {
    iv_method_opts o = iv_method_defaults();
    o.kind = k;
    o.artifact = art;
    o.layer = layer;
    o.alpha = alpha;
    o.concept = "dog";
    return iv_method_create(M, &o, mm, err);
}

static void test_steering_safetensors(void **st) {
    (void)st;
    write_vec("steer.safetensors", "direction", 64, V1, "steering", "3", "64");
    iv_method *mm = NULL;
    iv_err err;
    assert_int_equal(create(IV_METHOD_STEERING, path_of("steer.safetensors"), -1, 4.0f, &mm, &err), 0);
    assert_int_equal(iv_method_layer(mm), 3); /* from the metadata */
    float x[64], x0[64], z;
    double n2 = 0, xn = 0, dn = 0;
    for (int i = 0; i < 64; i++) { x[i] = x0[i] = (float)(i % 7) - 3; n2 += V1[i] * V1[i]; }
    assert_int_equal(iv_method_encode(mm, x, &z, &err), 0);
    double dot = 0;
    for (int i = 0; i < 64; i++) dot += V1[i] * x[i];
    assert_float_equal(z, dot / sqrt(n2), 1e-4);
    assert_int_equal(iv_method_apply(mm, x, 2, &err), 0);
    for (int i = 0; i < 64; i++) {
        assert_float_equal(x[i], x0[i] + 4.0f * V1[i], 1e-5);
        xn += x0[i] * x0[i];
        dn += 16.0 * V1[i] * V1[i];
    }
    double mean;
    int64_t cnt;
    iv_method_row_stats(mm, 2, &mean, &cnt);
    assert_int_equal(cnt, 1);
    assert_float_equal(mean, sqrt(dn / xn), 1e-5);
    iv_method_reset_stats(mm);
    iv_method_edit_stats(mm, &mean, &cnt);
    assert_int_equal(cnt, 0);
    iv_method_free(mm);
    /* a different --layer than the one it was trained at */
    assert_int_equal(create(IV_METHOD_STEERING, path_of("steer.safetensors"), 1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "trained at layer 3"));
    /* it is not a probe */
    assert_int_equal(create(IV_METHOD_PROBE, path_of("steer.safetensors"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "not a probe"));
    /* d_model mismatch */
    write_vec("steer32.safetensors", "direction", 32, V1, "steering", "3", NULL);
    assert_int_equal(create(IV_METHOD_STEERING, path_of("steer32.safetensors"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "artifact for another model"));
    assert_non_null(strstr(err.msg, "steer32.safetensors"));
    /* layer in the metadata out of range */
    write_vec("steer9.safetensors", "direction", 64, V1, "steering", "9", "64");
    assert_int_equal(create(IV_METHOD_STEERING, path_of("steer9.safetensors"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "out of range"));
    /* no layer anywhere */
    write_vec("steerN.safetensors", "direction", 64, V1, NULL, NULL, NULL);
    assert_int_equal(create(IV_METHOD_STEERING, path_of("steerN.safetensors"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "--layer"));
}

static void test_steering_gguf(void **st) {
    (void)st;
    iv_gguf_cv cv;
    iv_err err;
    assert_int_equal(iv_gguf_cv_init(&cv, 64, 4, "stories260K", &err), 0);
    cv.vec[1] = malloc(sizeof V1);
    cv.vec[3] = malloc(sizeof V3);
    memcpy(cv.vec[1], V1, sizeof V1);
    memcpy(cv.vec[3], V3, sizeof V3);
    assert_int_equal(iv_gguf_cv_write(path_of("cv.gguf"), &cv, &err), 0);
    iv_gguf_cv_free(&cv);
    iv_method *mm = NULL;
    assert_int_equal(create(IV_METHOD_STEERING, path_of("cv.gguf"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "choose one with --layer"));
    assert_int_equal(create(IV_METHOD_STEERING, path_of("cv.gguf"), 2, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "no direction.2"));
    assert_int_equal(create(IV_METHOD_STEERING, path_of("cv.gguf"), 3, -2.0f, &mm, &err), 0);
    float x[64] = {0};
    assert_int_equal(iv_method_apply(mm, x, -1, &err), 0);
    for (int i = 0; i < 64; i++) assert_float_equal(x[i], -2.0f * V3[i], 1e-6);
    iv_method_free(mm);
}

static void test_probe(void **st) {
    (void)st;
    write_vec("probe.safetensors", "weight", 64, V3, "probe", "1", "64");
    iv_method *mm = NULL;
    iv_err err;
    assert_int_equal(create(IV_METHOD_PROBE, path_of("probe.safetensors"), -1, 0.5f, &mm, &err), 0);
    assert_int_equal(iv_method_layer(mm), 1);
    float x[64], z;
    double s = V3[0]; /* bias = first element written */
    for (int i = 0; i < 64; i++) { x[i] = 0.01f * i; s += V3[i] * x[i]; }
    assert_int_equal(iv_method_encode(mm, x, &z, &err), 0);
    assert_float_equal(z, 1 / (1 + exp(-s)), 1e-5);
    assert_int_equal(iv_method_apply(mm, x, -1, &err), 0);
    for (int i = 0; i < 64; i++) assert_float_equal(x[i], 0.01f * i + 0.5f * V3[i], 1e-6);
    iv_method_free(mm);
    write_vec("probe_noweight.safetensors", "direction", 64, V3, NULL, "1", NULL);
    assert_int_equal(create(IV_METHOD_PROBE, path_of("probe_noweight.safetensors"), -1, 1, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "missing tensor \"weight\""));
}

static void test_prompting_and_targets(void **st) {
    (void)st;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_PROMPTING;
    o.concept = "dog";
    iv_method *mm = NULL;
    iv_err err;
    assert_int_equal(iv_method_create(M, &o, &mm, &err), 0);
    assert_int_equal(iv_method_has_hook(mm), 0);
    char *p;
    assert_int_equal(iv_method_prompt(mm, "Lily saw a", &p, &err), 0);
    assert_string_equal(p, "Let's talk about dog. Lily saw a");
    free(p);
    iv_hooks hooks = {0};
    assert_int_equal(iv_method_install(mm, &hooks, &err), 0);
    assert_int_equal(hooks.n, 0);
    iv_method_free(mm);
    o.prompt_template = "{concept}! {concept}? ";
    assert_int_equal(iv_method_create(M, &o, &mm, &err), 0);
    assert_int_equal(iv_method_prompt(mm, "x", &p, &err), 0);
    assert_string_equal(p, "dog! dog? x");
    free(p);
    /* targets: the first token of each tokenisation weighs w_first */
    const int32_t *ids;
    const float *w;
    int n;
    iv_method_targets(mm, &ids, &w, &n);
    assert_true(n >= 1);
    int32_t *a;
    size_t na;
    assert_int_equal(iv_tok_encode(M->tok, " dog", 4, 0, &a, &na, &err), 0);
    int found = 0;
    for (int i = 0; i < n; i++) {
        char *s;
        size_t l;
        assert_int_equal(iv_tok_decode(M->tok, &ids[i], 1, 0, &s, &l, &err), 0);
        assert_non_null(strstr("dog", s[0] == ' ' ? s + 1 : s)); /* pieces of "dog" */
        free(s);
        if (ids[i] == a[na - 1] || ids[i] == a[0]) found = 1;
    }
    assert_true(found);
    assert_float_equal(w[0], 1.0f, 0); /* alpha means the same for every concept */
    free(a);
    iv_method_free(mm);
    /* custom weights */
    iv_method_opts q = iv_method_defaults();
    q.kind = IV_METHOD_CLEAN;
    q.concept = "dog";
    q.w_first = 5;
    assert_int_equal(iv_method_create(M, &q, &mm, &err), 0);
    iv_method_targets(mm, &ids, &w, &n);
    assert_float_equal(w[0], 5.0f, 0);
    assert_int_equal(iv_method_has_hook(mm), 0);
    assert_int_equal(iv_method_layer(mm), -1);
    iv_method_free(mm);
}

static void test_bad_input(void **st) {
    (void)st;
    iv_method *mm = NULL;
    iv_err err;
    iv_method_opts o = iv_method_defaults();
    o.kind = IV_METHOD_LOGIT;
    o.concept = "dog";
    o.layer = 5;
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "layer 5 out of range"));
    o.layer = -1;
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "--layer is required"));
    o.layer = 1;
    o.concept = " \t ";
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "tokenises to nothing"));
    o.concept = "dog";
    o.kind = IV_METHOD_SAE;
    o.artifact = "tests/fixtures/methods/saelens-topk";
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "artifact for another model"));
    o.kind = IV_METHOD_TUNED;
    o.artifact = "tests/fixtures/methods/tuned-lens";
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "another model"));
    assert_non_null(strstr(err.msg, "tuned-lens"));
    o.artifact = NULL;
    assert_int_equal(iv_method_create(M, &o, &mm, &err), -1);
    assert_non_null(strstr(err.msg, "--artifact"));
    assert_null(mm);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steering_safetensors),
        cmocka_unit_test(test_steering_gguf),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_prompting_and_targets),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
