#include "cell_variants.hpp"

#include <cmath>
#include <stdexcept>

#include "test_random.hpp"

namespace lnfast_test {

using lnfast::Activation;
using lnfast::CellNorm;
using lnfast::CellType;
using lnfast::LayerSpec;
using lnfast::Norm;

const char* const kVariants[20] = {
    "rnn_plain", "rnn_relu_plain", "rnn_ln", "rnn_ln_relu", "rnn_separate",
    "lstm_plain", "lstm_plain_nobias", "lstm_separate_state", "lstm_separate_output_gainonly",
    "lstm_separate_nocellnorm", "lstm_per_gate_state", "lstm_per_gate_output_forget",
    "gru_plain", "gru_separate", "gru_paper", "gru_per_gate", "gru_separate_zoneout",
    "gru_candidate_joint", "gru_candidate_plain", "gru_candidate_per_gate"};

namespace {

struct NormOptions {
  bool gain = true, shift = true;
  float eps = 1e-5f;
  // A norm on U h sets the recurrent gain; 0.5 keeps random cells in the
  // contracting regime trained models sit in (gains near 1 make several
  // variants chaotic, and then float32 cannot track float64 at all).
  float gain_scale = 1.0f;
};

Norm make_norm(std::mt19937& rng, int offset, int size, NormOptions o = {}) {
  Norm n;
  n.offset = offset;
  n.size = size;
  n.eps = o.eps;
  if (o.gain) {
    n.gamma = normal_vector(rng, size, 1.0, 0.3);
    for (float& g : n.gamma) g *= o.gain_scale;
  }
  if (o.shift) n.beta = normal_vector(rng, size, 0.0, 0.3);
  return n;
}

// PyTorch's default initialisation scale for the recurrent matrix.
void fill_weights(LayerSpec& s, std::mt19937& rng, bool b_ih, bool b_hh) {
  const int G = lnfast::gate_count(s.type) * s.hidden_size;
  const double scale = 1.0 / std::sqrt(double(s.hidden_size));
  s.w_ih = uniform_vector(rng, static_cast<size_t>(G) * s.input_size, -2 * scale, 2 * scale);
  s.w_hh = uniform_vector(rng, static_cast<size_t>(G) * s.hidden_size, -scale, scale);
  if (b_ih) s.b_ih = uniform_vector(rng, G, -scale, scale);
  if (b_hh) s.b_hh = uniform_vector(rng, G, -scale, scale);
}

std::vector<Norm> per_gate(std::mt19937& rng, int gates, int H, NormOptions o = {}) {
  std::vector<Norm> out;
  for (int g = 0; g < gates; ++g) out.push_back(make_norm(rng, g * H, H, o));
  return out;
}

}  // namespace

LayerSpec make_layer(const std::string& kind, int I, int H, std::mt19937& rng) {
  LayerSpec s;
  s.type = kind.rfind("lstm", 0) == 0 ? CellType::LSTM
           : kind.rfind("gru", 0) == 0 ? CellType::GRU : CellType::RNN;
  s.input_size = I;
  s.hidden_size = H;
  const int G = lnfast::gate_count(s.type) * H;
  const bool plain_bias = kind != "rnn_ln" && kind != "lstm_plain_nobias" &&
                          kind != "lstm_separate_state" && kind != "gru_paper";
  const bool no_hh_bias = kind == "lstm_separate_output_gainonly" ||
                          kind == "lstm_per_gate_output_forget";
  fill_weights(s, rng, plain_bias, plain_bias && !no_hh_bias);
  NormOptions recurrent;
  recurrent.gain_scale = 0.5f;
  auto separate = [&](NormOptions x, NormOptions h) {
    s.x_norms = {make_norm(rng, 0, G, x)};
    s.h_norms = {make_norm(rng, 0, G, h)};
  };
  if (kind == "rnn_plain" || kind == "lstm_plain" || kind == "lstm_plain_nobias" ||
      kind == "gru_plain") {
  } else if (kind == "rnn_relu_plain") {
    for (float& v : s.w_ih) v *= 0.5f;
    for (float& v : s.w_hh) v *= 0.5f;
    s.activation = Activation::Relu;
  } else if (kind == "rnn_ln") {
    s.gate_norms = {make_norm(rng, 0, H)};
  } else if (kind == "rnn_ln_relu") {
    NormOptions o;
    o.eps = 1e-3f;
    s.gate_norms = {make_norm(rng, 0, H, o)};
    s.activation = Activation::Relu;
  } else if (kind == "rnn_separate") {
    NormOptions h = recurrent;
    h.shift = false;
    separate({}, h);
  } else if (kind == "lstm_separate_state") {
    separate({}, recurrent);
    s.cell_norm = CellNorm::State;
    s.c_norm = make_norm(rng, 0, H);
  } else if (kind == "lstm_separate_output_gainonly") {
    NormOptions x, h = recurrent;
    x.shift = h.shift = false;
    separate(x, h);
    s.cell_norm = CellNorm::Output;
    s.c_norm = make_norm(rng, 0, H);
    s.zoneout = 0.1f;
  } else if (kind == "lstm_separate_nocellnorm") {
    NormOptions x, h = recurrent;
    x.eps = 0.0f;
    h.eps = 1e-12f;
    separate(x, h);
  } else if (kind == "lstm_per_gate_state") {
    s.gate_norms = per_gate(rng, 4, H);
    s.cell_norm = CellNorm::State;
    s.c_norm = make_norm(rng, 0, H);
  } else if (kind == "lstm_per_gate_output_forget") {
    NormOptions o;
    o.eps = 1e-3f;
    s.gate_norms = per_gate(rng, 4, H, o);
    s.cell_norm = CellNorm::Output;
    s.c_norm = make_norm(rng, 0, H, o);
    s.forget_bias = 1.0f;
  } else if (kind == "gru_separate" || kind == "gru_separate_zoneout") {
    NormOptions x, h = recurrent;
    if (kind == "gru_separate") x.shift = h.shift = false;
    separate(x, h);
    if (kind == "gru_separate_zoneout") s.zoneout = 0.25f;
  } else if (kind == "gru_paper") {
    s.x_norms = {make_norm(rng, 0, 2 * H), make_norm(rng, 2 * H, H)};
    s.h_norms = {make_norm(rng, 0, 2 * H, recurrent), make_norm(rng, 2 * H, H, recurrent)};
    s.gru_paper_update = true;
  } else if (kind == "gru_per_gate") {
    s.gate_norms = per_gate(rng, 3, H);
  } else if (kind == "gru_candidate_joint" || kind == "gru_candidate_plain") {
    // DreamerV3 (sheeprl, dreamerv3-torch): one bias, one norm over all 3H
    // units of the sum (or none), the reset inside the candidate, z - 1.
    s.b_hh.clear();
    if (kind == "gru_candidate_joint") s.gate_norms = {make_norm(rng, 0, G, recurrent)};
    s.gru_reset = lnfast::GruReset::Candidate;
    s.update_bias = -1.0f;
    s.gru_paper_update = true;
  } else if (kind == "gru_candidate_per_gate") {
    s.gate_norms = per_gate(rng, 3, H);
    s.gru_reset = lnfast::GruReset::Candidate;
    s.update_bias = 0.5f;
  } else {
    throw std::invalid_argument("unknown variant " + kind);
  }
  return s;
}

LayerSpec make_projected_layer(const std::string& kind, int I, int H, int P,
                               std::mt19937& rng) {
  LayerSpec s = make_layer(kind, I, H, rng);
  // w_hh keeps its first P columns, scaled as for P recurrent inputs.
  const int rows = lnfast::gate_count(s.type) * H;
  const float scale = static_cast<float>(std::sqrt(double(H) / P));
  std::vector<float> w_hh(static_cast<size_t>(rows) * P);
  for (int r = 0; r < rows; ++r)
    for (int k = 0; k < P; ++k) w_hh[r * P + k] = s.w_hh[r * H + k] * scale;
  s.w_hh = w_hh;
  s.proj_size = P;
  const double bound = 1.0 / std::sqrt(double(H));
  s.w_hr = uniform_vector(rng, static_cast<size_t>(P) * H, -bound, bound);
  return s;
}

}  // namespace lnfast_test
