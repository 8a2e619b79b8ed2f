// Model files from Python: load, save, verify and describe, with the core's
// ModelFileError raised as lnfast.CheckpointError(path, problem).
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/codes.hpp"
#include "model_file/format.hpp"
#include "model_file/mapping.hpp"
#include "model_file/parse.hpp"
#include "module.hpp"

namespace lnfast_py {
namespace {

using lnfast::Model;
namespace mf = lnfast::model_file;

template <class E, std::size_t N>
const char* name_of(const mf::Code<E> (&codes)[N], E value) {
  for (const auto& c : codes)
    if (c.value == value) return c.name;
  return "?";
}

py::dict describe_matrix(const mf::MatrixRecord& m) {
  py::dict d;
  d["rows"] = m.logical_rows;
  d["cols"] = m.cols;
  d["padded_rows"] = m.rows;
  d["stored_cols"] = m.stored_cols;
  d["panel_rows"] = m.layout.panel_rows;
  d["block_panels"] = m.layout.block_panels;
  d["order"] = name_of(mf::kPanelOrderCodes, m.layout.order);
  d["k_group"] = m.layout.k_group;
  d["u8_offset"] = m.layout.u8_offset;
  d["offset"] = m.elements_offset;
  d["bytes"] = m.elements_bytes + m.scales_bytes;
  d["scales_offset"] = m.scales_offset;
  return d;
}

py::list describe_norms(const std::vector<lnfast::Norm>& norms) {
  py::list out;
  for (const auto& n : norms)
    out.append(py::make_tuple(n.offset, n.size, !n.gamma.empty(), !n.beta.empty(), n.eps));
  return out;
}

// What lnfast inspect shows: the header and each layer's structure and
// matrices, from the checked parse (the payload is not read).
py::dict describe(const std::string& path) {
  mf::ParsedFile parsed;
  std::size_t size = 0;
  {
    py::gil_scoped_release release;
    mf::MappedFile file(path);
    size = file.size();
    parsed = mf::parse_model_file(file.data(), file.size(), path);
    file.check_intact();
  }
  py::dict d;
  d["path"] = path;
  d["bytes"] = size;
  d["version"] = parsed.version;
  d["fingerprint"] = lnfast::fingerprint_hex(parsed.fingerprint);
  d["weights"] = lnfast::weight_format_name(parsed.weights);
  d["activations"] = parsed.int8_activations ? "int8" : "fp32";
  d["writer_isa"] = parsed.writer_isa;
  d["payload_bytes"] = parsed.payload_bytes;
  py::list layers;
  for (const auto& r : parsed.layers) {
    const lnfast::LayerSpec& s = r.structure;
    py::dict l;
    l["type"] = lnfast::cell_type_name(s.type);
    l["input_size"] = s.input_size;
    l["hidden_size"] = s.hidden_size;
    l["proj_size"] = s.proj_size;
    l["bias_ih"] = !s.b_ih.empty();
    l["bias_hh"] = !s.b_hh.empty();
    l["x_norms"] = describe_norms(s.x_norms);
    l["h_norms"] = describe_norms(s.h_norms);
    l["gate_norms"] = describe_norms(s.gate_norms);
    l["cell_norm"] = name_of(mf::kCellNormCodes, s.cell_norm);
    l["activation"] = name_of(mf::kActivationCodes, s.activation);
    l["forget_bias"] = s.forget_bias;
    l["gru_paper_update"] = s.gru_paper_update;
    l["zoneout"] = s.zoneout;
    l["gru_reset"] = name_of(mf::kGruResetCodes, s.gru_reset);
    l["update_bias"] = s.update_bias;
    py::dict matrices;
    matrices["w_ih"] = describe_matrix(r.w_ih);
    matrices["w_hh"] = describe_matrix(r.w_hh);
    if (s.proj_size > 0) matrices["w_hr"] = describe_matrix(r.w_hr);
    l["matrices"] = matrices;
    layers.append(l);
  }
  d["layers"] = layers;
  return d;
}

}  // namespace

void bind_model_file(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lnfast::ModelFileError& e) {
      py::object error = py::module_::import("lnfast.errors")
                             .attr("CheckpointError")(e.path(), e.problem());
      PyErr_SetObject(error.get_type().ptr(), error.ptr());
    }
  });
  m.attr("MODEL_FILE_MAGIC") =
      py::bytes(reinterpret_cast<const char*>(mf::kMagic), sizeof mf::kMagic);
  m.def("load_model_file", [](const std::string& path, py::object isa, bool verify) {
        const lnfast::Isa chosen =
            isa.is_none() ? lnfast::default_isa() : lnfast::parse_isa(isa.cast<std::string>());
        lnfast::ModelFileOptions options;
        options.verify_checksum = verify;
        py::gil_scoped_release release;
        return std::const_pointer_cast<Model>(lnfast::load_model_file(path, chosen, options));
      },
      py::arg("path"), py::arg("isa") = py::none(), py::arg("verify") = true);
  m.def("save_model_file", [](const Model& model, const std::string& path) {
        py::gil_scoped_release release;
        lnfast::save_model_file(model, path);
      },
      py::arg("model"), py::arg("path"));
  m.def("verify_model_file", [](const Model& model) {
        py::gil_scoped_release release;
        lnfast::verify_model_file(model);
      },
      py::arg("model"));
  m.def("is_mapped", [](const Model& model) { return model.weight_source() != nullptr; },
        py::arg("model"));
  m.def("describe_model_file", &describe, py::arg("path"));
  // A checkpoint mapped for reading in place: a read-only buffer whose
  // pages read as zeros, and `damaged` turns true, if the file is cut
  // short under it, instead of SIGBUS killing the process. The buffer
  // keeps the mapping alive (numpy views of it hold this object).
  py::class_<mf::MappedFile, std::shared_ptr<mf::MappedFile>>(m, "GuardedMapping",
                                                             py::buffer_protocol())
      .def(py::init([](const std::string& path, bool populate) {
             py::gil_scoped_release release;
             return std::make_shared<mf::MappedFile>(path, populate);
           }),
           py::arg("path"), py::arg("populate") = false)
      .def_buffer([](mf::MappedFile& f) {
        return py::buffer_info(const_cast<unsigned char*>(f.data()), 1,
                               py::format_descriptor<unsigned char>::format(), 1,
                               {static_cast<py::ssize_t>(f.size())}, {1}, /*readonly=*/true);
      })
      .def_property_readonly("size", &mf::MappedFile::size)
      .def_property_readonly("damaged", &mf::MappedFile::damaged);
}

}  // namespace lnfast_py
