// Pieces every cell shares: segment layer norms, the recurrent projection
// and its combination with the input projection, the zoneout blend.
#pragma once

#include "cells/packed_layer.hpp"

namespace lnfast {

// out[seg] (+)= LN(in[seg]) over one norm's segment. in == out is allowed.
void apply_norm(const KernelTable& k, const PackedNorm& norm, const float* in,
                float* out, bool accumulate);

// out[seg] (+)= LN_seg(in[seg]) for every norm whose segment starts in
// [lo, hi). in == out is allowed.
void apply_norms(const KernelTable& k, const std::vector<PackedNorm>& norms,
                 const float* in, float* out, bool accumulate, int lo = 0,
                 int hi = 1 << 30);

// The G*H pre-activations of an RNN or LSTM: [LN_x](W x) + [LN_h](U h) +
// biases, per the layer's placement. Returns a pointer into xw or scratch.
float* combined_preactivations(const KernelTable& k, const PackedLayer& layer,
                               float* xw, const float* h, float* scratch);

// Writes the step's new h (with zoneout) into the state and into h_out.
void commit_hidden(const KernelTable& k, const PackedLayer& layer,
                   float* h_new, float* h_state, float* h_out);

}  // namespace lnfast
