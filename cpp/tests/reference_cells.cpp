#include "reference_cells.hpp"

#include <algorithm>
#include <cmath>

namespace lnfast_test {

using lnfast::CellNorm;
using lnfast::CellType;
using lnfast::LayerSpec;
using lnfast::Norm;
using Vec = std::vector<double>;

namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

Vec matvec(const std::vector<float>& w, int rows, const Vec& x) {
  Vec out(rows, 0.0);
  const size_t cols = x.size();
  for (int r = 0; r < rows; ++r)
    for (size_t k = 0; k < cols; ++k) out[r] += double(w[r * cols + k]) * x[k];
  return out;
}

// The norm over its segment of v, in place.
void layer_norm(const Norm& n, Vec& v) {
  double mean = 0.0, var = 0.0;
  for (int i = 0; i < n.size; ++i) mean += v[n.offset + i];
  mean /= n.size;
  for (int i = 0; i < n.size; ++i) var += (v[n.offset + i] - mean) * (v[n.offset + i] - mean);
  var /= n.size;
  const double denom = var + n.eps;
  for (int i = 0; i < n.size; ++i) {
    double& x = v[n.offset + i];
    x = denom > 0 ? (x - mean) / std::sqrt(denom) : 0.0;
    if (!n.gamma.empty()) x *= n.gamma[i];
    if (!n.beta.empty()) x += n.beta[i];
  }
}

// Norms whose segments start in [lo, hi).
void norms_in(const std::vector<Norm>& norms, Vec& v, int lo = 0, int hi = 1 << 30) {
  for (const Norm& n : norms)
    if (n.offset >= lo && n.offset < hi) layer_norm(n, v);
}

void add_bias(const std::vector<float>& b, Vec& v) {
  for (size_t i = 0; i < b.size(); ++i) v[i] += b[i];
}

// [norms](W x) + b: a normalized projection gets its bias after the norm,
// a plain one before it (the same sum).
Vec projection(const std::vector<float>& w, const std::vector<float>& b,
               const std::vector<Norm>& norms, int rows, const Vec& x) {
  Vec out = matvec(w, rows, x);
  norms_in(norms, out);
  add_bias(b, out);
  return out;
}

}  // namespace

ReferenceStack::ReferenceStack(const std::vector<LayerSpec>& layers) {
  for (const LayerSpec& s : layers)
    layers_.push_back({&s, Vec(lnfast::output_size(s), 0.0), Vec(s.hidden_size, 0.0)});
}

const Vec& ReferenceStack::step(const float* x) {
  Vec in(x, x + layers_.front().spec->input_size);
  for (Layer& L : layers_) {
    step_layer(L, in);
    in = L.h;
  }
  return layers_.back().h;
}

void ReferenceStack::step_layer(Layer& L, const Vec& x) {
  const LayerSpec& s = *L.spec;
  const int H = s.hidden_size, G = lnfast::gate_count(s.type) * H;
  const Vec xp = projection(s.w_ih, s.b_ih, s.x_norms, G, x);
  const Vec hp = projection(s.w_hh, s.b_hh, s.h_norms, G, L.h);
  Vec h_new(H);
  if (s.type == CellType::GRU) {
    Vec a(G);
    if (s.gru_reset == lnfast::GruReset::Candidate) {
      // The whole sum, normalized, then n = tanh(r * s_n).
      for (int i = 0; i < G; ++i) a[i] = xp[i] + hp[i];
      norms_in(s.gate_norms, a);
      for (int i = 0; i < H; ++i) a[2 * H + i] *= sigmoid(a[i]);
    } else {
      for (int i = 0; i < 2 * H; ++i) a[i] = xp[i] + hp[i];
      norms_in(s.gate_norms, a, 0, 2 * H);
      for (int i = 0; i < H; ++i) a[2 * H + i] = xp[2 * H + i] + sigmoid(a[i]) * hp[2 * H + i];
      norms_in(s.gate_norms, a, 2 * H, 3 * H);
    }
    for (int i = 0; i < H; ++i) {
      const double z = sigmoid(a[H + i] + s.update_bias), n = std::tanh(a[2 * H + i]);
      h_new[i] = s.gru_paper_update ? (1 - z) * L.h[i] + z * n : (1 - z) * n + z * L.h[i];
    }
  } else {
    Vec a(G);
    for (int i = 0; i < G; ++i) a[i] = xp[i] + hp[i];
    norms_in(s.gate_norms, a);
    if (s.type == CellType::RNN) {
      for (int i = 0; i < H; ++i)
        h_new[i] = s.activation == lnfast::Activation::Relu ? std::max(a[i], 0.0) : std::tanh(a[i]);
    } else {
      for (int i = 0; i < H; ++i)
        L.c[i] = sigmoid(a[H + i] + s.forget_bias) * L.c[i] + sigmoid(a[i]) * std::tanh(a[2 * H + i]);
      Vec c_out = L.c;
      if (s.cell_norm != CellNorm::None) layer_norm(s.c_norm, c_out);
      if (s.cell_norm == CellNorm::State) L.c = c_out;
      for (int i = 0; i < H; ++i) h_new[i] = sigmoid(a[3 * H + i]) * std::tanh(c_out[i]);
    }
  }
  if (s.proj_size > 0) h_new = matvec(s.w_hr, s.proj_size, h_new);
  for (size_t i = 0; i < L.h.size(); ++i)
    L.h[i] = s.zoneout * L.h[i] + (1 - s.zoneout) * h_new[i];
}

}  // namespace lnfast_test
