// A layer as the cells read it: weights in GEMM panels, absent gains and
// shifts filled in (1 and 0, which change no bit), biases pre-placed where
// they cost nothing (folded into the GEMM's starting value) or after a norm.
#pragma once

#include <vector>

#include "kernels/kernel_table.hpp"
#include "lnfast/spec.hpp"

namespace lnfast {

struct PackedNorm {
  int offset = 0;
  int size = 0;
  std::vector<float> gamma;
  std::vector<float> beta;
  float eps = 0.0f;
};

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

  const void* data() const;
  size_t bytes() const;
};

// Packs a row-major (rows x cols) matrix into panels of the given format.
PackedMatrix pack_matrix(const std::vector<float>& w, int rows, int cols,
                         const KernelTable& kernels, WeightFormat format);

struct PackedLayer {
  CellType type;
  int input_size, hidden_size;
  int rows;         // G * H
  int rows_padded;  // rows rounded up to the kernel's panel

  PackedMatrix w_ih;  // rows_padded x input_size
  PackedMatrix w_hh;  // rows_padded x hidden_size

  // The input GEMM starts from x_init (empty: from 0). For RNN/LSTM every
  // bias that no norm separates is folded in here; the rest is x_post,
  // added once the x/h projections are combined. GRUs keep h separate
  // (the reset gate multiplies it), so they also get h_init/h_post.
  std::vector<float> x_init, x_post, h_init, h_post;

  std::vector<PackedNorm> x_norms, h_norms, gate_norms;
  CellNorm cell_norm;
  PackedNorm c_norm;
  Activation activation;
  float forget_bias, zoneout;
  bool gru_paper_update;
};

// Row panels of `panel` rows (one SIMD register), grouped in blocks of
// `block_panels` panels stored k-major with the block's panels side by side:
// in a block of n panels starting at panel p0, W[(p0 + j)*panel + lane][k]
// sits at block + (k*n + j)*panel + lane. Rows past the end are 0. A step
// then reads the matrix as one sequential stream, with no horizontal sums.
std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels);

PackedLayer pack_layer(const LayerSpec& spec, const KernelTable& kernels,
                       WeightFormat format);

// Floats of scratch one step of this layer needs.
inline size_t layer_scratch_floats(const PackedLayer& layer) {
  return 4 * static_cast<size_t>(layer.rows_padded) + layer.hidden_size;
}

}  // namespace lnfast
