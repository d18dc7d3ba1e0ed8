/* A small seeded RNG (splitmix64): reproducible splits, shuffles and inits. */
#include <math.h>
#include "interv/train.h"

uint64_t iv_rng_next(iv_rng *r) {
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double iv_rng_uniform(iv_rng *r) { return (double)(iv_rng_next(r) >> 11) * 0x1.0p-53; }

/* Box–Muller; one value per call keeps the state simple. */
float iv_rng_normal(iv_rng *r) {
    double u1 = iv_rng_uniform(r), u2 = iv_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

void iv_rng_shuffle(iv_rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(iv_rng_next(r) % (uint64_t)(i + 1));
        int t = a[i]; a[i] = a[j]; a[j] = t;
    }
}
