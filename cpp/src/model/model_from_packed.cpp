// A Model around weights packed already, e.g. a model file's mapped panels
// (see the second constructor in lnfast/model.hpp).
#include <stdexcept>
#include <string>

#include "cells/packed_layer.hpp"
#include "lnfast/model.hpp"
#include "model/validate_spec.hpp"
#include "packing/relayout.hpp"

namespace lnfast {
namespace {

// Throws unless `m` is the (rows x cols) matrix the layer needs, in the
// model's storage.
void check_matrix(const PackedMatrix& m, const char* name, int rows, int cols,
                  WeightFormat format, bool int8_activations, const std::string& layer) {
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(layer + ": " + name + " " + what);
  };
  if (m.logical_rows != rows || m.cols != cols)
    fail("is " + std::to_string(m.logical_rows) + " x " + std::to_string(m.cols) +
         ", the layer needs " + std::to_string(rows) + " x " + std::to_string(cols));
  if (m.format != format)
    fail(std::string("is stored as ") + weight_format_name(m.format) + ", the model as " +
         weight_format_name(format));
  if (m.int8_activations != int8_activations)
    fail("disagrees with the model on int8 activations");
  if (!m.weights || (format == WeightFormat::I8 && !m.row_scales))
    fail("has no storage");
}

// The matrix as `kernels` read it: itself when its layout is theirs, else
// relaid once from its stored values.
PackedMatrix for_kernels(PackedMatrix m, const KernelTable& kernels) {
  if (m.layout == panel_layout_for(kernels, m.format, m.int8_activations)) return m;
  return relayout(m, kernels);
}

}  // namespace

Model::Model(std::vector<LayerSpec> structure, std::vector<LayerMatrices> matrices, Isa isa,
             WeightFormat weights, bool int8_activations, std::uint64_t fingerprint,
             std::shared_ptr<const WeightSource> source)
    : specs_(std::move(structure)),
      fingerprint_(fingerprint),
      isa_(isa),
      weights_(weights),
      int8_activations_(int8_activations),
      kernels_(&kernels_for(isa)),
      source_(std::move(source)) {
  validate_storage(weights, int8_activations);
  validate_stack(specs_, validate_layer_structure);
  if (matrices.size() != specs_.size())
    throw std::invalid_argument(std::to_string(matrices.size()) + " layers of weights for " +
                                std::to_string(specs_.size()) + " layers");
  for (size_t l = 0; l < specs_.size(); ++l) {
    const LayerSpec& s = specs_[l];
    LayerMatrices& w = matrices[l];
    const std::string layer = "layer " + std::to_string(l);
    const int rows = gate_count(s.type) * s.hidden_size;
    check_matrix(w.w_ih, "w_ih", rows, s.input_size, weights, int8_activations, layer);
    check_matrix(w.w_hh, "w_hh", rows, output_size(s), weights, int8_activations, layer);
    if (s.proj_size > 0)
      check_matrix(w.w_hr, "w_hr", s.proj_size, s.hidden_size, weights, int8_activations, layer);
    else if (w.w_hr.logical_rows != 0)
      throw std::invalid_argument(layer + ": w_hr given for a layer without a projection");
    packed_.push_back(std::make_unique<PackedLayer>(assemble_layer(
        s, for_kernels(std::move(w.w_ih), *kernels_), for_kernels(std::move(w.w_hh), *kernels_),
        s.proj_size > 0 ? for_kernels(std::move(w.w_hr), *kernels_) : PackedMatrix{})));
  }
  index_layers();
}

}  // namespace lnfast
