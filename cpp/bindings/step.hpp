// stream.step(x, out=None): one step of every layer.
#pragma once

#include <pybind11/pybind11.h>

namespace lnfast_py {

namespace py = pybind11;

// Makes `step` a METH_FASTCALL method of the bound Stream class.
void install_fast_step(py::object stream_class);

}  // namespace lnfast_py
