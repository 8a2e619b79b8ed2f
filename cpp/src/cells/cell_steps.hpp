// One time step of one layer, in two halves around the recurrent GEMM.
//
// `xw` holds the layer's input projection W x (+ x_init) for this step and
// may be overwritten; `state` is the layer's slice of the stream state (h,
// then c for an LSTM); the new h goes to the state and to h_out. Between
// the halves, U h must be written (or added) into the target begin_step
// names: step_layer does that for one stream, a batched caller does it for
// many streams with one GEMM and gets the very same bits.
#pragma once

#include "cells/packed_layer.hpp"
#include "parallel/split_gemm.hpp"

namespace lnfast {

struct RecurrentTarget {
  float* y;         // where U h goes (rows_padded floats)
  bool accumulate;  // add to y instead of overwriting it
};

RecurrentTarget begin_step(const KernelTable& k, const PackedLayer& layer,
                           float* xw, float* scratch);
void finish_step(const KernelTable& k, const PackedLayer& layer, float* xw,
                 float* state, float* h_out, float* scratch);

void finish_rnn(const KernelTable& k, const PackedLayer& layer, float* xw,
                float* state, float* h_out, float* scratch);
void finish_lstm(const KernelTable& k, const PackedLayer& layer, float* xw,
                 float* state, float* h_out, float* scratch);
void finish_gru(const KernelTable& k, const PackedLayer& layer, float* xw,
                float* state, float* h_out, float* scratch);

inline void step_layer(const KernelTable& k, const PackedLayer& layer,
                       float* xw, float* state, float* h_out, float* scratch) {
  const RecurrentTarget target = begin_step(k, layer, xw, scratch);
  split_gemm(k, layer.w_hh, state, layer.output_size, 1, target.y,
             layer.rows_padded, target.accumulate);
  finish_step(k, layer, xw, state, h_out, scratch);
}

}  // namespace lnfast
