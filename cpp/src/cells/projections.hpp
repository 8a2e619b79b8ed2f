// Pieces every cell shares: segment layer norms, the two halves of the
// step around the recurrent GEMM, the zoneout blend.
//
// Scratch layout of a step (P = rows_padded). RNN and LSTM normalize the
// input projection in place, over xw, and keep a separately normalized
// U h in [0, P); the new h follows at P, cell-specific buffers in [2P, 4P).
// A GRU keeps both projections apart: [0, P) the normalized W x, [P, 2P)
// U h, [2P, 4P) cell-specific, then H floats for the new h. (In place, a
// batch of streams touches one P-sized buffer fewer per stream between
// its GEMMs, and its steps' buffers lie together.)
#pragma once

#include "cells/packed_layer.hpp"

namespace lnfast {

// out[seg] (+)= LN(in[seg]) over one norm's segment. in == out is allowed.
void apply_norm(const KernelTable& k, const Norm& norm, const float* in,
                float* out, bool accumulate);

// out[seg] (+)= LN_seg(in[seg]) for every norm whose segment starts in
// [lo, hi). in == out is allowed.
void apply_norms(const KernelTable& k, const std::vector<Norm>& norms,
                 const float* in, float* out, bool accumulate, int lo = 0,
                 int hi = 1 << 30);

// RNN and LSTM: the G*H pre-activations [LN_x](W x) + [LN_h](U h) + biases,
// in xw. begin_step normalizes W x there and says where U h goes; this
// folds a separately normalized U h in and returns the pre-activations.
float* finish_pre_activations(const KernelTable& k, const PackedLayer& layer,
                              float* xw, float* scratch);
// Where RNN and LSTM steps put the new h.
inline float* new_hidden_buffer(const PackedLayer& layer, float* scratch) {
  return scratch + layer.rows_padded;
}

// Writes the step's new h (with zoneout) into the state and into h_out.
void commit_hidden(const KernelTable& k, const PackedLayer& layer,
                   float* h_new, float* h_state, float* h_out);

}  // namespace lnfast
