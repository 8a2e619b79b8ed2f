#include "packing/panel_buffer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "packing/recycled_regions.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace lnfast {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

PanelMemory heap_memory(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return {std::shared_ptr<void>(p, [](void* q) { std::free(q); }), true};
}

}  // namespace

PanelMemory panel_memory(std::size_t bytes, std::size_t huge_bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::size_t huge = std::min(huge_bytes, bytes) / kHugePage * kHugePage;
  if (huge == 0) return heap_memory(bytes);
  // One spare huge page of address space lets the start sit on a
  // huge-page boundary; untouched, it costs no memory.
  const std::size_t mapped = bytes + kHugePage;
  Region region = take_recycled_region(mapped);
  const bool fresh = region.base == nullptr;
  if (fresh) {
    // Anonymous memory is zero already: no memset, which would fault every
    // page in before the packer writes it.
    void* base = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::bad_alloc();
    region = {base, mapped};
  }
  const auto address = reinterpret_cast<std::uintptr_t>(region.base);
  char* start = reinterpret_cast<char*>((address + kHugePage - 1) / kHugePage * kHugePage);
  madvise(start, huge, MADV_HUGEPAGE);  // advice only: small pages if refused
#if defined(MADV_POPULATE_WRITE)
  // The packers write with streaming stores, which fault in every
  // not-yet-present page one by one: a fresh process's first fp32 load of
  // 64 MiB took 35-47 ms that way against 24 ms with the pages faulted in
  // by this one call first (Linux 6.18 in a VM). Advice again: where
  // refused, the stores fault them in.
  if (fresh) madvise(start, bytes, MADV_POPULATE_WRITE);
#endif
  return {std::shared_ptr<void>(start, [region](void*) { recycle_region(region); }), fresh};
#else
  (void)huge_bytes;
  return heap_memory(bytes);
#endif
}

}  // namespace lnfast
