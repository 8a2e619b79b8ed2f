#include "stream_guard.hpp"

#include <stdexcept>

namespace lnfast_py {

const char* const kStreamBusyMessage =
    "this stream is being used by another thread; give each thread "
    "its own stream (model.stream() or stream.copy())";

void hold_stream(PyStream& s) {
  if (s.busy.exchange(true)) throw std::runtime_error(kStreamBusyMessage);
}

BusyGuards::BusyGuards(const std::vector<PyStream*>& streams) {
  held_.reserve(streams.size());
  try {
    for (PyStream* s : streams) {
      hold_stream(*s);
      held_.push_back(s);
    }
  } catch (...) {
    release();
    throw;
  }
}

void BusyGuards::release() {
  for (PyStream* s : held_) release_stream(*s);
  held_.clear();
}

}  // namespace lnfast_py
