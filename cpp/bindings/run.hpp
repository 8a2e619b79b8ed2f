// stream.run(X, out=None): T steps in one call.
#pragma once

#include <pybind11/numpy.h>

#include "stream_guard.hpp"

namespace lnfast_py {

py::array_t<float> stream_run(PyStream& s, py::handle X, py::handle out);

}  // namespace lnfast_py
