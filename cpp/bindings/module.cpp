// The Python face of the core: array conversion, the GIL and the stream
// guard, one file a job (see module.hpp). No math and no check the core
// makes lives here.
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "lnfast/isa.hpp"
#include "lnfast/memory.hpp"
#include "lnfast/threads.hpp"
#include "module.hpp"

PYBIND11_MODULE(_core, m) {
  namespace py = pybind11;
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
  m.def("release_freed_memory", &lnfast::release_freed_memory);
  lnfast_py::bind_spec_classes(m);
  lnfast_py::bind_model_classes(m);
  lnfast_py::bind_batcher(m);
  lnfast_py::bind_testing_module(m);
  lnfast_py::bind_model_file(m);
}
