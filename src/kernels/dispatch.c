/* Run-time choice of the kernel table and thread counts. */
#include "interv/kernels.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "isa.h"
#include <omp.h>
#include <cblas.h>
#include <stdlib.h>
#include <string.h>

static iv_isa cpu_best(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    /* F16C is CPUID leaf 1, ECX bit 29: asked directly, since clang 14's
     * __builtin_cpu_supports does not know "f16c" */
    unsigned a, b, c = 0, d;
    int f16c = __get_cpuid(1, &a, &b, &c, &d) && (c >> 29 & 1);
    int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
    int avx512 = avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    return avx512 ? IV_ISA_AVX512 : avx2 ? IV_ISA_AVX2 : IV_ISA_SCALAR;
#else
    return IV_ISA_SCALAR;
#endif
}

static const ivk_ops *table(iv_isa i) {
    return i == IV_ISA_AVX512 ? &ivk_ops_avx512 : i == IV_ISA_AVX2 ? &ivk_ops_avx2 : &ivk_ops_scalar;
}

/* -1 until first use; then the isa in use (a benign race: every thread computes
 * the same value). */
static int cur_isa = -1;

static iv_isa initial(void) {
    iv_isa best = cpu_best(), want = best;
    const char *e = getenv("IV_ISA");
    if (e && !strcmp(e, "scalar")) want = IV_ISA_SCALAR;
    else if (e && !strcmp(e, "avx2")) want = IV_ISA_AVX2;
    return want < best ? want : best;
}

iv_isa iv_kernels_isa(void) {
    int i = __atomic_load_n(&cur_isa, __ATOMIC_RELAXED);
    if (i < 0) {
        i = (int)initial();
        __atomic_store_n(&cur_isa, i, __ATOMIC_RELAXED);
    }
    return (iv_isa)i;
}

iv_isa iv_kernels_set_isa(iv_isa want) {
    iv_isa best = cpu_best();
    iv_isa i = want < best ? want : best;
    if (i < IV_ISA_SCALAR) i = IV_ISA_SCALAR;
    __atomic_store_n(&cur_isa, (int)i, __ATOMIC_RELAXED);
    return i;
}

const char *iv_isa_name(iv_isa isa) { return table(isa)->name; }

const ivk_ops *ivk_cur(void) { return table(iv_kernels_isa()); }

const ivk_act *ivk_act_cur(void) {
    iv_isa i = iv_kernels_isa();
    return i == IV_ISA_AVX512 ? &ivk_act_avx512 : i == IV_ISA_AVX2 ? &ivk_act_avx2 : &ivk_act_scalar;
}

void iv_kernels_set_threads(int n) {
    if (n <= 0) n = omp_get_num_procs();
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int iv_kernels_threads(void) { return omp_get_max_threads(); }
