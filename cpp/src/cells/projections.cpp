#include "cells/projections.hpp"

#include <cmath>
#include <cstring>

namespace lnfast {

void apply_norm(const KernelTable& k, const Norm& n, const float* in,
                float* out, bool accumulate) {
  float mean, var;
  k.moments(in + n.offset, n.size, &mean, &var);
  // eps = 0 on a constant input: var + eps = 0 and the result is beta
  // (docs/math.md#layer-norm), not NaN.
  const float denom = var + n.eps;
  const float rstd = denom > 0.0f ? 1.0f / std::sqrt(denom) : 0.0f;
  k.normalize(in + n.offset, n.size, mean, rstd, n.gamma.data(),
              n.beta.data(), out + n.offset, accumulate);
}

void apply_norms(const KernelTable& k, const std::vector<Norm>& norms,
                 const float* in, float* out, bool accumulate, int lo, int hi) {
  for (const Norm& n : norms)
    if (n.offset >= lo && n.offset < hi) apply_norm(k, n, in, out, accumulate);
}

float* finish_pre_activations(const KernelTable& k, const PackedLayer& layer,
                              float* xw, float* scratch) {
  if (!layer.h_norms.empty()) apply_norms(k, layer.h_norms, scratch, xw, true);
  if (!layer.x_post.empty()) k.add(xw, layer.x_post.data(), xw, layer.rows);
  return xw;
}

void commit_hidden(const KernelTable& k, const PackedLayer& layer,
                   float* h_new, float* h_state, float* h_out) {
  const int H = layer.output_size;
  if (layer.zoneout != 0.0f)
    k.lerp_scalar(layer.zoneout, h_new, h_state, h_new, H);
  std::memcpy(h_state, h_new, sizeof(float) * H);
  if (h_out != h_state) std::memcpy(h_out, h_new, sizeof(float) * H);
}

}  // namespace lnfast
