#include "arrays.hpp"

#include <algorithm>
#include <sstream>
#include <string>

namespace lnfast_py {

namespace {

constexpr int kAligned = py::detail::npy_api::NPY_ARRAY_ALIGNED_;

std::string shape_str(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i)
    s << a.shape(i) << (a.ndim() == 1 || i + 1 < a.ndim() ? "," : "")
      << (i + 1 < a.ndim() ? " " : "");
  s << ")";
  return s.str();
}

}  // namespace

FloatArray as_float_array(py::handle obj, const char* what) {
  if (py::isinstance<FloatArray>(obj)) {
    auto arr = py::reinterpret_borrow<py::array>(obj);
    if (arr.dtype().is(py::dtype::of<float>()) &&
        (arr.flags() & py::array::c_style) && (arr.flags() & kAligned))
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
  // Aligned too: a float32 view at an odd byte offset is copied, so no
  // kernel ever loads a float from an address that is not a multiple of 4.
  using Converting =
      py::array_t<float, py::array::c_style | py::array::forcecast | kAligned>;
  Converting converted = Converting::ensure(arr);
  if (!converted)
    throw py::type_error(std::string(what) + " could not be converted to float32");
  return py::reinterpret_steal<FloatArray>(converted.release());
}

void require_shape(const py::array& a, const std::vector<py::ssize_t>& want,
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

OutputArray output_array(py::handle out, const std::vector<py::ssize_t>& shape) {
  if (out.is_none()) {
    py::array_t<float> fresh(shape);
    float* data = fresh.mutable_data();
    return {std::move(fresh), data};
  }
  if (!py::isinstance<py::array>(out))
    throw py::type_error("out must be a numpy.ndarray");
  auto arr = py::reinterpret_borrow<py::array>(out);
  if (!arr.dtype().is(py::dtype::of<float>()))
    throw py::type_error("out must have dtype float32, got " +
                         std::string(py::str(arr.dtype())));
  if (!(arr.flags() & py::array::c_style))
    throw py::value_error("out must be C-contiguous");
  if (!(arr.flags() & kAligned))
    throw py::value_error(
        "out must be aligned for float32 (its data starts at an address that "
        "is not a multiple of 4)");
  if (!arr.writeable()) throw py::value_error("out is read-only");
  require_shape(arr, shape, "out");
  return {py::reinterpret_borrow<py::array_t<float>>(out),
          static_cast<float*>(arr.mutable_data())};
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

}  // namespace lnfast_py
