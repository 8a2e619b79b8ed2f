// The packed GEMM, with its output rows split across the worker pool when
// the matrix is large enough to repay the hand-off.
#pragma once

#include "kernels/kernel_table.hpp"

namespace lnfast {

void split_gemm(const KernelTable& k, const float* packed, int rows, int cols,
                const float* x, int ldx, int batch, float* y, int ldy,
                bool accumulate);

}  // namespace lnfast
