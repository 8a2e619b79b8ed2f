// LN-GRU in all its placements (docs/math.md#gru) and the plain GRU. The reset gate
// multiplies the recurrent projection of the candidate (or, DreamerV3's
// way, the whole candidate after its norm), so U h is kept apart from W x
// here, unlike in the RNN and LSTM.
#include "cells/cell_steps.hpp"
#include "cells/projections.hpp"

namespace lnfast {

void finish_gru(const KernelTable& k, const PackedLayer& layer, float* xw,
                float* state, float* h_out, float* scratch) {
  const int H = layer.hidden_size;
  const int P = layer.rows_padded;
  float* h = state;
  const float* xp = layer.x_norms.empty() ? xw : scratch;
  float* hp = scratch + P;
  float* s = scratch + 2 * P;
  float* h_new = scratch + 3 * P;
  if (!layer.h_norms.empty()) {
    apply_norms(k, layer.h_norms, hp, hp, false);
    if (!layer.h_post.empty()) k.add(hp, layer.h_post.data(), hp, layer.rows);
  }

  const float* r = s;
  float* z = s + H;
  float* n = s + 2 * H;
  if (layer.gru_reset == GruReset::Candidate) {
    // s = [LN](W x + U h + b) whole, then n = tanh(r * s_n).
    k.add(xp, hp, s, 3 * H);
    apply_norms(k, layer.gate_norms, s, s, false);
    if (!layer.z_shift.empty()) k.add(z, layer.z_shift.data(), z, H);
    k.sigmoid(s, s, 2 * H);
    k.mul_add(layer.zeros.data(), r, n, n, H);
  } else {
    // r, z
    k.add(xp, hp, s, 2 * H);
    apply_norms(k, layer.gate_norms, s, s, false, 0, 2 * H);
    if (!layer.z_shift.empty()) k.add(z, layer.z_shift.data(), z, H);
    k.sigmoid(s, s, 2 * H);
    // n = tanh([LN](xn + r * hn))
    k.mul_add(xp + 2 * H, r, hp + 2 * H, n, H);
    apply_norms(k, layer.gate_norms, s, s, false, 2 * H, 3 * H);
  }
  k.tanh(n, n, H);

  if (layer.gru_paper_update)
    k.lerp(z, h, n, h_new, H);  // (1 - z) h + z n
  else
    k.lerp(z, n, h, h_new, H);  // (1 - z) n + z h
  commit_hidden(k, layer, h_new, h, h_out);
}

}  // namespace lnfast
