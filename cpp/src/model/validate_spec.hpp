#pragma once

#include "lnfast/spec.hpp"

namespace lnfast {

// Throws std::invalid_argument naming the layer, the field, what was
// expected and what came.
void validate_layer_spec(const LayerSpec& spec, int layer_index);

}  // namespace lnfast
