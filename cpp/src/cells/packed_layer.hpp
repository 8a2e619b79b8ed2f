// A layer as the cells read it: weights in GEMM panels, absent gains and
// shifts filled in (1 and 0, which change no bit), biases pre-placed where
// they cost nothing (folded into the GEMM's starting value) or after a norm.
#pragma once

#include <vector>

#include "lnfast/spec.hpp"
#include "packing/packed_matrix.hpp"

namespace lnfast {

struct PackedLayer {
  CellType type;
  int input_size, hidden_size;
  int rows;         // G * H
  int rows_padded;  // rows rounded up to the kernel's panel
  int output_size;  // h's units: proj_size, or hidden_size
  int proj_rows_padded;  // output_size rounded up when projected, else 0

  PackedMatrix w_ih;  // rows_padded x input_size
  PackedMatrix w_hh;  // rows_padded x output_size
  PackedMatrix w_hr;  // proj_rows_padded x hidden_size, when projected

  // The input GEMM starts from x_init (empty: from 0). For RNN/LSTM every
  // bias that no norm separates is folded in here; the rest is x_post,
  // added once the x/h projections are combined. GRUs keep h separate
  // (the reset gate multiplies it), so they also get h_init/h_post.
  std::vector<float> x_init, x_post, h_init, h_post;

  // The spec's norms with every gamma and beta present.
  std::vector<Norm> x_norms, h_norms, gate_norms;
  CellNorm cell_norm;
  Norm c_norm;
  Activation activation;
  float forget_bias, zoneout;
  bool gru_paper_update;
  GruReset gru_reset;
  // GRU: H copies of update_bias (empty when it is 0), added to z's
  // pre-activation; with GruReset::Candidate, H zeros, so that r * s_n is
  // the existing mul_add kernel (0 + r * s_n, exact).
  std::vector<float> z_shift, zeros;
};

// A layer's weight matrices, packed: what a model file holds per layer.
// w_hr is empty (rows 0) without a projection.
struct LayerMatrices {
  PackedMatrix w_ih, w_hh, w_hr;
};

// The layer of a validated `structure` (its w_ih, w_hh and w_hr are not
// read) around its matrices packed already, for the kernels of one layout;
// w_hr is an empty PackedMatrix when not projected.
PackedLayer assemble_layer(const LayerSpec& structure, PackedMatrix w_ih, PackedMatrix w_hh,
                           PackedMatrix w_hr);

// Floats of scratch one step of this layer needs.
inline size_t layer_scratch_floats(const PackedLayer& layer) {
  return 4 * static_cast<size_t>(layer.rows_padded) + layer.hidden_size +
         layer.proj_rows_padded;
}

}  // namespace lnfast
