// The Python face of the core: argument checks, the GIL, NumPy in and out.
// No math lives here.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "lnfast/kernel_probe.hpp"
#include "lnfast/fingerprint.hpp"
#include "lnfast/model.hpp"
#include "lnfast/state_blob.hpp"
#include "lnfast/threads.hpp"

namespace py = pybind11;
using lnfast::CellNorm;
using lnfast::CellType;
using lnfast::LayerSpec;
using lnfast::Model;
using lnfast::Norm;

namespace {

using FloatArray = py::array_t<float, py::array::c_style>;

// Below this many weights a step takes well under a microsecond, less than
// releasing and re-taking the GIL would cost.
constexpr long long kReleaseGilAboveWeights = 16384;

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i)
    s << a.shape(i) << (a.ndim() == 1 || i + 1 < a.ndim() ? "," : "")
      << (i + 1 < a.ndim() ? " " : "");
  s << ")";
  return s.str();
}

// Any real-valued array-like becomes a C-contiguous float32 array (a copy
// only when needed); anything else is refused rather than misread.
FloatArray as_float_array(py::handle obj, const char* what) {
  if (py::isinstance<FloatArray>(obj)) {
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (arr.dtype().is(py::dtype::of<float>()) &&
        (arr.flags() & py::array::c_style))
      return py::reinterpret_borrow<FloatArray>(obj);
  }
  py::array arr = py::array::ensure(obj);
  if (!arr)
    throw py::type_error(std::string(what) + " must be an array of numbers, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  const char kind = arr.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error(std::string(what) + " must hold real numbers, got dtype " +
                         std::string(py::str(arr.dtype())));
  using Converting = py::array_t<float, py::array::c_style | py::array::forcecast>;
  Converting converted = Converting::ensure(arr);
  if (!converted)
    throw py::type_error(std::string(what) + " could not be converted to float32");
  return py::reinterpret_steal<FloatArray>(converted.release());
}

void require_shape(const py::array& a, std::vector<py::ssize_t> want,
                   const char* what) {
  bool ok = a.ndim() == static_cast<py::ssize_t>(want.size());
  for (size_t i = 0; ok && i < want.size(); ++i)
    ok = want[i] < 0 || a.shape(i) == want[i];
  if (ok) return;
  std::ostringstream s;
  s << what << " must have shape (";
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i] < 0) s << "T"; else s << want[i];
    s << (want.size() == 1 ? "," : "") << (i + 1 < want.size() ? ", " : "");
  }
  s << "), got " << shape_str(a);
  throw py::value_error(s.str());
}

// An out= array must be written in place, so it is never converted.
float* writable_out(py::handle out, std::vector<py::ssize_t> want) {
  if (!py::isinstance<py::array>(out))
    throw py::type_error("out must be a numpy.ndarray");
  auto arr = py::reinterpret_borrow<py::array>(out);
  if (!arr.dtype().is(py::dtype::of<float>()))
    throw py::type_error("out must have dtype float32, got " +
                         std::string(py::str(arr.dtype())));
  if (!(arr.flags() & py::array::c_style))
    throw py::value_error("out must be C-contiguous");
  if (!arr.writeable()) throw py::value_error("out is read-only");
  require_shape(arr, std::move(want), "out");
  return static_cast<float*>(arr.mutable_data());
}

std::vector<float> to_vector(py::handle obj, const char* what) {
  if (obj.is_none()) return {};
  FloatArray a = as_float_array(obj, what);
  return std::vector<float>(a.data(), a.data() + a.size());
}

py::array_t<float> to_array(const std::vector<float>& v) {
  py::array_t<float> out(static_cast<py::ssize_t>(v.size()));
  std::copy(v.begin(), v.end(), out.mutable_data());
  return out;
}

// A stream plus what Python needs around it: the Python-side model that
// owns the core (for pickling and attribute access) and a guard against two
// threads stepping one stream at once, which would race on its state.
struct PyStream {
  PyStream(std::shared_ptr<Model> m, py::object owner)
      : stream(std::move(m)), owner(std::move(owner)) {}
  lnfast::Stream stream;
  py::object owner;
  std::atomic<bool> busy{false};
};

class BusyGuard {
 public:
  explicit BusyGuard(PyStream& s) : s_(s) {
    if (s_.busy.exchange(true))
      throw std::runtime_error(
          "this stream is being used by another thread; give each thread "
          "its own stream (model.stream() or stream.copy())");
  }
  ~BusyGuard() { s_.busy.store(false); }

