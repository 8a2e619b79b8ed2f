// The memory a packed matrix lives in: zeroed (padding rows and columns
// must read 0), 64-byte aligned, and for large matrices on Linux backed by
// transparent huge pages, so that first touching 64 MiB of panels costs 32
// page faults instead of 16384 (docs/speed.md#loading).
#pragma once

#include <cstddef>
#include <memory>

namespace lnfast {

// `bytes` zeroed bytes; the first `huge_bytes` of them (rounded down to
// whole huge pages) may be backed by huge pages, the rest by small ones, so
// a small tail (int8 row scales) does not make a whole huge page resident.
std::shared_ptr<void> zeroed_buffer(std::size_t bytes, std::size_t huge_bytes);

}  // namespace lnfast
