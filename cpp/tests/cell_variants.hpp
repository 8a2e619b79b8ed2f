// Random layers for every cell variant lnfast has, as LayerSpecs (the same
// family of variants tests/variants.py builds for the Python suite).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast_test {

extern const char* const kVariants[20];

// One layer of `kind`, input_size I, hidden_size H.
lnfast::LayerSpec make_layer(const std::string& kind, int I, int H, std::mt19937& rng);

// An LSTM `kind` with h projected to P units (w_hr (P, H), w_hh (4H, P)).
lnfast::LayerSpec make_projected_layer(const std::string& kind, int I, int H, int P,
                                       std::mt19937& rng);

}  // namespace lnfast_test
