/* Shared by the bench programs (each is one .c file and one binary): the clock,
 * random weights and the SGEMM and bf16 peaks that ratios are taken against. */
#ifndef INTERV_BENCH_COMMON_H
#define INTERV_BENCH_COMMON_H
#include <cblas.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "interv/kernels.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- random fill (per-thread xorshift; values of size ~2^-6) ---------------- */
static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static void fill_random(void *p, iv_dtype t, size_t n, uint64_t seed) {
#pragma omp parallel
    {
        int nt = omp_get_num_threads(), id = omp_get_thread_num();
        size_t a = n * id / nt, b = n * (id + 1) / nt;
        uint64_t s = mix(seed + (uint64_t)id);
        for (size_t i = a; i < b; i++) {
            s ^= s << 13; s ^= s >> 7; s ^= s << 17;
            uint32_t r = (uint32_t)s, sign = (uint32_t)(s >> 40) & 1u;
            if (t == IV_F32) ((uint32_t *)p)[i] = sign << 31 | 121u << 23 | (r & 0x7fffffu);
            else ((uint16_t *)p)[i] = (uint16_t)(sign << 15 | 121u << 7 | (r & 0x7fu));
        }
    }
}

/* ---- 2. SGEMM peak ------------------------------------------------------------- */
static double sgemm_peak(int nt) {
    const int n = 1536; /* ~7 GFLOP: long enough for peak, short enough to dodge preemption */
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    if (!a || !b || !c) { free(a); free(b); free(c); return 0; }
    fill_random(a, IV_F32, (size_t)n * n, 1);
    fill_random(b, IV_F32, (size_t)n * n, 2);
    iv_kernels_set_threads(nt);
    /* best of at least 6 and up to 40 runs within ~3 s: on a shared host a
     * low peak would flatter every ratio printed against it */
    double best = 1e30, stop = now() + 3;
    for (int rep = 0; rep < 40 && (rep < 6 || now() < stop); rep++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    free(a); free(b); free(c);
    return 2.0 * n * n * n / best / 1e9;
}

/* bf16 compute: iv_linear_bf16 on 1536 x 1536 bf16 weights and 1536 rows
 * (compute-bound, in cache), best of up to 40 runs in ~2 s.  0 without
 * AVX512-BF16. */
static inline double bf16_peak(int nt) { /* inline: not every bench uses it */
    if (!iv_kernels_bf16()) return 0;
    const int n = 1536;
    uint16_t *w = malloc((size_t)n * n * 2); /* [n, n] */
    float *x = malloc((size_t)n * n * 4), *y = malloc((size_t)n * n * 4); /* [n, n] */
    if (!w || !x || !y) { free(w); free(x); free(y); return 0; }
    fill_random(w, IV_BF16, (size_t)n * n, 5);
    fill_random(x, IV_F32, (size_t)n * n, 6);
    iv_kernels_set_threads(nt);
    iv_wmat W = {w, IV_BF16, IV_OUT_IN, n, n, n};
    double best = 1e30, stop = now() + 2;
    for (int rep = 0; rep < 40 && (rep < 6 || now() < stop); rep++) {
        double t0 = now();
        iv_linear_bf16(y, x, n, &W, NULL);
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    free(w); free(x); free(y);
    return 2.0 * n * n * n / best / 1e9;
}

/* One timed pass over buf [n] with nt threads (the library's SIMD dot of each
 * 256 KiB with itself: one read stream per thread); GB/s.  The buffer must be
 * larger than every cache (1 GiB here, the 480 MiB L3 included). */
static inline double read_pass(const float *buf, size_t n, int nt) {
    iv_kernels_set_threads(nt);
    double t0 = now(), s = 0;
#pragma omp parallel for schedule(static) reduction(+ : s)
    for (size_t c = 0; c < n; c += 1 << 16) s += iv_dot(buf + c, buf + c, IV_F32, n - c < (1 << 16) ? (int64_t)(n - c) : 1 << 16);
    double dt = now() - t0;
    return s == 42 ? 0 : n * sizeof(float) / dt / 1e9; /* s is used, so the reads stay */
}

/* The read bandwidth: best of 4 whole passes over buf [n]; GB/s. */
static inline double read_bandwidth(const float *buf, size_t n, int nt) {
    double best = 0;
    for (int rep = 0; rep < 4; rep++) {
        double g = read_pass(buf, n, nt);
        if (g > best) best = g;
    }
    return best;
}

#endif
