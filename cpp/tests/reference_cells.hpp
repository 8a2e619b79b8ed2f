// A float64 reference for every LayerSpec, written from the field comments
// in lnfast/spec.hpp with two-pass layer-norm statistics and libm's
// exp/tanh: nothing is shared with the kernels or cells it checks.
#pragma once

#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast_test {

class ReferenceStack {
 public:
  explicit ReferenceStack(const std::vector<lnfast::LayerSpec>& layers);
  // One step of every layer; returns the top layer's h.
  const std::vector<double>& step(const float* x);

 private:
  struct Layer {
    const lnfast::LayerSpec* spec;
    std::vector<double> h, c;
  };
  void step_layer(Layer& L, const std::vector<double>& x);
  std::vector<Layer> layers_;
};

}  // namespace lnfast_test
