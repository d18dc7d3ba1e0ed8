/* SAE encoder/decoder and the edit f'_k = a max_j f_j on the concept feature:
 *   f  = act((x - b_dec [apply_b_dec]) W_enc + b_enc)
 *   x' = f' W_dec + b_dec                 (replaces x: the SAE error is lost)
 *   x' = x + (D(f') - D(f))              (keep_sae_error) = x + (f'_k - f_k) W_dec[k]
 * ReLU; JumpReLU f = pre if pre > threshold (and > 0, as sae-lens and Gemma Scope
 * apply ReLU too) else 0; TopK keeps the k largest pre-activations, then ReLU. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/kernels.h"
#include "sae_internal.h"

void ivm_sae_release(ivm_sae *s) {
    if (!s) return;
    free(s->W_enc);
    free(s->b_enc);
    free(s->W_dec);
    free(s->b_dec);
    free(s->threshold);
    free(s->W_enc_bf16);
    free(s->path);
    memset(s, 0, sizeof *s);
}

static void sae_destroy(void *impl) {
    ivm_sae_release(impl);
    free(impl);
}

/* Indices of the k largest values of h[0..n) via a size-k min-heap. */
static void topk_keep(float *h, int64_t n, int k, int64_t *heap) {
    int m = 0;
    for (int64_t j = 0; j < n; j++) {
        if (m < k) {
            int64_t c = m++;
            heap[c] = j;
            while (c > 0 && h[heap[(c - 1) / 2]] > h[heap[c]]) { /* sift up */
                int64_t p = (c - 1) / 2, t = heap[p];
                heap[p] = heap[c];
                heap[c] = t;
                c = p;
            }
        } else if (h[j] > h[heap[0]]) {
            heap[0] = j;
            int64_t c = 0;
            for (;;) { /* sift down */
                int64_t l = 2 * c + 1, r = l + 1, s = c;
                if (l < m && h[heap[l]] < h[heap[s]]) s = l;
                if (r < m && h[heap[r]] < h[heap[s]]) s = r;
                if (s == c) break;
                int64_t t = heap[s];
                heap[s] = heap[c];
                heap[c] = t;
                c = s;
            }
        }
    }
    /* zero all, then restore the kept ones (after ReLU) */
    float *keep = malloc(sizeof(float) * (size_t)(m ? m : 1));
    if (!keep) return;
    for (int i = 0; i < m; i++) keep[i] = h[heap[i]];
    memset(h, 0, sizeof(float) * (size_t)n);
    for (int i = 0; i < m; i++) h[heap[i]] = keep[i] > 0 ? keep[i] : 0;
    free(keep);
}

/* f = act(f) in place for one row of pre-activations f: [d_sae]; heap: [k] (TopK). */
static void activate(const ivm_sae *s, float *f, int64_t *heap) {
    int64_t ds = s->d_sae;
    if (s->act == IVM_SAE_TOPK) {
        topk_keep(f, ds, s->k, heap);
        return;
    }
    for (int64_t j = 0; j < ds; j++) {
        float h = f[j];
        int on = h > 0 && (s->act != IVM_SAE_JUMPRELU || h > s->threshold[j]);
        f[j] = on ? h : 0.0f;
    }
}

/* W_enc [d_in, d_sae] as an iv_linear matrix: F = X W_enc (+ b_enc). */
static iv_wmat enc_mat(const ivm_sae *s) {
    iv_wmat w = {s->W_enc, IV_F32, IV_IN_OUT, s->d_sae, s->d_in, s->d_sae};
    return w;
}

/* The encoder's bf16 copy as the model's bf16 products take it ([d_sae, d_in],
 * rounded to nearest even), made once. */
static int enc_bf16(ivm_sae *s) {
    if (s->W_enc_bf16) return 0;
    int64_t di = s->d_in, ds = s->d_sae;
    uint16_t *w = malloc(sizeof(uint16_t) * (size_t)(di * ds)); /* [d_sae, d_in] */
    if (!w) return -1;
#pragma omp parallel for schedule(static)
    for (int64_t j = 0; j < ds; j++)
        for (int64_t i = 0; i < di; i++) w[j * di + i] = iv_f32_to_bf16(s->W_enc[i * ds + j]);
    s->W_enc_bf16 = w;
    return 0;
}

/* f = act(pre) for n rows, in parallel (each row is independent). */
static int activate_rows(const ivm_sae *s, float *f, int n) {
    int64_t ds = s->d_sae;
    int oom = 0;
#pragma omp parallel if (n > 1) reduction(| : oom)
    {
        int64_t *heap = s->act == IVM_SAE_TOPK ? malloc(sizeof(int64_t) * (size_t)(s->k > 0 ? s->k : 1)) : NULL; /* [k] */
        if (s->act == IVM_SAE_TOPK && !heap) oom = 1;
        else {
#pragma omp for schedule(static)
            for (int k = 0; k < n; k++) activate(s, f + (size_t)k * ds, heap);
        }
        free(heap);
    }
    return oom ? -1 : 0;
}

