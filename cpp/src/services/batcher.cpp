// The batcher's queue, its workers and the callers' waits (lnfast/batcher.hpp).
#include "lnfast/batcher.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "model/step_helpers.hpp"

#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lnfast {
namespace {

long current_thread_id() {
#if defined(__linux__)
  return static_cast<long>(syscall(SYS_gettid));
#else
  return 0;
#endif
}

// How long a worker waits for the next of the callers it expects (see
// worker_loop). bench/services_batcher.py, 32 threads on 2 cores: at H = 512
// 0, 30, 60 and 150 us all gave 2.1x-2.3x of direct steps (noise), at
// H = 1024 60 us gave 3.8x against 3.3x without waiting (mean batch 31
// against 24): docs/speed.md.
constexpr std::chrono::microseconds kGatherGap{60};

}  // namespace

Batcher::Batcher(std::shared_ptr<const Model> model, int max_batch, int workers,
                 CompletionSink sink)
    : model_(std::move(model)), max_batch_(max_batch), sink_(std::move(sink)) {
  if (!model_) throw std::invalid_argument("a Batcher needs a model");
  if (max_batch < 1)
    throw std::invalid_argument("max_batch must be at least 1, got " + std::to_string(max_batch));
  if (workers < 1)
    throw std::invalid_argument("workers must be at least 1, got " + std::to_string(workers));
  worker_tids_ = std::vector<std::atomic<long>>(workers);
  try {
    for (int k = 0; k < workers; ++k) workers_.emplace_back([this, k] { worker_loop(k); });
  } catch (...) {  // no thread to be had: stop the ones that started
    close();
    throw;
  }
  // Their ids are known (worker_thread_ids) once the constructor returns.
  std::unique_lock<std::mutex> lock(mutex_);
  started_.wait(lock, [&] { return started_count_ == workers; });
}

Batcher::~Batcher() { close(); }

void Batcher::enqueue(BatchStep& s) {
  if (s.stream == nullptr || s.x == nullptr || s.out == nullptr)
    throw std::invalid_argument("a BatchStep needs a stream, x and out");
  if (s.stream->model().get() != model_.get())
    throw std::invalid_argument(
        "stream belongs to another model; this Batcher steps streams of its own "
        "model (made by its model.stream())");
  // Here, not in the batch: a NaN fails its own caller and no other.
  require_finite(s.x, model_->input_size(), "input");
  s.outcome = BatchStep::Outcome::Pending;
  s.finished_.store(false, std::memory_order_relaxed);
  s.sleeping_ = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_)
      throw std::runtime_error(
          "this Batcher is closed and accepts no new steps; make a new Batcher "
          "or step the stream directly");
    pending_.push_back(&s);
  }
  work_.notify_one();
}

void Batcher::step(BatchStep& s) {
  s.notify_sink = false;
  enqueue(s);
  // No spinning first: a batch takes hundreds of microseconds, and a caller
  // spinning for it takes a core from the worker and from the callers the
  // worker waits for (bench/services_batcher.py, 32 threads on 2 cores:
  // 1.3x direct with a 20 us spin, 2.3x without; docs/speed.md).
  // Taken even when finished: once we hold it the worker has let go of s.
  std::unique_lock<std::mutex> lock(s.wake_mutex_);
  s.sleeping_ = true;
  s.wake_.wait(lock, [&] { return s.finished_.load(std::memory_order_acquire); });
}

void Batcher::submit(BatchStep& s) {
  if (!sink_) throw std::logic_error("Batcher::submit needs a completion sink");
  s.notify_sink = true;
  enqueue(s);
}

bool Batcher::withdraw(BatchStep& s) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = std::find(pending_.begin(), pending_.end(), &s);
  if (it == pending_.end()) return false;
  pending_.erase(it);
  s.outcome = BatchStep::Outcome::Withdrawn;
  return true;
}

void Batcher::close() {
  std::lock_guard<std::mutex> closing(close_mutex_);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  work_.notify_all();
  for (std::thread& t : workers_)
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
}

bool Batcher::closed() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return closed_;
}

std::vector<long> Batcher::worker_thread_ids() const {
  std::vector<long> ids;
  for (const auto& id : worker_tids_) ids.push_back(id.load());
  return ids;
}

void Batcher::take_batch(std::vector<BatchStep*>& batch) {
  // Oldest first; a stream already in this batch or on another worker keeps
  // its later steps pending, so its steps run in order.
  for (auto it = pending_.begin();
       it != pending_.end() && batch.size() < static_cast<size_t>(max_batch_);) {
    const Stream* stream = (*it)->stream;
    if (std::find(in_flight_.begin(), in_flight_.end(), stream) != in_flight_.end()) {
      ++it;
      continue;
    }
    in_flight_.push_back(stream);
    batch.push_back(*it);
    it = pending_.erase(it);
  }
}

