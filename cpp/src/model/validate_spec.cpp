#include "model/validate_spec.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

namespace lnfast {
namespace {

class SpecError {
 public:
  explicit SpecError(const std::string& where) { msg_ << where << ": "; }
  template <class T>
  SpecError& operator<<(const T& v) {
    msg_ << v;
    return *this;
  }
  [[noreturn]] void raise() { throw std::invalid_argument(msg_.str()); }

 private:
  std::ostringstream msg_;
};

void check_size(const std::string& layer, const char* name, size_t got, size_t want,
                bool optional) {
  if (optional && got == 0) return;
  if (got != want)
    (SpecError(layer) << name << " has " << got << " values, expected " << want)
        .raise();
}

// A lent matrix must be exactly (rows x cols), its rows apart by at least
// a row, so the packer reads nothing outside it.
void check_matrix(const std::string& layer, const char* name, const MatrixView& m,
                  long long rows, long long cols) {
  const long long count = m.data ? static_cast<long long>(m.rows) * m.cols : 0;
  if (count != rows * cols)
    (SpecError(layer) << name << " has " << count << " values, expected " << rows * cols)
        .raise();
  if (count == 0) return;
  if (m.rows != rows || m.cols != cols)
    (SpecError(layer) << name << " has shape (" << m.rows << ", " << m.cols << "), expected ("
                      << rows << ", " << cols << ")")
        .raise();
  if (m.row_stride < m.cols)
    (SpecError(layer) << name << " has rows " << m.row_stride << " elements apart, fewer than its "
                      << m.cols << " columns")
        .raise();
}

MatrixView view_of(const std::vector<float>& v, int rows) {
  MatrixView m;
  if (v.empty() || rows <= 0) return m;
  m.data = v.data();
  m.rows = rows;
  m.cols = static_cast<int>(v.size() / rows);
  m.row_stride = m.cols;
  return m;
}

void check_finite(const std::string& layer, const char* name, const std::vector<float>& v) {
  for (size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]))
      (SpecError(layer) << name << " holds a non-finite value (" << v[i]
                        << ") at flat index " << i)
          .raise();
}

void check_norm(const std::string& layer, const std::string& name, const Norm& n, int limit) {
  // In 64 bits: an offset near 2^31 would wrap an int sum below the limit.
  const long long end = static_cast<long long>(n.offset) + n.size;
  if (n.size <= 0 || n.offset < 0 || end > limit)
    (SpecError(layer) << name << " covers units [" << n.offset << ", "
                      << end << "), which is not inside [0, "
                      << limit << ")")
        .raise();
  check_size(layer, (name + ".gamma").c_str(), n.gamma.size(), n.size, true);
  check_size(layer, (name + ".beta").c_str(), n.beta.size(), n.size, true);
  check_finite(layer, (name + ".gamma").c_str(), n.gamma);
  check_finite(layer, (name + ".beta").c_str(), n.beta);
  if (!(n.eps >= 0.0f) || !std::isfinite(n.eps))
    (SpecError(layer) << name << ".eps must be finite and >= 0, got " << n.eps)
        .raise();
}

// Norms on a projection must tile it, or some units would be left
// unwritten.
void check_tiling(const std::string& layer, const char* name, std::vector<Norm> norms,
                  int rows) {
  if (norms.empty()) return;
  std::sort(norms.begin(), norms.end(),
            [](const Norm& a, const Norm& b) { return a.offset < b.offset; });
  int next = 0;
  for (const Norm& n : norms) {
    if (n.offset != next)
      (SpecError(layer) << name << " must cover units [0, " << rows
                        << ") without gaps or overlaps; a segment starts at "
                        << n.offset << " where " << next << " was expected")
          .raise();
    next = n.offset + n.size;
  }
  if (next != rows)
    (SpecError(layer) << name << " cover units [0, " << next << "), expected [0, "
                      << rows << ")")
        .raise();
}