/* bf16: the encoder product as the model's bf16 compute does it (x rounded to
 * bf16, bf16 weights, f32 sums); else f32. */
static int encode_rows(const ivm_sae *s, const float *x, int n, float *f, int bf16) {
    int64_t di = s->d_in;
    if (n <= 0) return 0;
    float *xin = NULL;
    const float *xe = x; /* [n, d_in] the encoder's input */
    if (s->apply_b_dec) {
        xin = malloc(sizeof(float) * (size_t)n * di);
        if (!xin) return -1;
        for (int k = 0; k < n; k++)
            for (int64_t i = 0; i < di; i++) xin[k * di + i] = x[k * di + i] - s->b_dec[i];
        xe = xin;
    }
    if (bf16) {
        iv_wmat W = {s->W_enc_bf16, IV_BF16, IV_OUT_IN, s->d_sae, di, di};
        iv_linear_bf16(f, xe, n, &W, s->b_enc);
    } else {
        iv_wmat W = enc_mat(s);
        iv_linear(f, xe, n, &W, s->b_enc);
    }
    free(xin);
    return activate_rows(s, f, n);
}

int ivm_sae_encode_rows(const ivm_sae *s, const float *x, int n, float *f) {
    return encode_rows(s, x, n, f, 0);
}

void ivm_sae_encode(const ivm_sae *s, const float *x, float *f) {
    if (ivm_sae_encode_rows(s, x, 1, f)) memset(f, 0, sizeof(float) * (size_t)s->d_sae);
}

/* X' = F W_dec + b_dec for n rows, one product over the features that are
 * non-zero in any row (all of them when more than half are): f: [n, d_sae],
 * out: [n, d_in].  -1 when out of memory. */
static int decode_rows(const ivm_sae *s, const float *f, int n, float *out) {
    int64_t di = s->d_in, ds = s->d_sae, m = 0;
    int64_t *act = malloc(sizeof(int64_t) * (size_t)ds); /* [d_sae] features in use */
    if (!act) return -1;
    for (int64_t j = 0; j < ds; j++)
        for (int k = 0; k < n; k++)
            if (f[(size_t)k * ds + j] != 0.0f) { act[m++] = j; break; }
    if (m == 0) { /* nothing fires: b_dec */
        for (int k = 0; k < n; k++) memcpy(out + (size_t)k * di, s->b_dec, sizeof(float) * (size_t)di);
        free(act);
        return 0;
    }
    int rc = 0;
    if (2 * m > ds) {
        iv_wmat W = {s->W_dec, IV_F32, IV_IN_OUT, di, ds, di};
        iv_linear(out, f, n, &W, s->b_dec);
    } else {
        float *fc = malloc(sizeof(float) * (size_t)n * m);  /* [n, m] */
        float *wc = malloc(sizeof(float) * (size_t)m * di); /* [m, d_in] rows of W_dec */
        if (!fc || !wc) rc = -1;
        else {
            for (int k = 0; k < n; k++)
                for (int64_t a = 0; a < m; a++) fc[k * m + a] = f[(size_t)k * ds + act[a]];
            for (int64_t a = 0; a < m; a++)
                memcpy(wc + a * di, s->W_dec + act[a] * di, sizeof(float) * (size_t)di);
            iv_wmat W = {wc, IV_F32, IV_IN_OUT, di, m, di};
            iv_linear(out, fc, n, &W, s->b_dec);
        }
        free(fc);
        free(wc);
    }
    free(act);
    return rc;
}

void ivm_sae_decode(const ivm_sae *s, const float *f, double *out) {
    int64_t di = s->d_in;
    for (int64_t i = 0; i < di; i++) out[i] = s->b_dec[i];
    for (int64_t j = 0; j < s->d_sae; j++) {
        if (f[j] == 0.0f) continue;
        const float *w = s->W_dec + j * di;
        double fj = f[j];
        for (int64_t i = 0; i < di; i++) out[i] += fj * w[i];
    }
}

static int64_t sae_nf(const iv_method *mm) { return ((const ivm_sae *)mm->impl)->d_sae; }

static int sae_encode_op(iv_method *mm, const float *x, float *z, iv_err *err) {
    (void)err;
    ivm_sae_encode(mm->impl, x, z);
    return 0;
}

static int sae_decode_op(iv_method *mm, const float *z, float *x, iv_err *err) {
    const ivm_sae *s = mm->impl;
    double *o = malloc(sizeof(double) * (size_t)s->d_in);
    if (!o) return iv_errf(err, "out of memory");
    ivm_sae_decode(s, z, o);
    for (int64_t i = 0; i < s->d_in; i++) x[i] = (float)o[i];
    free(o);
    return 0;
}

