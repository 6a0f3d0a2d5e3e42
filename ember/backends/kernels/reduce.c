/* Sums of contiguous float32/float64 blocks (NOTE [ CPU reduction kernels ] in cpu.py).
 *
 * total_T(x, n): the sum of n values, as a double.
 * rows_T(x, rows, cols, out): out[r] = sum of the `cols` values of row r.
 * cols_T(x, rows, cols, ld, out, acc, total): out[c] = sum over `rows` rows of column c, rows
 *   `ld` values apart; `acc` and `total` are scratch for `cols` values and doubles.
 *
 * Both accumulate LANES (or a block of columns) independent partial sums in the input's type
 * over blocks of BLOCK values (column sums: each column over BLOCK / LANES rows), so that the
 * compiler vectorises them without reassociating anything, and add each block's sum into a
 * double: the rounding error is that of a
 * BLOCK/LANES-term sum, not of an n-term one. NaN and infinities propagate as in any sum.
 */
#include <stddef.h>

#define LANES 64
#define BLOCK 2048

#define DEFINE_SUMS(T, NAME)                                                                \
double total_##NAME(const T *x, ptrdiff_t n) {                                        \
    double total = 0.0;                                                                     \
    while (n > 0) {                                                                         \
        ptrdiff_t m = n < BLOCK ? n : BLOCK, i = 0;                                         \
        T acc[LANES] = {0};                                                                 \
        for (; i + LANES <= m; i += LANES)                                                  \
            for (int k = 0; k < LANES; k++) acc[k] += x[i + k];                             \
        for (int k = 0; i < m; i++, k++) acc[k] += x[i];                                    \
        for (int w = LANES / 2; w > 0; w /= 2)                                              \
            for (int k = 0; k < w; k++) acc[k] += acc[k + w];                               \
        total += (double)acc[0];                                                            \
        x += m;                                                                             \
        n -= m;                                                                             \
    }                                                                                       \
    return total;                                                                           \
}                                                                                           \
                                                                                            \
void rows_##NAME(const T *x, ptrdiff_t rows, ptrdiff_t cols, T *out) {                     \
    for (ptrdiff_t r = 0; r < rows; r++) out[r] = (T)total_##NAME(x + r * cols, cols);       \
}                                                                                           \
                                                                                            \
void cols_##NAME(const T *restrict x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld,        \
                  T *restrict out, T *restrict acc, double *restrict total) {                                                \
    for (ptrdiff_t c = 0; c < cols; c++) total[c] = 0.0;                                    \
    for (ptrdiff_t r0 = 0; r0 < rows; r0 += BLOCK / LANES) {                                \
        ptrdiff_t h = rows - r0 < BLOCK / LANES ? rows - r0 : BLOCK / LANES;                \
        for (ptrdiff_t c = 0; c < cols; c++) acc[c] = 0;                                    \
        for (ptrdiff_t r = r0; r < r0 + h; r++) {                                           \
            const T *p = x + r * ld;                                                        \
            for (ptrdiff_t c = 0; c < cols; c++) acc[c] += p[c];                            \
        }                                                                                   \
        for (ptrdiff_t c = 0; c < cols; c++) total[c] += (double)acc[c];                    \
    }                                                                                       \
    for (ptrdiff_t c = 0; c < cols; c++) out[c] = (T)total[c];                              \
}

DEFINE_SUMS(float, f32)
DEFINE_SUMS(double, f64)