// Everything but the weight matrices.
void validate(const LayerSpec& s, const std::string& layer) {
  if (s.input_size <= 0 || s.hidden_size <= 0)
    (SpecError(layer) << "input_size and hidden_size must be positive, got "
                      << s.input_size << " and " << s.hidden_size)
        .raise();
  const int G = gate_count(s.type);
  const int H = s.hidden_size;
  const size_t rows = static_cast<size_t>(G) * H;
  // Units are counted in int everywhere downstream.
  if (rows > static_cast<size_t>(std::numeric_limits<int>::max()))
    (SpecError(layer) << "hidden_size " << H << " is too large").raise();
  if (s.proj_size < 0 || (s.proj_size > 0 && s.type != CellType::LSTM))
    (SpecError(layer) << "a projection (proj_size " << s.proj_size
                      << ") exists only for LSTM layers, with proj_size > 0")
        .raise();
  check_size(layer, "b_ih", s.b_ih.size(), rows, true);
  check_size(layer, "b_hh", s.b_hh.size(), rows, true);
  check_finite(layer, "b_ih", s.b_ih);
  check_finite(layer, "b_hh", s.b_hh);

  const struct {
    const char* name;
    const std::vector<Norm>* norms;
  } groups[] = {{"x_norms", &s.x_norms},
                {"h_norms", &s.h_norms},
                {"gate_norms", &s.gate_norms}};
  for (const auto& group : groups)
    for (size_t i = 0; i < group.norms->size(); ++i)
      check_norm(layer, std::string(group.name) + "[" + std::to_string(i) + "]",
                 (*group.norms)[i], static_cast<int>(rows));
  check_tiling(layer, "x_norms", s.x_norms, static_cast<int>(rows));
  check_tiling(layer, "h_norms", s.h_norms, static_cast<int>(rows));

  if (s.type != CellType::GRU &&
      (s.gru_reset != GruReset::Recurrent || s.update_bias != 0.0f))
    (SpecError(layer) << "gru_reset and update_bias exist only for GRU layers").raise();
  if (!std::isfinite(s.update_bias))
    (SpecError(layer) << "update_bias must be finite").raise();
  // A gate norm sees one gate's units: the cells apply them gate by gate,
  // except a GRU whose reset acts on the candidate: its whole sum exists
  // before any gate, so a norm may span gates there.
  const bool spanning_allowed =
      s.type == CellType::GRU && s.gru_reset == GruReset::Candidate;
  std::vector<Norm> gate_norms = s.gate_norms;
  std::sort(gate_norms.begin(), gate_norms.end(),
            [](const Norm& a, const Norm& b) { return a.offset < b.offset; });
  for (size_t i = 0; i < gate_norms.size(); ++i) {
    const Norm& n = gate_norms[i];
    if (!spanning_allowed && n.offset / H != (n.offset + n.size - 1) / H)
      (SpecError(layer) << "gate_norms segment [" << n.offset << ", "
                        << n.offset + n.size << ") spans more than one gate of "
                        << H << " units")
          .raise();
    if (i > 0 && gate_norms[i - 1].offset + gate_norms[i - 1].size > n.offset)
      (SpecError(layer) << "gate_norms segments overlap at unit " << n.offset)
          .raise();
  }

  if (s.type == CellType::LSTM) {
    if (s.cell_norm != CellNorm::None) {
      check_norm(layer, "c_norm", s.c_norm, H);
      if (s.c_norm.offset != 0 || s.c_norm.size != H)
        (SpecError(layer) << "c_norm must cover all " << H << " cell units")
            .raise();
    }
  } else if (s.cell_norm != CellNorm::None) {
    (SpecError(layer) << "a cell-state norm exists only for LSTM layers").raise();
  }
  if (!std::isfinite(s.forget_bias))
    (SpecError(layer) << "forget_bias must be finite").raise();
  if (!(s.zoneout >= 0.0f && s.zoneout <= 1.0f))
    (SpecError(layer) << "zoneout must be in [0, 1], got " << s.zoneout).raise();
}

}  // namespace

LayerViews matrix_views(const LayerSpec& s, const std::string& layer) {
  const long long rows = static_cast<long long>(gate_count(s.type)) * s.hidden_size;
  const auto check = [&](const char* name, const std::vector<float>& v, long long want_rows,
                         long long cols) {
    if (want_rows > 0 && cols > 0 && v.size() != static_cast<size_t>(want_rows * cols))
      check_size(layer, name, v.size(), static_cast<size_t>(want_rows * cols), false);
  };
  check("w_ih", s.w_ih, rows, s.input_size);
  check("w_hh", s.w_hh, rows, output_size(s));
  check("w_hr", s.w_hr, s.proj_size, s.hidden_size);
  LayerViews m;
  m.w_ih = view_of(s.w_ih, static_cast<int>(rows));
  m.w_hh = view_of(s.w_hh, static_cast<int>(rows));
  m.w_hr = view_of(s.w_hr, s.proj_size);
  return m;
}

void validate_layer_structure(const LayerSpec& s, const std::string& layer) {
  validate(s, layer);
}

void validate_layer_views(const LayerSpec& s, const LayerViews& views, const std::string& layer) {
  const long long rows = static_cast<long long>(gate_count(s.type)) * s.hidden_size;
  check_matrix(layer, "w_ih", views.w_ih, rows, s.input_size);
  check_matrix(layer, "w_hh", views.w_hh, rows, output_size(s));
  check_matrix(layer, "w_hr", views.w_hr, s.proj_size, s.hidden_size);
}

void validate_storage(WeightFormat weights, bool int8_activations) {
  if (int8_activations && weights != WeightFormat::I8)
    throw std::invalid_argument(std::string("int8 activations need int8 weights, not ") +
                                weight_format_name(weights));
}

void validate_stack(const std::vector<LayerSpec>& specs,
                    void (*validate_layer)(const LayerSpec&, const std::string&)) {
  if (specs.empty()) throw std::invalid_argument("a model needs at least one layer");
  for (size_t k = 0; k < specs.size(); ++k) {
    validate_layer(specs[k], "layer " + std::to_string(k));
    if (k > 0 && specs[k].input_size != output_size(specs[k - 1]))
      throw std::invalid_argument(
          "layer " + std::to_string(k) + " takes inputs of size " +
          std::to_string(specs[k].input_size) + ", but layer " +
          std::to_string(k - 1) + " below it outputs " +
          std::to_string(output_size(specs[k - 1])));
  }
}

}  // namespace lnfast