/* x: [n, d_in] in place.  One encoder product; the bottleneck and the replace
 * edit decode F (F') with one product; the edit with the error kept moves each
 * row along the concept feature's decoder row only: x + (f'_k - f_k) W_dec[k]. */
static int sae_apply(iv_method *mm, float *x, int n, iv_err *err) {
    const ivm_sae *s = mm->impl;
    int64_t di = s->d_in, ds = s->d_sae;
    if (mm->mode == IV_MMODE_BOTTLENECK && s->keep_error) return 0; /* the round trip is x itself */
    /* under bf16 compute the encoder is a bf16 product like the model's own
     * (without AVX512-BF16, iv_linear_bf16 rounds x and uses the f32 kernels);
     * no bf16 copy means an error, never a quiet f32 encode */
    int bf16 = mm->m->compute == IV_COMPUTE_BF16;
    if (bf16 && enc_bf16(mm->impl)) return iv_errf(err, "sae: out of memory for the bf16 encoder");
    float *f = malloc(sizeof(float) * (size_t)n * ds); /* [n, d_sae] */
    if (!f || encode_rows(s, x, n, f, bf16)) { free(f); return iv_errf(err, "out of memory"); }
    int rc = 0;
    if (mm->mode == IV_MMODE_BOTTLENECK) {
        rc = decode_rows(s, f, n, x);
    } else {
        int64_t k = s->feature;
        const float *w = s->W_dec + k * di;
#pragma omp parallel for schedule(static) if (n > 1)
        for (int r = 0; r < n; r++) {
            float *fr = f + (size_t)r * ds, *xr = x + (size_t)r * di;
            float fmax = 0;
            for (int64_t j = 0; j < ds; j++)
                if (fr[j] > fmax) fmax = fr[j];
            float fk = fr[k], fnew = mm->alpha * fmax;
            if (s->keep_error)
                for (int64_t i = 0; i < di; i++) xr[i] = (float)((double)xr[i] + ((double)fnew - fk) * w[i]);
            else fr[k] = fnew;
        }
        if (!s->keep_error) rc = decode_rows(s, f, n, x);
    }
    free(f);
    return rc ? iv_errf(err, "out of memory") : 0;
}

static const ivm_ops sae_ops = {sae_nf, sae_encode_op, sae_decode_op, sae_apply, sae_destroy};

int64_t iv_method_sae_feature(const iv_method *mm) {
    return mm->kind == IV_METHOD_SAE && mm->impl ? ((const ivm_sae *)mm->impl)->feature : -1;
}

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

int ivm_sae_create(iv_method *mm, const iv_method_opts *o, iv_err *err) {
    const char *art = o->artifact;
    if (!art || !*art) return iv_errf(err, "sae: --artifact (an sae-lens folder or params.npz) is required");
    ivm_sae *s = calloc(1, sizeof *s);
    if (!s) return iv_errf(err, "out of memory");
    s->layer = -1;
    s->feature = -1;
    mm->ops = &sae_ops;
    mm->impl = s;
    char *npz = ivm_is_dir(art) ? ivm_join(art, "params.npz") : NULL;
    int rc;
    if (ends_with(art, ".npz")) rc = ivm_sae_load_npz(art, mm->dim, s, err);
    else if (npz && ivm_is_file(npz)) rc = ivm_sae_load_npz(npz, mm->dim, s, err);
    else rc = ivm_sae_load_saelens(art, mm->dim, s, err);
    free(npz);
    if (rc) return -1;
    s->keep_error = o->keep_sae_error;
    if (s->layer >= 0) {
        if (mm->layer >= 0 && mm->layer != s->layer)
            return iv_errf(err, "%s: the SAE reads resid_post.%d (blocks.%d.hook_resid_post) but "
                                "--layer is %d", art, s->layer, s->layer, mm->layer);
        if (ivm_check_layer(mm, s->layer, art, err)) return -1;
        mm->layer = s->layer;
    }
    if (mm->mode != IV_MMODE_EDIT) return 0;
    if (o->sae_feature >= 0) {
        if (o->sae_feature >= s->d_sae)
            return iv_errf(err, "%s: feature %lld out of range (the SAE has %lld features)", art,
                           (long long)o->sae_feature, (long long)s->d_sae);
        s->feature = o->sae_feature;
        return 0;
    }
    if (mm->layer < 0)
        return iv_errf(err, "%s: the SAE names no layer; give --layer", art);
    if (mm->n_tgt == 0) return iv_errf(err, "%s: choosing the concept feature needs a concept", art);
    iv_feature_score *sc = NULL;
    int64_t n = 0;
    if (iv_sae_rank_features(mm->m, mm, o->pairs, &sc, &n, err)) return -1;
    s->feature = n > 0 ? sc[0].index : 0;
    free(sc);
    return 0;
}
