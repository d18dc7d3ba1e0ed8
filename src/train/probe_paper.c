/* Linear probe, the reference study's recipe (IV_PROTOCOL_PAPER; DESIGN.md 3b and
 * train.h): sigmoid probe on raw pooled activations, minibatch Adam with coupled
 * weight decay, L1 on weight and bias, plateau learning-rate decay on the test
 * loss, final-epoch weights.  Everything in double; the update order mirrors
 * torch.optim.Adam and ReduceLROnPlateau so a PyTorch run from the same initial
 * weights and batch order gives the same numbers (tests/unit/test_probe_paper.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interv/train.h"

#define L1_COEF 0.3
#define WEIGHT_DECAY 0.1
#define LR0 1e-3
#define BETA1 0.9
#define BETA2 0.95
#define ADAM_EPS 1e-8
#define PLATEAU_FACTOR 0.75
#define PLATEAU_THRESHOLD 1e-4 /* relative, PyTorch's default */
#define PLATEAU_EPS 1e-8       /* smaller lr changes are skipped, as in PyTorch */

static double sigmoid(double z) { return z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z)); }

/* PyTorch BCELoss term: log clamped at -100 */
static double bce(double p, int y) {
    double l = y ? log(p) : log1p(-p);
    return -(l < -100 ? -100 : l);
}

/* dBCE/dz through the sigmoid as autograd computes it: BCELoss backward divides by
 * max(p(1-p), 1e-12), sigmoid backward multiplies by p(1-p). */
static double bce_dz(double p, int y) {
    double s = p * (1 - p);
    return (p - y) / (s > 1e-12 ? s : 1e-12) * s;
}

static double sgn(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : 0.0; }

static double row_logit(const float *x, const double *w, double b, int d) {
    double z = b;
    for (int j = 0; j < d; j++) z += w[j] * x[j];
    return z;
}

/* mean BCE over the rows with is_train == want; accuracy and count optional */
static double eval_rows(const float *x, const int *y, const int *is_train, int want, int n, int d,
                        const double *w, double b, float *acc, int *count) {
    double loss = 0;
    int c = 0, ok = 0;
    for (int i = 0; i < n; i++) {
        if ((is_train[i] != 0) != want) continue;
        double z = row_logit(x + (size_t)i * d, w, b, d);
        loss += bce(sigmoid(z), y[i] != 0);
        ok += (z > 0) == (y[i] != 0);
        c++;
    }
    if (acc) *acc = c ? (float)ok / c : 0.0f;
    if (count) *count = c;
    return c ? loss / c : 0.0;
}

int iv_probe_paper_split(const int *y, int n, uint64_t seed, int *is_train, iv_err *err) {
    int cnt[2] = {0, 0};
    for (int i = 0; i < n; i++) cnt[y[i] != 0]++;
    if (cnt[0] < 2 || cnt[1] < 2)
        return iv_errf(err, "probe: a stratified split needs at least 2 examples of each label "
                            "(have %d negative, %d positive)", cnt[0], cnt[1]);
    int n_test = (int)ceil(0.2 * n), n_train = n - n_test;
    /* each label's training count ∝ its share; the leftover row goes to the larger
     * fractional part (ties: label 0) */
    double f0 = (double)n_train * cnt[0] / n, f1 = (double)n_train * cnt[1] / n;
    int t[2] = {(int)floor(f0), (int)floor(f1)};
    while (t[0] + t[1] < n_train) {
        int k = (f0 - t[0]) >= (f1 - t[1]) ? 0 : 1;
        t[k]++;
        if (k == 0) f0 = t[0]; else f1 = t[1];
    }
    for (int k = 0; k < 2; k++) {  /* keep at least one test row of each label */
        if (t[k] >= cnt[k]) t[k] = cnt[k] - 1;
        if (t[k] < 1) t[k] = 1;
    }
    int *idx = malloc((size_t)n * sizeof(int));
    if (!idx) return iv_errf(err, "probe: out of memory");
    iv_rng rng = {seed};
    for (int k = 0; k < 2; k++) {
        int m = 0;
        for (int i = 0; i < n; i++)
            if ((y[i] != 0) == k) idx[m++] = i;
        iv_rng_shuffle(&rng, idx, m);
        for (int j = 0; j < m; j++) is_train[idx[j]] = j < t[k];
    }
    free(idx);
    return 0;
}

