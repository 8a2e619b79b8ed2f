#include "step_many.hpp"

#include <string>
#include <vector>

#include "arrays.hpp"
#include "stream_guard.hpp"

namespace lnfast_py {

py::array_t<float> step_many(const std::shared_ptr<lnfast::Model>& model,
                             py::sequence streams, py::handle X, py::handle out) {
  const py::ssize_t B = static_cast<py::ssize_t>(streams.size());
  FloatArray xa = as_float_array(X, "X");
  require_shape(xa, {B, model->input_size()}, "X");
  // Owning references for the whole call: a sequence may build each item
  // in __getitem__, and nothing else would keep it alive once the GIL goes.
  std::vector<py::object> owners;
  std::vector<PyStream*> held;
  std::vector<lnfast::Stream*> raw;
  owners.reserve(B);
  held.reserve(B);
  raw.reserve(B);
  for (py::ssize_t b = 0; b < B; ++b) {
    py::object item = streams[b];
    if (!py::isinstance<PyStream>(item))
      throw py::type_error("streams[" + std::to_string(b) + "] is not an lnfast stream");
    held.push_back(item.cast<PyStream*>());
    owners.push_back(std::move(item));
    raw.push_back(&held.back()->stream);
  }
  // Before any guard: a stream listed twice would otherwise read as one
  // held by another thread.
  lnfast::Stream::check_batch(*model, raw.data(), static_cast<int>(B));
  OutputArray result = output_array(out, {B, model->hidden_size()});
  BusyGuards guards(held);
  const float* src = xa.data();
  {
    py::gil_scoped_release release;
    lnfast::Stream::step_many(*model, raw.data(), static_cast<int>(B), src,
                              result.data);
  }
  return result.array;
}

}  // namespace lnfast_py
