#include "model/step_helpers.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "parallel/split_gemm.hpp"

namespace lnfast {

void require_finite(const float* x, size_t n, const char* what) {
  // Exponent bits all set means Inf or NaN. An OR over integer flags is a
  // loop the compiler vectorizes; the slow search runs only on bad input.
  unsigned int any_bad = 0;
  for (size_t i = 0; i < n; ++i) {
    unsigned int bits;
    std::memcpy(&bits, x + i, sizeof bits);
    any_bad |= (bits & 0x7f800000u) == 0x7f800000u;
  }
  if (!any_bad) return;
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(x[i]))
      throw std::invalid_argument(std::string(what) + " holds " +
                                  (std::isnan(x[i]) ? "NaN" : "Inf") +
                                  " at index " + std::to_string(i));
}

void project_inputs(const KernelTable& k, const PackedLayer& L, const float* x,
                    int ldx, int batch, float* y, int ldy) {
  const bool from_bias = !L.x_init.empty();
  if (from_bias)
    for (int t = 0; t < batch; ++t)
      std::memcpy(y + static_cast<size_t>(t) * ldy, L.x_init.data(),
                  sizeof(float) * L.rows);
  split_gemm(k, L.w_ih, x, ldx, batch, y, ldy, from_bias);
}

}  // namespace lnfast
