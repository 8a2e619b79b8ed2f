#include "kernels/cache_size.hpp"

#if defined(__APPLE__)
#include <sys/sysctl.h>
#elif defined(__unix__)
#include <unistd.h>
#endif

namespace lnfast {
namespace {

long reported_l1_bytes() {
#if defined(__APPLE__)
  long long bytes = 0;
  size_t size = sizeof bytes;
  if (sysctlbyname("hw.l1dcachesize", &bytes, &size, nullptr, 0) == 0) return static_cast<long>(bytes);
#elif defined(_SC_LEVEL1_DCACHE_SIZE)
  return sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
  return 0;
}

}  // namespace

long l1_data_bytes() {
  static const long bytes = [] {
    const long b = reported_l1_bytes();
    // A VM may report 0 or nonsense; every core of the last decade has
    // 32-64 KiB (Apple's 128 KiB).
    return b >= 16 * 1024 && b <= 256 * 1024 ? b : 32 * 1024L;
  }();
  return bytes;
}

}  // namespace lnfast
