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

/* AVX512-BF16: CPUID leaf 7 subleaf 1, EAX bit 5 (asked directly: not every
 * compiler's __builtin_cpu_supports knows it).  Asked once: CPUID traps to
 * the hypervisor in a VM. */
static int cpu_bf16(void) {
    static int v = -1; /* a benign race: every thread computes the same value */
    int r = __atomic_load_n(&v, __ATOMIC_RELAXED);
    if (r < 0) {
        r = 0;
#if defined(__x86_64__) || defined(__i386__)
        unsigned a = 0, b, c, d;
        r = cpu_best() == IV_ISA_AVX512 && __get_cpuid_count(7, 1, &a, &b, &c, &d) && (a >> 5 & 1);
#endif
        __atomic_store_n(&v, r, __ATOMIC_RELAXED);
    }
    return r;
}

/* AMX-TILE and AMX-BF16: CPUID leaf 7, EDX bits 24 and 22; then Linux must
 * grant the tile state (asked once). */
static int cpu_amx(void) {
    static int v = -1; /* a benign race: every thread computes the same value */
    int r = __atomic_load_n(&v, __ATOMIC_RELAXED);
    if (r < 0) {
        r = 0;
#if defined(__x86_64__) || defined(__i386__)
        unsigned a, b, c, d = 0;
        if (cpu_bf16() && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (d >> 24 & 1) && (d >> 22 & 1))
            r = ivk_amx_request();
#endif
        __atomic_store_n(&v, r, __ATOMIC_RELAXED);
    }
    return r;
}

/* The bf16 level allowed: 2 (all), 1 (no AMX), 0 (none); -1 until first
 * use, then 2, or 1 when IV_NO_AMX is set. */
static int bf16_level = -1;
static int level(void) {
    int v = __atomic_load_n(&bf16_level, __ATOMIC_RELAXED);
    if (v < 0) {
        v = getenv("IV_NO_AMX") ? 1 : 2;
        __atomic_store_n(&bf16_level, v, __ATOMIC_RELAXED);
    }
    return v;
}

int iv_kernels_bf16(void) { return level() >= 1 && cpu_bf16() && iv_kernels_isa() == IV_ISA_AVX512; }

int ivk_amx(void) { return level() >= 2 && iv_kernels_bf16() && cpu_amx(); }

int iv_kernels_set_bf16(int lv) {
    __atomic_store_n(&bf16_level, lv < 0 ? 0 : lv > 2 ? 2 : lv, __ATOMIC_RELAXED);
    return iv_kernels_bf16() ? 1 + ivk_amx() : 0;
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
