// NumPy in and out: every array the module takes or returns passes here.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "refuse_uninitialised.hpp"  // before any cast of a bound type

namespace lnfast_py {

namespace py = pybind11;
using FloatArray = py::array_t<float, py::array::c_style>;

// Any real-valued array-like becomes a C-contiguous float32 array (a copy
// only when needed); anything else is refused rather than misread.
FloatArray as_float_array(py::handle obj, const char* what);

// Throws ValueError "<what> must have shape (...), got (...)"; a negative
// entry of `want` is any length, shown as T.
void require_shape(const py::array& a, const std::vector<py::ssize_t>& want,
                   const char* what);

// Where a call writes its result: `out` itself when given (checked, never
// converted, since it must be written in place), else a fresh array.
struct OutputArray {
  py::array_t<float> array;
  float* data;
};
OutputArray output_array(py::handle out, const std::vector<py::ssize_t>& shape);

// None becomes an empty vector (an absent gain, shift or bias).
std::vector<float> to_vector(py::handle obj, const char* what);
py::array_t<float> to_array(const std::vector<float>& v);

}  // namespace lnfast_py
