// _core.testing: single kernels of one instruction set, for tests and the
// benchmark's floor.
#include <pybind11/stl.h>

#include <algorithm>
#include <string>

#include "arrays.hpp"
#include "lnfast/model.hpp"
#include "module.hpp"
#include "testing/kernel_probe.hpp"

namespace lnfast_py {

void bind_testing_module(py::module_& parent) {
  namespace probe = lnfast::probe;
  py::module_ m = parent.def_submodule(
      "testing", "Single kernels of one instruction set, for tests and benchmarks.");
  auto isa_of = [](const std::string& name) {
    lnfast::Isa isa = lnfast::parse_isa(name);
    if (!lnfast::isa_supported(isa))
      throw py::value_error("instruction set " + name + " is not supported here");
    return isa;
  };
  m.def("moments", [=](py::handle x, const std::string& isa) {
    float mean, var;
    probe::moments(isa_of(isa), to_vector(x, "x"), &mean, &var);
    return py::make_tuple(mean, var);
  });
  m.def("layer_norm", [=](py::handle x, py::handle gamma, py::handle beta, float eps,
                          const std::string& isa) {
    return to_array(probe::layer_norm(isa_of(isa), to_vector(x, "x"),
                                      to_vector(gamma, "gamma"),
                                      to_vector(beta, "beta"), eps));
  });
  m.def("sigmoid", [=](py::handle x, const std::string& isa) {
    return to_array(probe::sigmoid(isa_of(isa), to_vector(x, "x")));
  });
  m.def("tanh", [=](py::handle x, const std::string& isa) {
    return to_array(probe::tanh(isa_of(isa), to_vector(x, "x")));
  });
  m.def("gemm", [=](py::handle w, py::handle x, const std::string& isa, py::handle y0) {
    FloatArray wa = as_float_array(w, "W"), xa = as_float_array(x, "X");
    if (wa.ndim() != 2 || xa.ndim() != 2 || xa.shape(1) != wa.shape(1))
      throw py::value_error("gemm needs W (rows, cols) and X (batch, cols)");
    const int rows = static_cast<int>(wa.shape(0)), cols = static_cast<int>(wa.shape(1));
    const int batch = static_cast<int>(xa.shape(0));
    std::vector<float> out = probe::gemm(isa_of(isa), to_vector(w, "W"), rows, cols,
                                         to_vector(x, "X"), batch, to_vector(y0, "Y0"));
    py::array_t<float> result({batch, rows});
    std::copy(out.begin(), out.end(), result.mutable_data());
    return result;
  }, py::arg("W"), py::arg("X"), py::arg("isa"), py::arg("Y0") = py::none());
  m.def("bf16_dot", [=](const std::string& isa) {
    return probe::bf16_dot_products(isa_of(isa));
  }, "Whether bf16 weights use AVX512_BF16 dot products on this ISA here.");
  m.def("int8_activations_dot", [=](const std::string& isa) {
    return probe::int8_activation_dot_products(isa_of(isa));
  }, "Whether int8 activations use integer dot products (vpdpbusd) on this ISA here.");
  m.def("peak_kinds", [] { return probe::peak_kinds(); },
        "The instructions compute_peak can time: fp32 (FMA), bf16 and int8 dot products.");
  m.def("compute_peak", [=](const std::string& kind, const std::string& isa, long iterations,
                            int repeats) {
    const lnfast::Isa chosen = isa_of(isa);
    probe::PeakRuns runs;
    {
      py::gil_scoped_release release;
      runs = probe::compute_peak(chosen, kind, iterations, repeats);
    }
    return py::make_tuple(runs.ops_per_run, runs.seconds);
  }, py::arg("kind"), py::arg("isa"), py::arg("iterations"), py::arg("repeats"),
  "(operations per run, [seconds of each run]) of a register-only loop of one instruction: "
  "the compute peak step_many is measured against.");
  m.def("weight_pass_seconds", [](const lnfast::Model& model, int repeats) {
    py::gil_scoped_release release;
    return probe::weight_pass_seconds(model, repeats);
  });
}

}  // namespace lnfast_py
