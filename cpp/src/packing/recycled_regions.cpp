#include "packing/recycled_regions.hpp"

#include "lnfast/memory.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <vector>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace lnfast {
namespace {

using Clock = std::chrono::steady_clock;

// Enough for a reloaded model of a few 64 MiB layers; a service that drops
// a model and loads nothing for a while gets the memory back after the
// time limit, at its next load or free, or at once by release_freed_memory.
constexpr std::size_t kCapBytes = std::size_t{512} << 20;
constexpr auto kTimeLimit = std::chrono::seconds(30);

struct Kept {
  Region region;
  Clock::time_point since;
};

class RecycledRegions {
 public:
  Region take(std::size_t mapped) {
    std::vector<Region> unmap;
    const Region region = take_locked(mapped, unmap);
    for (const Region& r : unmap) unmap_region(r);  // outside the lock
    return region;
  }

  void give(Region region) {
    std::vector<Region> unmap;
    {
      std::lock_guard<std::mutex> hold(lock_);
      const Clock::time_point now = Clock::now();
      expire(now, unmap);
      if (region.mapped > kCapBytes) {
        unmap.push_back(region);
      } else {
        // The oldest make room: the newest are likeliest to be asked for.
        while (bytes_ + region.mapped > kCapBytes) pop_oldest(unmap);
        kept_.push_back({region, now});
        bytes_ += region.mapped;
      }
    }
    for (const Region& r : unmap) unmap_region(r);
  }

  std::size_t release() {
    std::vector<Region> unmap;
    {
      std::lock_guard<std::mutex> hold(lock_);
      while (!kept_.empty()) pop_oldest(unmap);
    }
    std::size_t released = 0;
    for (const Region& r : unmap) {
      released += r.mapped;
      unmap_region(r);
    }
    return released;
  }

 private:
  static void unmap_region(const Region& r) {
#if defined(__linux__)
    munmap(r.base, r.mapped);
#else
    (void)r;
#endif
  }

  // The smallest kept region that fits without wasting more than a quarter.
  Region take_locked(std::size_t mapped, std::vector<Region>& unmap) {
    std::lock_guard<std::mutex> hold(lock_);
    expire(Clock::now(), unmap);
    auto best = kept_.end();
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
      const std::size_t size = it->region.mapped;
      if (size >= mapped && size - mapped <= mapped / 4 &&
          (best == kept_.end() || size < best->region.mapped))
        best = it;
    }
    if (best == kept_.end()) return {};
    const Region region = best->region;
    bytes_ -= region.mapped;
    kept_.erase(best);
    return region;
  }

  void pop_oldest(std::vector<Region>& unmap) {
    unmap.push_back(kept_.front().region);
    bytes_ -= kept_.front().region.mapped;
    kept_.erase(kept_.begin());
  }

  void expire(Clock::time_point now, std::vector<Region>& unmap) {
    while (!kept_.empty() && now - kept_.front().since > kTimeLimit) pop_oldest(unmap);
  }

  std::mutex lock_;
  std::vector<Kept> kept_;  // oldest first
  std::size_t bytes_ = 0;
};

// Never destroyed: models freed during static destruction still give
// their regions back to it.
RecycledRegions& regions() {
  static RecycledRegions* kept = new RecycledRegions;
  return *kept;
}

}  // namespace

Region take_recycled_region(std::size_t mapped) { return regions().take(mapped); }
void recycle_region(Region region) { regions().give(region); }
std::size_t release_freed_memory() { return regions().release(); }

}  // namespace lnfast
