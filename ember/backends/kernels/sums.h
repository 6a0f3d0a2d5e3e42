/* BLOCK_SUM(T, n, EXPR, result): result (a double) = the sum of EXPR over j in [0, n).
 *
 * EXPR, of type T, reads index j. The values are summed in blocks of BLOCK: within a block
 * into LANES independent partial sums of type T (so the compiler vectorises them without
 * reassociating anything), which are then added pairwise; each block's sum is added into a
 * double. The rounding error is that of a BLOCK/LANES-term sum, not of an n-term one; NaN and
 * infinities propagate as in any sum.
 */
#ifndef EMBER_SUMS_H
#define EMBER_SUMS_H

#include <stddef.h>

#ifndef LANES
#define LANES 64
#endif
#define BLOCK 2048

#define BLOCK_SUM(T, n, EXPR, result)                                                       \
    do {                                                                                    \
        double total_ = 0.0;                                                                \
        for (ptrdiff_t b_ = 0; b_ < (n); b_ += BLOCK) {                                     \
            ptrdiff_t e_ = (n) - b_ < BLOCK ? (n) : b_ + BLOCK, i_ = b_;                    \
            T acc_[LANES] = {0};                                                            \
            for (; i_ + LANES <= e_; i_ += LANES)                                           \
                for (int k_ = 0; k_ < LANES; k_++) {                                        \
                    ptrdiff_t j = i_ + k_;                                                  \
                    acc_[k_] += (EXPR);                                                     \
                }                                                                           \
            for (int k_ = 0; i_ < e_; i_++, k_++) {                                         \
                ptrdiff_t j = i_;                                                           \
                acc_[k_] += (EXPR);                                                         \
            }                                                                               \
            for (int w_ = LANES / 2; w_ > 0; w_ /= 2)                                       \
                for (int k_ = 0; k_ < w_; k_++) acc_[k_] += acc_[k_ + w_];                  \
            total_ += (double)acc_[0];                                                      \
        }                                                                                   \
        (result) = total_;                                                                  \
    } while (0)

#endif
