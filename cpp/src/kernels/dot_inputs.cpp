#include "kernels/dot_inputs.hpp"

#include "kernels/bf16_round.hpp"

#include <cmath>
#include <cstdint>
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

}  // namespace lnfast
