// What a layer computes, as Python builds it: the spec enums and structs,
// the facts the Python side derives its lists from, and spec validation.
#include <pybind11/stl.h>

#include <string>

#include "arrays.hpp"
#include "lent_matrices.hpp"
#include "lnfast/spec.hpp"
#include "model/validate_spec.hpp"
#include "module.hpp"

namespace lnfast_py {

namespace {
// Bumped when LayerSpec's pickled fields change.
constexpr int kSpecPickleVersion = 1;
}  // namespace

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
      })
      .def(py::pickle(
          [](const Norm& n) {
            return py::make_tuple(n.offset, n.size, to_array(n.gamma), to_array(n.beta), n.eps);
          },
          [](const py::tuple& t) {
            if (t.size() != 5) throw py::value_error("not a pickled lnfast Norm");
            Norm n;
            n.offset = t[0].cast<int>();
            n.size = t[1].cast<int>();
            n.gamma = to_vector(t[2], "gamma");
            n.beta = to_vector(t[3], "beta");
            n.eps = t[4].cast<float>();
            return n;
          }));

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
      .def_readwrite("zoneout", &LayerSpec::zoneout)
      // Every field, so a model's structure pickles (its weights travel
      // beside it, in their stored form: see Model.stored_matrix).
      .def(py::pickle(
          [](const LayerSpec& s) {
            return py::make_tuple(
                kSpecPickleVersion, s.type, s.input_size, s.hidden_size, to_array(s.w_ih),
                to_array(s.w_hh), to_array(s.b_ih), to_array(s.b_hh), s.proj_size,
                to_array(s.w_hr), s.x_norms, s.h_norms, s.gate_norms, s.cell_norm, s.c_norm,
                s.activation, s.forget_bias, s.gru_paper_update, s.gru_reset, s.update_bias,
                s.zoneout);
          },
          [](const py::tuple& t) {
            if (t.size() != 21 || t[0].cast<int>() != kSpecPickleVersion)
              throw py::value_error("not a pickled LayerSpec of this lnfast version");
            LayerSpec s;
            s.type = t[1].cast<CellType>();
            s.input_size = t[2].cast<int>();
            s.hidden_size = t[3].cast<int>();
            s.w_ih = to_vector(t[4], "w_ih");
            s.w_hh = to_vector(t[5], "w_hh");
            s.b_ih = to_vector(t[6], "b_ih");
            s.b_hh = to_vector(t[7], "b_hh");
            s.proj_size = t[8].cast<int>();
            s.w_hr = to_vector(t[9], "w_hr");
            s.x_norms = t[10].cast<std::vector<Norm>>();
            s.h_norms = t[11].cast<std::vector<Norm>>();
            s.gate_norms = t[12].cast<std::vector<Norm>>();
            s.cell_norm = t[13].cast<CellNorm>();
            s.c_norm = t[14].cast<Norm>();
            s.activation = t[15].cast<lnfast::Activation>();
            s.forget_bias = t[16].cast<float>();
            s.gru_paper_update = t[17].cast<bool>();
            s.gru_reset = t[18].cast<lnfast::GruReset>();
            s.update_bias = t[19].cast<float>();
            s.zoneout = t[20].cast<float>();
            return s;
          }));
#undef LNFAST_VECTOR_FIELD

  m.def("validate_layer", [](const LayerSpec& spec, py::handle matrices, const std::string& where) {
        LentMatrices lent;
        lnfast::validate_layer_structure(spec, where);
        lnfast::validate_layer_views(spec, lend_layer_values(matrices, lent, where), where);
      }, py::arg("spec"), py::arg("matrices"), py::arg("where"),
        "Raises ValueError starting '<where>: ' when the spec with its matrices\n"
        "(w_ih, w_hh, w_hr) is not one a Model accepts; the matrices' values are\n"
        "checked when a Model packs them.");
}

}  // namespace lnfast_py
