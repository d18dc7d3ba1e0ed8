/* Artifact fields that change the numbers (docs/artifact-fields.md), against the
 * PyTorch float64 reference of scripts/make_artifact_fixtures.py: the sae-lens
 * rescalings (rescale_acts_by_decoder_norm, finetuning_scaling_factor and its
 * legacy "scaling_factor", expected_average_only_in + activation_scaler.json),
 * a Gemma Scope scaling_factor, a bias-less tuned lens, the reference study's
 * torch.save steering vectors and probe state dict; and every refused field
 * gives one line naming the file and the field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "interv/io.h"
#include "interv/method.h"
#include "interv/model.h"

#define FIX "tests/fixtures/artifacts/"
enum { N = 8, DI = 32, DS = 64, FEAT = 5 };
static const float ALPHA = 2.5f;

static iv_model *G; /* the GPT-2 fixture: dim 32, 2 layers, vocab 96 */
static float X[N * DI];

static void read_f32(const char *path, float *dst, size_t n) {
    iv_mapped mp;
    iv_err err;
    if (iv_map_file(path, &mp, &err)) fail_msg("%s", err.msg);
    assert_int_equal(mp.size, n * sizeof(float));
    memcpy(dst, mp.data, n * sizeof(float));
    iv_unmap(&mp);
}

