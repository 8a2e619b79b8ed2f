// A tiny pool for splitting one step's GEMMs across cores at batch size 1.
//
// A step of a large layer takes ~100 us to 1 ms, and it is split twice per
// layer, so waking a thread through the OS each time (~5-20 us) would eat
// the gain. Helpers therefore spin on a generation counter for a while
// after each job and only then park on a condition variable.
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace lnfast {

class WorkerPool {
 public:
  using Task = void (*)(void* context, int part, int parts);

  static WorkerPool& instance();

  void set_threads(int n);
  int threads() const { return threads_.load(std::memory_order_relaxed); }

  // Runs task(context, p, parts) for every p in [0, parts), the caller
  // taking part 0 and then any part no helper has claimed yet, and returns
  // when all are done. When another caller holds
  // the pool (two streams stepping at once), this caller runs every part
  // itself: correct, just not parallel.
  void run(Task task, void* context);

  ~WorkerPool();

 private:
  WorkerPool() = default;
  void worker_loop(unsigned long long seen);
  void stop_workers();
  // The next unclaimed part of `job` (false when none is left or the job is over).
  bool claim_part(unsigned long long job, int parts, int* part);
  void run_claimed_parts(unsigned long long job, int parts);

  std::atomic<int> threads_{1};
  std::mutex owner_;  // held by the caller whose job is running
  std::mutex config_;
  std::vector<std::thread> workers_;

  std::atomic<unsigned long long> generation_{0};  // the job last posted
  // The job (high bits) and its next unclaimed part (low kPartBits).
  static constexpr int kPartBits = 16;
  std::atomic<unsigned long long> claims_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  Task task_ = nullptr;
  void* context_ = nullptr;
  int parts_ = 1;

  std::mutex park_mutex_;
  std::condition_variable park_;
};

}  // namespace lnfast
