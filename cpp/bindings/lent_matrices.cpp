#include "lent_matrices.hpp"

#include <cstdint>
#include <string>

namespace lnfast_py {
namespace {

constexpr const char* kNames[] = {"w_ih", "w_hh", "w_hr"};

lnfast::MatrixView* field(lnfast::LayerViews& m, int which) {
  return which == 0 ? &m.w_ih : (which == 1 ? &m.w_hh : &m.w_hr);
}

// Same kind and width in native byte order: dtype objects of equal types
// need not be one object (an unpickled array's is not).
bool has_dtype(const py::array& a, const py::dtype& want) {
  const py::dtype d = a.dtype();
  const char order = d.attr("byteorder").cast<char>();
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  const char native = '>';
#else
  const char native = '<';
#endif
  return d.kind() == want.kind() && d.itemsize() == want.itemsize() &&
         (order == '=' || order == '|' || order == native);
}

// A 2-D array whose rows are contiguous, aligned and apart by a whole
// number of elements: what a MatrixView can describe.
bool viewable(const py::array& a) {
  const py::ssize_t item = a.itemsize();
  return a.ndim() == 2 && (a.strides(1) == item || a.shape(1) <= 1) && a.strides(0) >= 0 &&
         a.strides(0) % item == 0 &&
         (a.flags() & py::detail::npy_api::NPY_ARRAY_ALIGNED_) != 0;
}

lnfast::MatrixView view_of(const py::array& a) {
  lnfast::MatrixView v;
  v.data = a.data();
  v.rows = static_cast<int>(a.shape(0));
  v.cols = static_cast<int>(a.shape(1));
  v.row_stride = a.shape(0) > 1 ? a.strides(0) / a.itemsize() : a.shape(1);
  return v;
}

void require_matrix(const py::array& a, const std::string& what) {
  if (a.ndim() != 2)
    throw py::value_error(what + " must be a 2-D array, got " + std::to_string(a.ndim()) +
                          " dimension(s)");
  if (a.shape(0) > INT32_MAX || a.shape(1) > INT32_MAX)
    throw py::value_error(what + " is too large");
}

lnfast::MatrixView lend_values(py::handle obj, const std::string& what, LentMatrices& into) {
  py::array a;
  if (py::isinstance<py::array>(obj)) a = py::reinterpret_borrow<py::array>(obj);
  if (!a || !has_dtype(a, py::dtype::of<float>()) || !viewable(a))
    a = as_float_array(obj, what.c_str());  // one float32 copy
  require_matrix(a, what);
  into.keep.push_back(a);
  return view_of(a);
}

py::dtype stored_dtype(lnfast::WeightFormat format) {
  switch (format) {
    case lnfast::WeightFormat::BF16: return py::dtype::of<unsigned short>();
    case lnfast::WeightFormat::I8: return py::dtype::of<signed char>();
    default: return py::dtype::of<float>();
  }
}

lnfast::MatrixView lend_stored(py::handle obj, const std::string& what,
                               lnfast::WeightFormat format, LentMatrices& into) {
  const py::tuple pair = py::reinterpret_borrow<py::tuple>(obj);
  if (pair.size() != 2)
    throw py::type_error(what + " in stored form must be a pair (elements, row_scales)");
  const py::dtype want = stored_dtype(format);
  if (!py::isinstance<py::array>(pair[0]) ||
      !has_dtype(py::reinterpret_borrow<py::array>(pair[0]), want) ||
      !viewable(py::reinterpret_borrow<py::array>(pair[0])))
    throw py::type_error(what + " in stored form must be a 2-D " + std::string(py::str(want)) +
                         " array with contiguous rows, as Model.stored_matrix gives for " +
                         lnfast::weight_format_name(format) + " weights");
  const py::array elements = py::reinterpret_borrow<py::array>(pair[0]);
  require_matrix(elements, what);
  into.keep.push_back(elements);
  lnfast::MatrixView v = view_of(elements);
  v.stored = true;
  const bool needs_scales = format == lnfast::WeightFormat::I8;
  if (needs_scales == pair[1].is_none())
    throw py::type_error(what + (needs_scales ? " in stored int8 form needs its row scales"
                                              : " has row scales, which only int8 stores"));
  if (needs_scales) {
    FloatArray scales = as_float_array(pair[1], (what + " row scales").c_str());
    require_shape(scales, {elements.shape(0)}, (what + " row scales").c_str());
    into.keep.push_back(scales);
    v.row_scales = scales.data();
  }
  return v;
}

lnfast::LayerViews lend_layer(py::handle layer, LentMatrices& into, const std::string& where,
                                 lnfast::WeightFormat format, bool values_only) {
  if (!py::isinstance<py::tuple>(layer) && !py::isinstance<py::list>(layer))
    throw py::type_error(where + ": matrices must be a tuple (w_ih, w_hh, w_hr)");
  const py::sequence parts = py::reinterpret_borrow<py::sequence>(layer);
  if (parts.size() != 3)
    throw py::value_error(where + ": matrices must be a tuple (w_ih, w_hh, w_hr), got " +
                          std::to_string(parts.size()) + " items");
  lnfast::LayerViews m;
  for (int which = 0; which < 3; ++which) {
    const py::object item = parts[which];
    const std::string what = where + ": " + kNames[which];
    if (item.is_none()) continue;
    *field(m, which) = !values_only && py::isinstance<py::tuple>(item)
                           ? lend_stored(item, what, format, into)
                           : lend_values(item, what, into);
  }
  return m;
}

}  // namespace

LentMatrices lend_matrices(py::handle matrices, lnfast::WeightFormat format) {
  LentMatrices lent;
  if (!py::isinstance<py::list>(matrices) && !py::isinstance<py::tuple>(matrices))
    throw py::type_error("matrices must be a list with one (w_ih, w_hh, w_hr) per layer");
  size_t k = 0;
  for (py::handle layer : matrices)
    lent.layers.push_back(lend_layer(layer, lent, "layer " + std::to_string(k++), format, false));
  return lent;
}

lnfast::LayerViews lend_layer_values(py::handle matrices, LentMatrices& into,
                                        const std::string& where) {
  return lend_layer(matrices, into, where, lnfast::WeightFormat::F32, true);
}

}  // namespace lnfast_py
