// The packed GEMM, with its output rows split across the worker pool when
// the matrix is large enough to repay the hand-off.
#pragma once

#include "kernels/kernel_table.hpp"
#include "packing/packed_matrix.hpp"

namespace lnfast {

// y (+)= W x for `batch` inputs, W in any storage format.
void split_gemm(const KernelTable& k, const PackedMatrix& w, const float* x,
                int ldx, int batch, float* y, int ldy, bool accumulate);

}  // namespace lnfast
