// _core.Batcher: lnfast::Batcher (lnfast/batcher.hpp) with Python's
// arguments, GIL and asyncio. A blocking step holds the GIL only to check
// its arguments (step's own checks, step's own messages); the workers take
// it only to hand finished asyncio steps back to their event loops.
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <utility>

#include "lnfast/batcher.hpp"
#include "module.hpp"
#include "step.hpp"
#include "stream_guard.hpp"

namespace lnfast_py {
namespace {

using lnfast::BatchStep;

// A step submitted from asyncio. The ticket astep keeps (to withdraw it on
// cancellation) owns it, and so does `self` until the step is handed back.
struct AsyncStep : BatchStep {
  py::object stream_ref, x_ref, result, future, loop;
  std::shared_ptr<AsyncStep> self;
};

PyStream& stream_of(py::handle stream) {
  if (!py::isinstance<PyStream>(stream))
    throw py::type_error("stream must be an lnfast stream, got " +
                         std::string(py::str(py::type::of(stream).attr("__name__"))));
  return stream.cast<PyStream&>();
}

PyObject* null_if_none(py::handle out) { return out.is_none() ? nullptr : out.ptr(); }

void describe(BatchStep& s, PyStream& stream, const StepArguments& a) {
  s.stream = &stream.stream;
  s.x = a.x;
  s.out = a.out;
  s.claim = &stream.busy;  // the lock stream.step takes: never both at once
}

// The exception type and message a step with this outcome raises; null
// for a step that is done.
std::pair<PyObject*, std::string> failure_of(const BatchStep& s) {
  switch (s.outcome) {
    case BatchStep::Outcome::Done: return {nullptr, {}};
    case BatchStep::Outcome::Busy: return {PyExc_RuntimeError, kStreamBusyMessage};
    case BatchStep::Outcome::Refused: return {PyExc_ValueError, s.message};
    default: return {PyExc_RuntimeError, s.message.empty() ? "the step did not run" : s.message};
  }
}

class PyBatcher {
 public:
  PyBatcher(std::shared_ptr<lnfast::Model> model, int max_batch, int workers,
            py::object settle)
      : settle_(std::move(settle)) {
    core_ = std::make_unique<lnfast::Batcher>(
        std::move(model), max_batch, workers,
        [this](BatchStep* const* steps, int n) { hand_back(steps, n); });
  }

  ~PyBatcher() {
    // Joining the workers may wait for one that needs the GIL to hand back.
    if (PyGILState_Check()) {
      py::gil_scoped_release release;
      core_.reset();
    } else {
      core_.reset();
    }
  }

  py::object step(py::handle stream, py::handle x, py::handle out) {
    PyStream& s = stream_of(stream);
    StepArguments a = step_arguments(s, x.ptr(), null_if_none(out));
    BatchStep request;
    describe(request, s, a);
    {
      py::gil_scoped_release release;
      core_->step(request);
    }
    auto [type, message] = failure_of(request);
    if (type) {
      PyErr_SetString(type, message.c_str());
      throw py::error_already_set();
    }
    return std::move(a.result);
  }

  std::shared_ptr<AsyncStep> submit(py::handle stream, py::handle x, py::handle out,
                                    py::object loop, py::object future) {
    PyStream& s = stream_of(stream);
    StepArguments a = step_arguments(s, x.ptr(), null_if_none(out));
    auto request = std::make_shared<AsyncStep>();
    describe(*request, s, a);
    request->stream_ref = py::reinterpret_borrow<py::object>(stream);
    request->x_ref = a.x_copy ? a.x_copy : py::reinterpret_borrow<py::object>(x);
    request->result = std::move(a.result);
    request->future = std::move(future);
    request->loop = std::move(loop);
    request->self = request;
    try {
      core_->submit(*request);
    } catch (...) {
      request->self.reset();
      throw;
    }
    return request;
  }

  bool withdraw(AsyncStep& request) {
    if (!core_->withdraw(request)) return false;
    request.self.reset();
    return true;
  }

  void close() {
    py::gil_scoped_release release;
    core_->close();
  }

  const lnfast::Batcher& core() const { return *core_; }

 private:
  // The completion sink, on a worker thread: one GIL acquisition per batch.
  void hand_back(BatchStep* const* steps, int n) {
    py::gil_scoped_acquire gil;
    for (int i = 0; i < n; ++i) {
      std::shared_ptr<AsyncStep> request = std::move(static_cast<AsyncStep*>(steps[i])->self);
      try {
        auto [type, message] = failure_of(*request);
        py::object error =
            type ? py::reinterpret_borrow<py::object>(type)(message) : py::none();
        request->loop.attr("call_soon_threadsafe")(settle_, request->future, request->result,
                                                   error);
      } catch (py::error_already_set&) {
        // The loop is closed (RuntimeError): nobody awaits this step any more.
      }
    }
  }

  py::object settle_;
  std::unique_ptr<lnfast::Batcher> core_;
};

}  // namespace

void bind_batcher(py::module_& m) {
  py::class_<AsyncStep, std::shared_ptr<AsyncStep>>(m, "BatchTicket",
      "A step submitted by Batcher.submit; pass it to withdraw.");
  py::class_<PyBatcher>(m, "Batcher",
      "Steps of many streams of one model run together as step_many on the batcher's\n"
      "own worker threads (lnfast.Batcher is the documented face).")
      .def(py::init<std::shared_ptr<lnfast::Model>, int, int, py::object>(),
           py::arg("model"), py::arg("max_batch"), py::arg("workers"), py::arg("settle"))
      .def("step", &PyBatcher::step, py::arg("stream"), py::arg("x"),
           py::arg("out") = py::none(),
           "stream.step(x, out), run in a batch; the GIL is released while it waits.")
      .def("submit", &PyBatcher::submit, py::arg("stream"), py::arg("x"), py::arg("out"),
           py::arg("loop"), py::arg("future"),
           "Queue a step and return a ticket; when it is done a worker calls\n"
           "loop.call_soon_threadsafe(settle, future, result, error).")
      .def("withdraw", &PyBatcher::withdraw, py::arg("ticket"),
           "Take a submitted step out if it has not started: True if it was.")
      .def("close", &PyBatcher::close)
      .def_property_readonly("closed", [](const PyBatcher& b) { return b.core().closed(); })
      .def_property_readonly("steps", [](const PyBatcher& b) { return b.core().steps(); })
      .def_property_readonly("batches", [](const PyBatcher& b) { return b.core().batches(); })
      .def_property_readonly("worker_thread_ids",
                             [](const PyBatcher& b) { return b.core().worker_thread_ids(); });
}

}  // namespace lnfast_py
