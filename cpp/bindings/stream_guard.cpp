#include "stream_guard.hpp"

#include <stdexcept>

namespace lnfast_py {

BusyGuard::BusyGuard(PyStream& s) : s_(s) {
  if (s_.busy.exchange(true))
    throw std::runtime_error(
        "this stream is being used by another thread; give each thread "
        "its own stream (model.stream() or stream.copy())");
}

}  // namespace lnfast_py
