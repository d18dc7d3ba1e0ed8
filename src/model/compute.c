/* The model's compute mode (iv_model_set_compute): bf16 compute needs every
 * matrix weight in bf16, so f32/f16 matrices are converted once into owned
 * copies, as PyTorch's model.to(torch.bfloat16) does. */
#include "interv/model.h"
#include "interv/kernels.h"
#include <stdlib.h>
#include <string.h>

int iv_compute_parse(const char *s) {
    if (!s) return -1;
    if (!strcmp(s, "f32")) return IV_COMPUTE_F32;
    if (!strcmp(s, "bf16")) return IV_COMPUTE_BF16;
    return -1;
}

static void *own(iv_model *m, size_t bytes) {
    if (m->n_owned == m->cap_owned) {
        int cap = m->cap_owned ? 2 * m->cap_owned : 64;
        void **nb = realloc(m->owned, (size_t)cap * sizeof *nb);
        if (!nb) return NULL;
        m->owned = nb;
        m->cap_owned = cap;
    }
    void *p = malloc(bytes ? bytes : 1);
    if (p) m->owned[m->n_owned++] = p;
    return p;
}

/* w -> an owned bf16 copy in the same layout (rows of length stride cut to
 * their used part: the copy's stride is the used width). */
static int to_bf16(iv_model *m, iv_wmat *w) {
    if (!w->data || w->dtype == IV_BF16) return 0;
    int64_t rows = w->layout == IV_OUT_IN ? w->out : w->in, cols = w->layout == IV_OUT_IN ? w->in : w->out;
    uint16_t *d = own(m, (size_t)rows * (size_t)cols * sizeof *d); /* [rows, cols] */
    if (!d) return -1;
    size_t es = iv_dtype_size(w->dtype);
#pragma omp parallel for schedule(static) if (rows * cols >= (1 << 20))
    for (int64_t r = 0; r < rows; r++) {
        const char *src = (const char *)w->data + (size_t)(r * w->stride) * es;
        float tmp[256];
        for (int64_t c0 = 0; c0 < cols; c0 += 256) {
            int64_t n = cols - c0 < 256 ? cols - c0 : 256;
            iv_to_f32(tmp, src + (size_t)c0 * es, w->dtype, (size_t)n);
            for (int64_t c = 0; c < n; c++) d[r * cols + c0 + c] = iv_f32_to_bf16(tmp[c]);
        }
    }
    w->data = d;
    w->dtype = IV_BF16;
    w->stride = cols;
    return 0;
}

/* GPT-2's q|k|v are three views of one matrix, one after the other, which
 * the forward pass multiplies as one: convert them as one so they stay so. */
static int qkv_to_bf16(iv_model *m, iv_layer_weights *lw) {
    iv_wmat *q = &lw->wq, *k = &lw->wk, *v = &lw->wv;
    size_t es = iv_dtype_size(q->dtype);
    int fused = q->layout == IV_OUT_IN && k->layout == IV_OUT_IN && v->layout == IV_OUT_IN &&
                k->dtype == q->dtype && v->dtype == q->dtype && k->stride == q->stride && v->stride == q->stride &&
                k->in == q->in && v->in == q->in &&
                (const char *)k->data == (const char *)q->data + (size_t)(q->out * q->stride) * es &&
                (const char *)v->data == (const char *)k->data + (size_t)(k->out * k->stride) * es;
    if (!fused || q->dtype == IV_BF16) return to_bf16(m, q) || to_bf16(m, k) || to_bf16(m, v);
    iv_wmat f = *q;
    f.out = q->out + k->out + v->out;
    if (to_bf16(m, &f)) return -1;
    int64_t qo = q->out, ko = k->out, vo = v->out;
    *q = f, q->out = qo;
    *k = f, k->out = ko, k->data = (const uint16_t *)f.data + qo * f.stride;
    *v = f, v->out = vo, v->data = (const uint16_t *)f.data + (qo + ko) * f.stride;
    return 0;
}

int iv_model_set_compute(iv_model *m, iv_compute c, iv_err *err) {
    if (c != IV_COMPUTE_F32 && c != IV_COMPUTE_BF16) return iv_errf(err, "unknown compute mode %d", (int)c);
    if (c == IV_COMPUTE_BF16 && !iv_kernels_bf16())
        return iv_errf(err, "bf16 compute is unavailable: this CPU lacks AVX512-BF16");
    if (c == IV_COMPUTE_BF16) {
        for (int l = 0; l < m->cfg.n_layers; l++) {
            iv_layer_weights *lw = &m->w.layers[l];
            if (qkv_to_bf16(m, lw) || to_bf16(m, &lw->wo) || to_bf16(m, &lw->w_gate) || to_bf16(m, &lw->w_up) ||
                to_bf16(m, &lw->w_down))
                return iv_errf(err, "%s: out of memory converting weights to bf16", m->path ? m->path : "model");
        }
        if (to_bf16(m, &m->w.lm_head))
            return iv_errf(err, "%s: out of memory converting weights to bf16", m->path ? m->path : "model");
    }
    m->compute = c;
    return 0;
}
