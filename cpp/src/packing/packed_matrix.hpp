// Weight matrices laid out as the GEMM kernels read them, in each storage
// format. Sits just above kernels/: it needs their panel geometry, and
// everything that multiplies by a weight matrix (parallel/, cells/) needs it.
#pragma once

#include <cstddef>
#include <vector>

#include "kernels/kernel_table.hpp"
#include "lnfast/spec.hpp"

namespace lnfast {

// A weight matrix in GEMM panels, in one of the storage formats.
struct PackedMatrix {
  WeightFormat format = WeightFormat::F32;
  int rows = 0;  // padded to whole panels
  int cols = 0;
  int stored_cols = 0;  // cols, or rounded up to whole groups along k
  std::vector<float> f32;
  std::vector<unsigned short> bf16;
  std::vector<signed char> i8;
  std::vector<float> row_scales;  // int8 only, one per padded row
  // int8 only: multiplied by int8-rounded activations (gemm_i8_act8).
  bool int8_activations = false;

  const void* data() const;
  size_t bytes() const;
};

// Packs a row-major (rows x cols) matrix into panels of the given format,
// for int8 with int8_activations in the layout gemm_i8_act8 reads.
PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format,
                         bool int8_activations = false);

// Row panels of `panel` rows (one SIMD register), grouped in blocks of
// `block_panels` panels stored k-major with the block's panels side by side:
// in a block of n panels starting at panel p0, W[(p0 + j)*panel + lane][k]
// sits at block + (k*n + j)*panel + lane. Rows past the end are 0. A step
// then reads the matrix as one sequential stream, with no horizontal sums.
std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels);

}  // namespace lnfast