 private:
  PyStream& s_;
};

template <class F>
void maybe_without_gil(const Model& m, F&& f) {
  if (m.weight_count() >= kReleaseGilAboveWeights) {
    py::gil_scoped_release release;
    f();
  } else {
    f();
  }
}

py::array_t<float> stream_step(PyStream& s, py::handle x, py::handle out) {
  const Model& m = *s.stream.model();
  FloatArray xa = as_float_array(x, "x");
  require_shape(xa, {m.input_size()}, "x");
  py::array_t<float> result;
  float* dst;
  if (out.is_none()) {
    result = py::array_t<float>(m.hidden_size());
    dst = result.mutable_data();
  } else {
    dst = writable_out(out, {m.hidden_size()});
    result = py::reinterpret_borrow<py::array_t<float>>(out);
  }
  BusyGuard guard(s);
  const float* src = xa.data();
  maybe_without_gil(m, [&] { s.stream.step(src, dst); });
  return result;
}

// ---- The hot path: stream.step without pybind11's argument machinery ----
// A step on a small model takes a few hundred nanoseconds, so the call
// itself must cost less: this entry point is a METH_FASTCALL method that
// recognises the common case (aligned, C-contiguous, native float32 arrays
// of the right size) from the array header alone and falls back to the
// general checks above for everything else.

const float* exact_float32(PyObject* obj, py::ssize_t n, bool writable) {
  auto& api = py::detail::npy_api::get();
  if (!api.PyArray_Check_(obj)) return nullptr;
  const auto* a = py::detail::array_proxy(obj);
  if (a->nd != 1 || a->dimensions[0] != n) return nullptr;
  const int need = py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_ |
                   py::detail::npy_api::NPY_ARRAY_ALIGNED_ |
                   (writable ? py::detail::npy_api::NPY_ARRAY_WRITEABLE_ : 0);
  if ((a->flags & need) != need) return nullptr;
  const auto* d = py::detail::array_descriptor_proxy(a->descr);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr char kSwapped = '>';
#else
  constexpr char kSwapped = '<';
#endif
  if (d->type_num != py::detail::npy_api::NPY_FLOAT_ || d->byteorder == kSwapped)
    return nullptr;
  return reinterpret_cast<const float*>(a->data);
}

PyObject* step_fastcall(PyObject* self, PyObject* const* args, Py_ssize_t nargs,
                        PyObject* kwnames) {
  try {
    PyObject* x = nargs > 0 ? args[0] : nullptr;
    PyObject* out = nargs > 1 ? args[1] : nullptr;
    if (nargs > 2) throw py::type_error("step() takes x and an optional out");
    const Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t i = 0; i < nkw; ++i) {
      PyObject* name = PyTuple_GET_ITEM(kwnames, i);
      PyObject* value = args[nargs + i];
      if (!x && PyUnicode_CompareWithASCIIString(name, "x") == 0) x = value;
      else if (!out && PyUnicode_CompareWithASCIIString(name, "out") == 0) out = value;
      else
        throw py::type_error("step() got an unexpected or repeated argument '" +
                             std::string(py::str(name)) + "'");
    }
    if (!x) throw py::type_error("step() missing required argument 'x'");
    if (out == Py_None) out = nullptr;

    PyStream& s = py::handle(self).cast<PyStream&>();
    const Model& m = *s.stream.model();
    const float* src = exact_float32(x, m.input_size(), false);
    float* dst = out ? const_cast<float*>(exact_float32(out, m.hidden_size(), true)) : nullptr;
    if (!src || (out && !dst))
      return stream_step(s, x, out ? out : Py_None).release().ptr();

    py::object result;
    if (out) {
      result = py::reinterpret_borrow<py::object>(out);
    } else {
      py::array_t<float> fresh(m.hidden_size());
      dst = fresh.mutable_data();
      result = std::move(fresh);
    }
    BusyGuard guard(s);
    maybe_without_gil(m, [&] { s.stream.step(src, dst); });
    return result.release().ptr();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyMethodDef step_method = {
    "step", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(step_fastcall)),
    METH_FASTCALL | METH_KEYWORDS,
    "step(x, out=None)\n--\n\nAdvance every layer one step; returns the top layer's h "
    "(written into out when given: a float32 array of hidden_size)."};

