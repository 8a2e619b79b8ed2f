// What one recurrent layer computes, in lnfast's canonical form (docs/math.md). Every published LN-RNN/LN-LSTM/LN-GRU variant is a choice of
// these fields, so the cells need no per-source code paths.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

namespace lnfast {

enum class CellType { RNN, LSTM, GRU };
constexpr CellType kCellTypes[] = {CellType::RNN, CellType::LSTM, CellType::GRU};

// The family name every layer of lnfast (and its Python side) uses.
inline const char* cell_type_name(CellType t) {
  return t == CellType::LSTM ? "LSTM" : (t == CellType::GRU ? "GRU" : "RNN");
}

// Number of gate blocks of H rows each in W and U for a cell type.
inline int gate_count(CellType t) {
  return t == CellType::LSTM ? 4 : (t == CellType::GRU ? 3 : 1);
}

enum class Activation { Tanh, Relu };

// How a model stores its weight matrices. Norm, gate and state arithmetic
// is float32 in every case; only the bytes a step streams change.
enum class WeightFormat {
  F32,   // float32
  BF16,  // bfloat16 (round to nearest even), widened to float32 on load
  I8,    // int8 with one float32 scale per output row (max |w| / 127)
};
// Every format, the default first; the names below are the ones users write.
constexpr WeightFormat kWeightFormats[] = {WeightFormat::F32, WeightFormat::BF16,
                                           WeightFormat::I8};

inline const char* weight_format_name(WeightFormat f) {
  return f == WeightFormat::BF16 ? "bf16" : (f == WeightFormat::I8 ? "int8" : "fp32");
}

// Throws std::invalid_argument listing the names when `name` is none of them.
inline WeightFormat parse_weight_format(const std::string& name) {
  std::string names;
  for (WeightFormat f : kWeightFormats) {
    if (name == weight_format_name(f)) return f;
    names += std::string(names.empty() ? "" : ", ") + "'" + weight_format_name(f) + "'";
  }
  throw std::invalid_argument("weights must be one of (" + names + "), got '" +
                              name + "'");
}

// Where an LSTM normalizes its cell state (docs/math.md#lstm).
enum class CellNorm {
  None,
  Output,  // h' = sigma(o) * tanh(LN(c')), the state keeps the raw c'
  State,   // c' <- LN(c'), h' = sigma(o) * tanh(c')
};

// Where a GRU's reset gate acts (docs/math.md#gru).
enum class GruReset {
  Recurrent,  // n = tanh(xn + r * hn): r scales U_n h + b_hh_n (PyTorch, haste, icefall)
  Candidate,  // n = tanh(r * s_n) on the whole candidate pre-activation s_n,
              // normalized first (DreamerV2/V3 as sheeprl and dreamerv3-torch write it)
};

// A layer norm over the units [offset, offset + size) of some vector.
// Empty gamma/beta mean "no gain"/"no shift".
struct Norm {
  int offset = 0;
  int size = 0;
  std::vector<float> gamma;
  std::vector<float> beta;
  float eps = 1e-5f;
};

struct LayerSpec {
  CellType type = CellType::LSTM;
  int input_size = 0;
  int hidden_size = 0;

  // Canonical gate order: i,f,g,o (LSTM); r,z,n (GRU). Row-major.
  std::vector<float> w_ih;  // (G*H, I)
  std::vector<float> w_hh;  // (G*H, H)
  std::vector<float> b_ih;  // (G*H) or empty
  std::vector<float> b_hh;  // (G*H) or empty
  // LSTM projection (torch's proj_size): h' = w_hr (o * tanh(c')), the
  // state's h and the layer's output have proj_size units, w_hh is
  // (G*H, proj_size). Empty: no projection (proj_size 0).
  int proj_size = 0;
  std::vector<float> w_hr;  // (proj_size, H) or empty

  // Norms on W x and on U h ("separate" placement; the paper's GRU uses two
  // segments each). When a projection is normalized its bias is added after
  // the norm, otherwise before: the only two places sources put it.
  std::vector<Norm> x_norms;
  std::vector<Norm> h_norms;
  // Norms on each gate's summed pre-activation ("per-gate" placement). For
  // the GRU candidate this is the sum xn + r * hn; a GRU with
  // GruReset::Candidate has its whole sum W x + U h + b before any gate, so
  // there a norm may span gates (DreamerV3: one norm over all 3H units).
  std::vector<Norm> gate_norms;

  CellNorm cell_norm = CellNorm::None;  // LSTM only
  Norm c_norm;                          // over the H cell units

  Activation activation = Activation::Tanh;  // RNN only
  float forget_bias = 0.0f;                  // LSTM: added to f after norms
  // GRU: false is PyTorch's h' = (1-z) n + z h; true is the paper's
  // h' = (1-z) h + z n.
  bool gru_paper_update = false;
  GruReset gru_reset = GruReset::Recurrent;  // GRU only
  float update_bias = 0.0f;  // GRU: added to z after the norms (DreamerV3: -1)
  // haste's inference-time zoneout: h' = p h + (1-p) h'.
  float zoneout = 0.0f;
};

// A matrix a caller keeps and lends a Model while it is being built (a
// NumPy array, a mapped file), instead of copying it into a LayerSpec: row r
// starts at data + r * row_stride elements, its cols elements contiguous.
struct MatrixView {
  const void* data = nullptr;  // null: no matrix (a layer without w_hr)
  int rows = 0;
  int cols = 0;
  std::ptrdiff_t row_stride = 0;
  // false: float32 values, rounded to the model's weight format. true: that
  // format's stored elements as Model::stored_matrix returns them (float32,
  // bfloat16 bits, or int8 q with row_scales, one float32 per row), taken
  // exactly: how a model is copied without rounding twice.
  bool stored = false;
  const float* row_scales = nullptr;
};

// A layer's weight matrices, given beside a LayerSpec whose own w_ih, w_hh
// and w_hr are empty.
struct LayerViews {
  MatrixView w_ih, w_hh, w_hr;
};

// Units of the layer's output and of its recurrent input h.
inline int output_size(const LayerSpec& s) {
  return s.proj_size > 0 ? s.proj_size : s.hidden_size;
}

// Floats of stream state the layer keeps: h (output_size), then c (H) for
// an LSTM.
inline int state_floats(const LayerSpec& s) {
  return output_size(s) + (s.type == CellType::LSTM ? s.hidden_size : 0);
}

}  // namespace lnfast