void Batcher::worker_loop(int index) {
  worker_tids_[index].store(current_thread_id());
  std::vector<BatchStep*> batch;
  std::vector<const Stream*> streams;
  std::vector<float> X, H;
  std::unique_lock<std::mutex> lock(mutex_);
  ++started_count_;
  started_.notify_all();
  for (;;) {
    batch.clear();
    take_batch(batch);
    if (batch.empty()) {
      if (closed_ && pending_.empty()) return;
      work_.wait(lock);
      continue;
    }
    // The callers of the last batch come back within microseconds of being
    // woken, one by one as each gets the GIL; a batch run before they do
    // pays a whole weight pass for few steps. Wait for them while they keep
    // arriving, a gap of kGatherGap at most between two.
    const size_t target = std::min(last_batch_, static_cast<size_t>(max_batch_));
    while (batch.size() < target && !closed_) {
      const size_t before = batch.size();
      work_.wait_for(lock, kGatherGap);
      take_batch(batch);
      if (batch.size() == before) break;
    }
    last_batch_ = batch.size();
    streams.clear();
    for (BatchStep* s : batch) streams.push_back(s->stream);  // s is the caller's once woken
    lock.unlock();
    run_batch(batch, X, H);
    finish(batch);
    lock.lock();
    for (const Stream* stream : streams)
      in_flight_.erase(std::find(in_flight_.begin(), in_flight_.end(), stream));
    if (closed_) work_.notify_all();  // workers waiting for these streams, or to exit
    else if (!pending_.empty()) work_.notify_one();  // their next steps
  }
}

void Batcher::run_batch(std::vector<BatchStep*>& batch, std::vector<float>& X,
                        std::vector<float>& H) {
  using Outcome = BatchStep::Outcome;
  std::vector<BatchStep*> runnable;
  std::vector<Stream*> streams;
  for (BatchStep* s : batch) {
    if (s->claim && s->claim->exchange(true, std::memory_order_acquire)) {
      s->outcome = Outcome::Busy;
      continue;
    }
    runnable.push_back(s);
    streams.push_back(s->stream);
  }
  const int B = static_cast<int>(runnable.size());
  const size_t I = model_->input_size(), Hs = model_->hidden_size();
  bool together = B > 1;
  if (together) {
    try {
      X.resize(I * B);
      H.resize(Hs * B);
      for (int b = 0; b < B; ++b) std::memcpy(&X[I * b], runnable[b]->x, sizeof(float) * I);
      Stream::step_many(*model_, streams.data(), B, X.data(), H.data());
      for (int b = 0; b < B; ++b) {
        std::memcpy(runnable[b]->out, &H[Hs * b], sizeof(float) * Hs);
        runnable[b]->outcome = Outcome::Done;
      }
    } catch (...) {
      // step_many checks everything before it touches a state, so nothing
      // moved: each step alone says what is wrong with it.
      together = false;
    }
  }
  if (!together) {
    for (BatchStep* s : runnable) {
      try {
        s->stream->step(s->x, s->out);
        s->outcome = Outcome::Done;
      } catch (const std::invalid_argument& e) {
        s->outcome = Outcome::Refused;
        s->message = e.what();
      } catch (const std::exception& e) {
        s->outcome = Outcome::Failed;
        s->message = e.what();
      } catch (...) {
        s->outcome = Outcome::Failed;
        s->message = "unknown error";
      }
    }
  }
  for (BatchStep* s : runnable)
    if (s->claim) s->claim->store(false, std::memory_order_release);
}

void Batcher::finish(std::vector<BatchStep*>& batch) {
  steps_.fetch_add(batch.size(), std::memory_order_relaxed);
  batches_.fetch_add(1, std::memory_order_relaxed);
  std::vector<BatchStep*> to_sink;
  for (BatchStep* s : batch) {
    if (s->notify_sink) {
      to_sink.push_back(s);
      continue;
    }
    // Once the caller sees finished_ it may free s: nothing touches s after
    // this block (the caller takes wake_mutex_ before it returns).
    std::lock_guard<std::mutex> lock(s->wake_mutex_);
    s->finished_.store(true, std::memory_order_release);
    if (s->sleeping_) s->wake_.notify_one();
  }
  if (!to_sink.empty() && sink_) sink_(to_sink.data(), static_cast<int>(to_sink.size()));
}

}  // namespace lnfast
