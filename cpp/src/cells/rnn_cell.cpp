// LN-RNN (paper eq. 4) and the plain RNN: h' = f([LN](W x + U h + b)).
#include "cells/cell_steps.hpp"
#include "cells/projections.hpp"

namespace lnfast {

void finish_rnn(const KernelTable& k, const PackedLayer& layer, float* xw,
                float* state, float* h_out, float* scratch) {
  const int H = layer.hidden_size;
  float* a = finish_pre_activations(k, layer, xw, scratch);
  apply_norms(k, layer.gate_norms, a, a, false);
  float* h_new = new_hidden_buffer(layer, scratch);
  if (layer.activation == Activation::Relu)
    k.relu(a, h_new, H);
  else
    k.tanh(a, h_new, H);
  commit_hidden(k, layer, h_new, state, h_out);
}

}  // namespace lnfast
