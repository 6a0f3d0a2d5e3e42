/* Direct 2-D convolution, unit stride and dilation, one group (NOTE [ Direct convolution ] in
 * ember/_ops/conv.py). Arrays are contiguous; widths are padded to a multiple of the vector
 * length VL so that every row is whole vectors:
 *
 *   x:  (n, ci, hp, wx) padded input, wx = wq + kw - 1 (vector loads never leave a row)
 *   w:  (co / COB, ci, kh, kw, COB) weights packed by blocks of COB output channels
 *   y:  (n, co, ho, wq) output, wq a multiple of VL (columns past the true width are junk)
 *
 *   g:  (n, co, ho, wq) output gradient, zero past the true width
 *   dw: (co, ci, kh, kw) weight gradient; acc: as many vectors of scratch
 *
 * forward_T(x, w, y, n, ci, co, hp, wx, ho, wq, kh, kw): y = x (*) w.
 * weight_T(x, g, dw, n, ci, co, hp, wx, ho, wq, kh, kw, acc): dw = the sum over images and
 *   output positions of g times the input window.
 *
 * The forward keeps COB x 2 vectors of outputs in registers (two vectors along a row, or one in
 * each of two rows) and adds each weight times a shifted input vector into them: per input
 * vector loaded, COB multiply-adds (the weights are broadcast from memory). The weight
 * gradient keeps COB x 3 vectors of partial sums (COB output channels by three kernel columns)
 * of g times the shifted input, over the rows of one image (of a few when rows are short) for
 * one input channel and kernel row, and adds them into ``acc``; the lanes are summed at the
 * end. GCC's vector
 * extensions are used, not intrinsics: any target gets its widest vectors (two or four
 * narrower ones where a 64-byte vector is not native).
 */
#include <stddef.h>
#include <string.h>

#define COB 8
#define VBYTES 64

/* KEEP(v): make GCC hold v in a register. Without it GCC reloads a vector for every use (the
 * weight gradient ran 2.5x slower); an empty asm statement that "changes" v pins it. */
#if defined(__x86_64__) || defined(__i386__)
#define KEEP(v) __asm__("" : "+v"(v))
#elif defined(__aarch64__)
#define KEEP(v) __asm__("" : "+w"(v))
#else
#define KEEP(v) ((void)0)
#endif

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
void weight_##NAME(const T *restrict x, const T *restrict g, T *restrict dw, ptrdiff_t n,   \
                   ptrdiff_t ci, ptrdiff_t co, ptrdiff_t hp, ptrdiff_t wx, ptrdiff_t ho,     \
                   ptrdiff_t wq, ptrdiff_t kh, ptrdiff_t kw, NAME##_v *restrict acc) {      \
    const ptrdiff_t VL = NAME##_VL, chunks = wq / VL, total = co * ci * kh * kw;            \
    for (ptrdiff_t j = 0; j < total; j++) acc[j] = (NAME##_v){0};                           \
    /* images are taken nb at a time, so that a tile's loop is at least 64 vectors long */  \
    const ptrdiff_t nb = ho * chunks >= 64 ? 1 : (64 + ho * chunks - 1) / (ho * chunks);     \
    for (ptrdiff_t b0 = 0; b0 < n; b0 += nb)                                                \
        for (ptrdiff_t cb = 0; cb < co; cb += COB)                                          \
            for (ptrdiff_t i = 0; i < ci; i++)                                              \
                for (ptrdiff_t r = 0; r < kh; r++)                                          \
                    for (ptrdiff_t s0 = 0; s0 < kw; s0 += 3) {                              \
                        ptrdiff_t m = kw - s0 < 3 ? kw - s0 : 3;                            \
                        ptrdiff_t d1 = m > 1, d2 = m > 2 ? 2 : d1;                          \
                        NAME##_v t0[COB], t1[COB], t2[COB];                                 \
                        for (int o = 0; o < COB; o++)                                       \
                            t0[o] = t1[o] = t2[o] = (NAME##_v){0};                          \
                        for (ptrdiff_t b = b0; b < n && b < b0 + nb; b++)                   \
                            for (ptrdiff_t h = 0; h < ho; h++) {                            \
                                const T *xr = x + ((b * ci + i) * hp + h + r) * wx + s0;    \
                                const T *gr = g + ((b * co + cb) * ho + h) * wq;            \
                                for (ptrdiff_t q = 0; q < chunks; q++) {                    \
                                    NAME##_v v0 = NAME##_load(xr + q * VL);                 \
                                    NAME##_v v1 = NAME##_load(xr + q * VL + d1);            \
                                    NAME##_v v2 = NAME##_load(xr + q * VL + d2);            \
                                    KEEP(v0);                                               \
                                    KEEP(v1);                                               \
                                    KEEP(v2);                                               \
                                    for (int o = 0; o < COB; o++) {                         \
                                        NAME##_v gv =                                       \
                                            NAME##_load(gr + o * ho * wq + q * VL);         \
                                        KEEP(gv);                                           \
                                        t0[o] += gv * v0;                                   \
                                        t1[o] += gv * v1;                                   \
                                        t2[o] += gv * v2;                                   \
                                    }                                                       \
                                }                                                           \
                            }                                                               \
                        for (int o = 0; o < COB; o++) {                                     \
                            NAME##_v *ap = acc + (((cb + o) * ci + i) * kh + r) * kw + s0;  \
                            ap[0] += t0[o];                                                 \
                            if (m > 1) ap[1] += t1[o];                                      \
                            if (m > 2) ap[2] += t2[o];                                      \
                        }                                                                   \
                    }                                                                       \
    for (ptrdiff_t j = 0; j < total; j++) {                                                 \
        T sum = 0;                                                                          \
        for (int l = 0; l < NAME##_VL; l++) sum += acc[j][l];                               \
        dw[j] = sum;                                                                        \
    }                                                                                       \
}                                                                                           \
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
