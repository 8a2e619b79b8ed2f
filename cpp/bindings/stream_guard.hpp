// A core stream as Python holds it, the guard that keeps two threads from
// stepping it at once (they would race on its state), and when to let go
// of the GIL.
#pragma once

#include <pybind11/pybind11.h>

#include <atomic>
#include <memory>
#include <vector>

#include "lnfast/model.hpp"
#include "refuse_uninitialised.hpp"

namespace lnfast_py {

namespace py = pybind11;

// The stream plus the Python-side model that owns its core model (what
// `stream.model` returns and what the Python package pickles it with).
struct PyStream {
  PyStream(std::shared_ptr<lnfast::Model> m, py::object owner)
      : stream(std::move(m)), owner(std::move(owner)) {}
  lnfast::Stream stream;
  py::object owner;
  std::atomic<bool> busy{false};
};

}  // namespace lnfast_py

LNFAST_REFUSE_UNINITIALISED(lnfast_py::PyStream)

namespace lnfast_py {

// What a call on a stream another thread holds raises (RuntimeError).
extern const char* const kStreamBusyMessage;

// Marks a stream held by this call; throws RuntimeError when another
// thread holds it. release_stream lets it go. What both guards below do.
void hold_stream(PyStream& s);
inline void release_stream(PyStream& s) { s.busy.store(false); }

// Holds a stream for one call; throws RuntimeError when another thread
// holds it.
class BusyGuard {
 public:
  explicit BusyGuard(PyStream& s) : s_(s) { hold_stream(s_); }
  ~BusyGuard() { release_stream(s_); }
  BusyGuard(const BusyGuard&) = delete;
  BusyGuard& operator=(const BusyGuard&) = delete;

 private:
  PyStream& s_;
};

// Holds several streams for one call, as BusyGuard does one: throws
// RuntimeError (holding none) when another thread holds any of them. One
// vector, not a guard allocated per stream.
class BusyGuards {
 public:
  explicit BusyGuards(const std::vector<PyStream*>& streams);
  ~BusyGuards() { release(); }
  BusyGuards(const BusyGuards&) = delete;
  BusyGuards& operator=(const BusyGuards&) = delete;

 private:
  void release();
  std::vector<PyStream*> held_;
};

// Below this many weights a step takes well under a microsecond, less than
// releasing and re-taking the GIL would cost.
constexpr long long kReleaseGilAboveWeights = 16384;

template <class F>
void maybe_without_gil(const lnfast::Model& m, F&& f) {
  if (m.weight_count() >= kReleaseGilAboveWeights) {
    py::gil_scoped_release release;
    f();
  } else {
    f();
  }
}

}  // namespace lnfast_py
