// Moments, normalize, activations, gate epilogues and the elementwise
// kernels of every path, against double-precision references on odd
// sizes. Every output buffer has guard values past n that must survive
// (the tails use masked or copied stores).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "check.hpp"
#include "kernel_paths.hpp"
#include "test_random.hpp"

namespace lnfast_test {
namespace {

using lnfast::KernelTable;

constexpr float kGuard = 12345.0f;
constexpr double kUlp = 1.0 / (1 << 23);  // float32 spacing at 1
// Same bounds as tests/test_kernels.py (measured 8.9e-8 and 1.8e-7).
constexpr double kSigmoidAbs = 1.5e-7, kTanhAbs = 3e-7, kTanhRelNearZero = 4e-7;

double sigmoid64(double x) { return 0.5 * (1.0 + std::tanh(0.5 * x)); }

std::vector<float> guarded(int n) { return std::vector<float>(n + 8, kGuard); }

bool guards_intact(const std::vector<float>& out, int n) {
  return std::all_of(out.begin() + n, out.end(), [](float v) { return v == kGuard; });
}

// Checks |got[i] - want(i)| <= bound(i) for i < n and the guards.
template <class Want, class Bound>
void check_lanes(const std::string& what, const std::string& label,
                 const std::vector<float>& got, int n, Want want, Bound bound) {
  double worst = 0.0, worst_bound = 0.0;
  bool ok = true;
  for (int i = 0; i < n; ++i) {
    const double err = std::fabs(got[i] - want(i)), b = bound(i);
    if (!(err <= b)) ok = false;
    if (err > worst) worst = err, worst_bound = b;
  }
  record_error(label, worst, worst_bound);
  check(ok && guards_intact(got, n), what);
}

void test_moments(const KernelTable& k, const std::string& path, int n, std::mt19937& rng) {
  struct Case { double mean, std; };
  for (Case c : {Case{0.5, 2.0}, Case{3e3, 4e-2}, Case{1e4, 1e-1}}) {
    const std::vector<float> x = normal_vector(rng, n, c.mean, c.std);
    double m64 = 0.0, v64 = 0.0;
    for (float v : x) m64 += v;
    m64 /= n;
    for (float v : x) v64 += (v - m64) * (v - m64);
    v64 /= n;
    float mean, var;
    k.moments(x.data(), n, &mean, &var);
    // tests/test_kernels.py: mean rel 1e-6 (1e-7 under a large offset),
    // variance rel 1e-5; n = 1 has variance exactly 0.
    const double mean_tol = (c.mean > 100 ? 1e-7 : 1e-6) * std::fabs(m64) + 1e-6;
    const double var_tol = 1e-5 * v64 + (c.mean > 100 ? 0.0 : 1e-7);
    record_error("moments variance (relative)", std::fabs(var - v64) / std::max(v64, 1e-30), 1e-5);
    check(std::fabs(mean - m64) <= mean_tol && std::fabs(var - v64) <= var_tol,
          path + " moments n=" + std::to_string(n) + " mean=" + std::to_string(c.mean));
  }
}

void test_normalize(const KernelTable& k, const std::string& path, int n, std::mt19937& rng) {
  const std::vector<float> x = normal_vector(rng, n, 1.0, 3.0);
  const std::vector<float> gamma = normal_vector(rng, n, 1.0, 0.3);
  const std::vector<float> beta = normal_vector(rng, n, 0.0, 0.3);
  const std::vector<float> base = normal_vector(rng, n);
  const float mean = 0.75f, rstd = 0.4f;
  for (bool accumulate : {false, true}) {
    std::vector<float> out = guarded(n);
    std::copy(base.begin(), base.end(), out.begin());
    k.normalize(x.data(), n, mean, rstd, gamma.data(), beta.data(), out.data(), accumulate);
    auto want = [&](int i) {
      return (accumulate ? base[i] : 0.0) + (double(x[i]) - mean) * rstd * gamma[i] + beta[i];
    };
    check_lanes(path + " normalize n=" + std::to_string(n) + (accumulate ? " +=" : ""),
                "normalize (abs, O(1) values)", out, n, want,
                [&](int i) { return 8 * kUlp * (1.0 + std::fabs(want(i))); });
  }
}

void test_activations(const KernelTable& k, const std::string& path, int n, std::mt19937& rng) {
  std::vector<float> x = uniform_vector(rng, n, -30.0, 30.0);
  if (n >= 17) {  // saturation and the switch between tanh's two forms
    const float edges[] = {-1e30f, -88.5f, 0.0f, 0.3999f, 0.4f, 88.5f, 1e30f};
    std::copy(std::begin(edges), std::end(edges), x.begin());
  }
  std::vector<float> out = guarded(n);
  k.sigmoid(x.data(), out.data(), n);
  check_lanes(path + " sigmoid n=" + std::to_string(n), "sigmoid (abs)", out, n,
              [&](int i) { return sigmoid64(x[i]); }, [](int) { return kSigmoidAbs; });
  out = guarded(n);
  k.tanh(x.data(), out.data(), n);
  check_lanes(path + " tanh n=" + std::to_string(n), "tanh (abs)", out, n,
              [&](int i) { return std::tanh(double(x[i])); }, [](int) { return kTanhAbs; });
  // Near 0 tanh is held to a relative bound (a norm downstream magnifies it).
  std::vector<float> small(n);
  for (int i = 0; i < n; ++i)
    small[i] = static_cast<float>((i % 2 ? -1 : 1) * std::pow(10.0, -30.0 + 29.7 * i / std::max(1, n - 1)));
  out = guarded(n);
  k.tanh(small.data(), out.data(), n);
  check_lanes(path + " tanh near 0 n=" + std::to_string(n), "tanh near 0 (relative)", out, n,
              [&](int i) { return std::tanh(double(small[i])); },
              [&](int i) { return kTanhRelNearZero * std::fabs(std::tanh(double(small[i]))); });
  out = guarded(n);
  k.relu(x.data(), out.data(), n);
  check_lanes(path + " relu n=" + std::to_string(n), "relu (exact)", out, n,
              [&](int i) { return std::max(0.0, double(x[i])); }, [](int) { return 0.0; });
}

void test_gate_epilogues(const KernelTable& k, const std::string& path, int n, std::mt19937& rng) {
  const std::vector<float> i = normal_vector(rng, n, 0, 3), f = normal_vector(rng, n, 0, 3);
  const std::vector<float> g = normal_vector(rng, n, 0, 3), c0 = normal_vector(rng, n, 0, 2);
  const float forget_bias = 1.0f;
  std::vector<float> c = guarded(n);
  std::copy(c0.begin(), c0.end(), c.begin());
  k.lstm_cell(i.data(), f.data(), g.data(), c.data(), forget_bias, n);
  auto want_c = [&](int j) {
    return sigmoid64(double(f[j]) + forget_bias) * c0[j] + sigmoid64(i[j]) * std::tanh(double(g[j]));
  };
  // sigmoid and tanh errors, times |c| and 1, plus the products' rounding.
  check_lanes(path + " lstm_cell n=" + std::to_string(n), "lstm_cell (abs)", c, n, want_c,
              [&](int j) { return kSigmoidAbs * std::fabs(c0[j]) + kSigmoidAbs + kTanhAbs +
                                  4 * kUlp * (1.0 + std::fabs(want_c(j))); });
  std::vector<float> h = guarded(n);
  k.lstm_hidden(i.data(), c0.data(), h.data(), n);
  check_lanes(path + " lstm_hidden n=" + std::to_string(n), "lstm_hidden (abs)", h, n,
              [&](int j) { return sigmoid64(i[j]) * std::tanh(double(c0[j])); },
              [&](int) { return kSigmoidAbs + kTanhAbs + 2 * kUlp; });
}

void test_arithmetic(const KernelTable& k, const std::string& path, int n, std::mt19937& rng) {
  const std::vector<float> a = normal_vector(rng, n), b = normal_vector(rng, n);
  const std::vector<float> t = uniform_vector(rng, n, 0.0, 1.0);
  const std::string size = " n=" + std::to_string(n);
  auto bound = [](double magnitude) { return 2 * kUlp * magnitude; };
  std::vector<float> out = guarded(n);
  k.add(a.data(), b.data(), out.data(), n);
  check_lanes(path + " add" + size, "add/mul_add/lerp (abs)", out, n,
              [&](int i) { return double(a[i]) + b[i]; },
              [&](int i) { return bound(std::fabs(a[i]) + std::fabs(b[i])); });
  out = guarded(n);
  k.mul_add(a.data(), b.data(), t.data(), out.data(), n);
  check_lanes(path + " mul_add" + size, "add/mul_add/lerp (abs)", out, n,
              [&](int i) { return double(a[i]) + double(b[i]) * t[i]; },
              [&](int i) { return bound(std::fabs(a[i]) + std::fabs(b[i] * t[i])); });
  out = guarded(n);
  k.lerp(t.data(), a.data(), b.data(), out.data(), n);
  auto lerp64 = [&](double tt, int i) { return double(a[i]) + tt * (double(b[i]) - a[i]); };
  check_lanes(path + " lerp" + size, "add/mul_add/lerp (abs)", out, n,
              [&](int i) { return lerp64(t[i], i); },
              [&](int i) { return bound(2 * (std::fabs(a[i]) + std::fabs(b[i]))); });
  out = guarded(n);
  k.lerp_scalar(0.25f, a.data(), b.data(), out.data(), n);
  check_lanes(path + " lerp_scalar" + size, "add/mul_add/lerp (abs)", out, n,
              [&](int i) { return lerp64(0.25, i); },
              [&](int i) { return bound(2 * (std::fabs(a[i]) + std::fabs(b[i]))); });
  // stream_read: the floor's pass over the weights, a plain sum.
  double sum = 0.0, magnitude = 0.0;
  for (float v : a) sum += v, magnitude += std::fabs(v);
  const double err = std::fabs(k.stream_read(a.data(), n) - sum);
  check(err <= n * kUlp * magnitude, path + " stream_read" + size);
}

}  // namespace

void test_elementwise_kernels() {
  for (const KernelPath& p : kernel_paths()) {
    std::mt19937 rng(7);
    for (int n : kOddSizes) {
      test_moments(*p.kernels, p.name, n, rng);
      test_normalize(*p.kernels, p.name, n, rng);
      test_activations(*p.kernels, p.name, n, rng);
      test_gate_epilogues(*p.kernels, p.name, n, rng);
      test_arithmetic(*p.kernels, p.name, n, rng);
    }
  }
}

}  // namespace lnfast_test