py::array_t<float> stream_run(PyStream& s, py::handle X, py::handle out) {
  const Model& m = *s.stream.model();
  FloatArray xa = as_float_array(X, "X");
  require_shape(xa, {-1, m.input_size()}, "X");
  const py::ssize_t T = xa.shape(0);
  if (T > (1LL << 30)) throw py::value_error("X has too many steps");
  py::array_t<float> result;
  float* dst;
  if (out.is_none()) {
    result = py::array_t<float>({T, static_cast<py::ssize_t>(m.hidden_size())});
    dst = result.mutable_data();
  } else {
    dst = writable_out(out, {T, m.hidden_size()});
    result = py::reinterpret_borrow<py::array_t<float>>(out);
  }
  BusyGuard guard(s);
  const float* src = xa.data();
  {
    py::gil_scoped_release release;
    s.stream.run(src, static_cast<int>(T), dst);
  }
  return result;
}

py::array_t<float> step_many(const std::shared_ptr<Model>& model, py::sequence streams,
                             py::handle X, py::handle out) {
  const py::ssize_t B = static_cast<py::ssize_t>(streams.size());
  FloatArray xa = as_float_array(X, "X");
  require_shape(xa, {B, model->input_size()}, "X");
  std::vector<PyStream*> ptrs;
  for (py::ssize_t b = 0; b < B; ++b) {
    py::handle item = streams[b];
    if (!py::isinstance<PyStream>(item))
      throw py::type_error("streams[" + std::to_string(b) + "] is not an lnfast stream");
    PyStream* s = item.cast<PyStream*>();
    if (s->stream.model().get() != model.get())
      throw py::value_error("streams[" + std::to_string(b) +
                            "] belongs to another model; step_many needs streams of this model");
    if (std::find(ptrs.begin(), ptrs.end(), s) != ptrs.end())
      throw py::value_error("stream " + std::to_string(b) +
                            " appears twice in one step_many call");
    ptrs.push_back(s);
  }
  py::array_t<float> result;
  float* dst;
  if (out.is_none()) {
    result = py::array_t<float>({B, static_cast<py::ssize_t>(model->hidden_size())});
    dst = result.mutable_data();
  } else {
    dst = writable_out(out, {B, model->hidden_size()});
    result = py::reinterpret_borrow<py::array_t<float>>(out);
  }
  std::vector<std::unique_ptr<BusyGuard>> guards;
  for (PyStream* s : ptrs) guards.push_back(std::make_unique<BusyGuard>(*s));
  std::vector<lnfast::Stream*> raw;
  for (PyStream* s : ptrs) raw.push_back(&s->stream);
  const float* src = xa.data();
  {
    py::gil_scoped_release release;
    lnfast::Stream::step_many(raw.data(), static_cast<int>(B), src, dst);
  }
  return result;
}

// The state as [{"h": ..., "c": ...}, {"h": ...}, ...], one dict per layer.
py::list get_state(const PyStream& s) {
  const Model& m = *s.stream.model();
  const std::vector<float>& st = s.stream.state();
  py::list layers;
  for (int l = 0; l < m.num_layers(); ++l) {
    const int H = m.layer(l).hidden_size;
    const float* base = st.data() + m.state_offset(l);
    py::dict d;
    d["h"] = to_array(std::vector<float>(base, base + H));
    if (m.layer(l).type == CellType::LSTM)
      d["c"] = to_array(std::vector<float>(base + H, base + 2 * H));
    layers.append(d);
  }
  return layers;
}

void set_state(PyStream& s, py::handle value) {
  const Model& m = *s.stream.model();
  if (!py::isinstance<py::sequence>(value) || py::isinstance<py::str>(value))
    throw py::type_error(
        "state must be a list with one dict per layer, as stream.state returns");
  auto layers = py::reinterpret_borrow<py::sequence>(value);
  if (static_cast<int>(layers.size()) != m.num_layers())
    throw py::value_error("state has " + std::to_string(layers.size()) +
                          " layers, the model has " +
                          std::to_string(m.num_layers()));
  std::vector<float> flat(m.total_state_size());
  for (int l = 0; l < m.num_layers(); ++l) {
    py::handle item = layers[l];
    if (!py::isinstance<py::dict>(item))
      throw py::type_error("state[" + std::to_string(l) + "] must be a dict");
    auto d = py::reinterpret_borrow<py::dict>(item);
    const bool lstm = m.layer(l).type == CellType::LSTM;
    const int H = m.layer(l).hidden_size;
    std::vector<std::string> keys = {"h"};
    if (lstm) keys.push_back("c");
    if (static_cast<size_t>(py::len(d)) != keys.size())
      throw py::value_error("state[" + std::to_string(l) + "] must have keys " +
                            (lstm ? "'h' and 'c'" : "'h' only"));
    for (size_t j = 0; j < keys.size(); ++j) {
      if (!d.contains(keys[j]))
        throw py::value_error("state[" + std::to_string(l) + "] lacks '" +
                              keys[j] + "'");
      const std::string what = "state[" + std::to_string(l) + "]['" + keys[j] + "']";
      FloatArray a = as_float_array(d[keys[j].c_str()], what.c_str());
      require_shape(a, {H}, what.c_str());
      std::copy(a.data(), a.data() + H,
                flat.begin() + m.state_offset(l) + static_cast<int>(j) * H);
    }
  }
  s.stream.set_state(flat.data(), flat.size());  // checks finiteness first
}

