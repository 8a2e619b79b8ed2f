// The packed GEMMs (fp32, bf16, int8; widening and dot-product paths) of
// every path against double-precision references on odd sizes, and the
// promise the sequence run rests on: an input's result does not depend on
// how many others share the call.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "packing/packed_matrix.hpp"
#include "check.hpp"
#include "kernel_paths.hpp"
#include "test_random.hpp"

namespace lnfast_test {
namespace {

using lnfast::KernelTable;
using lnfast::PackedMatrix;
using lnfast::WeightFormat;

constexpr double kUnit = 1.0 / (1 << 24);  // float32 unit roundoff

// Around the register tiles' widths (AVX2 2 x 6, AVX-512 4 x 6, the dot
// products 4 x 4): whole tiles, a tail tile of each width, one input alone.
constexpr int kBatchSizes[] = {1, 2, 3, 5, 6, 7, 15, 16, 17, 33};

float bf16_value(float v) {  // round to nearest even, as the packing does
  unsigned int bits;
  std::memcpy(&bits, &v, sizeof bits);
  bits = (bits + 0x7FFFu + ((bits >> 16) & 1u)) & 0xFFFF0000u;
  float out;
  std::memcpy(&out, &bits, sizeof out);
  return out;
}

// The weights each format multiplies by (int8: q times the row's scale),
// written from the format's definition in lnfast/spec.hpp.
std::vector<double> stored_weights(const std::vector<float>& w, int rows, int cols,
                                   WeightFormat format) {
  std::vector<double> out(w.begin(), w.end());
  for (int r = 0; r < rows; ++r) {
    double peak = 0.0;
    for (int k = 0; k < cols; ++k) peak = std::max(peak, std::fabs(double(w[r * cols + k])));
    const float scale = peak > 0 ? static_cast<float>(peak) / 127.0f : 1.0f;
    const float inverse = peak > 0 ? 127.0f / static_cast<float>(peak) : 0.0f;
    for (int k = 0; k < cols; ++k) {
      const float v = w[r * cols + k];
      if (format == WeightFormat::BF16) out[r * cols + k] = bf16_value(v);
      if (format == WeightFormat::I8)
        out[r * cols + k] = double(scale) * std::max(-127.0f, std::min(127.0f, std::nearbyint(v * inverse)));
    }
  }
  return out;
}

const char* format_name(WeightFormat f) {
  return f == WeightFormat::F32 ? "fp32" : f == WeightFormat::BF16 ? "bf16" : "int8";
}

void run_gemm(const KernelTable& k, const PackedMatrix& m, const float* x, int cols, int batch,
              float* y, int ldy, bool accumulate) {
  switch (m.format) {
    case WeightFormat::F32:
      return k.gemm(m.f32(), m.rows, cols, x, cols, batch, y, ldy, accumulate);
    case WeightFormat::BF16:
      return k.gemm_bf16(m.bf16(), m.rows, cols, x, cols, batch, y, ldy, accumulate);
    case WeightFormat::I8:
      return (m.int8_activations ? k.gemm_i8_act8 : k.gemm_i8)(
          m.i8(), m.row_scales, m.rows, cols, x, cols, batch, y, ldy, accumulate);
  }
}

// The int8-activations mode's inputs, written from its definition in
// kernels/dot_inputs.hpp: q = round(x * (127 / max|x|)) (in float from
// peaks of 1e-30 up), then q / 127 * max|x|.
std::vector<double> int8_rounded_inputs(const float* x, int cols) {
  float peak = 0.0f;
  for (int c = 0; c < cols; ++c) peak = std::max(peak, std::fabs(x[c]));
  std::vector<double> out(cols, 0.0);
  for (int c = 0; c < cols; ++c) {
    const double q = peak >= 1e-30f ? std::nearbyintf(x[c] * (127.0f / peak))
                     : peak > 0     ? std::nearbyint(x[c] * (127.0 / peak))
                                    : 0.0;
    out[c] = q / 127.0 * peak;
  }
  return out;
}

void test_one(const KernelPath& p, WeightFormat format, int rows, int cols, int batch,
              std::mt19937& rng, float x_scale = 1.0f, bool int8_activations = false) {
  const KernelTable& k = *p.kernels;
  const std::vector<float> w = normal_vector(rng, static_cast<size_t>(rows) * cols);
  std::vector<float> x = normal_vector(rng, static_cast<size_t>(batch) * cols);
  for (float& v : x) v *= x_scale;
  const std::vector<float> y0 = normal_vector(rng, static_cast<size_t>(batch) * rows);
  const PackedMatrix m = lnfast::pack_matrix(w, rows, cols, k, format, int8_activations);
  const int ld = m.rows;  // padded
  const bool dot_inputs = (format == WeightFormat::BF16 && k.bf16_pairs_along_k) ||
                          (format == WeightFormat::I8 && k.i8_quads_along_k);
  const std::string label = std::string(format_name(format)) +
                            (int8_activations ? " x int8 activations" : "") + " gemm, " + p.name;
  const std::string what = label + " rows=" + std::to_string(rows) + " cols=" +
                           std::to_string(cols) + " batch=" + std::to_string(batch) +
                           " x scale " + std::to_string(x_scale);
  const std::vector<double> wq = stored_weights(w, rows, cols, format);
  // The stored form itself, exactly: what the fingerprint hashes, so it
  // must not depend on the platform (an FMA-contracted rounding on AArch64
  // once moved int8 q by one).
  if (batch == 1) {
    bool exact = true;
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c)
        exact = exact && m.stored_value(r, c) == static_cast<float>(wq[r * cols + c]);
    check(exact, label + " rows=" + std::to_string(rows) + " cols=" + std::to_string(cols) +
                     ": stored values as the reference rounds them");
  }

