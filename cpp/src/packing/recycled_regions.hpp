// Large panel regions a freed model gave back, kept mapped for the next
// model to reuse (docs/speed.md#loading). Fresh anonymous memory is the
// dearest part of a load: the kernel zeroes every page on first touch and,
// on a VM that hands freed memory back to its host, the host faults it in
// again. torch's storages come from the C heap, which keeps freed memory
// the same way; this is lnfast's equivalent for its huge-page regions.
#pragma once

#include <cstddef>

namespace lnfast {

struct Region {
  void* base = nullptr;  // as mmap returned it
  std::size_t mapped = 0;
};

// A region of at least `mapped` bytes and at most a quarter more, its
// contents whatever its last owner left; or {} when none is kept.
Region take_recycled_region(std::size_t mapped);

// Keeps `region` for reuse, or unmaps it when keeping it would pass the
// cap; regions kept longer than the time limit are unmapped meanwhile.
void recycle_region(Region region);

// Handing them all back now: lnfast::release_freed_memory (lnfast/memory.hpp).

}  // namespace lnfast
