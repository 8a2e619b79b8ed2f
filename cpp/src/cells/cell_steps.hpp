// One time step of one layer. `xw` holds the layer's input projection
// W x (+ x_init) for this step and may be overwritten; `state` is the
// layer's slice of the stream state (h, then c for an LSTM); the new h is
// written to the state and to h_out.
#pragma once

#include "cells/packed_layer.hpp"

namespace lnfast {

void step_rnn(const KernelTable& k, const PackedLayer& layer, float* xw,
              float* state, float* h_out, float* scratch);
void step_lstm(const KernelTable& k, const PackedLayer& layer, float* xw,
               float* state, float* h_out, float* scratch);
void step_gru(const KernelTable& k, const PackedLayer& layer, float* xw,
              float* state, float* h_out, float* scratch);

inline void step_layer(const KernelTable& k, const PackedLayer& layer,
                       float* xw, float* state, float* h_out, float* scratch) {
  switch (layer.type) {
    case CellType::RNN: return step_rnn(k, layer, xw, state, h_out, scratch);
    case CellType::LSTM: return step_lstm(k, layer, xw, state, h_out, scratch);
    case CellType::GRU: return step_gru(k, layer, xw, state, h_out, scratch);
  }
}

}  // namespace lnfast
