/* Layer norm over the rows of a contiguous (m, n) float32/float64 matrix (NOTE [ Layer norm
 * kernels ] in ember/_ops/normalization.py), one pass over memory each way where NumPy needs
 * several.
 *
 * forward_T(x, m, n, w, b, eps, y, mean, rstd): per row, mean = sum(x) / n, then
 *   var = sum((x - mean)^2) / n (two passes over the row, which is in cache), rstd =
 *   1 / sqrt(var + eps), y = (x - mean) * rstd * w + b; w and b may be NULL.
 * backward_T(g, x, mean, rstd, w, m, n, gx, gw, gb, acc, total): PyTorch's formula: with
 *   gh = g * w, s1 = sum(gh), s2 = sum(gh * x), gx = rstd * gh + c1 * x + c2 where
 *   c1 = (s1 * mean - s2) * rstd^3 / n and c2 = -c1 * mean - s1 * rstd / n; gw = sum over rows
 *   of g * (x - mean) * rstd, gb = sum over rows of g. Any of gx, gw, gb may be NULL (not
 *   wanted); w may be NULL (ones). acc (2n values) and total (2n doubles) are scratch: the
 *   column sums gather ROWS rows in the input's type, then add into doubles.
 *
 * Row sums go by BLOCK_SUM (sums.h).
 */
#include <math.h>

#define LANES 32 /* rows are short: fewer partial sums to add up per row */
#include "sums.h"

#define ROWS 64

#define DEFINE_NORM(T, NAME)                                                                \
void forward_##NAME(const T *restrict x, ptrdiff_t m, ptrdiff_t n, const T *restrict w,    \
                    const T *restrict b, double eps, T *restrict y, T *restrict mean,      \
                    T *restrict rstd) {                                                     \
    for (ptrdiff_t r = 0; r < m; r++) {                                                     \
        const T *xr = x + r * n;                                                            \
        T *yr = y + r * n;                                                                  \
        double s, d;                                                                        \
        BLOCK_SUM(T, n, xr[j], s);                                                          \
        T mu = (T)(s / (double)n);                                                          \
        BLOCK_SUM(T, n, (xr[j] - mu) * (xr[j] - mu), d);                                    \
        T var = (T)(d / (double)n);                                                         \
        T rs = (T)1 / (T)sqrt((double)(var + (T)eps));                                      \
        mean[r] = mu;                                                                       \
        rstd[r] = rs;                                                                       \
        if (w && b)                                                                         \
            for (ptrdiff_t i = 0; i < n; i++) yr[i] = (xr[i] - mu) * rs * w[i] + b[i];     \
        else if (w)                                                                         \
            for (ptrdiff_t i = 0; i < n; i++) yr[i] = (xr[i] - mu) * rs * w[i];            \
        else if (b)                                                                         \
            for (ptrdiff_t i = 0; i < n; i++) yr[i] = (xr[i] - mu) * rs + b[i];            \
        else                                                                                \
            for (ptrdiff_t i = 0; i < n; i++) yr[i] = (xr[i] - mu) * rs;                   \
    }                                                                                       \
}                                                                                           \
                                                                                            \
void backward_##NAME(const T *restrict g, const T *restrict x, const T *restrict mean,     \
                     const T *restrict rstd, const T *restrict w, ptrdiff_t m, ptrdiff_t n, \
                     T *restrict gx, T *restrict gw, T *restrict gb, T *restrict acc,       \
                     double *restrict total) {                                              \
    T *aw = acc, *ab = acc + n;                                                             \
    double *tw = total, *tb = total + n;                                                    \
    for (ptrdiff_t i = 0; i < n; i++) aw[i] = ab[i] = 0, tw[i] = tb[i] = 0.0;              \
    for (ptrdiff_t r = 0; r < m; r++) {                                                     \
        const T *gr = g + r * n, *xr = x + r * n;                                           \
        T mu = mean[r], rs = rstd[r];                                                       \
        if (gw)                                                                             \
            for (ptrdiff_t i = 0; i < n; i++) aw[i] += gr[i] * ((xr[i] - mu) * rs);        \
        if (gb)                                                                             \
            for (ptrdiff_t i = 0; i < n; i++) ab[i] += gr[i];                               \
        if ((r + 1) % ROWS == 0 || r == m - 1)                                              \
            for (ptrdiff_t i = 0; i < n; i++) {                                             \
                tw[i] += (double)aw[i], tb[i] += (double)ab[i];                             \
                aw[i] = ab[i] = 0;                                                          \
            }                                                                               \
        if (!gx)                                                                            \
            continue;                                                                       \
        T *gxr = gx + r * n;                                                                \
        if (w)                                                                              \
            for (ptrdiff_t i = 0; i < n; i++) gxr[i] = gr[i] * w[i];                        \
        const T *gh = w ? gxr : gr;                                                         \
        double d1, d2;                                                                      \
        BLOCK_SUM(T, n, gh[j], d1);                                                         \
        BLOCK_SUM(T, n, gh[j] * xr[j], d2);                                                 \
        T s1 = (T)d1, s2 = (T)d2;                                                           \
        T c1 = (s1 * mu - s2) * rs * rs * rs / (T)n;                                        \
        T c2 = -c1 * mu - s1 * rs / (T)n;                                                   \
        for (ptrdiff_t i = 0; i < n; i++) gxr[i] = rs * gh[i] + c1 * xr[i] + c2;           \
    }                                                                                       \
    if (gw)                                                                                 \
        for (ptrdiff_t i = 0; i < n; i++) gw[i] = (T)tw[i];                                 \
    if (gb)                                                                                 \
        for (ptrdiff_t i = 0; i < n; i++) gb[i] = (T)tb[i];                                 \
}

