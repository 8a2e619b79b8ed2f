// The parts of the _core module; each bind_* is defined in the file of its
// name and adds its classes or functions to `m`.
#pragma once

#include <pybind11/pybind11.h>

namespace lnfast_py {

namespace py = pybind11;

void bind_spec_classes(py::module_& m);   // CellType, Norm, LayerSpec, ...
void bind_model_classes(py::module_& m);  // Model, Stream
void bind_batcher(py::module_& m);        // Batcher
void bind_testing_module(py::module_& m); // _core.testing
void bind_model_file(py::module_& m);     // load/save/describe .lnfast files

}  // namespace lnfast_py
