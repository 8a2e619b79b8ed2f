#include "kernels/dot_inputs.hpp"

#include "kernels/bf16_round.hpp"

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <limits>

namespace lnfast {

void bf16_input_pairs(const float* x, int ldx, int batch, int cols, int pairs,
                      std::vector<unsigned int>& out) {
  out.resize(static_cast<size_t>(batch) * pairs);
  for (int t = 0; t < batch; ++t) {
    const float* xt = x + static_cast<long>(t) * ldx;
    for (int kp = 0; kp < pairs; ++kp) {
      const unsigned int lo = round_to_bf16(xt[2 * kp]);
      const unsigned int hi = 2 * kp + 1 < cols ? round_to_bf16(xt[2 * kp + 1]) : 0u;
      out[static_cast<size_t>(t) * pairs + kp] = lo | (hi << 16);
    }
  }
}

namespace {

unsigned int pack_bytes(const int* b) {
  return (static_cast<unsigned int>(b[0]) & 0xFFu) |
         ((static_cast<unsigned int>(b[1]) & 0xFFu) << 8) |
         ((static_cast<unsigned int>(b[2]) & 0xFFu) << 16) |
         ((static_cast<unsigned int>(b[3]) & 0xFFu) << 24);
}
}  // namespace

void int8_input_digits(const float* x, int ldx, int batch, int cols, int quads,
                       std::vector<int>& words, std::vector<float>& peaks) {
  words.resize(static_cast<size_t>(batch) * 2 * quads);
  peaks.resize(batch);
  for (int t = 0; t < batch; ++t) {
    const float* xt = x + static_cast<long>(t) * ldx;
    float peak = 0.0f;
    for (int k = 0; k < cols; ++k) peak = std::fmax(peak, std::fabs(xt[k]));
    bool finite = std::isfinite(peak);
    for (int k = 0; k < cols && finite; ++k) finite = !std::isnan(xt[k]);
    // In double: for a peak below ~1e-34 the factor overflows a float.
    const double inverse =
        finite && peak > 0.0f ? kDigitsFullScale / static_cast<double>(peak) : 0.0;
    peaks[t] = finite ? peak : std::numeric_limits<float>::quiet_NaN();
    int* out = words.data() + static_cast<size_t>(t) * 2 * quads;
    for (int kq = 0; kq < quads; ++kq) {
      int hi[4] = {0, 0, 0, 0}, lo[4] = {0, 0, 0, 0};
      for (int j = 0; j < 4; ++j) {
        const int k = 4 * kq + j;
        if (k >= cols) break;
        const int q = static_cast<int>(std::nearbyint(static_cast<double>(xt[k]) * inverse));
        hi[j] = (q + 128) >> 8;  // arithmetic shift: floor((q + 128) / 256)
        lo[j] = q - 256 * hi[j];
      }
      const unsigned int h = pack_bytes(hi), l = pack_bytes(lo);
      std::memcpy(out + 2 * kq, &h, sizeof h);
      std::memcpy(out + 2 * kq + 1, &l, sizeof l);
    }
  }
}

float int8_quantize_row(const float* x, int cols, signed char* q) {
  float peak = 0.0f;
  bool finite = true;
  for (int k = 0; k < cols; ++k) {
    peak = std::fmax(peak, std::fabs(x[k]));
    finite = finite && std::isfinite(x[k]);
  }
  if (!finite) {
    std::memset(q, 0, static_cast<size_t>(cols));
    return std::numeric_limits<float>::quiet_NaN();
  }
  if (peak >= kInt8FloatPeak) {
    // In float, as the vector quantizers do (one multiply, then nearest
    // even), so every path rounds each input to the same q.
    const float inverse = kInt8FullScale / peak;
    for (int k = 0; k < cols; ++k) q[k] = static_cast<signed char>(std::nearbyintf(x[k] * inverse));
  } else {
    // In double: for a peak below ~1e-37 the factor overflows a float.
    const double inverse = peak > 0.0f ? kInt8FullScale / static_cast<double>(peak) : 0.0;
    for (int k = 0; k < cols; ++k)
      q[k] = static_cast<signed char>(std::nearbyint(static_cast<double>(x[k]) * inverse));
  }
  return peak;
}

void int8_input_quads(const float* x, int ldx, int batch, int cols, int quads,
                      int slice_quads, std::vector<int>& words,
                      std::vector<float>& peaks, std::vector<int>& offsets) {
  const int slices = (quads + slice_quads - 1) / slice_quads;
  words.assign(static_cast<size_t>(batch) * quads, 0);
  peaks.resize(batch);
  offsets.resize(static_cast<size_t>(slices) * batch);
  for (int t = 0; t < batch; ++t) {
    signed char* q = reinterpret_cast<signed char*>(words.data() + static_cast<size_t>(t) * quads);
    peaks[t] = int8_quantize_row(x + static_cast<long>(t) * ldx, cols, q);
    for (int s = 0; s < slices; ++s) {
      const long k1 = std::min(static_cast<long>(cols), 4L * (s + 1) * slice_quads);
      // Unsigned: -128 * sum may not fit int32, and wrapping is what
      // vpdpbusd's own adds do.
      unsigned int sum = 0;
      for (long k = 4L * s * slice_quads; k < k1; ++k)
        sum += static_cast<unsigned int>(static_cast<int>(q[k]));
      const unsigned int offset = 0u - 128u * sum;
      std::memcpy(&offsets[static_cast<size_t>(s) * batch + t], &offset, sizeof offset);
    }
  }
}

void int8_inputs_rounded(const float* x, int ldx, int batch, int cols,
                         std::vector<float>& out) {
  out.resize(static_cast<size_t>(batch) * cols);
  std::vector<signed char> q(static_cast<size_t>(cols));
  for (int t = 0; t < batch; ++t) {
    const float peak = int8_quantize_row(x + static_cast<long>(t) * ldx, cols, q.data());
    float* row = out.data() + static_cast<size_t>(t) * cols;
    // q / 127 first, then the peak: the order gemm_i8_act8's dot path uses.
    for (int k = 0; k < cols; ++k) row[k] = static_cast<float>(q[k]) / kInt8FullScale * peak;
  }
}

}  // namespace lnfast