DEFINE_NORM(float, f32)
DEFINE_NORM(double, f64)

/* Batch norm over (n, c, l) contiguous input: channel k is the n segments x[b, k, :] of l
 * values (NOTE [ Layer norm kernels ] in ember/_ops/normalization.py).
 *
 * bn_stats_T(x, n, c, l, mean, var): the per-channel mean and biased variance (two passes).
 * bn_apply_T(x, n, c, l, scale, shift, y): y = x * scale[k] + shift[k].
 * bn_sums_T(g, x, n, c, l, mean, rstd, sum_g, sum_gxh): per channel, the sums of g and of
 *   g * (x - mean) * rstd.
 * bn_grad_T(g, x, n, c, l, mean, rstd, w, sum_g, sum_gxh, training, gx): PyTorch's input
 *   gradient: gx = (g - (x - mean) * rstd * sum_gxh / cnt - sum_g / cnt) * rstd * w when
 *   training, g * rstd * w in evaluation; w may be NULL.
 */
#define DEFINE_BATCH_NORM(T, NAME)                                                          \
void bn_stats_##NAME(const T *restrict x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t l,           \
                     T *restrict mean, T *restrict var) {                                   \
    double cnt = (double)(n * l);                                                           \
    for (ptrdiff_t k = 0; k < c; k++) {                                                     \
        double s = 0.0, part;                                                               \
        for (ptrdiff_t b = 0; b < n; b++) {                                                 \
            const T *xs = x + (b * c + k) * l;                                              \
            BLOCK_SUM(T, l, xs[j], part);                                                   \
            s += part;                                                                      \
        }                                                                                   \
        T mu = (T)(s / cnt);                                                                \
        double d = 0.0;                                                                     \
        for (ptrdiff_t b = 0; b < n; b++) {                                                 \
            const T *xs = x + (b * c + k) * l;                                              \
            BLOCK_SUM(T, l, (xs[j] - mu) * (xs[j] - mu), part);                             \
            d += part;                                                                      \
        }                                                                                   \
        mean[k] = mu;                                                                       \
        var[k] = (T)(d / cnt);                                                              \
    }                                                                                       \
}                                                                                           \
                                                                                            \
void bn_apply_##NAME(const T *restrict x, ptrdiff_t n, ptrdiff_t c, ptrdiff_t l,           \
                     const T *restrict scale, const T *restrict shift, T *restrict y) {     \
    for (ptrdiff_t b = 0; b < n; b++)                                                       \
        for (ptrdiff_t k = 0; k < c; k++) {                                                 \
            const T *xs = x + (b * c + k) * l;                                              \
            T *ys = y + (b * c + k) * l, sc = scale[k], sh = shift[k];                      \
            for (ptrdiff_t j = 0; j < l; j++) ys[j] = xs[j] * sc + sh;                      \
        }                                                                                   \
}                                                                                           \
                                                                                            \
void bn_sums_##NAME(const T *restrict g, const T *restrict x, ptrdiff_t n, ptrdiff_t c,    \
                    ptrdiff_t l, const T *restrict mean, const T *restrict rstd,            \
                    T *restrict sum_g, T *restrict sum_gxh) {                               \
    for (ptrdiff_t k = 0; k < c; k++) {                                                     \
        double s1 = 0.0, s2 = 0.0, p1, p2;                                                  \
        T mu = mean[k];                                                                     \
        for (ptrdiff_t b = 0; b < n; b++) {                                                 \
            const T *gs = g + (b * c + k) * l, *xs = x + (b * c + k) * l;                   \
            BLOCK_SUM(T, l, gs[j], p1);                                                     \
            BLOCK_SUM(T, l, gs[j] * (xs[j] - mu), p2);                                      \
            s1 += p1;                                                                       \
            s2 += p2;                                                                       \
        }                                                                                   \
        sum_g[k] = (T)s1;                                                                   \
        sum_gxh[k] = (T)(s2 * (double)rstd[k]);                                             \
    }                                                                                       \
}                                                                                           \
                                                                                            \
void bn_grad_##NAME(const T *restrict g, const T *restrict x, ptrdiff_t n, ptrdiff_t c,    \
                    ptrdiff_t l, const T *restrict mean, const T *restrict rstd,            \
                    const T *restrict w, const T *restrict sum_g,                           \
                    const T *restrict sum_gxh, int training, T *restrict gx) {              \
    T cnt = (T)(n * l);                                                                     \
    for (ptrdiff_t b = 0; b < n; b++)                                                       \
        for (ptrdiff_t k = 0; k < c; k++) {                                                 \
            const T *gs = g + (b * c + k) * l, *xs = x + (b * c + k) * l;                   \
            T *out = gx + (b * c + k) * l;                                                  \
            T r = rstd[k], rw = w ? r * w[k] : r, mu = mean[k];                             \
            if (training) {                                                                 \
                T a = r * (sum_gxh[k] / cnt), m = sum_g[k] / cnt;                           \
                for (ptrdiff_t j = 0; j < l; j++)                                           \
                    out[j] = (gs[j] - ((xs[j] - mu) * a + m)) * rw;                         \
            } else {                                                                        \
                for (ptrdiff_t j = 0; j < l; j++) out[j] = gs[j] * rw;                      \
            }                                                                               \
        }                                                                                   \
}

DEFINE_BATCH_NORM(float, f32)
DEFINE_BATCH_NORM(double, f64)
