// The SIGBUS handler and its table of guarded ranges (see sigbus_guard.hpp).
// The handler only reads the table's atomics and makes two system calls
// (mmap, sigaction), so it is safe in a signal context; mmap is not on
// POSIX's list of async-signal-safe functions but is a single system call
// on the platforms lnfast maps files on.
#include "model_file/sigbus_guard.hpp"

#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

namespace lnfast {
namespace model_file {
namespace {

constexpr int kSlots = 1024;
enum : int { kFree = 0, kClaimed = 1, kActive = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  std::atomic<std::uintptr_t> begin{0}, end{0};
  std::atomic<bool> damaged{false};
};

Slot g_slots[kSlots];
struct sigaction g_previous;
std::uintptr_t g_page = 4096;

void chain(int sig, siginfo_t* info, void* context) {
  if (g_previous.sa_flags & SA_SIGINFO) {
    g_previous.sa_sigaction(sig, info, context);
  } else if (g_previous.sa_handler == SIG_DFL || g_previous.sa_handler == SIG_IGN) {
    // Let the fault repeat with the default action: the crash lnfast did
    // not cause, as it would have happened without lnfast.
    struct sigaction dfl = {};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGBUS, &dfl, nullptr);
  } else {
    g_previous.sa_handler(sig);
  }
}

void on_sigbus(int sig, siginfo_t* info, void* context) {
  const auto at = reinterpret_cast<std::uintptr_t>(info->si_addr);
  for (Slot& s : g_slots) {
    if (s.state.load(std::memory_order_acquire) != kActive) continue;
    const std::uintptr_t begin = s.begin.load(std::memory_order_relaxed);
    const std::uintptr_t end = s.end.load(std::memory_order_relaxed);
    if (at < begin || at >= end) continue;
    const std::uintptr_t page = at & ~(g_page - 1);
    void* zeros = mmap(reinterpret_cast<void*>(page), end - page, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (zeros == MAP_FAILED) break;  // cannot repair: fail as without lnfast
    s.damaged.store(true, std::memory_order_release);
    return;
  }
  chain(sig, info, context);
}

void install_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    const long page = sysconf(_SC_PAGESIZE);
    if (page > 0) g_page = static_cast<std::uintptr_t>(page);
    struct sigaction action = {};
    action.sa_sigaction = on_sigbus;
    action.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&action.sa_mask);
    if (sigaction(SIGBUS, &action, &g_previous) != 0)
      throw std::runtime_error("cannot install the SIGBUS handler that guards mapped files");
  });
}

}  // namespace

int guard_range(const void* begin, std::size_t bytes) {
  install_once();
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!g_slots[i].state.compare_exchange_strong(expected, kClaimed)) continue;
    const auto b = reinterpret_cast<std::uintptr_t>(begin);
    g_slots[i].begin.store(b, std::memory_order_relaxed);
    g_slots[i].end.store(b + bytes, std::memory_order_relaxed);
    g_slots[i].damaged.store(false, std::memory_order_relaxed);
    g_slots[i].state.store(kActive, std::memory_order_release);
    return i;
  }
  throw std::runtime_error("more than " + std::to_string(kSlots) +
                           " model files are mapped at once");
}

void release_range(int slot) { g_slots[slot].state.store(kFree, std::memory_order_release); }

bool range_damaged(int slot) { return g_slots[slot].damaged.load(std::memory_order_acquire); }

}  // namespace model_file
}  // namespace lnfast
