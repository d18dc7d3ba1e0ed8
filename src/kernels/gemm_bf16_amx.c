/* AMX-BF16 kernel of the bf16 compute mode (iv_linear_bf16, batched):
 *   y[b, o] = bias[o] + sum_k bf16(x[b, k]) W[o, k]
 * as tiles of y^T = W x^T.  The A operand is W itself: 16 output rows x 32
 * inputs, loaded straight from the weight rows (tile rows may be any
 * stride apart), so W needs no packing.  The B operand wants pairs of inputs
 * for 16 batch rows per tile row, which is exactly the transposed pairs
 * that pack_xt makes of the rounded activations ([pair][32 batch rows]).
 * Two A tiles x two B tiles: 32 output rows x 32 batch rows per k step of
 * 32 inputs, four tdpbf16ps (each 16 x 16 x 32 products, f32 sums).
 *
 * Why AMX and not vdpbf16ps here: on the CPU measured, vdpbf16ps retires one
 * per two cycles (an f32 FMA two per cycle), so its peak is half the f32
 * FMA peak, and a batched vdpbf16ps tile ran at 0.65x the default f32 path.
 * One tdpbf16ps does 8192 products; the batched products become bound by
 * reading W. */
#include "isa.h"
#include <immintrin.h>
#include <string.h>
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

#define TAMX __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16")))

/* Asks Linux for the tile data state (ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA);
 * 1 if granted.  Process-wide, once; the caller checked CPUID. */
int ivk_amx_request(void) {
#if defined(__linux__) && defined(__x86_64__)
    return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
    return 0;
#endif
}

typedef struct {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tilecfg;

/* rows r < nr of W (stride ws) at inputs k0 .. k0 + kc into a 16 x 32 block
 * of zeros: the tails that a direct tile load would read past. */
static void pad_block(uint16_t dst[16 * 32], const uint16_t *w, int64_t ws, int nr, int64_t k0, int kc) {
    memset(dst, 0, 16 * 32 * sizeof *dst);
    for (int r = 0; r < nr; r++) memcpy(dst + r * 32, w + r * ws + k0, (size_t)kc * sizeof *dst);
}

/* tiles: 0..3 C (A0B0, A0B1, A1B0, A1B1), 4..5 A (W rows), 6..7 B (x pairs) */
TAMX void ivk_bf16_rows_amx(float *y, int64_t ldy, const uint32_t *xt, int64_t npp, int B, const iv_wmat *W,
                            int64_t o0, int64_t n, const float *bias) {
    tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) cfg.colsb[i] = 64, cfg.rows[i] = 16;
    _tile_loadconfig(&cfg);
    const uint16_t *w = W->data;
    const int64_t in = W->in, ws = W->stride, wsb = ws * 2;
    uint16_t pad[2][16 * 32] __attribute__((aligned(64)));
    float ct[4][16 * 16] __attribute__((aligned(64)));
    for (int64_t r0 = o0; r0 < o0 + n; r0 += 32) {
        int nr = (int)(o0 + n - r0 < 32 ? o0 + n - r0 : 32);
        int nr0 = nr < 16 ? nr : 16, nr1 = nr - nr0;
        const uint16_t *w0 = w + r0 * ws, *w1 = nr1 > 0 ? w0 + 16 * ws : w0;
        for (int g = 0; g * 32 < B; g++) {
            const uint32_t *xg = xt + (int64_t)g * npp * 32;
            int nb = B - g * 32 < 32 ? B - g * 32 : 32;
            _tile_zero(0);
            _tile_zero(1);
            _tile_zero(2);
            _tile_zero(3);
            for (int64_t k0 = 0; k0 < in; k0 += 32) {
                int kc = (int)(in - k0 < 32 ? in - k0 : 32);
                /* the same columns of the next block's rows: a whole block
                 * (32 rows, 48 KiB for GPT-2) ahead, into L2; the hardware
                 * streamers do not follow 32 rows read a line at a time */
                if (g == 0)
                    for (int r = 0; r < 32 && r0 + 32 + r < W->out; r++)
                        _mm_prefetch((const char *)(w0 + (32 + r) * ws + k0), _MM_HINT_T1);
                if (nr0 == 16 && kc == 32) _tile_loadd(4, w0 + k0, wsb);
                else {
                    pad_block(pad[0], w0, ws, nr0, k0, kc);
                    _tile_loadd(4, pad[0], 64);
                }
                const uint32_t *xk = xg + (k0 / 2) * 32;
                _tile_loadd(6, xk, 128);
                _tile_dpbf16ps(0, 4, 6);
                if (nb > 16) {
                    _tile_loadd(7, xk + 16, 128);
                    _tile_dpbf16ps(1, 4, 7);
                }
                if (nr1 > 0) {
                    if (nr1 == 16 && kc == 32) _tile_loadd(5, w1 + k0, wsb);
                    else {
                        pad_block(pad[1], w1, ws, nr1, k0, kc);
                        _tile_loadd(5, pad[1], 64);
                    }
                    _tile_dpbf16ps(2, 5, 6);
                    if (nb > 16) _tile_dpbf16ps(3, 5, 7);
                }
            }
            _tile_stored(0, ct[0], 64);
            _tile_stored(1, ct[1], 64);
            _tile_stored(2, ct[2], 64);
            _tile_stored(3, ct[3], 64);
            /* ct[2 h + j][m * 16 + c]: output row 16 h + m, batch row 16 j + c */
            for (int b = 0; b < nb; b++) {
                float *yr = y + (int64_t)(g * 32 + b) * ldy + r0;
                const float *c0 = ct[b >> 4] + (b & 15), *c1 = ct[2 + (b >> 4)] + (b & 15);
                for (int m = 0; m < nr0; m++) yr[m] = c0[m * 16] + (bias ? bias[r0 + m] : 0.0f);
                for (int m = 0; m < nr1; m++) yr[16 + m] = c1[m * 16] + (bias ? bias[r0 + 16 + m] : 0.0f);
            }
        }
    }
    _tile_release();
}
