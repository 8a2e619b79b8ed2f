#include "run.hpp"

#include "arrays.hpp"

namespace lnfast_py {

py::array_t<float> stream_run(PyStream& s, py::handle X, py::handle out) {
  const lnfast::Model& m = *s.stream.model();
  FloatArray xa = as_float_array(X, "X");
  require_shape(xa, {-1, m.input_size()}, "X");
  const py::ssize_t T = xa.shape(0);
  // The core counts steps in an int.
  if (T > (1LL << 30)) throw py::value_error("X has too many steps");
  OutputArray result = output_array(out, {T, m.hidden_size()});
  const float* src = xa.data();
  // run reads X a chunk of steps ahead of writing out, so an out that
  // overlaps X anywhere but exactly in place would read rows it wrote.
  const float* src_end = src + T * m.input_size();
  const float* dst_end = result.data + T * m.hidden_size();
  const bool in_place = src == result.data && m.input_size() == m.hidden_size();
  if (T > 0 && !in_place && src < dst_end && result.data < src_end)
    throw py::value_error(
        "out overlaps X; give run a separate out array (or X itself when "
        "input_size == hidden_size)");
  BusyGuard guard(s);
  {
    py::gil_scoped_release release;
    s.stream.run(src, static_cast<int>(T), result.data);
  }
  return result.array;
}

}  // namespace lnfast_py
