// The first half of every cell's step, and the dispatch of the second.
#include <cstring>

#include "cells/cell_steps.hpp"
#include "cells/projections.hpp"

namespace lnfast {

RecurrentTarget begin_step(const KernelTable& k, const PackedLayer& layer,
                           float* xw, float* scratch) {
  if (layer.type == CellType::GRU) {
    float* recurrent = scratch + layer.rows_padded;
    // The reset gate multiplies U h's candidate part, so U h stays apart.
    if (!layer.x_norms.empty()) {
      apply_norms(k, layer.x_norms, xw, scratch, false);
      if (!layer.x_post.empty())
        k.add(scratch, layer.x_post.data(), scratch, layer.rows);
    }
    const bool from_bias = !layer.h_init.empty();
    if (from_bias)
      std::memcpy(recurrent, layer.h_init.data(), sizeof(float) * layer.rows);
    return {recurrent, from_bias};
  }
  if (!layer.x_norms.empty()) apply_norms(k, layer.x_norms, xw, xw, false);
  // A normalized U h needs its own buffer; otherwise it adds straight into
  // the pre-activations, continuing the same FMA chains as W x.
  if (!layer.h_norms.empty()) return {scratch, false};
  return {xw, true};
}

void finish_step(const KernelTable& k, const PackedLayer& layer, float* xw,
                 float* state, float* h_out, float* scratch) {
  switch (layer.type) {
    case CellType::RNN: return finish_rnn(k, layer, xw, state, h_out, scratch);
    case CellType::LSTM: return finish_lstm(k, layer, xw, state, h_out, scratch);
    case CellType::GRU: return finish_gru(k, layer, xw, state, h_out, scratch);
  }
}

}  // namespace lnfast
