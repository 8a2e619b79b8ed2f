#include "stream_guard.hpp"

#include <stdexcept>

namespace lnfast_py {

const char* const kStreamBusyMessage =
    "this stream is being used by another thread; give each thread "
    "its own stream (model.stream() or stream.copy())";

BusyGuard::BusyGuard(PyStream& s) : s_(s) {
  if (s_.busy.exchange(true)) throw std::runtime_error(kStreamBusyMessage);
}

BusyGuards::BusyGuards(const std::vector<PyStream*>& streams) {
  held_.reserve(streams.size());
  for (PyStream* s : streams) {
    if (s->busy.exchange(true)) {
      release();
      throw std::runtime_error(kStreamBusyMessage);
    }
    held_.push_back(s);
  }
}

void BusyGuards::release() {
  for (PyStream* s : held_) s->busy.store(false);
  held_.clear();
}

}  // namespace lnfast_py
