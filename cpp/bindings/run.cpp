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
  BusyGuard guard(s);
  const float* src = xa.data();
  {
    py::gil_scoped_release release;
    s.stream.run(src, static_cast<int>(T), result.data);
  }
  return result.array;
}

}  // namespace lnfast_py
