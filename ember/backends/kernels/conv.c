/* Direct 2-D convolution, unit stride and dilation, one group (NOTE [ Direct convolution ] in
 * ember/_ops/conv.py). Arrays are contiguous; widths are padded to a multiple of the vector
 * length VL so that every row is whole vectors:
 *
 *   x:  (n, ci, hp, wx) padded input, wx = wq + kw - 1 (vector loads never leave a row)
 *   w:  (co / COB, ci, kh, kw, COB) weights packed by blocks of COB output channels
 *   y:  (n, co, ho, wq) output, wq a multiple of VL (columns past the true width are junk)
 *
 * forward_T(x, w, y, n, ci, co, hp, wx, ho, wq, kh, kw): y = x (*) w.
 *
 * The forward keeps COB x 2 vectors of outputs in registers (two vectors along a row, or one in
 * each of two rows) and adds each weight times a shifted input vector into them: per input
 * vector loaded, COB multiply-adds (the weights are broadcast from memory). GCC's vector
 * extensions are used, not intrinsics: any target gets its widest vectors (two or four
 * narrower ones where a 64-byte vector is not native).
 */
#include <stddef.h>
#include <string.h>

#define COB 8
#define VBYTES 64

#define DEFINE_CONV(T, NAME)                                                                \
typedef T NAME##_v __attribute__((vector_size(VBYTES)));                                    \
enum { NAME##_VL = VBYTES / sizeof(T) };                                                    \
                                                                                            \
static inline NAME##_v NAME##_load(const T *p) {                                            \
    NAME##_v v;                                                                             \
    memcpy(&v, p, sizeof v);                                                                \
    return v;                                                                               \
}                                                                                           \
                                                                                            \
static inline void NAME##_store(T *p, NAME##_v v) { memcpy(p, &v, sizeof v); }             \
                                                                                            \
void forward_##NAME(const T *restrict x, const T *restrict w, T *restrict y, ptrdiff_t n,  \
                    ptrdiff_t ci, ptrdiff_t co, ptrdiff_t hp, ptrdiff_t wx, ptrdiff_t ho,    \
                    ptrdiff_t wq, ptrdiff_t kh, ptrdiff_t kw) {                             \
    const ptrdiff_t VL = NAME##_VL, chunks = wq / VL, cells = ho * chunks;                  \
    const ptrdiff_t wblock = ci * kh * kw * COB;                                            \
    for (ptrdiff_t b = 0; b < n; b++)                                                       \
        for (ptrdiff_t cb = 0; cb < co / COB; cb++) {                                       \
            const T *wb = w + cb * wblock;                                                  \
            T *yb = y + (b * co + cb * COB) * ho * wq;                                      \
            for (ptrdiff_t c = 0; c < cells; c += 2) {                                      \
                ptrdiff_t h0 = c / chunks, w0 = (c % chunks) * VL;                          \
                ptrdiff_t c1 = c + 1 < cells ? c + 1 : c;                                   \
                ptrdiff_t h1 = c1 / chunks, w1 = (c1 % chunks) * VL;                        \
                NAME##_v a0[COB], a1[COB];                                                  \
                for (int o = 0; o < COB; o++) a0[o] = a1[o] = (NAME##_v){0};                \
                const T *wp = wb;                                                           \
                for (ptrdiff_t i = 0; i < ci; i++) {                                        \
                    const T *xi = x + (b * ci + i) * hp * wx;                               \
                    for (ptrdiff_t r = 0; r < kh; r++) {                                    \
                        const T *p0 = xi + (h0 + r) * wx + w0;                              \
                        const T *p1 = xi + (h1 + r) * wx + w1;                              \
                        for (ptrdiff_t s = 0; s < kw; s++, wp += COB) {                     \
                            NAME##_v v0 = NAME##_load(p0 + s), v1 = NAME##_load(p1 + s);    \
                            for (int o = 0; o < COB; o++) {                                 \
                                a0[o] += wp[o] * v0;                                        \
                                a1[o] += wp[o] * v1;                                        \
                            }                                                               \
                        }                                                                   \
                    }                                                                       \
                }                                                                           \
                for (int o = 0; o < COB; o++) {                                             \
                    NAME##_store(yb + (o * ho + h0) * wq + w0, a0[o]);                      \
                    if (c1 != c) NAME##_store(yb + (o * ho + h1) * wq + w1, a1[o]);         \
                }                                                                           \
            }                                                                               \
        }                                                                                   \
}

DEFINE_CONV(float, f32)
DEFINE_CONV(double, f64)
