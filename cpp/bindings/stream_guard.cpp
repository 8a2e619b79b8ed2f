#include "stream_guard.hpp"

#include <stdexcept>

namespace lnfast_py {

const char* const kStreamBusyMessage =
    "this stream is being used by another thread; give each thread "
    "its own stream (model.stream() or stream.copy())";

BusyGuard::BusyGuard(PyStream& s) : s_(s) {
  if (s_.busy.exchange(true)) throw std::runtime_error(kStreamBusyMessage);
}

}  // namespace lnfast_py
