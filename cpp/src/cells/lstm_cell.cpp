// LN-LSTM in all its placements (docs/math.md#lstm) and the plain LSTM, each with
// or without a projection of h.
#include "cells/cell_steps.hpp"
#include "cells/projections.hpp"
#include "parallel/split_gemm.hpp"

namespace lnfast {

void finish_lstm(const KernelTable& k, const PackedLayer& layer, float* xw,
                 float* state, float* h_out, float* scratch) {
  const int H = layer.hidden_size;
  float* h = state;
  float* c = state + layer.output_size;
  float* gates = finish_pre_activations(k, layer, xw, scratch);
  apply_norms(k, layer.gate_norms, gates, gates, false);
  const float* i = gates;
  const float* f = gates + H;
  const float* g = gates + 2 * H;
  const float* o = gates + 3 * H;
  k.lstm_cell(i, f, g, c, layer.forget_bias, H);

  float* h_new = new_hidden_buffer(layer, scratch);
  switch (layer.cell_norm) {
    case CellNorm::Output: {
      float* c_normed = scratch + 3 * layer.rows_padded;
      apply_norm(k, layer.c_norm, c, c_normed, false);
      k.lstm_hidden(o, c_normed, h_new, H);
      break;
    }
    case CellNorm::State:
      apply_norm(k, layer.c_norm, c, c, false);
      k.lstm_hidden(o, c, h_new, H);
      break;
    case CellNorm::None:
      k.lstm_hidden(o, c, h_new, H);
      break;
  }
  if (layer.proj_rows_padded > 0) {
    // The projection is one more GEMV through the same kernels; its
    // padded rows land past the P units that commit_hidden reads.
    float* projected = scratch + 4 * layer.rows_padded + H;
    split_gemm(k, layer.w_hr, h_new, H, 1, projected, layer.proj_rows_padded,
               false);
    h_new = projected;
  }
  commit_hidden(k, layer, h_new, h, h_out);
}

}  // namespace lnfast