  std::vector<float> y(static_cast<size_t>(batch) * ld, 0.0f);
  for (int t = 0; t < batch; ++t) std::copy_n(&y0[t * rows], rows, &y[t * ld]);
  const bool accumulate = batch > 1;  // batch 1 overwrites, the others add
  run_gemm(k, m, x.data(), cols, batch, y.data(), ld, accumulate);

  bool ok = true;
  double worst_vs_fp32 = 0.0, fp32_scale = 0.0, worst_input_rounding = 0.0;
  for (int t = 0; t < batch; ++t) {
    const float* xt = &x[t * cols];
    const std::vector<double> x_int8 =
        int8_activations ? int8_rounded_inputs(xt, cols) : std::vector<double>();
    double peak_x = 0.0;
    for (int c = 0; c < cols; ++c) peak_x = std::max(peak_x, std::fabs(double(xt[c])));
    for (int r = 0; r < rows; ++r) {
      double want = accumulate ? y0[t * rows + r] : 0.0, magnitude = std::fabs(want);
      double exact = want, row_weights = 0.0;
      for (int c = 0; c < cols; ++c) {
        const double wv = wq[r * cols + c];
        // The inputs the dot products see: bf16-rounded (as vdpbf16ps
        // does); int8 SDOT keeps 16 bits of them (error <= max|x|/65024).
        // With int8 activations every path multiplies by the int8 grid.
        const double xv = int8_activations ? x_int8[c]
                          : dot_inputs && format == WeightFormat::BF16 ? bf16_value(xt[c])
                                                                        : xt[c];
        want += wv * xv;
        magnitude += std::fabs(wv * xv);
        exact += double(w[r * cols + c]) * xt[c];
        row_weights += std::fabs(wv);
      }
      // A float32 sum of `cols` products: at most about cols * u of the
      // terms' magnitude (Higham's gamma_n), doubled for the dot products'
      // two roundings per group and the int8 scaling.
      double bound = 2 * (cols + 3) * kUnit * magnitude;
      const double err = std::fabs(y[t * ld + r] - want);
      if (dot_inputs && format == WeightFormat::I8 && !int8_activations) {
        bound += row_weights * peak_x / 65024.0;
        if (row_weights > 0 && !accumulate)  // y0's own rounding would hide it
          worst_input_rounding = std::max(worst_input_rounding, err / (row_weights * peak_x));
      }
      if (!(err <= bound)) ok = false;
      record_error(label + " (abs/bound)", err / bound, 1.0);
      worst_vs_fp32 = std::max(worst_vs_fp32, std::fabs(y[t * ld + r] - exact));
      fp32_scale = std::max(fp32_scale, magnitude);
    }
  }
  // For information: the error against the unrounded weights, relative to
  // the terms (bf16 rounds each weight by up to 2^-8, and each input too on
  // the dot paths; int8 by up to 1/254 of its row's peak), and on SDOT the
  // share of the activations' 16-bit rounding (at most 1/65024).
  if (format != WeightFormat::F32)
    record_error(label + " vs fp32 weights (info, /sum|wx|)", worst_vs_fp32 / fp32_scale, 0);
  if (dot_inputs && format == WeightFormat::I8 && !int8_activations)
    record_error(label + " input rounding (/sum|w| max|x|)", worst_input_rounding, 1.0 / 65024);
  check(ok, what);