int iv_probe_paper_fit(const float *x, const int *y, const int *is_train, int n, int dim,
                       uint64_t seed, const iv_probe_paper_plan *plan, iv_probe *out,
                       iv_err *err) {
    int d = dim, ntr = 0, E = IV_PROBE_PAPER_EPOCHS, rc = -1;
    for (int i = 0; i < n; i++) ntr += is_train[i] != 0;
    if (ntr < 1 || ntr == n) return iv_errf(err, "probe: %d training and %d test examples", ntr, n - ntr);
    memset(out, 0, sizeof *out);
    /* theta = [w (d), b]; m, v Adam moments; g gradient */
    double *theta = calloc((size_t)d + 1, sizeof(double)), *g = malloc(((size_t)d + 1) * sizeof(double));
    double *m1 = calloc((size_t)d + 1, sizeof(double)), *m2 = calloc((size_t)d + 1, sizeof(double));
    int *rows = malloc((size_t)ntr * sizeof(int)), *order = malloc((size_t)ntr * sizeof(int));
    out->w = malloc((size_t)d * sizeof(float));
    if (!theta || !g || !m1 || !m2 || !rows || !order || !out->w) {
        iv_errf(err, "probe: out of memory");
        goto done;
    }
    for (int i = 0, k = 0; i < n; i++)
        if (is_train[i]) rows[k++] = i;
    iv_rng rng = {seed ^ 0x9a9e5eedull};
    for (int j = 0; j < d; j++)
        theta[j] = plan && plan->w0 ? (double)plan->w0[j] : 0.02 * (double)iv_rng_normal(&rng);
    double lr = LR0, best = INFINITY, *w = theta;
    int64_t t = 0;
    for (int e = 0; e < E; e++) {
        if (plan && plan->order) {
            for (int k = 0; k < ntr; k++) {
                int32_t o = plan->order[(size_t)e * ntr + k];
                if (o < 0 || o >= ntr) { iv_errf(err, "probe: batch order entry %d out of range", (int)o); goto done; }
                order[k] = o;
            }
        } else {
            for (int k = 0; k < ntr; k++) order[k] = k;
            iv_rng_shuffle(&rng, order, ntr);
        }
        if (plan && plan->lr_used) plan->lr_used[e] = lr;
        for (int s = 0; s < ntr; s += IV_PROBE_PAPER_BATCH) {
            int B = ntr - s < IV_PROBE_PAPER_BATCH ? ntr - s : IV_PROBE_PAPER_BATCH;
            memset(g, 0, ((size_t)d + 1) * sizeof(double));
            for (int k = s; k < s + B; k++) {
                int i = rows[order[k]];
                const float *r = x + (size_t)i * d;
                double gz = bce_dz(sigmoid(row_logit(r, w, theta[d], d)), y[i] != 0) / B;
                for (int j = 0; j < d; j++) g[j] += gz * r[j];
                g[d] += gz;
            }
            t++;
            double c1 = 1 - pow(BETA1, (double)t), c2 = sqrt(1 - pow(BETA2, (double)t));
            for (int j = 0; j <= d; j++) {
                double gj = g[j] + L1_COEF * sgn(theta[j]) + WEIGHT_DECAY * theta[j];
                m1[j] = BETA1 * m1[j] + (1 - BETA1) * gj;
                m2[j] = BETA2 * m2[j] + (1 - BETA2) * gj * gj;
                theta[j] -= (lr / c1) * m1[j] / (sqrt(m2[j]) / c2 + ADAM_EPS);
            }
        }
        double tl = eval_rows(x, y, is_train, 0, n, d, w, theta[d], NULL, NULL);
        if (plan && plan->test_loss) plan->test_loss[e] = tl;
        if (tl < best * (1 - PLATEAU_THRESHOLD)) {
            best = tl;
        } else if (lr - lr * PLATEAU_FACTOR > PLATEAU_EPS) {
            lr *= PLATEAU_FACTOR;
        }
    }
    double l1 = fabs(theta[d]);
    for (int j = 0; j < d; j++) { out->w[j] = (float)theta[j]; l1 += fabs(theta[j]); }
    out->b = (float)theta[d];
    out->dim = d;
    out->protocol = IV_PROTOCOL_PAPER;
    out->train_loss = (float)(eval_rows(x, y, is_train, 1, n, d, w, theta[d], &out->train_acc,
                                        &out->n_train) + L1_COEF * l1);
    eval_rows(x, y, is_train, 0, n, d, w, theta[d], &out->test_acc, &out->n_test);
    rc = 0;
done:
    free(theta); free(g); free(m1); free(m2); free(rows); free(order);
    if (rc) iv_probe_free(out);
    return rc;
}
