// The identity of a model: a 64-bit hash of its canonical weights and
// structure and of how it stores its weights. It ignores the instruction set
// and the packed panels, so every process on every CPU that builds the same
// model gets the same value; saved stream state and, later, files carry it
// to say which model they belong to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lnfast/spec.hpp"

namespace lnfast {

// XXH64 of `bytes` bytes read as a little-endian stream (the same value on
// every platform). Fast and non-cryptographic: it detects accidents, not
// forgeries.
std::uint64_t hash64(const void* data, std::size_t bytes, std::uint64_t seed = 0);

std::uint64_t model_fingerprint(const std::vector<LayerSpec>& layers, WeightFormat weights);

// 16 lowercase hex digits, most significant first.
std::string fingerprint_hex(std::uint64_t fingerprint);

}  // namespace lnfast
