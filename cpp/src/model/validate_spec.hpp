#pragma once

#include <string>

#include "lnfast/spec.hpp"

namespace lnfast {

// Every check of validate_layer_structure throws std::invalid_argument
// starting "<where>: " (e.g. "layer 2" in a model, "LSTM" for a lone
// cell), then the field, what was expected and what came.

// Views of the spec's own matrices, after checking their sizes.
LayerMatrices matrix_views(const LayerSpec& spec, const std::string& where);

// The spec and the shapes of its lent matrices; everything but the
// matrices' values, which packing checks as it reads them.
void validate_layer_structure(const LayerSpec& spec, const LayerMatrices& matrices,
                              const std::string& where);

}  // namespace lnfast
