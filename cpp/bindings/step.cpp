// A step on a small model takes a few hundred nanoseconds, so the call
// itself must cost less: step is a METH_FASTCALL method, not a pybind11
// one, that recognises the common case (aligned, C-contiguous, native
// float32 arrays of the right size) from the array header alone and falls
// back to the general conversion for everything else.
#include "step.hpp"

#include <pybind11/numpy.h>

#include <string>

#include "arrays.hpp"
#include "stream_guard.hpp"

namespace lnfast_py {
namespace {

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

}  // namespace

StepArguments step_arguments(PyStream& s, PyObject* x, PyObject* out) {
  const lnfast::Model& m = *s.stream.model();
  StepArguments a;
  a.x = exact_float32(x, m.input_size(), false);
  if (!a.x) {
    FloatArray converted = as_float_array(x, "x");
    require_shape(converted, {m.input_size()}, "x");
    a.x = converted.data();
    a.x_copy = std::move(converted);
  }
  if (!out) {
    py::array_t<float> fresh(m.hidden_size());
    a.out = fresh.mutable_data();
    a.result = std::move(fresh);
  } else if (float* dst = const_cast<float*>(exact_float32(out, m.hidden_size(), true))) {
    a.out = dst;
    a.result = py::reinterpret_borrow<py::object>(out);
  } else {
    OutputArray checked = output_array(out, {m.hidden_size()});
    a.out = checked.data;
    a.result = std::move(checked.array);
  }
  return a;
}

namespace {

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
    StepArguments a = step_arguments(s, x, out);
    BusyGuard guard(s);
    maybe_without_gil(*s.stream.model(), [&] { s.stream.step(a.x, a.out); });
    return a.result.release().ptr();
  } catch (...) {
    py::detail::try_translate_exceptions();
    return nullptr;
  }
}

PyMethodDef step_method = {
    "step", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)(void)>(step_fastcall)),
    METH_FASTCALL | METH_KEYWORDS,
    "step(x, out=None)\n--\n\n"
    "Advance every layer one step; returns the top layer's h, float32 (hidden_size,).\n\n"
    "x: the input frame, input_size real numbers (any array-like). A float32, aligned,\n"
    "C-contiguous, native-endian array is read in place: the fast path, a few hundred\n"
    "nanoseconds of call overhead. Anything else (float64, int, a strided view, a list)\n"
    "is converted to a new float32 array on every call, which costs a copy and more.\n"
    "out: optional float32 C-contiguous writable array of hidden_size to write into and\n"
    "return (no allocation per step: the hot-loop form); otherwise a new array each call.\n"
    "The GIL is released while a large step runs.\n\n"
    "Raises TypeError for a non-numeric x or an out that is not a float32 ndarray,\n"
    "ValueError for a wrong shape, a read-only or non-contiguous out, or a NaN/Inf in x\n"
    "(the state is then left as it was), RuntimeError when another thread is using\n"
    "this stream."};

}  // namespace

void install_fast_step(py::object stream_class) {
  py::object step = py::reinterpret_steal<py::object>(
      PyDescr_NewMethod(reinterpret_cast<PyTypeObject*>(stream_class.ptr()), &step_method));
  if (!step) throw py::error_already_set();
  stream_class.attr("step") = step;
}

}  // namespace lnfast_py
