// Stepping through weights that can go bad under the step (a model file
// truncated while mapped: see lnfast/model.hpp's WeightSource). The states a
// step changes are copied first, so a step that met damaged weights puts
// them back and fails instead of leaving a state computed from zero pages.
#pragma once

#include <vector>

#include "lnfast/model.hpp"

namespace lnfast {

class DamageRollback {
 public:
  // Throws the source's error when it is damaged already. A null source
  // (a model with its own buffers) makes every call below free.
  explicit DamageRollback(const WeightSource* source);
  // Copies `state` to restore it if the step goes bad.
  void keep(std::vector<float>& state);
  // After the step: if the source went bad meanwhile, every kept state is
  // put back and the source's error thrown.
  void finish();

 private:
  const WeightSource* source_;
  std::vector<std::vector<float>*> kept_;
};

}  // namespace lnfast
