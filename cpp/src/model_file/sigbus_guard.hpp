// Surviving a model file truncated while it is mapped. Reading a page of a
// file mapping past the file's new end raises SIGBUS, which by default
// kills the process. One handler, installed on first use and chained to
// whatever handler was there before, recognises faults inside the ranges
// registered here, maps zero pages over the rest of that range (the fault
// then retries and reads zeros), and marks the range damaged; a fault
// anywhere else goes to the previous handler, or kills the process as it
// would have without lnfast. Streams check the mark around every step
// (model/damage_rollback.hpp) and fail that step cleanly.
#pragma once

#include <cstddef>

namespace lnfast {
namespace model_file {

// Registers [begin, begin + bytes) (page-aligned: a mapping) and returns its
// slot. Throws std::runtime_error when every slot is taken.
int guard_range(const void* begin, std::size_t bytes);
// Forgets the slot; call before unmapping its range.
void release_range(int slot);
bool range_damaged(int slot);

}  // namespace model_file
}  // namespace lnfast
