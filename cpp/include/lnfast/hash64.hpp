// The one non-cryptographic hash of the core: stream blobs' checksums, the
// stored-value hashes of packed matrices and the model fingerprint.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lnfast {

// XXH64 of `bytes` bytes read as a little-endian stream (the same value on
// every platform). Fast and non-cryptographic: it detects accidents, not
// forgeries.
std::uint64_t hash64(const void* data, std::size_t bytes, std::uint64_t seed = 0);

// hash64 of two inputs of the same length at once: out[0] of a, out[1] of
// b, the same values as two calls; one loop over both keeps twice the
// multiply chains in flight.
void hash64_pair(const void* a, const void* b, std::size_t bytes, std::uint64_t out[2],
                 std::uint64_t seed = 0);

// hash64 of 64-bit words laid out little-endian, whatever the host's order.
std::uint64_t hash64_words(const std::uint64_t* words, std::size_t count,
                           std::uint64_t seed = 0);

}  // namespace lnfast