py::array_t<float> flat_state(const PyStream& s) {
  return to_array(s.stream.state());
}

std::unique_ptr<PyStream> copy_stream(const PyStream& s) {
  auto out = std::make_unique<PyStream>(
      std::const_pointer_cast<Model>(s.stream.model()), s.owner);
  out->stream.set_state(s.stream.state().data(), s.stream.state().size());
  return out;
}

void bind_specs(py::module_& m) {
  py::enum_<CellType>(m, "CellType")
      .value("RNN", CellType::RNN)
      .value("LSTM", CellType::LSTM)
      .value("GRU", CellType::GRU);
  py::enum_<CellNorm>(m, "CellNorm")
      .value("NONE", CellNorm::None)
      .value("OUTPUT", CellNorm::Output)
      .value("STATE", CellNorm::State);
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
      .def_readwrite("x_norms", &LayerSpec::x_norms)
      .def_readwrite("h_norms", &LayerSpec::h_norms)
      .def_readwrite("gate_norms", &LayerSpec::gate_norms)
      .def_readwrite("cell_norm", &LayerSpec::cell_norm)
      .def_readwrite("c_norm", &LayerSpec::c_norm)
      .def_readwrite("activation", &LayerSpec::activation)
      .def_readwrite("forget_bias", &LayerSpec::forget_bias)
      .def_readwrite("gru_paper_update", &LayerSpec::gru_paper_update)
      .def_readwrite("zoneout", &LayerSpec::zoneout);
#undef LNFAST_VECTOR_FIELD
}

