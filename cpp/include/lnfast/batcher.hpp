// Many callers, one weight pass: steps that threads submit for different
// streams of one model run together as Stream::step_many on the batcher's
// own worker threads, straight from the callers' buffers. A caller that
// blocks (Batcher::step) sleeps on its own wait; one that must not block
// (an event loop) submits and is told through a completion sink.
//
// Each caller gets the bits Stream::step would give (docs/math.md: step_many
// is bit-identical to B single steps); steps of one stream run one at a
// time, in the order they were submitted.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lnfast/model.hpp"

namespace lnfast {

// One step handed to a Batcher. The submitter owns it and keeps it, the
// stream and both buffers alive until the step is finished (or withdrawn).
struct BatchStep {
  enum class Outcome {
    Pending,
    Done,       // out holds the step's result
    Busy,       // `claim` was held by someone else: nothing ran
    Refused,    // the step threw std::invalid_argument: `message` says why
    Failed,     // it threw anything else: `message` says what
    Withdrawn,  // Batcher::withdraw took it out before it ran
  };

  Stream* stream = nullptr;
  const float* x = nullptr;  // input_size floats
  float* out = nullptr;      // hidden_size floats
  // Optional: a flag the worker sets for the time it steps this stream, so
  // a caller stepping the stream outside the batcher (holding the same
  // flag) is never raced. Found already set, the step ends Busy.
  std::atomic<bool>* claim = nullptr;
  // Set for a step whose submitter does not wait: on completion it goes to
  // the completion sink instead of waking anyone.
  bool notify_sink = false;

  Outcome outcome = Outcome::Pending;
  std::string message;  // for Refused and Failed; the state is as it was

 private:
  friend class Batcher;
  std::atomic<bool> finished_{false};
  bool sleeping_ = false;  // under wake_mutex_
  std::mutex wake_mutex_;
  std::condition_variable wake_;
};

class Batcher {
 public:
  // Called on a worker thread with the finished notify_sink steps of one
  // batch; after it returns the batcher no longer touches them.
  using CompletionSink = std::function<void(BatchStep* const* steps, int count)>;

  // max_batch >= 1 steps per step_many, workers >= 1 threads, each running
  // its own batch (of other streams). Throws std::invalid_argument.
  Batcher(std::shared_ptr<const Model> model, int max_batch, int workers,
          CompletionSink sink = nullptr);
  // close(): pending steps finish first.
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Submits `s` and returns once it is finished (outcome set). Throws,
  // without submitting, std::invalid_argument for a stream of another model
  // or a NaN/Inf in x (Stream::step's message), std::runtime_error once
  // closed. Sleeps while it waits.
  void step(BatchStep& s);
  // The same checks, then returns at once; the sink gets `s` when finished.
  void submit(BatchStep& s);
  // Takes a submitted step out if no worker has started it: returns true
  // (outcome Withdrawn; the sink will not see it), else false.
  bool withdraw(BatchStep& s);

  // Refuses new steps, lets the workers finish every pending one, and joins
  // them (idempotent). Must not be called from the completion sink.
  void close();
  bool closed() const;

  const std::shared_ptr<const Model>& model() const { return model_; }
  int max_batch() const { return max_batch_; }
  // Steps finished and the step_many calls (batches) they ran in.
  std::uint64_t steps() const { return steps_.load(std::memory_order_relaxed); }
  std::uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  // The workers' kernel thread ids (Linux; 0 elsewhere), for tools that
  // watch their CPU time.
  std::vector<long> worker_thread_ids() const;

 private:
  void enqueue(BatchStep& s);
  void worker_loop(int index);
  // Under mutex_: the oldest pending step of each stream no worker is
  // stepping, up to max_batch, taken out of pending_.
  void take_batch(std::vector<BatchStep*>& batch);
  void run_batch(std::vector<BatchStep*>& batch, std::vector<float>& X,
                 std::vector<float>& H);
  void finish(std::vector<BatchStep*>& batch);

  std::shared_ptr<const Model> model_;
  const int max_batch_;
  CompletionSink sink_;

  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::deque<BatchStep*> pending_;
  std::vector<const Stream*> in_flight_;
  size_t last_batch_ = 0;  // size of the latest batch: how many to gather for
  bool closed_ = false;
  int started_count_ = 0;  // workers that have recorded their ids
  std::condition_variable started_;

  std::atomic<std::uint64_t> steps_{0}, batches_{0};
  std::vector<std::thread> workers_;
  std::vector<std::atomic<long>> worker_tids_;
  std::mutex close_mutex_;
};

}  // namespace lnfast
