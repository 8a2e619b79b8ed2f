// From a validated LayerSpec to what the cells read (see packed_layer.hpp).
#include "cells/packed_layer.hpp"

#include <utility>

namespace lnfast {
namespace {

// Absent gains and shifts become 1 and 0, so the kernels need no branch.
Norm pack_norm(Norm n) {
  if (n.gamma.empty()) n.gamma.assign(n.size, 1.0f);
  if (n.beta.empty()) n.beta.assign(n.size, 0.0f);
  return n;
}

std::vector<Norm> pack_norms(const std::vector<Norm>& norms) {
  std::vector<Norm> out;
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

PackedLayer assemble_layer(const LayerSpec& s, PackedMatrix w_ih, PackedMatrix w_hh,
                           PackedMatrix w_hr) {
  PackedLayer L;
  L.type = s.type;
  L.input_size = s.input_size;
  L.hidden_size = s.hidden_size;
  L.rows = gate_count(s.type) * s.hidden_size;
  L.rows_padded = w_ih.rows;
  L.output_size = output_size(s);
  L.proj_rows_padded = s.proj_size > 0 ? w_hr.rows : 0;
  L.w_ih = std::move(w_ih);
  L.w_hh = std::move(w_hh);
  L.w_hr = std::move(w_hr);

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
  L.gru_reset = s.gru_reset;
  if (s.update_bias != 0.0f) L.z_shift.assign(s.hidden_size, s.update_bias);
  if (s.gru_reset == GruReset::Candidate) L.zeros.assign(s.hidden_size, 0.0f);
  return L;
}

}  // namespace lnfast
