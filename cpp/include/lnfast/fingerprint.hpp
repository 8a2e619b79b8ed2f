// The identity of a model: a 64-bit hash of its structure, of the weight
// values it stores (after rounding to its weight format) and of how it
// multiplies them (weight format, int8 activations). It ignores the
// instruction set and the panel layout, so every process on every CPU that
// builds the same model gets the same value, and it needs nothing a model
// does not keep (docs/numerics.md#fingerprint). Saved stream state and files
// carry it to say which model they belong to.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lnfast/hash64.hpp"
#include "lnfast/spec.hpp"

namespace lnfast {

// The stored-value hashes of one layer's matrices (stored_values_hash in
// packing/packed_matrix.hpp); w_hr is 0 for a layer without a projection.
struct StoredHashes {
  std::uint64_t w_ih = 0, w_hh = 0, w_hr = 0;
};

// `structure`: the layers with their matrices left out (only the norms,
// biases and options are read); one StoredHashes per layer.
std::uint64_t model_fingerprint(const std::vector<LayerSpec>& structure,
                                const std::vector<StoredHashes>& stored,
                                WeightFormat weights, bool int8_activations);

// 16 lowercase hex digits, most significant first.
std::string fingerprint_hex(std::uint64_t fingerprint);

}  // namespace lnfast
