// The memory a packed matrix lives in: 64-byte aligned, and for large
// matrices on Linux backed by transparent huge pages, so that first
// touching 64 MiB of panels costs 32 page faults instead of 16384, and
// reused from a freed model where one left a region of the right size
// (packing/recycled_regions.hpp; docs/speed.md#loading).
#pragma once

#include <cstddef>
#include <memory>

namespace lnfast {

struct PanelMemory {
  std::shared_ptr<void> memory;
  // False for a reused region, which holds its last owner's bytes: the
  // caller zeroes what it will not overwrite (padding must read 0).
  bool zeroed = true;
};

// `bytes` bytes; the first `huge_bytes` of them (rounded down to whole huge
// pages) may be backed by huge pages, the rest by small ones, so a small
// tail (int8 row scales) does not make a whole huge page resident.
PanelMemory panel_memory(std::size_t bytes, std::size_t huge_bytes);

}  // namespace lnfast
