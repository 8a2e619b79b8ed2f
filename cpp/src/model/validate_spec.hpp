#pragma once

#include <string>
#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast {

// Throws std::invalid_argument starting "<where>: " (e.g. "layer 2" in a
// model, "LSTM" for a lone cell), then the field, what was expected and what
// came.
void validate_layer_spec(const LayerSpec& spec, const std::string& where);
// The same for a spec that gives only the structure (its weight matrices
// are packed elsewhere): every check except the matrices' sizes.
void validate_layer_structure(const LayerSpec& spec, const std::string& where);

}  // namespace lnfast

namespace lnfast {

// int8 activations go with int8 weights only.
void validate_storage(WeightFormat weights, bool int8_activations);

// At least one layer, each passing `validate_layer` (one of the two above),
// and each taking the outputs of the one below.
void validate_stack(const std::vector<LayerSpec>& specs,
                    void (*validate_layer)(const LayerSpec&, const std::string&));

}  // namespace lnfast
