// From a validated LayerSpec to what the cells read (see packed_layer.hpp).
#include "cells/packed_layer.hpp"

#include <algorithm>

namespace lnfast {
std::vector<float> pack_panels(const std::vector<float>& w, int rows, int cols,
                               int panel, int block_panels) {
  const int padded = (rows + panel - 1) / panel * panel;
  const int panels = padded / panel;
  std::vector<float> out(static_cast<size_t>(padded) * cols, 0.0f);
  for (int p0 = 0; p0 < panels; p0 += block_panels) {
    const int in_block = std::min(block_panels, panels - p0);
    float* block = out.data() + static_cast<size_t>(p0) * panel * cols;
    for (int j = 0; j < in_block; ++j)
      for (int lane = 0; lane < panel; ++lane) {
        const int r = (p0 + j) * panel + lane;
        if (r >= rows) continue;  // padding rows stay 0
        for (int k = 0; k < cols; ++k)
          block[(static_cast<size_t>(k) * in_block + j) * panel + lane] =
              w[static_cast<size_t>(r) * cols + k];
      }
  }
  return out;
}

namespace {

PackedNorm pack_norm(const Norm& n) {
  PackedNorm p;
  p.offset = n.offset;
  p.size = n.size;
  p.gamma = n.gamma.empty() ? std::vector<float>(n.size, 1.0f) : n.gamma;
  p.beta = n.beta.empty() ? std::vector<float>(n.size, 0.0f) : n.beta;
  p.eps = n.eps;
  return p;
}

std::vector<PackedNorm> pack_norms(const std::vector<Norm>& norms) {
  std::vector<PackedNorm> out;
  for (const Norm& n : norms) out.push_back(pack_norm(n));
  return out;
}

std::vector<float> sum_or_either(const std::vector<float>& a,
                                 const std::vector<float>& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  std::vector<float> out(a);
  for (size_t i = 0; i < out.size(); ++i) out[i] += b[i];
  return out;
}

}  // namespace

PackedLayer pack_layer(const LayerSpec& s, const KernelTable& kernels) {
  PackedLayer L;
  L.type = s.type;
  L.input_size = s.input_size;
  L.hidden_size = s.hidden_size;
  L.rows = gate_count(s.type) * s.hidden_size;
  const int panel = kernels.panel_rows, block = kernels.block_panels;
  L.rows_padded = (L.rows + panel - 1) / panel * panel;
  L.w_ih = pack_panels(s.w_ih, L.rows, s.input_size, panel, block);
  L.w_hh = pack_panels(s.w_hh, L.rows, s.hidden_size, panel, block);

  const bool x_normed = !s.x_norms.empty();
  const bool h_normed = !s.h_norms.empty();
  if (s.type == CellType::GRU) {
    (x_normed ? L.x_post : L.x_init) = s.b_ih;
    (h_normed ? L.h_post : L.h_init) = s.b_hh;
  } else if (x_normed) {
    L.x_post = sum_or_either(s.b_ih, s.b_hh);
  } else if (h_normed) {
    L.x_init = s.b_ih;
    L.x_post = s.b_hh;
  } else {
    L.x_init = sum_or_either(s.b_ih, s.b_hh);
  }

  L.x_norms = pack_norms(s.x_norms);
  L.h_norms = pack_norms(s.h_norms);
  L.gate_norms = pack_norms(s.gate_norms);
  L.cell_norm = s.cell_norm;
  if (s.cell_norm != CellNorm::None) L.c_norm = pack_norm(s.c_norm);
  L.activation = s.activation;
  L.forget_bias = s.forget_bias;
  L.zoneout = s.zoneout;
  L.gru_paper_update = s.gru_paper_update;
  return L;
}

}  // namespace lnfast
