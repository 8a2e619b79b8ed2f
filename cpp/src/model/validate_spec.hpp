#pragma once

#include <string>
#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast {

// Every check throws std::invalid_argument starting "<where>: " (e.g.
// "layer 2" in a model, "LSTM" for a lone cell), then the field, what was
// expected and what came.

// A spec's structure: every check except its weight matrices'.
void validate_layer_structure(const LayerSpec& spec, const std::string& where);
// The shapes of a valid structure's lent matrices; their values are checked
// by packing as it reads them.
void validate_layer_views(const LayerSpec& spec, const LayerViews& views,
                          const std::string& where);

// Views of the spec's own matrices, after checking their sizes.
LayerViews matrix_views(const LayerSpec& spec, const std::string& where);

// int8 activations go with int8 weights only.
void validate_storage(WeightFormat weights, bool int8_activations);

// At least one layer, each passing `validate_layer`, and each taking the
// outputs of the one below.
void validate_stack(const std::vector<LayerSpec>& specs,
                    void (*validate_layer)(const LayerSpec&, const std::string&));

}  // namespace lnfast