  // Bit for bit: each input alone gives what it gave among `batch`,
  // whichever register tile (or the tail tile) it fell in.
  bool same = true;
  for (int t = 0; t < batch && batch > 1; ++t) {
    std::vector<float> alone(ld, 0.0f);
    std::copy_n(&y0[t * rows], rows, alone.begin());
    run_gemm(k, m, &x[t * cols], cols, 1, alone.data(), ld, true);
    same = same && std::equal(alone.begin(), alone.begin() + rows, &y[t * ld]);
  }
  if (batch > 1) check(same, what + ": same bits alone as in a batch");
}

// A row of inputs with a NaN or an Inf gives NaN outputs for that input
// only, as the float path would, never a finite wrong answer.
void test_int8_activations_not_finite(const KernelPath& p) {
  std::mt19937 rng(5);
  const int rows = 17, cols = 37;
  const std::vector<float> w = normal_vector(rng, static_cast<size_t>(rows) * cols);
  std::vector<float> x = normal_vector(rng, static_cast<size_t>(3) * cols);
  x[cols + 4] = std::nanf("");
  x[2 * cols + 30] = INFINITY;
  const PackedMatrix m = lnfast::pack_matrix(w, rows, cols, *p.kernels, WeightFormat::I8, true);
  std::vector<float> y(static_cast<size_t>(3) * m.rows, 0.0f);
  run_gemm(*p.kernels, m, x.data(), cols, 3, y.data(), m.rows, false);
  bool ok = true;
  for (int r = 0; r < rows; ++r)
    ok = ok && std::isfinite(y[r]) && std::isnan(y[m.rows + r]) && std::isnan(y[2 * m.rows + r]);
  check(ok, "int8 activations gemm, " + p.name + ": non-finite inputs give NaN for their row only");
}

}  // namespace

void test_gemm_kernels() {
  for (const KernelPath& p : kernel_paths()) {
    std::mt19937 rng(11);
    for (WeightFormat format : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::I8})
      for (int rows : kOddSizes)
        for (int cols : kOddSizes)
          for (int batch : kBatchSizes)
            // 1000 x 1000 once, as a GEMV: the emulated runs stay short.
            if (batch == 1 || rows * cols < 1000 * 1000) test_one(p, format, rows, cols, batch, rng);
    // Inputs near the ends of float's normal range, held to the same
    // relative bounds (the int8 dot path scales them to integers and back).
    for (WeightFormat format : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::I8})
      for (float x_scale : {1e-36f, 1e30f}) test_one(p, format, 17, 37, 3, rng, x_scale);
    // int8 weights by int8 activations: vpdpbusd's integer sums (with the
    // +128 taken back out) or the widening path, against the same grid.
    for (int rows : kOddSizes)
      for (int cols : kOddSizes)
        for (int batch : kBatchSizes)
          if (batch == 1 || rows * cols < 1000 * 1000)
            test_one(p, WeightFormat::I8, rows, cols, batch, rng, 1.0f, true);
    for (float x_scale : {1e-36f, 1e30f}) test_one(p, WeightFormat::I8, 17, 37, 3, rng, x_scale, true);
    test_int8_activations_not_finite(p);
  }
}

}  // namespace lnfast_test
