/* Final norm + unembedding as a differentiable map, for the tuned lens:
 * forward logits and the KL(p ‖ softmax(logits)) backward through W_U and the norm. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/train.h"

void iv_unembed_free(iv_unembed *u) {
    free(u->g); free(u->beta); free(u->W);
    memset(u, 0, sizeof *u);
}

int iv_unembed_from_model(const iv_model *m, iv_unembed *u, iv_err *err) {
    memset(u, 0, sizeof *u);
    const iv_wmat *W = &m->w.lm_head;
    int d = m->cfg.dim, V = m->cfg.vocab_size;
    if (!W->data || W->in != d || W->out != V)
        return iv_errf(err, "unembed: lm_head is [%lld,%lld], expected [%d,%d]", (long long)W->out,
                       (long long)W->in, V, d);
    if (!m->w.final_norm_w) return iv_errf(err, "unembed: model has no final norm weight");
    u->d = d; u->V = V;
    u->layernorm = iv_cfg_layernorm(&m->cfg); /* GPT-2, GPT-NeoX */
    u->eps = m->cfg.norm_eps;
    u->softcap = m->cfg.final_softcap;
    u->g = malloc((size_t)d * sizeof(float));
    u->W = malloc((size_t)V * d * sizeof(float));
    if (u->layernorm) u->beta = calloc((size_t)d, sizeof(float));
    if (!u->g || !u->W || (u->layernorm && !u->beta)) {
        iv_unembed_free(u);
        return iv_errf(err, "unembed: out of memory for a dense [%d,%d] unembedding", V, d);
    }
    /* the loader already folds Gemma-2's (1 + w) into final_norm_w */
    memcpy(u->g, m->w.final_norm_w, (size_t)d * sizeof(float));
    if (u->layernorm && m->w.final_norm_b) memcpy(u->beta, m->w.final_norm_b, (size_t)d * sizeof(float));
    size_t es = iv_dtype_size(W->dtype);
    for (int64_t o = 0; o < V; o++) {
        if (W->layout == IV_OUT_IN) {
            iv_to_f32(u->W + o * d, (const char *)W->data + (size_t)(o * W->stride) * es, W->dtype, (size_t)d);
        } else {
            for (int64_t i = 0; i < d; i++)
                iv_to_f32(u->W + o * d + i, (const char *)W->data + (size_t)(i * W->stride + o) * es, W->dtype, 1);
        }
    }
    return 0;
}

/* out = norm(y) row-wise; yhat (pre-gain normalised rows) and rstd kept for backward. */
static void norm_fwd(const iv_unembed *u, const float *y, int B, float *out, float *yhat, float *rstd) {
    int d = u->d;
    for (int r = 0; r < B; r++) {
        const float *x = y + (size_t)r * d;
        double mean = 0, ss = 0;
        if (u->layernorm) { for (int i = 0; i < d; i++) mean += x[i]; mean /= d; }
        for (int i = 0; i < d; i++) { double e = x[i] - mean; ss += e * e; }
        float rs = (float)(1.0 / sqrt(ss / d + u->eps));
        if (rstd) rstd[r] = rs;
        for (int i = 0; i < d; i++) {
            float h = (float)(x[i] - mean) * rs;
            if (yhat) yhat[(size_t)r * d + i] = h;
            out[(size_t)r * d + i] = u->g[i] * h + (u->beta ? u->beta[i] : 0.0f);
        }
    }
}

/* z = softcap(n W_Uᵀ); th (optional) keeps tanh values for backward. */
static void logits_of_normed(const iv_unembed *u, const float *n, int B, float *z, float *th) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, u->V, u->d, 1.0f, n, u->d, u->W, u->d,
                0.0f, z, u->V);
    if (u->softcap > 0)
        for (size_t i = 0; i < (size_t)B * u->V; i++) {
            float t = tanhf(z[i] / u->softcap);
            if (th) th[i] = t;
            z[i] = u->softcap * t;
        }
}

void iv_unembed_logits(const iv_unembed *u, const float *y, int B, float *z) {
    float *n = malloc((size_t)B * u->d * sizeof(float));
    if (!n) { memset(z, 0, (size_t)B * u->V * sizeof(float)); return; }
    norm_fwd(u, y, B, n, NULL, NULL);
    logits_of_normed(u, n, B, z, NULL);
    free(n);
}

double iv_lens_kl_grad(const iv_unembed *u, const float *h, const float *p, int B,
                       const float *A, const float *b, float *gA, float *gb) {
    int d = u->d, V = u->V;
    size_t bd = (size_t)B * d, bv = (size_t)B * V;
    float *y = malloc(bd * sizeof(float)), *n = malloc(bd * sizeof(float));
    float *yh = malloc(bd * sizeof(float)), *rs = malloc((size_t)B * sizeof(float));
    float *z = malloc(bv * sizeof(float)), *th = u->softcap > 0 ? malloc(bv * sizeof(float)) : NULL;
    if (!y || !n || !yh || !rs || !z || (u->softcap > 0 && !th)) {
        free(y); free(n); free(yh); free(rs); free(z); free(th);
        return NAN;
    }
    /* y = h + h Aᵀ + b */
    memcpy(y, h, bd * sizeof(float));
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, d, d, 1.0f, h, d, A, d, 1.0f, y, d);
    for (int r = 0; r < B; r++)
        for (int i = 0; i < d; i++) y[(size_t)r * d + i] += b[i];
    norm_fwd(u, y, B, n, yh, rs);
    logits_of_normed(u, n, B, z, th);
    double kl = 0;
    for (int r = 0; r < B; r++) {  /* z <- (q − p)/B, row by row */
        float *zr = z + (size_t)r * V;
        const float *pr = p + (size_t)r * V;
        float mx = zr[0];
        for (int v = 1; v < V; v++) if (zr[v] > mx) mx = zr[v];
        double se = 0;
        for (int v = 0; v < V; v++) se += exp((double)zr[v] - mx);
        double lse = mx + log(se);
        for (int v = 0; v < V; v++) {
            double lq = zr[v] - lse;
            if (pr[v] > 0) kl += pr[v] * (log((double)pr[v]) - lq);
            zr[v] = (float)((exp(lq) - pr[v]) / B);
        }
    }
    kl /= B;
    if (gA || gb) {
        if (th)
            for (size_t i = 0; i < bv; i++) z[i] *= 1.0f - th[i] * th[i];
        /* dn = G W_U  -> reuse n */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, d, V, 1.0f, z, V, u->W, d, 0.0f, n, d);
        for (int r = 0; r < B; r++) {  /* norm backward: dy into y */
            float *dn = n + (size_t)r * d, *hr = yh + (size_t)r * d, *dy = y + (size_t)r * d;
            double m1 = 0, m2 = 0;
            for (int i = 0; i < d; i++) {
                float g = dn[i] * u->g[i];
                dn[i] = g;
                m1 += g; m2 += (double)g * hr[i];
            }
            m1 /= d; m2 /= d;
            if (!u->layernorm) m1 = 0;
            for (int i = 0; i < d; i++) dy[i] = rs[r] * (float)(dn[i] - m1 - hr[i] * m2);
        }
        if (gA) cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d, d, B, 1.0f, y, d, h, d, 0.0f, gA, d);
        if (gb) {
            memset(gb, 0, (size_t)d * sizeof(float));
            for (int r = 0; r < B; r++)
                for (int i = 0; i < d; i++) gb[i] += y[(size_t)r * d + i];
        }
    }
    free(y); free(n); free(yh); free(rs); free(z); free(th);
    return kl;
}
