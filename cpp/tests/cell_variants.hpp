// Random layers for every cell variant lnfast has, as LayerSpecs (the same
// family of variants tests/variants.py builds for the Python suite).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast_test {

extern const char* const kVariants[17];

// One layer of `kind`, input_size I, hidden_size H.
lnfast::LayerSpec make_layer(const std::string& kind, int I, int H, std::mt19937& rng);

}  // namespace lnfast_test
