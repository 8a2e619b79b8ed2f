#include "testing/kernel_probe.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cells/projections.hpp"
#include "kernels/kernel_table.hpp"
#include "lnfast/model.hpp"
#include "packing/packed_matrix.hpp"

namespace lnfast {
namespace probe {
namespace {

// The kernels read exactly as many floats as the sizes say: a shorter
// vector would be read past its end.
void require_size(const std::vector<float>& v, size_t want, const char* what) {
  if (v.size() != want)
    throw std::invalid_argument(std::string(what) + " must have " + std::to_string(want) +
                                " values, got " + std::to_string(v.size()));
}

}  // namespace

void moments(Isa isa, const std::vector<float>& x, float* mean, float* var) {
  kernels_for(isa).moments(x.data(), static_cast<int>(x.size()), mean, var);
}

std::vector<float> layer_norm(Isa isa, const std::vector<float>& x,
                              const std::vector<float>& gamma,
                              const std::vector<float>& beta, float eps) {
  if (!gamma.empty()) require_size(gamma, x.size(), "gamma");
  if (!beta.empty()) require_size(beta, x.size(), "beta");
  Norm n;
  n.size = static_cast<int>(x.size());
  n.gamma = gamma.empty() ? std::vector<float>(x.size(), 1.0f) : gamma;
  n.beta = beta.empty() ? std::vector<float>(x.size(), 0.0f) : beta;
  n.eps = eps;
  std::vector<float> out(x.size());
  apply_norm(kernels_for(isa), n, x.data(), out.data(), false);
  return out;
}

std::vector<float> sigmoid(Isa isa, const std::vector<float>& x) {
  std::vector<float> out(x.size());
  kernels_for(isa).sigmoid(x.data(), out.data(), static_cast<int>(x.size()));
  return out;
}

std::vector<float> tanh(Isa isa, const std::vector<float>& x) {
  std::vector<float> out(x.size());
  kernels_for(isa).tanh(x.data(), out.data(), static_cast<int>(x.size()));
  return out;
}

std::vector<float> gemm(Isa isa, const std::vector<float>& w, int rows,
                        int cols, const std::vector<float>& x, int batch,
                        const std::vector<float>& y0) {
  if (rows < 0 || cols < 0 || batch < 0)
    throw std::invalid_argument("gemm sizes must be non-negative");
  require_size(w, static_cast<size_t>(rows) * cols, "W");
  require_size(x, static_cast<size_t>(batch) * cols, "X");
  if (!y0.empty()) require_size(y0, static_cast<size_t>(batch) * rows, "Y0");
  const KernelTable& k = kernels_for(isa);
  const int padded = (rows + k.panel_rows - 1) / k.panel_rows * k.panel_rows;
  const std::vector<float> packed = pack_panels(w, rows, cols, k.panel_rows, k.block_panels);
  std::vector<float> y(static_cast<size_t>(batch) * padded, 0.0f);
  const bool accumulate = !y0.empty();
  if (accumulate)
    for (int t = 0; t < batch; ++t)
      std::memcpy(&y[static_cast<size_t>(t) * padded], &y0[static_cast<size_t>(t) * rows],
                  sizeof(float) * rows);
  k.gemm(packed.data(), padded, cols, x.data(), cols, batch, y.data(), padded,
         accumulate);
  std::vector<float> out(static_cast<size_t>(batch) * rows);
  for (int t = 0; t < batch; ++t)
    std::memcpy(&out[static_cast<size_t>(t) * rows], &y[static_cast<size_t>(t) * padded],
                sizeof(float) * rows);
  return out;
}

bool bf16_dot_products(Isa isa) { return kernels_for(isa).bf16_pairs_along_k; }
bool int8_activation_dot_products(Isa isa) { return kernels_for(isa).i8_act8_u8_quads; }

std::vector<double> weight_pass_seconds(const Model& model, int repeats) {
  std::vector<double> out;
  volatile float sink = 0.0f;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    sink = sink + model.read_weights_once();
    const auto t1 = std::chrono::steady_clock::now();
    out.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  return out;
}

const std::vector<std::string>& peak_kinds() {
  static const std::vector<std::string> kinds{"fp32", "bf16", "int8"};
  return kinds;
}

PeakRuns compute_peak(Isa isa, const std::string& kind, long iterations, int repeats) {
  // Bounded so that a call cannot run for minutes (a run is ~1 ns per iteration).
  constexpr long kMaxIterations = 1L << 26;
  constexpr int kMaxRepeats = 1 << 20;
  if (iterations < 1 || iterations > kMaxIterations)
    throw std::invalid_argument("iterations must be in [1, " + std::to_string(kMaxIterations) +
                                "], got " + std::to_string(iterations));
  if (repeats < 0 || repeats > kMaxRepeats)
    throw std::invalid_argument("repeats must be in [0, " + std::to_string(kMaxRepeats) +
                                "], got " + std::to_string(repeats));
  const KernelTable& k = kernels_for(isa);
  const std::vector<std::string>& kinds = peak_kinds();
  double (*const loops[])(long) = {k.fma_peak, k.bf16_dot_peak, k.i8_dot_peak};
  static_assert(sizeof loops / sizeof loops[0] == 3, "one loop per peak kind");
  const auto at = std::find(kinds.begin(), kinds.end(), kind);
  if (at == kinds.end())
    throw std::invalid_argument("unknown peak kind '" + kind + "'; choose fp32, bf16 or int8");
  double (*const loop)(long) = loops[at - kinds.begin()];
  if (loop == nullptr)
    throw std::invalid_argument(std::string("the ") + isa_name(isa) + " kernels here have no " +
                                kind + " dot-product instruction");
  PeakRuns out;
  for (int r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    out.ops_per_run = loop(iterations);
    const auto t1 = std::chrono::steady_clock::now();
    out.seconds.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  if (repeats == 0) out.ops_per_run = loop(1) * static_cast<double>(iterations);
  return out;
}

}  // namespace probe
}  // namespace lnfast
