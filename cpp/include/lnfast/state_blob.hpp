// A stream's state as bytes another process can resume from: the way a
// session moves between processes or machines without carrying its model.
//
// Layout (little-endian): "LNFS", u32 format version, u64 model
// fingerprint, u32 n, n float32 state values, u64 hash64 of everything
// before it. 28 bytes plus 4 per state float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lnfast/model.hpp"

namespace lnfast {

constexpr std::uint32_t kStateBlobVersion = 1;

std::vector<unsigned char> state_to_bytes(const Stream& stream);

// Replaces the stream's state by the blob's. Throws std::invalid_argument
// naming the problem, with the stream untouched, when the blob is not one,
// is truncated or corrupted, has a newer format version, or belongs to a
// model with another fingerprint.
void restore_state(Stream& stream, const unsigned char* blob, std::size_t size);

}  // namespace lnfast
