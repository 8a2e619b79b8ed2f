// What a layer computes, as Python builds it: the spec enums and structs,
// the facts the Python side derives its lists from, and spec validation.
#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"
#include "lnfast/spec.hpp"
#include "model/validate_spec.hpp"
#include "module.hpp"

namespace lnfast_py {

using lnfast::CellNorm;
using lnfast::CellType;
using lnfast::LayerSpec;
using lnfast::Norm;

void bind_spec_classes(py::module_& m) {
  py::enum_<CellType> cell_type(m, "CellType");
  py::dict gate_counts;
  for (CellType t : lnfast::kCellTypes) {
    cell_type.value(lnfast::cell_type_name(t), t);
    gate_counts[lnfast::cell_type_name(t)] = lnfast::gate_count(t);
  }
  m.attr("GATE_COUNTS") = gate_counts;
  py::list formats;
  for (lnfast::WeightFormat f : lnfast::kWeightFormats)
    formats.append(lnfast::weight_format_name(f));
  m.attr("WEIGHT_FORMATS") = py::tuple(formats);

  py::enum_<CellNorm>(m, "CellNorm")
      .value("NONE", CellNorm::None)
      .value("OUTPUT", CellNorm::Output)
      .value("STATE", CellNorm::State);
  py::enum_<lnfast::GruReset>(m, "GruReset")
      .value("RECURRENT", lnfast::GruReset::Recurrent)
      .value("CANDIDATE", lnfast::GruReset::Candidate);
  py::enum_<lnfast::Activation>(m, "Activation")
      .value("TANH", lnfast::Activation::Tanh)
      .value("RELU", lnfast::Activation::Relu);

  py::class_<Norm>(m, "Norm")
      .def(py::init([](int offset, int size, py::object gamma, py::object beta,
                       float eps) {
             Norm n;
             n.offset = offset;
             n.size = size;
             n.gamma = to_vector(gamma, "gamma");
             n.beta = to_vector(beta, "beta");
             n.eps = eps;
             return n;
           }),
           py::arg("offset"), py::arg("size"), py::arg("gamma") = py::none(),
           py::arg("beta") = py::none(), py::arg("eps") = 1e-5f)
      .def_readonly("offset", &Norm::offset)
      .def_readonly("size", &Norm::size)
      .def_readonly("eps", &Norm::eps)
      .def_property_readonly("gamma", [](const Norm& n) -> py::object {
        return n.gamma.empty() ? py::object(py::none()) : py::object(to_array(n.gamma));
      })
      .def_property_readonly("beta", [](const Norm& n) -> py::object {
        return n.beta.empty() ? py::object(py::none()) : py::object(to_array(n.beta));
      });

#define LNFAST_VECTOR_FIELD(name)                                             \
  def_property(                                                               \
      #name, [](const LayerSpec& s) { return to_array(s.name); },             \
      [](LayerSpec& s, py::handle v) { s.name = to_vector(v, #name); })

  py::class_<LayerSpec>(m, "LayerSpec")
      .def(py::init<>())
      .def_readwrite("type", &LayerSpec::type)
      .def_readwrite("input_size", &LayerSpec::input_size)
      .def_readwrite("hidden_size", &LayerSpec::hidden_size)
      .LNFAST_VECTOR_FIELD(w_ih)
      .LNFAST_VECTOR_FIELD(w_hh)
      .LNFAST_VECTOR_FIELD(b_ih)
      .LNFAST_VECTOR_FIELD(b_hh)
      .def_readwrite("proj_size", &LayerSpec::proj_size)
      .LNFAST_VECTOR_FIELD(w_hr)
      .def_readwrite("x_norms", &LayerSpec::x_norms)
      .def_readwrite("h_norms", &LayerSpec::h_norms)
      .def_readwrite("gate_norms", &LayerSpec::gate_norms)
      .def_readwrite("cell_norm", &LayerSpec::cell_norm)
      .def_readwrite("c_norm", &LayerSpec::c_norm)
      .def_readwrite("activation", &LayerSpec::activation)
      .def_readwrite("forget_bias", &LayerSpec::forget_bias)
      .def_readwrite("gru_paper_update", &LayerSpec::gru_paper_update)
      .def_readwrite("gru_reset", &LayerSpec::gru_reset)
      .def_readwrite("update_bias", &LayerSpec::update_bias)
      .def_readwrite("zoneout", &LayerSpec::zoneout);
#undef LNFAST_VECTOR_FIELD

  m.def("validate_layer", &lnfast::validate_layer_spec, py::arg("spec"), py::arg("where"),
        "Raises ValueError starting '<where>: ' when the spec is not one a Model accepts.");
}

}  // namespace lnfast_py
