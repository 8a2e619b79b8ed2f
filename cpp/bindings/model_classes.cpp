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
#include "lent_matrices.hpp"
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

// The activation formats, the default first: "int8" rounds each GEMM input
// to int8 (int8 weights only; the core says so otherwise).
constexpr const char* kActivationFormats[] = {"fp32", "int8"};

bool int8_activations_of(py::handle activations) {
  const std::string name = py::isinstance<py::str>(activations)
                               ? activations.cast<std::string>()
                               : std::string(py::repr(activations));
  if (name == kActivationFormats[0]) return false;
  if (name == kActivationFormats[1]) return true;
  throw std::invalid_argument("unknown activations '" + name + "': expected " +
                              kActivationFormats[0] + " or " + kActivationFormats[1]);
}

py::object stored_matrix(const Model& mm, int k, const std::string& name) {
  static const char* const kNames[] = {"w_ih", "w_hh", "w_hr"};
  int which = 0;
  while (which < 3 && name != kNames[which]) ++which;
  if (which == 3) throw py::value_error("name must be 'w_ih', 'w_hh' or 'w_hr', got '" + name + "'");
  if (k < 0 || k >= mm.num_layers())
    throw py::index_error("layer " + std::to_string(k) + " of a model of " +
                          std::to_string(mm.num_layers()) + " layers");
  const auto shape = mm.matrix_shape(k, which);
  if (shape.first == 0) return py::none();
  py::array elements;
  switch (mm.weight_format()) {
    case lnfast::WeightFormat::BF16:
      elements = py::array_t<unsigned short>({shape.first, shape.second});
      break;
    case lnfast::WeightFormat::I8:
      elements = py::array_t<signed char>({shape.first, shape.second});
      break;
    default:
      elements = py::array_t<float>({shape.first, shape.second});
  }
  py::object scales = py::none();
  float* scale_data = nullptr;
  if (mm.weight_format() == lnfast::WeightFormat::I8) {
    py::array_t<float> s(shape.first);
    scale_data = s.mutable_data();
    scales = s;
  }
  void* data = elements.mutable_data();
  {
    py::gil_scoped_release release;
    mm.read_stored_matrix(k, which, data, scale_data);
  }
  return py::make_tuple(elements, scales);
}

