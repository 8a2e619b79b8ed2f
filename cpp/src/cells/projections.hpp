// Pieces every cell shares: segment layer norms, the two halves of the
// step around the recurrent GEMM, the zoneout blend.
//
// Scratch layout of a step (P = rows_padded): [0, P) the normalized input
// projection, [P, 2P) the recurrent projection when it is kept apart,
// [2P, 4P) cell-specific, then H floats for the new h.
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

// RNN and LSTM: the G*H pre-activations [LN_x](W x) + [LN_h](U h) + biases.
// The first half normalizes W x and says where U h goes; the second folds
// a separately normalized U h in and returns the pre-activations.
float* pre_activation_buffer(const PackedLayer& layer, float* xw,
                             float* scratch);
float* finish_pre_activations(const KernelTable& k, const PackedLayer& layer,
                              float* xw, float* scratch);

// Writes the step's new h (with zoneout) into the state and into h_out.
void commit_hidden(const KernelTable& k, const PackedLayer& layer,
                   float* h_new, float* h_state, float* h_out);

}  // namespace lnfast
