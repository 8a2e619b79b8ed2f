#include "model/damage_rollback.hpp"

#include <algorithm>

namespace lnfast {
namespace {

// One buffer per thread for the copies: a step allocates nothing once it
// has run at its size.
std::vector<float>& saved_states() {
  thread_local std::vector<float> saved;
  return saved;
}

}  // namespace

DamageRollback::DamageRollback(const WeightSource* source) : source_(source) {
  if (!source_) return;
  source_->check_intact();
  saved_states().clear();
}

void DamageRollback::keep(std::vector<float>& state) {
  if (!source_) return;
  std::vector<float>& saved = saved_states();
  saved.insert(saved.end(), state.begin(), state.end());
  kept_.push_back(&state);
}

void DamageRollback::finish() {
  if (!source_ || !source_->damaged()) return;
  const std::vector<float>& saved = saved_states();
  std::size_t at = 0;
  for (std::vector<float>* state : kept_) {
    std::copy(saved.begin() + at, saved.begin() + at + state->size(), state->begin());
    at += state->size();
  }
  source_->check_intact();
}

}  // namespace lnfast
