// Memory a process keeps for models it has not loaded yet.
#pragma once

#include <cstddef>

namespace lnfast {

// A freed model's large panel regions stay mapped for a while, so that the
// next load (a reloaded or updated model) writes to memory already in place
// instead of fresh pages (docs/speed.md#loading): at most 512 MiB, each for
// at most 30 s, handed back at the next load or free after that. This hands
// every kept region back now and returns the bytes released.
std::size_t release_freed_memory();

}  // namespace lnfast
