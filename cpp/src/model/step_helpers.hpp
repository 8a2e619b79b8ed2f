// Helpers the single-stream and many-stream steps share.
#pragma once

#include <cstddef>

#include "cells/packed_layer.hpp"

namespace lnfast {

// Throws std::invalid_argument naming the first NaN or Inf.
void require_finite(const float* x, size_t n, const char* what);

// The layer's input projection for `batch` inputs (rows ldx apart): W x,
// started from x_init, written to rows ldy apart.
void project_inputs(const KernelTable& k, const PackedLayer& L, const float* x,
                    int ldx, int batch, float* y, int ldy);

}  // namespace lnfast