static int setup(void **st) {
    (void)st;
    iv_err err;
    if (iv_model_load("tests/fixtures/models/gpt2", NULL, &G, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    read_f32(FIX "inputs.bin", X, N * DI);
    return G->cfg.dim == DI ? 0 : -1;
}

static int teardown(void **st) {
    (void)st;
    iv_model_free(G);
    return 0;
}

static int create(iv_method_kind kind, const char *art, int layer, iv_method_mode mode, int64_t feat,
                  float alpha, iv_method **mm, iv_err *err) {
    iv_method_opts o = iv_method_defaults();
    o.kind = kind;
    o.mode = mode;
    o.layer = layer;
    o.artifact = art;
    o.sae_feature = feat;
    o.alpha = alpha;
    *mm = NULL;
    return iv_method_create(G, &o, mm, err);
}

/* |a - b| <= 1e-4 (1 + |b|); returns |a - b| */
static double close_to(float a, double b, const char *what, int i) {
    double d = fabs((double)a - b);
    if (!(d <= 1e-4 * (1 + fabs(b)))) fail_msg("%s[%d]: %.7g vs reference %.7g", what, i, a, b);
    return d;
}

/* encode, decode, the bottleneck and the edit f'_FEAT = ALPHA max f against the
 * reference; prints the largest absolute difference */
static void check_sae(const char *name, const char *art, int layer) {
    static float ef[N * DS], ex[N * DI], ee[N * DI];
    char p[512];
    snprintf(p, sizeof p, FIX "sae/%s/expected_f.bin", name);
    read_f32(p, ef, N * DS);
    snprintf(p, sizeof p, FIX "sae/%s/expected_xhat.bin", name);
    read_f32(p, ex, N * DI);
    snprintf(p, sizeof p, FIX "sae/%s/expected_edit.bin", name);
    read_f32(p, ee, N * DI);
    iv_method *bn, *ed;
    iv_err err;
    if (create(IV_METHOD_SAE, art, layer, IV_MMODE_BOTTLENECK, -1, 1, &bn, &err)) fail_msg("%s", err.msg);
    if (create(IV_METHOD_SAE, art, layer, IV_MMODE_EDIT, FEAT, ALPHA, &ed, &err)) fail_msg("%s", err.msg);
    assert_int_equal(iv_method_layer(bn), 1);
    double mf = 0, mx = 0, me = 0;
    int active = 0;
    for (int r = 0; r < N; r++) {
        float f[DS], xh[DI];
        assert_int_equal(iv_method_encode(bn, X + r * DI, f, &err), 0);
        for (int j = 0; j < DS; j++) {
            mf = fmax(mf, close_to(f[j], ef[r * DS + j], "f", j));
            assert_int_equal(f[j] > 0, ef[r * DS + j] > 0);
            active += f[j] > 0;
        }
        assert_int_equal(iv_method_decode(bn, f, xh, &err), 0);
        for (int i = 0; i < DI; i++) mx = fmax(mx, close_to(xh[i], ex[r * DI + i], "xhat", i));
        memcpy(xh, X + r * DI, sizeof xh);
        assert_int_equal(iv_method_apply(bn, xh, -1, &err), 0);
        for (int i = 0; i < DI; i++) mx = fmax(mx, close_to(xh[i], ex[r * DI + i], "bottleneck", i));
        memcpy(xh, X + r * DI, sizeof xh);
        assert_int_equal(iv_method_apply(ed, xh, -1, &err), 0);
        for (int i = 0; i < DI; i++) me = fmax(me, close_to(xh[i], ee[r * DI + i], "edit", i));
    }
    assert_true(active > 0 && active < N * DS);
    printf("  %-20s max |diff| f %.2e  x^ %.2e  edit %.2e\n", name, mf, mx, me);
    iv_method_free(bn);
    iv_method_free(ed);
}

static void test_rescale_topk(void **st) { (void)st; check_sae("rescale-topk", FIX "sae/rescale-topk", -1); }
static void test_finetune_v5(void **st) { (void)st; check_sae("finetune-v5", FIX "sae/finetune-v5", -1); }
static void test_scaling_legacy(void **st) { (void)st; check_sae("scaling-legacy", FIX "sae/scaling-legacy", -1); }
static void test_scaling_ones(void **st) { (void)st; check_sae("scaling-ones", FIX "sae/scaling-ones", -1); }
static void test_expected_avg(void **st) { (void)st; check_sae("expected-avg", FIX "sae/expected-avg", -1); }
static void test_gemmascope_scaled(void **st) {
    (void)st;
    check_sae("gemmascope-scaled", FIX "sae/gemmascope-scaled/params.npz", 1);
}

/* tuned-lens config "bias": false with weight-only translators */
static void test_tuned_nobias(void **st) {
    (void)st;
    int V = G->cfg.vocab_size;
    float *ref = malloc(sizeof(float) * (size_t)N * V), *z = malloc(sizeof(float) * (size_t)V);
    read_f32(FIX "tuned-nobias/expected_logits.bin", ref, (size_t)N * V);
    iv_method *mm;
    iv_err err;
    if (create(IV_METHOD_TUNED, FIX "tuned-nobias", 0, IV_MMODE_BOTTLENECK, -1, 1, &mm, &err))
        fail_msg("%s", err.msg);
    double m = 0;
    for (int r = 0; r < N; r++) {
        assert_int_equal(iv_method_encode(mm, X + r * DI, z, &err), 0);
        for (int j = 0; j < V; j++) m = fmax(m, close_to(z[j], ref[(size_t)r * V + j], "logit", j));
    }
    printf("  %-20s max |diff| logits %.2e\n", "tuned-nobias", m);
    iv_method_free(mm);
    free(ref);
    free(z);
}

/* torch.save(v) of [1, d] (f32, f16, a slice of a bigger storage) and of [d] */
static void test_steering_pt(void **st) {
    (void)st;
    static const char *files[] = {"steering.pt", "steering_f16.pt", "steering_1d.pt", "steering_view.pt"};
    float vec[5 * DI + 2];
    read_f32(FIX "steer/vectors.bin", vec, 5 * DI + 2);
    for (int k = 0; k < 4; k++) {
        char p[256];
        snprintf(p, sizeof p, FIX "steer/%s", files[k]);
        iv_method *mm;
        iv_err err;
        if (create(IV_METHOD_STEERING, p, 1, IV_MMODE_EDIT, -1, 3.0f, &mm, &err)) fail_msg("%s", err.msg);
        const float *v = vec + k * DI;
        double m = 0;
        for (int r = 0; r < N; r++) {
            float x[DI], z;
            memcpy(x, X + r * DI, sizeof x);
            double dot = 0, n2 = 0;
            for (int i = 0; i < DI; i++) { dot += (double)v[i] * x[i]; n2 += (double)v[i] * v[i]; }
            assert_int_equal(iv_method_encode(mm, x, &z, &err), 0);
            close_to(z, dot / sqrt(n2), "projection", r);
            assert_int_equal(iv_method_apply(mm, x, -1, &err), 0);
            for (int i = 0; i < DI; i++)
                m = fmax(m, close_to(x[i], (double)X[r * DI + i] + 3.0 * v[i], files[k], i));
        }
        printf("  %-20s max |diff| x + 3 v %.2e\n", files[k], m);
        iv_method_free(mm);
    }
}

/* the reference's probe state dict: proj.0.weight [1, d], proj.0.bias [1] */
static void test_probe_pt(void **st) {
    (void)st;
    float vec[5 * DI + 2], ez[N];
    read_f32(FIX "steer/vectors.bin", vec, 5 * DI + 2);
    read_f32(FIX "steer/expected_probe_z.bin", ez, N);
    const float *w = vec + 4 * DI;
    iv_method *mm;
    iv_err err;
    if (create(IV_METHOD_PROBE, FIX "steer/probe.pt", 1, IV_MMODE_EDIT, -1, -2.0f, &mm, &err))
        fail_msg("%s", err.msg);
    double m = 0;
    for (int r = 0; r < N; r++) {
        float x[DI], z;
        memcpy(x, X + r * DI, sizeof x);
        assert_int_equal(iv_method_encode(mm, x, &z, &err), 0);
        m = fmax(m, close_to(z, ez[r], "sigmoid(w.x + b)", r));
        assert_int_equal(iv_method_apply(mm, x, -1, &err), 0);
        for (int i = 0; i < DI; i++) m = fmax(m, close_to(x[i], (double)X[r * DI + i] - 2.0 * w[i], "x - 2 w", i));
    }
    printf("  %-20s max |diff| %.2e\n", "probe.pt", m);
    iv_method_free(mm);
}

static void expect_refusal(iv_method_kind kind, const char *art, int layer, const char *const *want,
                           size_t nwant, const char *path_in_msg) {
    iv_method *mm;
    iv_err err = {{0}};
    int rc = create(kind, art, layer, IV_MMODE_BOTTLENECK, -1, 1, &mm, &err);
    if (rc != -1) fail_msg("%s: accepted", art);
    if (strchr(err.msg, '\n')) fail_msg("%s: message is not one line: %s", art, err.msg);
    if (!strstr(err.msg, path_in_msg)) fail_msg("%s: message does not name the file: %s", art, err.msg);
    for (size_t i = 0; i < nwant; i++)
        if (!strstr(err.msg, want[i])) fail_msg("%s: message lacks '%s': %s", art, want[i], err.msg);
    printf("  refused: %s\n", err.msg);
}

/* bad/expect.json: {name: [substrings]}; tuned-* are tuned lenses, npz-* Gemma Scope */
static void test_refused_fields(void **st) {
    (void)st;
    json_error_t je;
    json_t *ex = json_load_file(FIX "bad/expect.json", 0, &je);
    assert_non_null(ex);
    assert_int_equal(json_object_size(ex), 24);
    const char *name;
    json_t *arr;
    json_object_foreach(ex, name, arr) {
        const char *want[8];
        size_t n = json_array_size(arr);
        assert_true(n >= 1 && n <= 8);
        for (size_t i = 0; i < n; i++) want[i] = json_string_value(json_array_get(arr, i));
        char dir[256], art[300];
        snprintf(dir, sizeof dir, FIX "bad/%s", name);
        iv_method_kind kind = IV_METHOD_SAE;
        int layer = -1;
        snprintf(art, sizeof art, "%s", dir);
        if (!strncmp(name, "tuned-", 6)) { kind = IV_METHOD_TUNED; layer = 0; }
        if (!strncmp(name, "npz-", 4)) { snprintf(art, sizeof art, "%s/params.npz", dir); layer = 1; }
        expect_refusal(kind, art, layer, want, n, dir);
    }
    json_decref(ex);
}

/* the reference's layouts with wrong shapes or extra tensors */
static void test_refused_pt(void **st) {
    (void)st;
    static const struct { iv_method_kind kind; const char *file, *want; } cases[] = {
        {IV_METHOD_STEERING, "bad_steering_2rows.pt", "is [2, 32], expected [1, 32] or [32]"},
        {IV_METHOD_STEERING, "bad_steering_dim.pt", "artifact for another model"},
        {IV_METHOD_STEERING, "bad_steering_dict2.pt", "holds 2"},
        {IV_METHOD_STEERING, "probe.pt", "holds 2"},
        {IV_METHOD_PROBE, "bad_probe_mlp.pt", "tensor \"proj.2.weight\" is not part of a linear probe"},
        {IV_METHOD_PROBE, "bad_probe_bias.pt", "\"proj.0.bias\" must be [1]"},
        {IV_METHOD_PROBE, "bad_probe_noweight.pt", "needs \"proj.0.weight\""},
        {IV_METHOD_PROBE, "bad_probe_3out.pt", "proj.0.weight is [3, 32]"},
        {IV_METHOD_PROBE, "steering.pt", "needs \"proj.0.weight\""},
        {IV_METHOD_STEERING, "bad_cv_direction0.gguf", "direction.0 is invalid"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char p[256];
        snprintf(p, sizeof p, FIX "steer/%s", cases[i].file);
        const char *w[1] = {cases[i].want};
        expect_refusal(cases[i].kind, p, 1, w, 1, p);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rescale_topk),      cmocka_unit_test(test_finetune_v5),
        cmocka_unit_test(test_scaling_legacy),    cmocka_unit_test(test_scaling_ones),
        cmocka_unit_test(test_expected_avg),      cmocka_unit_test(test_gemmascope_scaled),
        cmocka_unit_test(test_tuned_nobias),      cmocka_unit_test(test_steering_pt),
        cmocka_unit_test(test_probe_pt),          cmocka_unit_test(test_refused_fields),
        cmocka_unit_test(test_refused_pt),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
