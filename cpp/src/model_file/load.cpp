// load_model_file: map, parse, verify, and build a Model whose matrices
// point into the mapping.
#include <cmath>

#include "cells/packed_layer.hpp"
#include "kernels/kernel_table.hpp"
#include "lnfast/fingerprint.hpp"
#include "lnfast/model_file.hpp"
#include "model_file/mapping.hpp"
#include "model_file/parse.hpp"

namespace lnfast {
namespace model_file {
namespace {

// A view of the record's bytes in the mapping, which it keeps alive.
PackedMatrix view(const MatrixRecord& r, WeightFormat format, bool int8_activations,
                  const std::shared_ptr<const MappedFile>& file) {
  PackedMatrix m;
  m.format = format;
  m.layout = r.layout;
  m.logical_rows = r.logical_rows;
  m.rows = r.rows;
  m.cols = r.cols;
  m.stored_cols = r.stored_cols;
  m.int8_activations = int8_activations;
  m.weights = file->data() + r.elements_offset;
  if (format == WeightFormat::I8)
    m.row_scales = reinterpret_cast<const float*>(file->data() + r.scales_offset);
  m.storage = file;
  return m;
}

// int8 scales multiply every product: a NaN or Inf there (a damaged file
// loaded without its checksum) would turn every output into NaN.
void check_scales(const MatrixRecord& r, const MappedFile& file, const std::string& where) {
  const float* scales = reinterpret_cast<const float*>(file.data() + r.scales_offset);
  for (int i = 0; i < r.logical_rows; ++i)
    if (!std::isfinite(scales[i]))
      throw ModelFileError(file.path(), where + "'s scale of row " + std::to_string(i) +
                                            " is not finite (the payload is damaged)");
}

}  // namespace
}  // namespace model_file

std::shared_ptr<const Model> load_model_file(const std::string& path, Isa isa,
                                             const ModelFileOptions& options) {
  using namespace model_file;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  throw ModelFileError(path, "model files are little-endian; this CPU is big-endian");
#endif
  auto file = std::make_shared<MappedFile>(path);
  const ParsedFile parsed = parse_model_file(file->data(), file->size(), path);
  const std::uint64_t payload_hash =
      options.verify_checksum ? hash64(file->data() + parsed.payload_offset, parsed.payload_bytes)
                              : parsed.payload_checksum;
  file->check_intact();  // truncated while being parsed or hashed
  if (payload_hash != parsed.payload_checksum)
    throw ModelFileError(path, "the weights are corrupted (the payload's checksum does not match)");
  file->remember_payload(parsed.payload_offset, parsed.payload_bytes, parsed.payload_checksum);

  const KernelTable& kernels = kernels_for(isa);
  const PanelLayout theirs = panel_layout_for(kernels, parsed.weights, parsed.int8_activations);
  std::vector<LayerSpec> structure;
  std::vector<LayerMatrices> matrices;
  bool in_place = false;  // does any matrix step from the mapping?
  for (size_t l = 0; l < parsed.layers.size(); ++l) {
    const LayerRecord& r = parsed.layers[l];
    structure.push_back(r.structure);
    const bool projected = r.structure.proj_size > 0;
    const std::string where = "layer " + std::to_string(l) + " ";
    if (parsed.weights == WeightFormat::I8) {
      check_scales(r.w_ih, *file, where + "w_ih");
      check_scales(r.w_hh, *file, where + "w_hh");
      if (projected) check_scales(r.w_hr, *file, where + "w_hr");
    }
    LayerMatrices m;
    m.w_ih = view(r.w_ih, parsed.weights, parsed.int8_activations, file);
    m.w_hh = view(r.w_hh, parsed.weights, parsed.int8_activations, file);
    if (projected) m.w_hr = view(r.w_hr, parsed.weights, parsed.int8_activations, file);
    in_place = in_place || r.w_ih.layout == theirs || r.w_hh.layout == theirs ||
               (projected && r.w_hr.layout == theirs);
    matrices.push_back(std::move(m));
  }
  std::shared_ptr<const Model> model;
  try {
    model = std::make_shared<Model>(std::move(structure), std::move(matrices), isa,
                                    parsed.weights, parsed.int8_activations, parsed.fingerprint,
                                    in_place ? file : nullptr);
  } catch (const std::invalid_argument& e) {
    throw ModelFileError(path, e.what());
  }
  file->check_intact();  // truncated while relaid
  return model;
}

std::shared_ptr<const Model> load_model_file(const std::string& path) {
  return load_model_file(path, default_isa());
}

void verify_model_file(const Model& model) {
  if (const auto* file = dynamic_cast<const model_file::MappedFile*>(model.weight_source()))
    file->verify();
}

}  // namespace lnfast
