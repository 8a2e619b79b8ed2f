// Model and Stream. What is plain Python (the per-layer state dicts, copy,
// pickling) lives in lnfast/model.py, on a subclass of this Stream.
#include <pybind11/stl.h>

#include <string>
#include <string_view>
#include <vector>

#include "arrays.hpp"
#include "lnfast/fingerprint.hpp"
#include "lnfast/model.hpp"
#include "lnfast/state_blob.hpp"
#include "module.hpp"
#include "run.hpp"
#include "step.hpp"
#include "step_many.hpp"
#include "stream_guard.hpp"

namespace lnfast_py {

using lnfast::LayerSpec;
using lnfast::Model;

namespace {

// Only a str can name a format; anything else gets the core's message with
// its repr in place of a name.
lnfast::WeightFormat weight_format_of(py::handle weights) {
  return lnfast::parse_weight_format(py::isinstance<py::str>(weights)
                                         ? weights.cast<std::string>()
                                         : std::string(py::repr(weights)));
}

void bind_model(py::module_& m) {
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](std::vector<LayerSpec> layers, py::object isa,
                       py::handle weights) {
             lnfast::Isa chosen = isa.is_none()
                                      ? lnfast::default_isa()
                                      : lnfast::parse_isa(isa.cast<std::string>());
             const lnfast::WeightFormat format = weight_format_of(weights);
             // Construction packs and validates: no Python objects touched.
             py::gil_scoped_release release;
             return std::make_shared<Model>(std::move(layers), chosen, format);
           }),
           py::arg("layers"), py::arg("isa") = py::none(), py::arg("weights") = "fp32")
      .def_property_readonly("weights", [](const Model& mm) {
        return lnfast::weight_format_name(mm.weight_format());
      })
      .def_property_readonly("input_size", &Model::input_size)
      .def_property_readonly("hidden_size", &Model::hidden_size)
      .def_property_readonly("num_layers", &Model::num_layers)
      .def_property_readonly("weight_count", &Model::weight_count)
      .def_property_readonly("fingerprint", [](const Model& mm) {
        return lnfast::fingerprint_hex(mm.fingerprint());
      })
      .def_property_readonly("state_size", &Model::total_state_size)
      .def("state_offset", &Model::state_offset, py::arg("layer"),
           "Where layer k's state starts in flat_state().")
      .def("layer_state_size", &Model::state_size, py::arg("layer"),
           "Floats of layer k's state: H, or 2H (h then c) for an LSTM.")
      .def_property_readonly("isa", [](const Model& mm) {
        return std::string(lnfast::isa_name(mm.isa()));
      })
      .def("layer", [](const Model& mm, int k) { return mm.layer(k); })
      .def("step_many", &step_many, py::arg("streams"), py::arg("X"),
           py::arg("out") = py::none());
}

void bind_stream(py::module_& m) {
  py::class_<PyStream>(m, "Stream")
      .def(py::init([](std::shared_ptr<Model> model, py::object owner) {
             return std::make_unique<PyStream>(std::move(model), std::move(owner));
           }),
           py::arg("model"), py::arg("owner") = py::none())
      .def("run", &stream_run, py::arg("X"), py::arg("out") = py::none(),
           "Advance T steps for X of shape (T, input_size); returns (T, hidden).")
      .def("reset", [](PyStream& s) {
        BusyGuard guard(s);
        s.stream.reset();
      })
      .def("flat_state", [](PyStream& s) {
        // Guarded like step: a copy taken mid-step would match no state the
        // stream ever had. state, copy() and pickling all read through here.
        BusyGuard guard(s);
        return to_array(s.stream.state());
      },
           "Every layer's state in one vector (see Model.state_offset).")
      .def("set_flat_state", [](PyStream& s, py::handle v) {
        FloatArray a = as_float_array(v, "state");
        require_shape(a, {s.stream.model()->total_state_size()}, "state");
        BusyGuard guard(s);
        s.stream.set_state(a.data(), a.size());  // checks finiteness first
      })
      .def("to_bytes", [](PyStream& s) {
        BusyGuard guard(s);
        std::vector<unsigned char> b = lnfast::state_to_bytes(s.stream);
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      }, "The state as bytes (format version, model fingerprint, float32 values, checksum).")
      .def("restore", [](PyStream& s, py::handle blob) {
        if (!PyBytes_Check(blob.ptr()) && !PyByteArray_Check(blob.ptr()) &&
            !PyMemoryView_Check(blob.ptr()))
          throw py::type_error("blob must be bytes from stream.to_bytes(), got " +
                               std::string(py::str(py::type::of(blob).attr("__name__"))));
        py::bytes b = py::reinterpret_steal<py::bytes>(PyBytes_FromObject(blob.ptr()));
        if (!b) throw py::error_already_set();
        const std::string_view v = b;
        BusyGuard guard(s);
        lnfast::restore_state(s.stream, reinterpret_cast<const unsigned char*>(v.data()),
                              v.size());
      }, py::arg("blob"),
      "Continue from a blob of stream.to_bytes(); ValueError, state untouched, if it is "
      "not one of this model's.")
      .def("__repr__", [](const PyStream& s) {
        const Model& mm = *s.stream.model();
        return "<lnfast.Stream: " + std::to_string(mm.num_layers()) + " layer(s), " +
               std::to_string(mm.input_size()) + " -> " + std::to_string(mm.hidden_size()) +
               ", " + std::to_string(mm.total_state_size()) + " state floats>";
      })
      .def_property_readonly("model", [](const PyStream& s) { return s.owner; })
      .def_property_readonly("core_model", [](const PyStream& s) {
        return std::const_pointer_cast<Model>(s.stream.model());
      });
  install_fast_step(m.attr("Stream"));
}

}  // namespace

void bind_model_classes(py::module_& m) {
  bind_model(m);
  bind_stream(m);
}

}  // namespace lnfast_py
