#include "packing/panel_buffer.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace lnfast {
namespace {

constexpr std::size_t kHugePage = std::size_t{2} << 20;

std::shared_ptr<void> heap_buffer(std::size_t bytes) {
  const std::size_t rounded = (std::max<std::size_t>(bytes, 1) + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, rounded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace

std::shared_ptr<void> zeroed_buffer(std::size_t bytes, std::size_t huge_bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  const std::size_t huge = std::min(huge_bytes, bytes) / kHugePage * kHugePage;
  if (huge == 0) return heap_buffer(bytes);
  // Anonymous memory is zero already: no memset, which would fault every
  // page in before the packer writes it. One spare huge page of address
  // space lets the start sit on a huge-page boundary; untouched, it costs
  // no memory.
  const std::size_t mapped = bytes + kHugePage;
  void* region = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region == MAP_FAILED) throw std::bad_alloc();
  const auto address = reinterpret_cast<std::uintptr_t>(region);
  char* start = reinterpret_cast<char*>((address + kHugePage - 1) / kHugePage * kHugePage);
  madvise(start, huge, MADV_HUGEPAGE);  // advice only: small pages if refused
  return std::shared_ptr<void>(start, [region, mapped](void*) { munmap(region, mapped); });
#else
  (void)huge_bytes;
  return heap_buffer(bytes);
#endif
}

}  // namespace lnfast
