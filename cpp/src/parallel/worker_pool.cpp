#include "parallel/worker_pool.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include "lnfast/threads.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define LNFAST_PAUSE() _mm_pause()
#else
#define LNFAST_PAUSE() std::this_thread::yield()
#endif

namespace lnfast {
namespace {
// How long an idle helper spins before parking: longer than the gap between
// the GEMMs of consecutive steps, short enough not to burn a core for long.
constexpr auto kSpinFor = std::chrono::microseconds(200);
}  // namespace

WorkerPool& WorkerPool::instance() {
  static WorkerPool pool;
  return pool;
}

WorkerPool::~WorkerPool() { stop_workers(); }

void WorkerPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(park_mutex_);
    stopping_.store(true);
  }
  park_.notify_all();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  stopping_.store(false);
}

void WorkerPool::set_threads(int n) {
  if (n < 1 || n >= (1 << kPartBits))
    throw std::invalid_argument("the number of threads must be in [1, " +
                                std::to_string((1 << kPartBits) - 1) + "], got " +
                                std::to_string(n));
  std::lock_guard<std::mutex> config(config_);
  std::lock_guard<std::mutex> owner(owner_);  // no job runs while resizing
  stop_workers();
  threads_.store(n);
  parts_ = n;
  // Helpers learn the current generation here, not when their thread gets
  // to run: a job posted before that would otherwise go unseen.
  const unsigned long long start = generation_.load();
  for (int i = 1; i < n; ++i)
    workers_.emplace_back(&WorkerPool::worker_loop, this, start);
}

void WorkerPool::run(Task task, void* context) {
  std::unique_lock<std::mutex> owner(owner_, std::try_to_lock);
  if (!owner.owns_lock()) {
    // Another job runs, or set_threads is resizing: the pool's part count
    // may change under us, so this caller does the whole job as one part.
    task(context, 0, 1);
    return;
  }
  // Read under owner_, the lock set_threads takes: the number of parts and
  // of helpers that will answer stay equal for this whole job.
  const int parts = parts_;
  if (parts == 1 || workers_.empty()) {
    task(context, 0, 1);
    return;
  }
  task_ = task;
  context_ = context;
  pending_.store(parts - 1, std::memory_order_relaxed);
  // Parts 1.. are claimed, by a helper or by this caller: a helper the OS
  // has not scheduled (another process holds its core) would otherwise
  // leave the caller waiting for a time slice, which made two threads
  // 2x slower than one on a loaded machine.
  const unsigned long long job = generation_.load(std::memory_order_relaxed) + 1;
  claims_.store(job << kPartBits | 1u, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(park_mutex_);
    generation_.store(job, std::memory_order_release);
  }
  park_.notify_all();
  task(context, 0, parts);
  run_claimed_parts(job, parts);
  while (pending_.load(std::memory_order_acquire) != 0) LNFAST_PAUSE();
}

bool WorkerPool::claim_part(unsigned long long job, int parts, int* part) {
  unsigned long long word = claims_.load(std::memory_order_acquire);
  for (;;) {
    const unsigned long long next = word & ((1u << kPartBits) - 1);
    if (word >> kPartBits != job || next >= static_cast<unsigned long long>(parts)) return false;
    if (claims_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) {
      *part = static_cast<int>(next);
      return true;
    }
  }
}

void WorkerPool::run_claimed_parts(unsigned long long job, int parts) {
  // task_ and context_ are this job's: the next job is posted only after
  // every claimed part has counted itself done.
  for (int part; claim_part(job, parts, &part);) {
    task_(context_, part, parts);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void WorkerPool::worker_loop(unsigned long long seen) {
  for (;;) {
    auto spin_until = std::chrono::steady_clock::now() + kSpinFor;
    unsigned long long now_gen;
    while ((now_gen = generation_.load(std::memory_order_acquire)) == seen &&
           !stopping_.load(std::memory_order_relaxed)) {
      LNFAST_PAUSE();
      if (std::chrono::steady_clock::now() > spin_until) {
        std::unique_lock<std::mutex> lock(park_mutex_);
        park_.wait(lock, [&] {
          return generation_.load(std::memory_order_acquire) != seen ||
                 stopping_.load();
        });
        spin_until = std::chrono::steady_clock::now() + kSpinFor;
      }
    }
    if (stopping_.load()) return;
    seen = now_gen;
    run_claimed_parts(now_gen, parts_);
  }
}

void set_num_threads(int n) { WorkerPool::instance().set_threads(n); }
int num_threads() { return WorkerPool::instance().threads(); }

}  // namespace lnfast