void bind_model(py::module_& m) {
  py::class_<Model, std::shared_ptr<Model>>(m, "Model")
      .def(py::init([](std::vector<LayerSpec> layers, py::object isa,
                       const std::string& weights) {
             lnfast::Isa chosen = isa.is_none()
                                      ? lnfast::default_isa()
                                      : lnfast::parse_isa(isa.cast<std::string>());
             lnfast::WeightFormat format;
             if (weights == "fp32") format = lnfast::WeightFormat::F32;
             else if (weights == "bf16") format = lnfast::WeightFormat::BF16;
             else if (weights == "int8") format = lnfast::WeightFormat::I8;
             else
               throw py::value_error("weights must be 'fp32', 'bf16' or 'int8', got '" +
                                     weights + "'");
             // Construction packs and validates: no Python objects touched.
             py::gil_scoped_release release;
             return std::make_shared<Model>(std::move(layers), chosen, format);
           }),
           py::arg("layers"), py::arg("isa") = py::none(), py::arg("weights") = "fp32")
      .def_property_readonly("weights", [](const Model& mm) {
        switch (mm.weight_format()) {
          case lnfast::WeightFormat::BF16: return "bf16";
          case lnfast::WeightFormat::I8: return "int8";
          default: return "fp32";
        }
      })
      .def_property_readonly("input_size", &Model::input_size)
      .def_property_readonly("hidden_size", &Model::hidden_size)
      .def_property_readonly("num_layers", &Model::num_layers)
      .def_property_readonly("weight_count", &Model::weight_count)
      .def_property_readonly("fingerprint", [](const Model& mm) { return lnfast::fingerprint_hex(mm.fingerprint()); })
      .def_property_readonly("state_size", &Model::total_state_size)
      .def_property_readonly("isa", [](const Model& mm) {
        return std::string(lnfast::isa_name(mm.isa()));
      })
      .def("layer", [](const Model& mm, int k) { return mm.layer(k); })
      .def("step_many", &step_many, py::arg("streams"), py::arg("X"),
           py::arg("out") = py::none());

  py::class_<PyStream>(m, "Stream",
      "One session's recurrent state over a shared model. Pickling a stream carries its whole "
      "model (self-contained, megabytes); to move a session between processes that hold the "
      "same model, send stream.to_bytes() (a few bytes per state value) and model.stream(blob).")
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
      .def_property("state", &get_state, [](PyStream& s, py::handle v) {
        BusyGuard guard(s);
        set_state(s, v);
      })
      .def("flat_state", &flat_state)
      .def("set_flat_state", [](PyStream& s, py::handle v) {
        FloatArray a = as_float_array(v, "state");
        require_shape(a, {s.stream.model()->total_state_size()}, "state");
        BusyGuard guard(s);
        s.stream.set_state(a.data(), a.size());
      })
      .def("to_bytes", [](PyStream& s) {
        BusyGuard guard(s);
        std::vector<unsigned char> b = lnfast::state_to_bytes(s.stream);
        return py::bytes(reinterpret_cast<const char*>(b.data()), b.size());
      }, "The state as bytes (format version, model fingerprint, float32 values, checksum).")
      .def("restore", [](PyStream& s, py::handle blob) {
        if (!PyBytes_Check(blob.ptr()) && !PyByteArray_Check(blob.ptr()) && !PyMemoryView_Check(blob.ptr()))
          throw py::type_error("blob must be bytes from stream.to_bytes(), got " +
                               std::string(py::str(py::type::of(blob).attr("__name__"))));
        py::bytes b = py::reinterpret_steal<py::bytes>(PyBytes_FromObject(blob.ptr()));
        if (!b) throw py::error_already_set();
        const std::string_view v = b;
        BusyGuard guard(s);
        lnfast::restore_state(s.stream, reinterpret_cast<const unsigned char*>(v.data()), v.size());
      }, py::arg("blob"), "Continue from a blob of stream.to_bytes(); ValueError, state untouched, if it is not one of this model's.")
      .def("copy", &copy_stream)
      .def("__copy__", &copy_stream)
      .def("__deepcopy__", [](const PyStream& s, py::handle) { return copy_stream(s); })
      .def(py::pickle(
          [](const PyStream& s) {
            if (s.owner.is_none())
              throw py::type_error("only streams made by lnfast.Model.stream() pickle");
            return py::make_tuple(s.owner, flat_state(s));
          },
          [](py::tuple t) {
            if (t.size() != 2) throw py::value_error("bad pickled stream");
            py::object owner = t[0];
            auto core = owner.attr("_core").cast<std::shared_ptr<Model>>();
            auto s = std::make_unique<PyStream>(std::move(core), owner);
            FloatArray a = as_float_array(t[1], "pickled state");
            require_shape(a, {s->stream.model()->total_state_size()}, "pickled state");
            s->stream.set_state(a.data(), a.size());
            return s;
          }))
      .def("__repr__", [](const PyStream& s) {
        const Model& m = *s.stream.model();
        return "<lnfast.Stream: " + std::to_string(m.num_layers()) + " layer(s), " +
               std::to_string(m.input_size()) + " -> " + std::to_string(m.hidden_size()) +
               ", " + std::to_string(m.total_state_size()) + " state floats>";
      })
      .def_property_readonly("model", [](const PyStream& s) { return s.owner; })
      .def_property_readonly("core_model", [](const PyStream& s) {
        return std::const_pointer_cast<Model>(s.stream.model());
      });
  py::object stream_class = m.attr("Stream");
  py::object step = py::reinterpret_steal<py::object>(
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(stream_class.ptr()), &step_method));
  if (!step) throw py::error_already_set();
  stream_class.attr("step") = step;
}

void bind_probe(py::module_& parent) {
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
    return lnfast::probe::bf16_dot_products(isa_of(isa));
  }, "Whether bf16 weights use AVX512_BF16 dot products on this ISA here.");
  m.def("weight_pass_seconds", [](const Model& model, int repeats) {
    py::gil_scoped_release release;
    return probe::weight_pass_seconds(model, repeats);
  });
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "lnfast's compiled core";
  m.def("isa", [] { return std::string(lnfast::isa_name(lnfast::default_isa())); });
  m.def("supported_isas", [] {
    std::vector<std::string> out;
    for (lnfast::Isa isa : lnfast::supported_isas()) out.push_back(lnfast::isa_name(isa));
    return out;
  });
  m.def("set_num_threads", [](int n) {
    py::gil_scoped_release release;  // joining parked helpers may wait
    lnfast::set_num_threads(n);
  });
  m.def("num_threads", &lnfast::num_threads);
  bind_specs(m);
  bind_model(m);
  bind_probe(m);
}
