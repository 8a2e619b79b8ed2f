// model.step_many(streams, X, out=None): B streams of one model together.
#pragma once

#include <pybind11/numpy.h>

#include <memory>

#include "lnfast/model.hpp"

namespace lnfast_py {

namespace py = pybind11;

py::array_t<float> step_many(const std::shared_ptr<lnfast::Model>& model,
                             py::sequence streams, py::handle X, py::handle out);

}  // namespace lnfast_py
