// lnfast::Batcher from C++: threads stepping their own streams through it
// get the bits of Stream::step, a NaN fails its own submitter, a held claim
// ends a step Busy without touching the state, withdraw and close keep
// their promises, and the completion sink sees every submitted step.
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cell_variants.hpp"
#include "check.hpp"
#include "lnfast/batcher.hpp"

namespace lnfast_test {
namespace {

constexpr int kI = 13, kH = 40, kSteps = 30, kThreads = 8;

std::vector<float> random_inputs(int count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(count) * kI);
  for (float& v : x) v = normal(rng);
  return x;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), sizeof(float) * a.size()) == 0;
}

void threads_get_the_bits_of_single_steps(const std::shared_ptr<const lnfast::Model>& model) {
  for (int workers : {1, 2}) {
    lnfast::Batcher batcher(model, 4, workers);
    std::vector<std::vector<float>> got(kThreads), want(kThreads);
    std::vector<std::thread> threads;
    for (int k = 0; k < kThreads; ++k)
      threads.emplace_back([&, k] {
        const std::vector<float> X = random_inputs(kSteps, 100 + k);
        lnfast::Stream batched(model), direct(model);
        std::vector<float> h(kH);
        for (int t = 0; t < kSteps; ++t) {
          lnfast::BatchStep s;
          s.stream = &batched;
          s.x = &X[static_cast<size_t>(t) * kI];
          s.out = h.data();
          batcher.step(s);
          got[k].insert(got[k].end(), h.begin(), h.end());
          direct.step(&X[static_cast<size_t>(t) * kI], h.data());
          want[k].insert(want[k].end(), h.begin(), h.end());
        }
      });
    for (std::thread& t : threads) t.join();
    bool all_same = true;
    for (int k = 0; k < kThreads; ++k) all_same = all_same && same_bits(got[k], want[k]);
    check(all_same, "batcher (" + std::to_string(workers) + " workers): bits of Stream::step");
    check(batcher.steps() == static_cast<std::uint64_t>(kThreads * kSteps),
          "batcher counts every step");
  }
}

template <class F>
std::string message_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

void refusals(const std::shared_ptr<const lnfast::Model>& model,
              const std::shared_ptr<const lnfast::Model>& other) {
  lnfast::Batcher batcher(model, 8, 1);
  lnfast::Stream stream(model), foreign(other);
  std::vector<float> x = random_inputs(1, 7), h(kH);
  x[3] = std::nanf("");
  lnfast::BatchStep s;
  s.stream = &stream;
  s.x = x.data();
  s.out = h.data();
  lnfast::Stream reference(model);
  check(message_of([&] { batcher.step(s); }) ==
            message_of([&] { reference.step(x.data(), h.data()); }),
        "batcher: a NaN gets Stream::step's message");
  x[3] = 0.5f;
  s.stream = &foreign;
  check(message_of([&] { batcher.step(s); }).find("another model") != std::string::npos,
        "batcher: a stream of another model is refused");

  std::atomic<bool> held{true};  // someone else is stepping the stream
  s.stream = &stream;
  s.claim = &held;
  batcher.step(s);
  check(s.outcome == lnfast::BatchStep::Outcome::Busy, "batcher: a held claim ends Busy");
  bool untouched = true;
  for (float v : stream.state()) untouched = untouched && v == 0.0f;
  check(untouched && held.load(), "batcher: a Busy step leaves state and claim alone");
  held = false;
  batcher.step(s);
  check(s.outcome == lnfast::BatchStep::Outcome::Done && !held.load(),
        "batcher: a free claim is taken for the step and given back");

  batcher.close();
  check(message_of([&] { batcher.step(s); }).find("closed") != std::string::npos,
        "batcher: a closed batcher refuses new steps");
}

void sink_and_withdraw(const std::shared_ptr<const lnfast::Model>& model) {
  std::atomic<int> sunk{0};
  constexpr int kCount = 40;
  std::vector<lnfast::Stream> streams;
  for (int k = 0; k < kCount; ++k) streams.emplace_back(model);
  const std::vector<float> X = random_inputs(kCount, 9);
  std::vector<float> H(static_cast<size_t>(kCount) * kH);
  std::vector<lnfast::BatchStep> steps(kCount);
  int withdrawn = 0;
  {
    lnfast::Batcher batcher(model, 64, 1, [&](lnfast::BatchStep* const*, int n) { sunk += n; });
    for (int k = 0; k < kCount; ++k) {
      steps[k].stream = &streams[k];
      steps[k].x = &X[static_cast<size_t>(k) * kI];
      steps[k].out = &H[static_cast<size_t>(k) * kH];
      batcher.submit(steps[k]);
    }
    withdrawn = batcher.withdraw(steps[kCount - 1]) ? 1 : 0;
  }  // the destructor finishes what is pending
  check(sunk == kCount - withdrawn, "batcher: the sink sees every step not withdrawn");
  bool right = true;
  for (int k = 0; k < kCount - withdrawn; ++k) {
    lnfast::Stream direct(model);
    std::vector<float> h(kH);
    direct.step(&X[static_cast<size_t>(k) * kI], h.data());
    right = right && std::memcmp(h.data(), &H[static_cast<size_t>(k) * kH], sizeof(float) * kH) == 0;
  }
  check(right, "batcher: submitted steps get the bits of Stream::step");
  if (withdrawn) {
    bool untouched = true;
    for (float v : streams[kCount - 1].state()) untouched = untouched && v == 0.0f;
    check(untouched && steps[kCount - 1].outcome == lnfast::BatchStep::Outcome::Withdrawn,
          "batcher: a withdrawn step never runs");
  }
}

}  // namespace

void test_batcher() {
  std::mt19937 rng(21);
  auto model = std::make_shared<const lnfast::Model>(
      std::vector<lnfast::LayerSpec>{make_layer("lstm_separate_state", kI, kH, rng)},
      lnfast::default_isa());
  auto other = std::make_shared<const lnfast::Model>(
      std::vector<lnfast::LayerSpec>{make_layer("lstm_separate_state", kI, kH, rng)},
      lnfast::default_isa());
  threads_get_the_bits_of_single_steps(model);
  refusals(model, other);
  sink_and_withdraw(model);
}

}  // namespace lnfast_test