void bind_model(py::module_& m) {
  py::tuple activation_formats(2);
  for (int i = 0; i < 2; ++i) activation_formats[i] = kActivationFormats[i];
  m.attr("ACTIVATION_FORMATS") = activation_formats;
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](std::vector<LayerSpec> layers, py::object isa,
                       py::handle weights, py::handle activations, py::handle matrices) {
             lnfast::Isa chosen = isa.is_none()
                                      ? lnfast::default_isa()
                                      : lnfast::parse_isa(isa.cast<std::string>());
             const lnfast::WeightFormat format = weight_format_of(weights);
             const bool int8_activations = int8_activations_of(activations);
             if (matrices.is_none()) {
               // Construction packs and validates: no Python objects touched.
               py::gil_scoped_release release;
               return std::make_shared<Model>(std::move(layers), chosen, format,
                                              int8_activations);
             }
             // The arrays stay referenced by `lent` while the core reads them.
             const LentMatrices lent = lend_matrices(matrices, format);
             py::gil_scoped_release release;
             return std::make_shared<Model>(std::move(layers), lent.layers, chosen, format,
                                            int8_activations);
           }),
           py::arg("layers"), py::arg("isa") = py::none(), py::arg("weights") = "fp32",
           py::arg("activations") = "fp32", py::arg("matrices") = py::none(),
           "layers: LayerSpecs; with matrices (one (w_ih, w_hh, w_hr) per layer, see\n"
           "stored_matrix) their own w_ih, w_hh and w_hr stay empty and the arrays are\n"
           "packed in place, in parallel, the GIL released, and not kept.")
      .def_property_readonly("activations", [](const Model& mm) {
        return std::string(kActivationFormats[mm.int8_activations() ? 1 : 0]);
      })
      .def_property_readonly("weights", [](const Model& mm) {
        return lnfast::weight_format_name(mm.weight_format());
      })
      .def_property_readonly("input_size", &Model::input_size)
      .def_property_readonly("hidden_size", &Model::hidden_size)
      .def_property_readonly("num_layers", &Model::num_layers)
      .def_property_readonly("weight_count", &Model::weight_count)
      .def_property_readonly("weight_bytes", &Model::weight_bytes)
      .def_property_readonly("fingerprint", [](const Model& mm) {
        return lnfast::fingerprint_hex(mm.fingerprint());
      })
      .def_property_readonly("state_size", &Model::total_state_size,
                             "Floats of every layer's state together (len(flat_state())).")
      .def("state_offset", &Model::state_offset, py::arg("layer"),
           "Where layer k's state starts in flat_state().")
      .def("layer_state_size", &Model::state_size, py::arg("layer"),
           "Floats of layer k's state: H, or 2H (h then c) for an LSTM.")
      .def_property_readonly("isa", [](const Model& mm) {
        return std::string(lnfast::isa_name(mm.isa()));
      })
      .def("layer", [](const Model& mm, int k) { return mm.layer(k); }, py::arg("k"),
           "Layer k's structure (norms, biases, options); its w_ih, w_hh, w_hr are empty.")
      .def("unpacked_layer", [](const Model& mm, int k) {
        py::gil_scoped_release release;
        return mm.unpacked_layer(k);
      }, py::arg("k"),
           "Layer k with its matrices read back from the panels: the values the kernels\n"
           "multiply by (bf16 widened, int8 q * scale), a new float32 copy.")
      .def("stored_matrix", &stored_matrix, py::arg("k"), py::arg("name"),
           "Layer k's matrix name ('w_ih', 'w_hh', 'w_hr') as stored: (elements,\n"
           "row_scales), elements float32, uint16 (bfloat16 bits) or int8 (q) of shape\n"
           "(rows, cols), row_scales float32 (rows,) for int8 else None; None for an\n"
           "absent w_hr. Model(structure, matrices=...) takes the pair back exactly.")
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
           "Advance T steps, one per row of X; returns the top layer's h of every step.\n\n"
           "X: (T, input_size) real numbers (any array-like). A C-contiguous float32 array is\n"
           "read in place; any other dtype, layout or a list is copied to float32 first (one\n"
           "copy of X per call). out: optional float32 C-contiguous (T, hidden_size) array to\n"
           "write into (no allocation); otherwise a new one is returned. Equals T calls of\n"
           "step bit for bit, faster per step: the input projections of all T steps are one\n"
           "matrix product. The GIL is released while it runs.\n\n"
           "Raises TypeError for a non-numeric X or an out of the wrong type or dtype,\n"
           "ValueError for a wrong shape, a read-only or non-contiguous out, or a NaN/Inf in\n"
           "X (the state is then left as it was), RuntimeError when another thread is using\n"
           "this stream.")
      .def("reset", [](PyStream& s) {
        BusyGuard guard(s);
        s.stream.reset();
      }, "Set every layer's state back to zeros, as a new stream starts.\n\n"
         "Raises RuntimeError when another thread is using this stream.")
      .def("flat_state", [](PyStream& s) {
        // Guarded like step: a copy taken mid-step would match no state the
        // stream ever had. state, copy() and pickling all read through here.
        BusyGuard guard(s);
        return to_array(s.stream.state());
      },
           "Every layer's state in one new float32 vector of model.state_size floats,\n"
           "bottom layer first, h then c per LSTM layer (layer k starts at\n"
           "core_model.state_offset(k)). A copy: changing it changes nothing.\n\n"
           "Raises RuntimeError when another thread is using this stream.")
      .def("set_flat_state", [](PyStream& s, py::handle v) {
        FloatArray a = as_float_array(v, "state");
        require_shape(a, {s.stream.model()->total_state_size()}, "state");
        BusyGuard guard(s);
        s.stream.set_state(a.data(), a.size());  // checks finiteness first
      }, py::arg("state"),
      "Continue from a vector laid out as flat_state() returns it (copied to float32).\n\n"
      "Raises TypeError for non-numbers, ValueError for a wrong length or a NaN/Inf\n"
      "(the state is then untouched), RuntimeError when another thread is using it.")
      .def("to_bytes", [](PyStream& s) {
        BusyGuard guard(s);
        std::vector<unsigned char> b = lnfast::state_to_bytes(s.stream);
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      }, "The state as bytes: format version, model.fingerprint, the float32 values and a\n"
         "checksum (4 bytes per state float plus 28). model.stream(blob) or restore(blob)\n"
         "continues it bit-identically in any process holding the same model.")
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
      "Continue from a blob of stream.to_bytes() (bytes, bytearray or memoryview).\n\n"
      "Raises TypeError for anything else, ValueError (state untouched) for a blob of\n"
      "another model, a truncated or corrupted one, or one of a newer format.")
      .def("__repr__", [](const PyStream& s) {
        const Model& mm = *s.stream.model();
        return "<lnfast.Stream: " + std::to_string(mm.num_layers()) + " layer(s), " +
               std::to_string(mm.input_size()) + " -> " + std::to_string(mm.hidden_size()) +
               ", " + std::to_string(mm.total_state_size()) + " state floats>";
      })
      .def_property_readonly("model", [](const PyStream& s) { return s.owner; },
                             "The lnfast.Model this stream steps through.")
      .def_property_readonly("core_model", [](const PyStream& s) {
        return std::const_pointer_cast<Model>(s.stream.model());
      }, "The compiled model underneath model (state layout: state_offset, state_size).");
  install_fast_step(m.attr("Stream"));
}

}  // namespace

void bind_model_classes(py::module_& m) {
  bind_model(m);
  bind_stream(m);
}

}  // namespace lnfast_py
