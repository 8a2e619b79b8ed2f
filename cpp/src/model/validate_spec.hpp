#pragma once

#include <string>

#include "lnfast/spec.hpp"

namespace lnfast {

// Throws std::invalid_argument starting "<where>: " (e.g. "layer 2" in a
// model, "LSTM" for a lone cell), then the field, what was expected and what
// came.
void validate_layer_spec(const LayerSpec& spec, const std::string& where);

}  // namespace lnfast
