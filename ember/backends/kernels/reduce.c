/* Sums of contiguous float32/float64 blocks (NOTE [ CPU reduction kernels ] in cpu.py).
 *
 * total_T(x, n): the sum of n values, as a double.
 * rows_T(x, rows, cols, out): out[r] = sum of the `cols` values of row r.
 * cols_T(x, rows, cols, ld, out, acc, total): out[c] = sum over `rows` rows of column c, rows
 *   `ld` values apart; `acc` and `total` are scratch for `cols` values and doubles.
 *
 * Sums go by BLOCK_SUM (sums.h); column sums gather BLOCK / LANES rows at a time in the
 * input's type (one vectorised add per row), then add into doubles.
 */
#include "sums.h"

#define DEFINE_SUMS(T, NAME)                                                                \
double total_##NAME(const T *x, ptrdiff_t n) {                                              \
    double s;                                                                               \
    BLOCK_SUM(T, n, x[j], s);                                                               \
    return s;                                                                               \
}                                                                                           \
                                                                                            \
void rows_##NAME(const T *x, ptrdiff_t rows, ptrdiff_t cols, T *out) {                     \
    for (ptrdiff_t r = 0; r < rows; r++) out[r] = (T)total_##NAME(x + r * cols, cols);       \
}                                                                                           \
                                                                                            \
void cols_##NAME(const T *restrict x, ptrdiff_t rows, ptrdiff_t cols, ptrdiff_t ld,        \
                  T *restrict out, T *restrict acc, double *restrict total) {            \
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
