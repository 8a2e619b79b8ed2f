// stream.step(x, out=None): one step of every layer.
#pragma once

#include <pybind11/pybind11.h>

#include "arrays.hpp"
#include "stream_guard.hpp"

namespace lnfast_py {

namespace py = pybind11;

// x and out as step takes them: an aligned, C-contiguous, native float32
// array is used in place; any other x is converted (a copy, held here) or
// refused, any other out refused, with step's messages. `result` is what
// step returns: out itself, or a fresh array when out is null (or None).
struct StepArguments {
  const float* x = nullptr;
  float* out = nullptr;
  py::object result;
  py::object x_copy;  // the converted x, when x was not used in place
};
StepArguments step_arguments(PyStream& s, PyObject* x, PyObject* out);

// Makes `step` a METH_FASTCALL method of the bound Stream class.
void install_fast_step(py::object stream_class);

}  // namespace lnfast_py
